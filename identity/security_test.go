package identity

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/static"
)

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
		{"someone@elsewhere.test", []string{"platform-admins"}, RoleAdmin},
		// Groups are compared exactly, case included.
		{"someone@elsewhere.test", []string{"PLATFORM-ADMINS"}, RoleNone},
		{"dev@example.com", nil, RoleViewer},
		{"dev@sub.example.com", nil, RoleNone},
		{"dev@contractors.test", nil, RoleViewer},
		{"", []string{"Support"}, RoleViewer},
		{"", []string{"support"}, RoleNone},
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
	// The cookie holds the browser's session value, never the token: knowing
	// the cookie must not be enough to make a token.
	if token == "" || cookie.Value == "" || cookie.Value == token {
		t.Fatalf("token %q and cookie %q: want both set and different", token, cookie.Value)
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
		// static/app.js swaps in only answers that carry it.
		ResponseMarker: "1",
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		code int
	}{
		{"page", req(http.MethodGet, "/", trustedPeer, nil, as(adminEmail)...), http.StatusOK},
		{"htmx 401", req(http.MethodPost, "/projects/p1/users", untrustedPeer, nil, "HX-Request", "true"), http.StatusUnauthorized},
		{"refused identity", req(http.MethodGet, "/", trustedPeer, nil, "X-Forwarded-Email", viewerEmail, "X-Auth-Request-Email", adminEmail), http.StatusUnauthorized},
		{"csrf", req(http.MethodPost, "/projects/p1/users", trustedPeer, nil, as(adminEmail)...), http.StatusForbidden},
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

// TestAppScriptKnowsTheResponseMarker: the script that decides which htmx
// answers to swap in must look for the header the dashboard sends.
func TestAppScriptKnowsTheResponseMarker(t *testing.T) {
	js, err := static.Files.ReadFile("app.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"`+ResponseMarker+`"`) {
		t.Errorf("static/app.js does not name %s", ResponseMarker)
	}
}
