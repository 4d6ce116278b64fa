package identity

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/oauth2-proxy/mockoidc"
)

// oidcHarness runs the dashboard's security in OIDC mode against an
// in-process mock identity provider, with a cookie-keeping browser that stops
// at every redirect so each step can be checked.
type oidcHarness struct {
	t    *testing.T
	mock *mockoidc.MockOIDC
	app  *httptest.Server
	f    *secFixture
	jar  http.CookieJar
	web  *http.Client

	mu  sync.Mutex
	now time.Time
}

// newOIDCHarness starts the provider and the dashboard; extra are more
// settings as name, value pairs.
func newOIDCHarness(t *testing.T, extra ...string) *oidcHarness {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The mock keeps its sessions in a plain map; serialising its handlers
	// keeps the race detector's view of it orderly.
	var mockMu sync.Mutex
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mockMu.Lock()
			defer mockMu.Unlock()
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })

	h := &oidcHarness{t: t, mock: m, now: time.Now()}
	h.app = httptest.NewUnstartedServer(nil)
	env := map[string]string{
		"AUTH_MODE":               "oidc",
		"AUTH_OIDC_ISSUER":        m.Issuer(),
		"AUTH_OIDC_CLIENT_ID":     m.ClientID,
		"AUTH_OIDC_CLIENT_SECRET": m.ClientSecret,
		"AUTH_OIDC_REDIRECT_URL":  "http://" + h.app.Listener.Addr().String() + "/auth/callback",
		"AUTH_OIDC_SCOPES":        "openid email profile groups",
		"AUTH_ADMIN_GROUPS":       "engineering",
		"AUTH_CONTACT":            contact,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	cfg, err := ParseAuthEnv(envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	cfg.SessionKeys = SessionKeys{[]byte("a-session-key-that-is-long-enough-0001")}
	h.f = newSecFixture(t, cfg, func(o *SecurityOptions) { o.Now = h.clock })
	h.app.Config.Handler = h.f.e
	h.app.Start()
	t.Cleanup(h.app.Close)

	h.jar, _ = cookiejar.New(nil)
	h.web = &http.Client{
		Jar:           h.jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h
}

func (h *oidcHarness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *oidcHarness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// result is a response with its body read.
type result struct {
	code     int
	location string
	header   http.Header
	body     string
}

func (h *oidcHarness) send(r *http.Request) result {
	h.t.Helper()
	resp, err := h.web.Do(r)
	if err != nil {
		h.t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{code: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: string(b)}
}

// get fetches a URL; a path is taken relative to the dashboard.
func (h *oidcHarness) get(target string, headers ...string) result {
	h.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = h.app.URL + target
	}
	r, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return h.send(r)
}

func (h *oidcHarness) postForm(path string, form url.Values) result {
	h.t.Helper()
	r, err := http.NewRequest(http.MethodPost, h.app.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.send(r)
}

func (h *oidcHarness) want(r result, code int, what string) {
	h.t.Helper()
	if r.code != code {
		h.t.Fatalf("%s: status %d, want %d (Location %q)\n%s\nlogs: %s", what, r.code, code, r.location, r.body, h.f.logs)
	}
}

// startLogin follows the dashboard's redirect to the provider and returns the
// authorization URL.
func (h *oidcHarness) startLogin(next string) *url.URL {
	h.t.Helper()
	r := h.get(loginURLFor(next))
	h.want(r, http.StatusFound, "GET /auth/login")
	u, err := url.Parse(r.location)
	if err != nil || !strings.HasPrefix(r.location, h.mock.AuthorizationEndpoint()) {
		h.t.Fatalf("login redirects to %q, want the provider's authorize endpoint", r.location)
	}
	return u
}

// authorize has the provider sign the user in and returns the callback URL
// it redirects to.
func (h *oidcHarness) authorize(u *url.URL) string {
	h.t.Helper()
	r := h.get(u.String())
	h.want(r, http.StatusFound, "provider authorize")
	if !strings.HasPrefix(r.location, h.app.URL+CallbackPath) {
		h.t.Fatalf("provider redirects to %q, want the callback", r.location)
	}
	return r.location
}

func (h *oidcHarness) cookie(name string) *http.Cookie {
	u, _ := url.Parse(h.app.URL)
	for _, c := range h.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (h *oidcHarness) signIn(next string) {
	h.t.Helper()
	r := h.get(h.authorize(h.startLogin(next)))
	h.want(r, http.StatusSeeOther, "callback")
}

func TestOIDCLoginFlow(t *testing.T) {
	h := newOIDCHarness(t)

	// A browser without a session is sent to sign in, keeping its place.
	r := h.get("/projects/p1?tab=users")
	h.want(r, http.StatusFound, "unauthenticated page")
	if r.location != "/auth/login?next=%2Fprojects%2Fp1%3Ftab%3Dusers" {
		t.Fatalf("redirect to %q", r.location)
	}

	auth := h.startLogin("/projects/p1?tab=users")
	q := auth.Query()
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("authorize URL %s = %q, want a random value of 32 bytes", k, q.Get(k))
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || q.Get("client_id") != h.mock.ClientID {
		t.Errorf("authorize URL %s lacks PKCE S256 or the code flow", auth)
	}
	if c := h.cookie(loginCookie); c == nil {
		t.Fatal("no login state cookie")
	}
	if strings.Contains(auth.String(), "verifier") {
		t.Error("the PKCE verifier is in the URL")
	}

	r = h.get(h.authorize(auth))
	h.want(r, http.StatusSeeOther, "callback")
	if r.location != "/projects/p1?tab=users" {
		t.Errorf("after sign-in, redirect to %q, want the page first asked for", r.location)
	}
	if h.cookie(loginCookie) != nil {
		t.Error("login state cookie survived the callback")
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == authCookie && c.MaxAge > 0 {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.MaxAge != int(DefaultSessionMaxAge/time.Second) {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, MaxAge 12h", session)
	}
	if strings.Contains(session.Value, "jane.doe") {
		t.Error("the session cookie is readable; it should be encrypted")
	}

	r = h.get("/")
	h.want(r, http.StatusOK, "home after sign-in")
	if !strings.Contains(r.body, "home jane.doe@example.com role=admin") {
		t.Errorf("identity on the next request: %q", r.body)
	}
	login := h.f.audit.Lines(t)
	if len(login) != 1 || login[0]["action"] != "auth.login" || login[0]["actor"] != "jane.doe@example.com" || login[0]["outcome"] != "ok" {
		t.Errorf("audit after sign-in: %v", login)
	}

	// Sign out: a POST with the CSRF token.
	_, token, _ := strings.Cut(r.body, "csrf=")
	h.want(h.postForm(LogoutPath, url.Values{}), http.StatusForbidden, "logout without CSRF token")
	r = h.postForm(LogoutPath, url.Values{"_csrf": {token}})
	h.want(r, http.StatusSeeOther, "logout")
	if r.location != SignedOutPath {
		t.Errorf("logout redirects to %q", r.location)
	}
	r = h.get(SignedOutPath)
	h.want(r, http.StatusOK, "signed-out page")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if doc.Find(`[data-testid="signed-out"]`).Length() != 1 || doc.Find(`[data-testid="sign-in-again"]`).AttrOr("href", "") != LoginPath {
		t.Errorf("signed-out page: %s", r.body)
	}
	h.want(h.get("/"), http.StatusFound, "home after sign-out")
	lines := h.f.audit.Lines(t)
	if last := lines[len(lines)-1]; last["action"] != "auth.logout" || last["outcome"] != "ok" || last["actor"] != "jane.doe@example.com" {
		t.Errorf("last audit line %v, want the sign-out", last)
	}
}

func TestOIDCRejectsForeignOrReplayedCallbacks(t *testing.T) {
	t.Run("state mismatch", func(t *testing.T) {
		h := newOIDCHarness(t)
		cb, _ := url.Parse(h.authorize(h.startLogin("/")))
		q := cb.Query()
		q.Set("state", "attacker-state")
		cb.RawQuery = q.Encode()
		r := h.get(cb.String())
		h.want(r, http.StatusBadRequest, "callback with a foreign state")
		if !strings.Contains(r.body, `data-testid="sign-in-failed"`) {
			t.Errorf("no sign-in-failed page: %s", r.body)
		}
		if h.cookie(authCookie) != nil {
			t.Error("a session was created")
		}
		if !strings.Contains(h.f.logs.String(), "state mismatch") {
			t.Errorf("logs: %s", h.f.logs)
		}
	})
	t.Run("nonce mismatch", func(t *testing.T) {
		h := newOIDCHarness(t)
		auth := h.startLogin("/")
		q := auth.Query()
		q.Set("nonce", "attacker-nonce")
		auth.RawQuery = q.Encode()
		h.want(h.get(h.authorize(auth)), http.StatusUnauthorized, "callback whose ID token has another nonce")
		if h.cookie(authCookie) != nil || !strings.Contains(h.f.logs.String(), "nonce mismatch") {
			t.Errorf("session %v; logs: %s", h.cookie(authCookie), h.f.logs)
		}
	})
	t.Run("code from a login with another PKCE challenge", func(t *testing.T) {
		h := newOIDCHarness(t)
		auth := h.startLogin("/")
		q := auth.Query()
		q.Set("code_challenge", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		auth.RawQuery = q.Encode()
		h.want(h.get(h.authorize(auth)), http.StatusBadGateway, "code exchange without the matching verifier")
		if h.cookie(authCookie) != nil {
			t.Error("a session was created")
		}
	})
	t.Run("callback replayed", func(t *testing.T) {
		h := newOIDCHarness(t)
		cb := h.authorize(h.startLogin("/"))
		h.want(h.get(cb), http.StatusSeeOther, "first callback")
		h.jar.SetCookies(mustURL(h.app.URL), []*http.Cookie{{Name: authCookie, Value: "", MaxAge: -1, Path: "/"}})
		h.want(h.get(cb), http.StatusBadRequest, "the same callback again")
	})
	t.Run("provider error", func(t *testing.T) {
		h := newOIDCHarness(t)
		h.startLogin("/")
		r := h.get(CallbackPath + "?error=access_denied%3Cscript%3E&state=x")
		h.want(r, http.StatusUnauthorized, "provider error")
		if strings.Contains(r.body, "<script>") || !strings.Contains(r.body, "access_deniedscript") {
			t.Errorf("provider error not shown safely: %s", r.body)
		}
	})
}

func TestOIDCSessionEndsAndCannotBeForged(t *testing.T) {
	h := newOIDCHarness(t)
	h.signIn("/")
	h.want(h.get("/"), http.StatusOK, "signed in")

	h.advance(DefaultSessionMaxAge + time.Second)
	r := h.get("/")
	h.want(r, http.StatusFound, "after the session lifetime")
	if !strings.HasPrefix(r.location, LoginPath) {
		t.Errorf("expired session redirects to %q", r.location)
	}

	h2 := newOIDCHarness(t)
	h2.jar.SetCookies(mustURL(h2.app.URL), []*http.Cookie{{Name: authCookie, Value: "MTcwMDAwMDAwMHxmb3JnZWR8", Path: "/"}})
	h2.want(h2.get("/"), http.StatusFound, "forged session cookie")
}

func TestOIDCHTMXIsToldWhereToSignIn(t *testing.T) {
	h := newOIDCHarness(t)
	r := h.get("/projects/p1", "HX-Request", "true", "HX-Current-URL", h.app.URL+"/projects/p1?tab=users")
	h.want(r, http.StatusUnauthorized, "htmx without a session")
	if got := r.header.Get("HX-Redirect"); got != "/auth/login?next=%2Fprojects%2Fp1%3Ftab%3Dusers" {
		t.Errorf("HX-Redirect %q", got)
	}
	r = h.postForm("/projects/p1/integrations", url.Values{})
	h.want(r, http.StatusUnauthorized, "form post without a session")
	if !strings.Contains(r.body, `data-testid="unauthenticated"`) || !strings.Contains(r.body, `href="/auth/login"`) {
		t.Errorf("401 page lacks the sign-in link: %s", r.body)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "/",
		"/projects/p1?tab=users":  "/projects/p1?tab=users",
		"//evil.test/x":           "/",
		"/\\evil.test":            "/",
		"https://evil.test/":      "/",
		"projects":                "/",
		"/auth/logout":            "/",
		"/ok\r\nSet-Cookie: x=y":  "/",
		"/%2F%2Fevil.test":        "/%2F%2Fevil.test",
		"javascript:alert(1)":     "/",
		"/projects/p1#fragment-1": "/projects/p1#fragment-1",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
