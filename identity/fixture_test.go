package identity

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/neonauth-admin/dashboard/internal/logtest"
	"github.com/neonauth-admin/dashboard/internal/routetest"
)

// lockedBuffer is a log sink that tests read while servers write.
type lockedBuffer = logtest.Buffer

// The people the fixture's role policy knows.
const (
	adminEmail  = "ada@example.com"
	viewerEmail = "vic@example.com"
	outsider    = "olga@elsewhere.test"
	contact     = "#platform-team"
)

// trustedPeer and untrustedPeer are RemoteAddrs inside and outside the
// fixture's AUTH_PROXY_TRUSTED.
const (
	trustedPeer   = "10.1.2.3:41000"
	untrustedPeer = "203.0.113.9:41000"
)

// secAuthConfig is proxy mode behind 10.0.0.0/8, with one admin, viewers by
// domain, and a contact.
func secAuthConfig(t *testing.T) AuthConfig {
	t.Helper()
	cfg, err := ParseAuthEnv(envMap(map[string]string{
		"AUTH_MODE":           "proxy",
		"AUTH_PROXY_TRUSTED":  "10.0.0.0/8",
		"AUTH_ADMIN_EMAILS":   strings.ToUpper(adminEmail),
		"AUTH_VIEWER_DOMAINS": "example.com",
		"AUTH_CONTACT":        contact,
	}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// secFixture is a bare echo server with Security installed in front of tiny
// handlers: one per state-changing route the dashboard has, each counting its
// calls, so a test can tell whether a refused request reached the handler.
type secFixture struct {
	t     *testing.T
	e     *echo.Echo
	sec   *Security
	audit *lockedBuffer
	logs  *lockedBuffer

	mu    sync.Mutex
	calls map[string]int
}

// fixtureMutations mirror the dashboard's state-changing routes, as its route
// table lists them.
var fixtureMutations = []Rule{
	{http.MethodPost, "/projects/:id/integrations", Admin, "neon_auth.enable"},
	{http.MethodPost, "/projects/:id/integrations/stack/transfer", Admin, "neon_auth.transfer"},
	{http.MethodPost, "/projects/:id/integrations/stack/keys", Admin, "neon_auth.sdk_keys"},
	{http.MethodPost, "/projects/:id/integrations/:provider/delete", Admin, "neon_auth.delete"},
	{http.MethodPost, "/projects/:id/users", Admin, "user.create"},
	{http.MethodPost, "/projects/:id/users/:uid/delete", Admin, "user.delete"},
	{http.MethodPost, "/projects/:id/users/:uid/role", Admin, "user.role"},
}

func newSecFixture(t *testing.T, cfg AuthConfig, opts ...func(*SecurityOptions)) *secFixture {
	t.Helper()
	f := &secFixture{t: t, audit: &lockedBuffer{}, logs: &lockedBuffer{}, calls: map[string]int{}}
	o := SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:8080", AuditLog: f.audit, Logger: jsonLogger(f.logs)}
	for _, opt := range opts {
		opt(&o)
	}
	sec, err := NewSecurity(t.Context(), o)
	if err != nil {
		t.Fatalf("NewSecurity: %v", err)
	}
	f.sec = sec
	f.e = echo.New()
	rules := []Rule{
		{http.MethodGet, "/", Viewer, ""},
		{http.MethodGet, "/projects/:id", Viewer, ""},
		{http.MethodGet, "/static/*", Public, ""},
		{http.MethodGet, "/healthz", Probe, ""},
	}
	rules = append(rules, fixtureMutations...)
	if sec.OIDC() {
		rules = append(rules,
			Rule{http.MethodGet, LoginPath, Public, ""},
			Rule{http.MethodGet, CallbackPath, Public, ""},
			Rule{http.MethodPost, LogoutPath, AnyRole, "auth.logout"},
			Rule{http.MethodGet, SignedOutPath, Public, ""})
		f.e.GET(LoginPath, sec.Login)
		f.e.GET(CallbackPath, sec.Callback)
		f.e.POST(LogoutPath, sec.Logout)
		f.e.GET(SignedOutPath, sec.SignedOut)
	}
	sec.Install(f.e, rules)
	f.e.GET("/", func(c echo.Context) error {
		id := From(c)
		return c.String(http.StatusOK, "home "+id.DisplayName()+" role="+string(id.Role)+" csrf="+CSRFToken(c))
	})
	f.e.GET("/projects/:id", func(c echo.Context) error { return c.String(http.StatusOK, "project "+c.Param("id")) })
	f.e.GET("/static/*", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		return c.String(http.StatusOK, "asset")
	})
	f.e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	for _, r := range mutatingRoutes() {
		key := r.method + " " + r.path
		f.e.Add(r.method, r.path, func(c echo.Context) error {
			f.mu.Lock()
			f.calls[key]++
			f.mu.Unlock()
			return c.String(http.StatusOK, "done")
		})
	}
	return f
}

func jsonLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func (f *secFixture) called(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method+" "+path]
}

// route is one method and route pattern.
type route struct{ method, path string }

// mutatingRoutes lists the dashboard's state-changing routes.
func mutatingRoutes() []route {
	var out []route
	for _, r := range fixtureMutations {
		out = append(out, route{r.Method, r.Path})
	}
	return out
}

// concretePath fills a route pattern's parameters with sample values.
var concretePath = routetest.ConcretePath

// req builds a request from peer with headers given as name, value pairs.
func req(method, target, peer string, form url.Values, headers ...string) *http.Request {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = peer
	// The name a browser on the same machine uses; AUTH_MODE=none answers
	// no other.
	r.Host = "127.0.0.1:8080"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func (f *secFixture) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, r)
	return w
}

// as returns the headers oauth2-proxy would send for email.
func as(email string) []string {
	return []string{"X-Forwarded-User", strings.Split(email, "@")[0], "X-Forwarded-Email", email}
}

// csrf fetches a page as email and returns the CSRF cookie and token.
func (f *secFixture) csrf(email string) (*http.Cookie, string) {
	f.t.Helper()
	w := f.do(req(http.MethodGet, "/", trustedPeer, nil, as(email)...))
	if w.Code != http.StatusOK {
		f.t.Fatalf("GET / as %s: status %d: %s", email, w.Code, w.Body)
	}
	_, token, _ := strings.Cut(w.Body.String(), "csrf=")
	for _, c := range w.Result().Cookies() {
		if c.Name == "csrf" {
			return c, token
		}
	}
	f.t.Fatalf("GET / set no csrf cookie; cookies %v", w.Result().Cookies())
	return nil, ""
}

// post sends a form as email with a valid CSRF token in the _csrf field.
func (f *secFixture) post(email, path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	cookie, token := f.csrf(email)
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", token)
	r := req(http.MethodPost, path, trustedPeer, form, append(as(email), headers...)...)
	r.AddCookie(cookie)
	return f.do(r)
}

// page parses an HTML response.
func page(t *testing.T, w *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func testID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}
