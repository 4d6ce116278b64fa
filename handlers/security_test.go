package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// lockedBuffer is a log sink that tests read while servers write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes the buffer's JSON lines.
func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

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
	sec.Install(f.e)
	f.e.GET("/", func(c echo.Context) error {
		id := IdentityFrom(c)
		return c.String(http.StatusOK, "home "+id.DisplayName()+" role="+string(id.Role)+" csrf="+CSRFToken(c))
	})
	f.e.GET("/projects/:id", func(c echo.Context) error { return c.String(http.StatusOK, "project "+c.Param("id")) })
	f.e.GET("/static/*", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		return c.String(http.StatusOK, "asset")
	})
	for _, r := range mutatingRoutes() {
		if strings.HasPrefix(r.path, authPrefix) {
			continue
		}
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

// mutatingRoutes lists the state-changing routes the audit table names.
func mutatingRoutes() []route {
	var out []route
	for k := range auditActions {
		m, p, _ := strings.Cut(k, " ")
		out = append(out, route{m, p})
	}
	slices.SortFunc(out, func(a, b route) int { return strings.Compare(a.path, b.path) })
	return out
}

// concretePath fills a route pattern's parameters with sample values.
func concretePath(pattern string) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			switch p {
			case ":provider":
				parts[i] = "stack"
			default:
				parts[i] = "sample-" + strings.TrimPrefix(p, ":")
			}
		}
	}
	return strings.Join(parts, "/")
}

// req builds a request from peer with headers given as name, value pairs.
func req(method, target, peer string, form url.Values, headers ...string) *http.Request {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = peer
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

func TestViewerCannotPostToAnyMutatingRoute(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	for _, r := range mutatingRoutes() {
		if strings.HasPrefix(r.path, authPrefix) {
			continue
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			w := f.post(viewerEmail, concretePath(r.path), url.Values{"email": {"x@y.test"}})
			if w.Code != http.StatusForbidden {
				t.Fatalf("viewer %s %s: status %d, want 403", r.method, r.path, w.Code)
			}
			doc := page(t, w)
			if testID(doc, "viewer").Length() != 1 {
				t.Errorf("403 page lacks the viewer explanation: %s", w.Body)
			}
			if got := testID(doc, "signed-in-as").Text(); got != viewerEmail {
				t.Errorf("signed in as %q, want %q", got, viewerEmail)
			}
			if got := testID(doc, "auth-contact").Text(); got != contact {
				t.Errorf("contact %q, want %q", got, contact)
			}
			if n := f.called(r.method, r.path); n != 0 {
				t.Errorf("handler ran %d times for a viewer", n)
			}
			// The same request from the admin goes through.
			w = f.post(adminEmail, concretePath(r.path), nil)
			if w.Code != http.StatusOK || w.Body.String() != "done" {
				t.Fatalf("admin %s %s: status %d %q", r.method, r.path, w.Code, w.Body)
			}
		})
	}
}

func TestUnknownMethodsAndRoutesNeedAdminToo(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, "PURGE"} {
		cookie, token := f.csrf(viewerEmail)
		r := req(method, "/projects/p1/not-a-route", trustedPeer, nil, append(as(viewerEmail), "X-CSRF-Token", token)...)
		r.AddCookie(cookie)
		if w := f.do(r); w.Code != http.StatusForbidden {
			t.Errorf("viewer %s on an unknown route: status %d, want 403", method, w.Code)
		}
	}
}

func TestPeopleWithoutRoleSeeWhoToAsk(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	w := f.do(req(http.MethodGet, "/projects/p1", trustedPeer, nil, as(outsider)...))
	if w.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", w.Code)
	}
	doc := page(t, w)
	if testID(doc, "forbidden").Length() != 1 {
		t.Fatalf("no forbidden panel: %s", w.Body)
	}
	if got := testID(doc, "signed-in-as").Text(); got != outsider {
		t.Errorf("signed in as %q, want %q", got, outsider)
	}
	if got := testID(doc, "auth-contact").Text(); got != contact {
		t.Errorf("contact %q, want %q", got, contact)
	}
	if strings.Contains(w.Body.String(), "project p1") {
		t.Error("the handler's content leaked into the 403 page")
	}
}

func TestRolesFromEmailsDomainsAndGroups(t *testing.T) {
	p := RolePolicy{
		Admins:  Grants{Emails: []string{"Boss@Example.com"}, Groups: []string{"platform-admins"}},
		Viewers: Grants{Domains: []string{"@example.com", "contractors.test"}, Groups: []string{"Support"}},
	}
	for _, tc := range []struct {
		email  string
		groups []string
		want   Role
	}{
		{"boss@example.COM", nil, RoleAdmin},
		{"someone@elsewhere.test", []string{"PLATFORM-ADMINS"}, RoleAdmin},
		{"dev@example.com", nil, RoleViewer},
		{"dev@sub.example.com", nil, RoleNone},
		{"dev@contractors.test", nil, RoleViewer},
		{"", []string{"support"}, RoleViewer},
		{"dev@example.com", []string{"platform-admins"}, RoleAdmin},
		{"boss@example.com.evil.test", nil, RoleNone},
		{"", nil, RoleNone},
	} {
		if got := p.RoleFor(tc.email, tc.groups); got != tc.want {
			t.Errorf("RoleFor(%q, %v) = %q, want %q", tc.email, tc.groups, got, tc.want)
		}
	}
	if got := (RolePolicy{Admins: Grants{Emails: []string{"a@b.c"}}, Viewers: Grants{Domains: []string{"*"}}}).RoleFor("x@y.z", nil); got != RoleViewer {
		t.Errorf(`viewer "*" gave %q, want viewer`, got)
	}
}

func TestCSRF(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	const path, pattern = "/projects/p1/integrations", "/projects/:id/integrations"
	cookie, token := f.csrf(adminEmail)
	if token == "" || cookie.Value != token {
		t.Fatalf("token %q does not match cookie %q", token, cookie.Value)
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure {
		t.Errorf("csrf cookie attributes over plain HTTP: HttpOnly=%v SameSite=%v Secure=%v", cookie.HttpOnly, cookie.SameSite, cookie.Secure)
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers []string
		cookie  bool
		want    int
	}{
		{name: "no token", cookie: true, want: http.StatusForbidden},
		{name: "wrong form token", form: url.Values{"_csrf": {"nope"}}, cookie: true, want: http.StatusForbidden},
		{name: "wrong header token", headers: []string{"X-CSRF-Token", "nope"}, cookie: true, want: http.StatusForbidden},
		{name: "token without its cookie", form: url.Values{"_csrf": {token}}, want: http.StatusForbidden},
		{name: "cross-site browser post with token", form: url.Values{"_csrf": {token}}, headers: []string{"Sec-Fetch-Site", "cross-site"}, cookie: true, want: http.StatusForbidden},
		{name: "same-site browser post without token", headers: []string{"Sec-Fetch-Site", "same-site"}, cookie: true, want: http.StatusForbidden},
		{name: "form token", form: url.Values{"_csrf": {token}}, cookie: true, want: http.StatusOK},
		{name: "htmx header token", headers: []string{"X-CSRF-Token", token, "HX-Request", "true"}, cookie: true, want: http.StatusOK},
		{name: "same-origin browser post", headers: []string{"Sec-Fetch-Site", "same-origin"}, want: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.called(http.MethodPost, pattern)
			form := tc.form
			if form == nil {
				form = url.Values{}
			}
			r := req(http.MethodPost, path, trustedPeer, form, append(as(adminEmail), tc.headers...)...)
			if tc.cookie {
				r.AddCookie(cookie)
			}
			w := f.do(r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			ran := f.called(http.MethodPost, pattern) - before
			if tc.want == http.StatusForbidden {
				if ran != 0 {
					t.Error("handler ran despite the CSRF refusal")
				}
				if !strings.Contains(w.Body.String(), `data-testid="csrf"`) {
					t.Errorf("403 is not the CSRF page: %s", w.Body)
				}
			} else if ran != 1 {
				t.Errorf("handler ran %d times, want 1", ran)
			}
		})
	}
}

func TestCookiesAndHSTSOverHTTPS(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	for _, tc := range []struct {
		name   string
		peer   string
		proto  string
		secure bool
	}{
		{"plain http", trustedPeer, "", false},
		{"https from the trusted proxy", trustedPeer, "https", true},
		{"X-Forwarded-Proto from anyone else", "127.0.0.1:5000", "https", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			headers := as(adminEmail)
			if tc.proto != "" {
				headers = append(headers, "X-Forwarded-Proto", tc.proto)
			}
			w := f.do(req(http.MethodGet, "/", tc.peer, nil, headers...))
			hsts := w.Header().Get("Strict-Transport-Security")
			if (hsts != "") != tc.secure {
				t.Errorf("HSTS %q, want present=%v", hsts, tc.secure)
			}
			if tc.peer != trustedPeer {
				// Proxy mode refuses the untrusted peer before any cookie.
				if w.Code != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", w.Code)
				}
				return
			}
			cookies := w.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("cookies %v, want the csrf cookie", cookies)
			}
			want := "csrf"
			if tc.secure {
				want = "__Host-csrf"
			}
			if c := cookies[0]; c.Name != want || c.Secure != tc.secure || c.Path != "/" || !c.HttpOnly {
				t.Errorf("cookie %s Secure=%v Path=%q HttpOnly=%v, want %s Secure=%v Path=/ HttpOnly", c.Name, c.Secure, c.Path, c.HttpOnly, want, tc.secure)
			}
		})
	}
	forced := secAuthConfig(t)
	forced.CookieSecure = true
	w := newSecFixture(t, forced).do(req(http.MethodGet, "/", trustedPeer, nil, as(adminEmail)...))
	if w.Header().Get("Strict-Transport-Security") == "" || !w.Result().Cookies()[0].Secure {
		t.Error("COOKIE_SECURE=true did not force Secure cookies and HSTS")
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	want := map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		code int
	}{
		{"page", req(http.MethodGet, "/", trustedPeer, nil, as(adminEmail)...), http.StatusOK},
		{"401", req(http.MethodGet, "/", untrustedPeer, nil), http.StatusUnauthorized},
		{"403", req(http.MethodGet, "/", trustedPeer, nil, as(outsider)...), http.StatusForbidden},
		{"404", req(http.MethodGet, "/nope", trustedPeer, nil, as(adminEmail)...), http.StatusNotFound},
		{"static", req(http.MethodGet, "/static/app.css", untrustedPeer, nil), http.StatusOK},
		{"health", req(http.MethodGet, "/healthz", untrustedPeer, nil), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(tc.r)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d", w.Code, tc.code)
			}
			for k, v := range want {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src 'self';") {
				t.Error("CSP allows more than same-origin scripts")
			}
			cache := w.Header().Get("Cache-Control")
			if tc.name == "static" {
				if !strings.Contains(cache, "immutable") {
					t.Errorf("static Cache-Control %q, want the handler's immutable", cache)
				}
				if len(w.Result().Cookies()) != 0 {
					t.Error("static asset response sets a cookie, which breaks shared caching")
				}
			} else if cache != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cache)
			}
			if w.Header().Get("X-Request-Id") == "" {
				t.Error("no X-Request-ID")
			}
		})
	}
}

func TestRequestIDIsFreshAndReachesTheContext(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	var seen string
	f.e.GET("/rid", func(c echo.Context) error {
		seen = neonapi.RequestIDFrom(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	})
	w := f.do(req(http.MethodGet, "/rid", trustedPeer, nil, append(as(adminEmail), "X-Request-ID", "chosen-by-client")...))
	got := w.Header().Get("X-Request-Id")
	if got == "" || got == "chosen-by-client" || got != seen {
		t.Errorf("response id %q, context id %q: want one fresh id in both", got, seen)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	cookie, token := f.csrf(adminEmail)
	big := url.Values{"_csrf": {token}, "email": {strings.Repeat("a", 70<<10)}}
	r := req(http.MethodPost, "/projects/p1/integrations", trustedPeer, big, as(adminEmail)...)
	r.AddCookie(cookie)
	if w := f.do(r); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB form: status %d, want 413", w.Code)
	}
	if n := f.called(http.MethodPost, "/projects/:id/integrations"); n != 0 {
		t.Errorf("handler ran %d times for an oversized body", n)
	}
}

func TestAuditWritesOneLinePerMutation(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	// Reads are not audited.
	f.do(req(http.MethodGet, "/projects/p1", trustedPeer, nil, as(adminEmail)...))
	if got := f.audit.String(); got != "" {
		t.Fatalf("a GET wrote audit lines: %s", got)
	}

	const secret = "hunter2-super-secret"
	w := f.post(adminEmail, "/projects/proj-1/integrations", url.Values{
		"email": {"new@user.test"}, "password": {secret}, "branch_id": {"br-main"}, "provider": {"stack"},
	})
	if w.Code != http.StatusOK {
		t.Fatalf("admin post: %d", w.Code)
	}
	f.post(viewerEmail, "/projects/proj-2/integrations/stack/transfer", nil)
	cookie, _ := f.csrf(adminEmail)
	r := req(http.MethodPost, "/projects/proj-3/integrations/better_auth/delete", trustedPeer, url.Values{}, as(adminEmail)...)
	r.AddCookie(cookie)
	f.do(r)

	lines := f.audit.lines(t)
	if len(lines) != 3 {
		t.Fatalf("%d audit lines, want 3:\n%s", len(lines), f.audit)
	}
	want := []map[string]any{
		{"audit": true, "actor": adminEmail, "role": "admin", "action": "neon_auth.enable", "project": "proj-1", "branch": "br-main",
			"target": "provider=stack email=new@user.test", "outcome": "ok", "status": 200.0, "method": "POST", "route": "/projects/:id/integrations"},
		{"actor": viewerEmail, "role": "viewer", "action": "neon_auth.transfer", "project": "proj-2", "outcome": "denied", "reason": "viewer", "status": 403.0},
		{"actor": adminEmail, "action": "neon_auth.delete", "project": "proj-3", "target": "provider=better_auth", "outcome": "denied", "reason": "csrf", "status": 403.0},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
		for _, k := range []string{"time", "request_id", "peer"} {
			if s, _ := lines[i][k].(string); s == "" {
				t.Errorf("line %d: no %s", i, k)
			}
		}
	}
	if strings.Contains(f.audit.String(), secret) || strings.Contains(f.logs.String(), secret) {
		t.Error("a password field reached the logs")
	}
}

func TestAuditRecordsNeonFailureBehindAnOKPage(t *testing.T) {
	neon := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
	}))
	t.Cleanup(neon.Close)
	client := &http.Client{Transport: AuditTransport(nil)}

	f := newSecFixture(t, secAuthConfig(t))
	f.e.POST("/projects/:id/users/import", func(c echo.Context) error {
		resp, err := client.Do(mustRequest(c.Request().Context(), http.MethodPost, neon.URL))
		if err != nil {
			return err
		}
		resp.Body.Close()
		// The handler shows the refusal in place, with a 200.
		return c.String(http.StatusOK, "form with Neon's error")
	})
	if w := f.post(adminEmail, "/projects/p1/users/import", url.Values{"email": {"a@b.test"}}); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	lines := f.audit.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d audit lines, want 1", len(lines))
	}
	if lines[0]["outcome"] != "error" || lines[0]["neon_status"] != 409.0 || lines[0]["action"] != "POST /projects/:id/users/import" {
		t.Errorf("audit line %v: want outcome error, neon_status 409, action named after the route", lines[0])
	}
}

func mustRequest(ctx context.Context, method, target string) *http.Request {
	r, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func TestAuditRecordsHandlerErrors(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	f.e.POST("/projects/:id/boom", func(c echo.Context) error { return errors.New("boom") })
	w := f.post(adminEmail, "/projects/p9/boom", nil)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	lines := f.audit.lines(t)
	if len(lines) != 1 || lines[0]["outcome"] != "error" || lines[0]["status"] != 500.0 {
		t.Errorf("audit lines %v, want one error line with status 500", lines)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	calls := 0
	var answer error
	ready := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return answer
	}
	f := newSecFixture(t, secAuthConfig(t), func(o *SecurityOptions) {
		o.Ready = ready
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	get := func(path string) *httptest.ResponseRecorder {
		return f.do(req(http.MethodGet, path, untrustedPeer, nil))
	}
	if w := get("/healthz"); w.Code != http.StatusOK || w.Body.String() != "ok\n" {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
	if w := get("/readyz"); w.Code != http.StatusOK {
		t.Errorf("readyz: %d %q", w.Code, w.Body)
	}

	mu.Lock()
	answer = &neonapi.APIError{StatusCode: http.StatusUnauthorized, Message: "key napi_live_SECRET is revoked"}
	mu.Unlock()
	if w := get("/readyz"); w.Code != http.StatusOK {
		t.Errorf("readyz within the cache window: %d, want the cached 200", w.Code)
	}
	mu.Lock()
	now = now.Add(readyCacheTTL)
	mu.Unlock()
	w := get("/readyz")
	if w.Code != http.StatusServiceUnavailable || w.Body.String() != "not ready: neon api rejected the api key\n" {
		t.Errorf("readyz after the key was revoked: %d %q", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "napi_") {
		t.Error("readyz echoed Neon's error text")
	}
	mu.Lock()
	if calls != 2 {
		t.Errorf("%d readiness checks, want 2 (one per cache window)", calls)
	}
	mu.Unlock()
}

func TestNotReadyReasons(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&neonapi.APIError{StatusCode: 403}, "neon api rejected the api key"},
		{&neonapi.APIError{StatusCode: 429}, "neon api is rate limiting"},
		{&neonapi.APIError{StatusCode: 503}, "neon api unreachable"},
		{context.DeadlineExceeded, "neon api timed out"},
		{errors.New("something else"), "neon api check failed"},
	} {
		if got := notReadyReason(tc.err); got != tc.want {
			t.Errorf("notReadyReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestMetricsAccessAndLabels(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	f.do(req(http.MethodGet, "/projects/p-123", trustedPeer, nil, as(adminEmail)...))
	f.do(req(http.MethodGet, "/projects/p-456", untrustedPeer, nil))
	f.sec.Metrics().ObserveCall("createNeonAuthNewUser", 201, 30*time.Millisecond)
	f.sec.Metrics().ObserveRetry("listProjects")
	f.sec.Metrics().ObserveRateLimitWait(5 * time.Millisecond)
	f.sec.Metrics().ObserveSyncCheck(700 * time.Millisecond)

	if w := f.do(req(http.MethodGet, "/metrics", untrustedPeer, nil)); w.Code != http.StatusForbidden {
		t.Errorf("metrics from a remote peer without METRICS_TOKEN: %d, want 403", w.Code)
	}
	if w := f.do(req(http.MethodGet, "/metrics", "127.0.0.1:5000", nil, "X-Forwarded-For", "198.51.100.7")); w.Code != http.StatusForbidden {
		t.Errorf("metrics relayed by a local proxy: %d, want 403", w.Code)
	}
	w := f.do(req(http.MethodGet, "/metrics", "127.0.0.1:5000", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("metrics from loopback: %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`neonauth_dashboard_http_requests_total{method="GET",route="/projects/:id",status="200"} 1`,
		`neonauth_dashboard_http_requests_total{method="GET",route="/projects/:id",status="401"} 1`,
		`neonauth_dashboard_neon_api_calls_total{operation="createNeonAuthNewUser",status="201"} 1`,
		`neonauth_dashboard_neon_api_retries_total{operation="listProjects"} 1`,
		`neonauth_dashboard_neon_api_rate_limit_wait_seconds_count 1`,
		`neonauth_dashboard_sync_check_duration_seconds_count 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "p-123") {
		t.Error("a raw URL became a label")
	}

	cfg := secAuthConfig(t)
	cfg.MetricsToken = "scrape-token"
	tf := newSecFixture(t, cfg)
	if w := tf.do(req(http.MethodGet, "/metrics", "127.0.0.1:5000", nil)); w.Code != http.StatusUnauthorized {
		t.Errorf("metrics without the token: %d, want 401", w.Code)
	}
	if w := tf.do(req(http.MethodGet, "/metrics", untrustedPeer, nil, "Authorization", "Bearer wrong")); w.Code != http.StatusUnauthorized {
		t.Errorf("metrics with a wrong token: %d, want 401", w.Code)
	}
	if w := tf.do(req(http.MethodGet, "/metrics", untrustedPeer, nil, "Authorization", "Bearer scrape-token")); w.Code != http.StatusOK {
		t.Errorf("metrics with the token: %d, want 200", w.Code)
	}
}

func TestNoneModeOnlyOnLoopback(t *testing.T) {
	cfg := AuthConfig{Mode: AuthModeNone, SessionMaxAge: DefaultSessionMaxAge}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.9.9.9:8080", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.168.1.10:8080", false},
		{"dashboard.internal:8080", false},
	} {
		err := cfg.Validate(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "AUTH_MODE=none") {
			t.Errorf("Validate(%q) error does not name the setting: %v", tc.addr, err)
		}
	}
	if _, err := NewSecurity(t.Context(), SecurityOptions{Auth: cfg, ListenAddr: "0.0.0.0:8080"}); err == nil {
		t.Error("NewSecurity accepted none mode on every interface")
	}
}

func TestNoneModeIsAnonymousAdminWithCSRF(t *testing.T) {
	f := newSecFixture(t, AuthConfig{Mode: AuthModeNone, SessionMaxAge: DefaultSessionMaxAge})
	w := f.do(req(http.MethodGet, "/", "127.0.0.1:5000", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "home nobody role=admin") {
		t.Fatalf("GET /: %d %q", w.Code, w.Body)
	}
	w = f.do(req(http.MethodPost, "/projects/p1/integrations", "127.0.0.1:5000", url.Values{}))
	if w.Code != http.StatusForbidden {
		t.Errorf("POST without CSRF token in none mode: %d, want 403", w.Code)
	}
}

func TestValidateRefusesIncompleteConfigs(t *testing.T) {
	base := map[string]string{"AUTH_ADMIN_EMAILS": adminEmail}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" means valid
	}{
		{"proxy without trusted peers", with("AUTH_MODE", "proxy"), "AUTH_PROXY_TRUSTED"},
		{"proxy trusting everyone", with("AUTH_MODE", "proxy", "AUTH_PROXY_TRUSTED", "0.0.0.0/0"), "trusts every address"},
		{"proxy ok", with("AUTH_MODE", "proxy", "AUTH_PROXY_TRUSTED", "10.0.0.5, fd00::/8"), ""},
		{"proxy without admins", map[string]string{"AUTH_MODE": "proxy", "AUTH_PROXY_TRUSTED": "10.0.0.5"}, "no admin configured"},
		{"admin star", with("AUTH_MODE", "proxy", "AUTH_PROXY_TRUSTED", "10.0.0.5", "AUTH_ADMIN_DOMAINS", "*"), `"*"`},
		{"jwt incomplete", with("AUTH_MODE", "jwt", "AUTH_JWT_HEADER", "Cf-Access-Jwt-Assertion"), "AUTH_JWT_AUDIENCE, AUTH_JWT_ISSUER, AUTH_JWT_JWKS_URL"},
		{"jwt with HS256", with("AUTH_MODE", "jwt", "AUTH_JWT_HEADER", "X", "AUTH_JWT_JWKS_URL", "https://x.test/jwks", "AUTH_JWT_ISSUER", "https://x.test", "AUTH_JWT_AUDIENCE", "a", "AUTH_JWT_ALGORITHMS", "HS256"), "HS256"},
		{"jwt ok", with("AUTH_MODE", "jwt", "AUTH_JWT_HEADER", "X", "AUTH_JWT_JWKS_URL", "https://x.test/jwks", "AUTH_JWT_ISSUER", "https://x.test", "AUTH_JWT_AUDIENCE", "a"), ""},
		{"oidc without session keys", with("AUTH_MODE", "oidc", "AUTH_OIDC_ISSUER", "https://idp.test", "AUTH_OIDC_CLIENT_ID", "id", "AUTH_OIDC_CLIENT_SECRET", "s", "AUTH_OIDC_REDIRECT_URL", "https://dash.test/auth/callback"), "SESSION_KEYS"},
		{"oidc wrong redirect", with("AUTH_MODE", "oidc", "AUTH_OIDC_ISSUER", "https://idp.test", "AUTH_OIDC_CLIENT_ID", "id", "AUTH_OIDC_CLIENT_SECRET", "s", "AUTH_OIDC_REDIRECT_URL", "https://dash.test/callback", "keys", "1"), "/auth/callback"},
		{"oidc ok", with("AUTH_MODE", "oidc", "AUTH_OIDC_ISSUER", "https://idp.test", "AUTH_OIDC_CLIENT_ID", "id", "AUTH_OIDC_CLIENT_SECRET", "s", "AUTH_OIDC_REDIRECT_URL", "https://dash.test/auth/callback", "keys", "1"), ""},
		{"oidc short session key", with("AUTH_MODE", "oidc", "AUTH_OIDC_ISSUER", "https://idp.test", "AUTH_OIDC_CLIENT_ID", "id", "AUTH_OIDC_CLIENT_SECRET", "s", "AUTH_OIDC_REDIRECT_URL", "https://dash.test/auth/callback", "keys", "short"), "SESSION_KEYS entry 2: 16 bytes"},
		{"unknown mode", with("AUTH_MODE", "ldap"), "want none, proxy, jwt or oidc"},
		{"logout url elsewhere", with("AUTH_MODE", "proxy", "AUTH_PROXY_TRUSTED", "10.0.0.5", "AUTH_LOGOUT_URL", "javascript:alert(1)"), "AUTH_LOGOUT_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseAuthEnv(envMap(tc.env))
			if err != nil {
				t.Fatalf("ParseAuthEnv: %v", err)
			}
			switch tc.env["keys"] {
			case "":
			case "short":
				cfg.SessionKeys = SessionKeys{[]byte(strings.Repeat("k", 32)), []byte(strings.Repeat("k", 16))}
			default:
				cfg.SessionKeys = SessionKeys{[]byte(strings.Repeat("k", 32))}
			}
			err = cfg.Validate("0.0.0.0:8080")
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v, want ok", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseSessionKeys(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name string
		raw  string
		want SessionKeys
		errs []string // each must appear in the error
	}{
		{"hex", hex.EncodeToString(key), SessionKeys{key}, nil},
		{"base64 variants, order kept, spaces trimmed",
			base64.StdEncoding.EncodeToString(key) + " , " + base64.RawURLEncoding.EncodeToString([]byte("abcdefghijklmnopqrstuvwxyz0123456789")),
			SessionKeys{key, []byte("abcdefghijklmnopqrstuvwxyz0123456789")}, nil},
		// 32 characters are not 32 bytes of key: raw text is never taken as is.
		{"raw text of 32 characters", string(key), nil, []string{"entry 1: decodes to 16 bytes"}},
		{"every bad entry named", "tooshort," + hex.EncodeToString(key) + ",zz-not-hex-or-base64!!,",
			nil, []string{"entry 1: decodes to", "entry 3: is neither hex nor base64", "entry 4: empty key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSessionKeys(tc.raw)
			if len(tc.errs) == 0 {
				if err != nil || !slices.EqualFunc(got, tc.want, bytes.Equal) {
					t.Fatalf("ParseSessionKeys = %d keys, %v; want %d keys", len(got), err, len(tc.want))
				}
				return
			}
			if err == nil || got != nil {
				t.Fatalf("ParseSessionKeys = %d keys, %v; want an error", len(got), err)
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("error %q quotes the key", err)
			}
		})
	}
}

func TestParseAuthEnvRejectsMalformedValues(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"trusted": {"AUTH_PROXY_TRUSTED": "10.0.0.0/8, not-an-ip"},
		"max age": {"AUTH_SESSION_MAX_AGE": "forever"},
	} {
		if _, err := ParseAuthEnv(envMap(env)); err == nil {
			t.Errorf("%s: %v accepted", name, env)
		}
	}
}

func TestSecretsStayOutOfFormatting(t *testing.T) {
	cfg, err := ParseAuthEnv(envMap(map[string]string{
		"AUTH_OIDC_CLIENT_SECRET": "client-secret-value",
		"METRICS_TOKEN":           "metrics-token-value",
	}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.SessionKeys = SessionKeys{[]byte(strings.Repeat("s", 40))}
	var logged bytes.Buffer
	jsonLogger(&logged).Info("config", "cfg", cfg)
	for _, s := range []string{
		fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logged.String(),
	} {
		for _, secret := range []string{"client-secret-value", strings.Repeat("s", 40), "metrics-token-value"} {
			if strings.Contains(s, secret) {
				t.Errorf("secret %q printed in %s", secret, s)
			}
		}
	}
}

func TestSessionStoreRotatesKeys(t *testing.T) {
	oldKey, newKey := []byte(strings.Repeat("o", 32)), []byte(strings.Repeat("n", 32))
	save := func(keys [][]byte) *http.Cookie {
		t.Helper()
		store := NewSessionStore(keys, true, 3600)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		w := httptest.NewRecorder()
		s, _ := store.New(r, "flash")
		s.Values["msg"] = "saved-value"
		if err := s.Save(r, w); err != nil {
			t.Fatal(err)
		}
		return w.Result().Cookies()[0]
	}
	read := func(keys [][]byte, c *http.Cookie) (string, error) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(c)
		s, err := NewSessionStore(keys, true, 3600).Get(r, "flash")
		v, _ := s.Values["msg"].(string)
		return v, err
	}
	c := save([][]byte{oldKey})
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 3600 || c.Path != "/" {
		t.Errorf("cookie attributes %+v", c)
	}
	if strings.Contains(c.Value, "saved-value") {
		t.Error("cookie is not encrypted")
	}
	if v, err := read([][]byte{newKey, oldKey}, c); err != nil || v != "saved-value" {
		t.Errorf("after rotation, old cookie read as %q, %v", v, err)
	}
	if v, err := read([][]byte{newKey}, c); err == nil || v != "" {
		t.Errorf("with the old key dropped, old cookie read as %q, %v", v, err)
	}
	if v, err := read([][]byte{newKey, oldKey}, save([][]byte{newKey, oldKey})); err != nil || v != "saved-value" {
		t.Errorf("new cookie read as %q, %v", v, err)
	}
}
