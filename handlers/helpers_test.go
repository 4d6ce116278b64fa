package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// testApp is the dashboard served over real HTTP, talking to a Neon API
// sandbox over real HTTP, backed by the real Postgres server. Each test gets
// its own sandbox (so its own databases, dropped at the end) and one seeded
// project "demo-app" without Neon Auth.
type testApp struct {
	t testing.TB

	Sandbox   *sandbox.Sandbox
	NeonSrv   *httptest.Server // the sandbox; NeonSrv.URL + "/api/v2" is the API base
	Neon      *neonapi.Client  // talks to the sandbox directly, for arranging and checking
	API       *neonapi.Client  // the dashboard's client: Neon itself, through its read cache if any
	Handler   *Handler         // the dashboard under test
	Server    *httptest.Server // the dashboard
	Client    *http.Client     // keeps cookies, does not follow redirects
	projectID string           // the seeded project
	project   sandbox.CreatedProject

	csrf string // last CSRF token seen in a page

	// neonCounter counts the requests to Neon, when the app was made with one.
	neonCounter *neontest.Requests
}

// appOptions adjust a testApp before its server starts.
type appOptions struct {
	syncDelay   time.Duration
	cacheTTL    time.Duration
	projectName string
	handler     func(h *Handler, neon *neonapi.Client)
	apiKey      string
	neonOpts    []neonapi.Option
	identity    *Identity
}

// appOption is one adjustment; see withSyncDelay, withCache, withHandler.
type appOption func(*appOptions)

// withSyncDelay sets the sandbox's user sync delay (default: at once).
func withSyncDelay(d time.Duration) appOption { return func(o *appOptions) { o.syncDelay = d } }

// withCache gives the dashboard's Neon client (a.API) a read cache of ttl;
// a.Neon keeps none, so its changes are ones the dashboard does not see.
func withCache(ttl time.Duration) appOption { return func(o *appOptions) { o.cacheTTL = ttl } }

// withHandler edits the Handler (e.g. sets Auth) before the server starts.
func withHandler(f func(*Handler)) appOption {
	return func(o *appOptions) { o.handler = func(h *Handler, _ *neonapi.Client) { f(h) } }
}

// withHandlerNeon is withHandler for adjustments that need the dashboard's
// own Neon client (the one behind its read cache, when there is one).
func withHandlerNeon(f func(h *Handler, neon *neonapi.Client)) appOption {
	return func(o *appOptions) { o.handler = f }
}

// withNeonClient sets the dashboard's API key (default "test-key") and adds
// client options.
func withNeonClient(apiKey string, opts ...neonapi.Option) appOption {
	return func(o *appOptions) { o.apiKey, o.neonOpts = apiKey, opts }
}

// withIdentity makes every request come from id, as the identity middleware
// would have decided.
func withIdentity(id Identity) appOption { return func(o *appOptions) { o.identity = &id } }

// testSessionKey signs the test dashboard's cookies.
var testSessionKey = []byte("0123456789abcdef0123456789abcdef")

// newTestApp starts a sandbox and the dashboard, and seeds "demo-app".
func newTestApp(t testing.TB, opts ...appOption) *testApp {
	t.Helper()
	o := appOptions{syncDelay: -1, projectName: "demo-app"}
	for _, opt := range opts {
		opt(&o)
	}
	sb, neonSrv := neontest.StartSandbox(t, o.syncDelay)

	apiKey := o.apiKey
	if apiKey == "" {
		apiKey = "test-key"
	}
	neonOpts := append([]neonapi.Option{
		neonapi.WithBaseURL(neonSrv.URL + "/api/v2"),
		neonapi.WithoutRateLimit(),
		neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
	}, o.neonOpts...)
	// client is the test's own view of Neon, never cached; the dashboard's
	// client reads through the read cache when the test asks for one.
	client, err := neonapi.New(apiKey, neonOpts...)
	if err != nil {
		t.Fatal(err)
	}
	api := client
	if o.cacheTTL > 0 {
		if api, err = neonapi.New(apiKey, append(neonOpts, neonapi.WithReadCache(o.cacheTTL))...); err != nil {
			t.Fatal(err)
		}
	}
	store := sessions.NewCookieStore(testSessionKey)
	store.Options = &sessions.Options{Path: "/", MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	svc := neonauth.New(api, testPools(t), neonauth.UserDBConfig{})
	h := &Handler{
		Auth:         svc,
		Checks:       svc,
		AuthSettings: neonauth.NewSettingsService(api),
		Sessions:     store,
		Logger:       slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Settings:     Settings{SyncTimeout: 5 * time.Second},
	}
	if o.handler != nil {
		o.handler(h, api)
	}
	e := h.Echo()
	if o.identity != nil {
		id := *o.identity
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				identity.Attach(c, id)
				return next(c)
			}
		})
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	a := &testApp{
		t:       t,
		Sandbox: sb,
		NeonSrv: neonSrv,
		Neon:    client,
		API:     api,
		Handler: h,
		Server:  srv,
		Client: &http.Client{
			Jar:           jar,
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if o.projectName != "" {
		a.project = a.createProject(o.projectName)
		a.projectID = a.project.ID
	}
	return a
}

// testPools are database pools closed when the test ends. Made after the
// sandbox, they are closed before it drops its databases.
func testPools(t testing.TB) *db.Pools {
	pools := db.NewPools(db.PoolOptions{})
	t.Cleanup(pools.Close)
	return pools
}

// testLogWriter sends the dashboard's warnings and errors to the test log.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// createProject makes another sandbox project.
func (a *testApp) createProject(name string) sandbox.CreatedProject {
	a.t.Helper()
	p, err := a.Sandbox.CreateProject(context.Background(), name)
	if err != nil {
		a.t.Fatalf("create project %q: %v", name, err)
	}
	return p
}

// enableStack enables project-level Neon Auth on the seeded project straight
// through the API, returning the keys.
func (a *testApp) enableStack() *neonapi.IntegrationKeys {
	a.t.Helper()
	keys, err := a.Neon.CreateIntegration(context.Background(), neonapi.CreateIntegrationRequest{
		AuthProvider: authprovider.Stack,
		ProjectID:    a.projectID,
		BranchID:     a.project.BranchID,
		DatabaseName: a.project.DatabaseName,
		RoleName:     a.project.RoleName,
	})
	if err != nil {
		a.t.Fatalf("enable stack: %v", err)
	}
	return keys
}

// testResponse is a dashboard answer, read whole, with its HTML parsed.
type testResponse struct {
	Status int
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

// byTestID selects elements by data-testid.
func (r *testResponse) byTestID(id string) *goquery.Selection {
	return r.Doc.Find(`[data-testid="` + id + `"]`)
}

// text is the trimmed text of the elements with data-testid id.
func (r *testResponse) text(id string) string {
	return strings.TrimSpace(r.byTestID(id).Text())
}

// do sends req to the dashboard. htmx requests carry HX-Request and, for
// posts, the CSRF header the page's script would add.
func (a *testApp) do(req *http.Request) *testResponse {
	a.t.Helper()
	resp, err := a.Client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		a.t.Fatalf("%s %s: parse html: %v", req.Method, req.URL.Path, err)
	}
	if tok, ok := doc.Find(`meta[name="csrf-token"]`).Attr("content"); ok && tok != "" {
		a.csrf = tok
	}
	return &testResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Doc: doc}
}

func (a *testApp) newRequest(method, path string, body io.Reader) *http.Request {
	a.t.Helper()
	req, err := http.NewRequest(method, a.Server.URL+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	return req
}

// get loads a page as a browser would.
func (a *testApp) get(path string) *testResponse {
	a.t.Helper()
	return a.do(a.newRequest(http.MethodGet, path, nil))
}

// htmxGet loads a fragment as htmx would, aimed at the element with id target.
func (a *testApp) htmxGet(path, target string) *testResponse {
	a.t.Helper()
	req := a.newRequest(http.MethodGet, path, nil)
	req.Header.Set("HX-Request", "true")
	if target != "" {
		req.Header.Set("HX-Target", target)
	}
	return a.do(req)
}

// htmxReload asks for path as the users table does when it reloads itself
// (after a change, or loading after the page): htmx names the element.
func (a *testApp) htmxReload(path string) *testResponse {
	a.t.Helper()
	req := a.newRequest(http.MethodGet, path, nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Target", views.UsersBrowserID)
	req.Header.Set("HX-Trigger", views.UsersBrowserID)
	return a.do(req)
}

// token returns a CSRF token, loading the projects page once to get one.
func (a *testApp) token() string {
	a.t.Helper()
	if a.csrf == "" {
		a.get("/projects")
	}
	return a.csrf
}

// postForm submits a form as a browser without JavaScript would.
func (a *testApp) postForm(path string, values url.Values) *testResponse {
	a.t.Helper()
	return a.post(path, values, false)
}

// htmxPost submits a form as htmx would.
func (a *testApp) htmxPost(path string, values url.Values) *testResponse {
	a.t.Helper()
	return a.post(path, values, true)
}

func (a *testApp) post(path string, values url.Values, htmx bool) *testResponse {
	a.t.Helper()
	v := url.Values{}
	for k, vs := range values {
		v[k] = append([]string(nil), vs...)
	}
	tok := a.token()
	if _, set := v["_csrf"]; !set && tok != "" {
		v.Set("_csrf", tok)
	}
	req := a.newRequest(http.MethodPost, path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.Server.URL)
	if htmx {
		req.Header.Set("HX-Request", "true")
		if tok != "" {
			req.Header.Set("X-CSRF-Token", tok)
		}
	}
	return a.do(req)
}

// wantStatus fails the test unless r has the status.
func (r *testResponse) wantStatus(t testing.TB, want int) {
	t.Helper()
	if r.Status != want {
		body := r.Body
		if len(body) > 2000 {
			body = body[:2000] + "…"
		}
		t.Fatalf("status = %d, want %d; body:\n%s", r.Status, want, body)
	}
}
