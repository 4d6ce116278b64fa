package identity

import (
	"net/http"
	"strings"
	"testing"
)

func TestProxyHeadersOnlyFromTrustedPeers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     string // AUTH_PROXY_HEADERS; "" is the default
		peer    string
		headers []string
		code    int
		body    string // expected in a 200 body
		warned  bool   // a forged identity is logged as a warning
	}{
		{name: "oauth2-proxy headers from the trusted CIDR", peer: trustedPeer, headers: as(adminEmail), code: http.StatusOK, body: "home " + adminEmail + " role=admin"},
		{name: "X-Auth-Request headers from the trusted CIDR", set: "x-auth-request", peer: "10.200.0.1:1234",
			headers: []string{"X-Auth-Request-User", "vic", "X-Auth-Request-Email", viewerEmail}, code: http.StatusOK, body: "home " + viewerEmail + " role=viewer"},
		{name: "IPv4-mapped IPv6 peer in the trusted CIDR", peer: "[::ffff:10.0.0.7]:1234", headers: as(adminEmail), code: http.StatusOK, body: "role=admin"},
		{name: "user header holding an email", peer: trustedPeer, headers: []string{"X-Forwarded-User", adminEmail}, code: http.StatusOK, body: "role=admin"},
		{name: "groups grant the role", peer: trustedPeer,
			headers: []string{"X-Forwarded-User", "gus", "X-Forwarded-Groups", "engineering, dashboard-viewers"}, code: http.StatusOK, body: "home gus role=viewer"},
		{name: "forged headers from an untrusted peer", peer: untrustedPeer, headers: as(adminEmail), code: http.StatusUnauthorized, warned: true},
		{name: "forged headers with a trusted X-Forwarded-For", peer: untrustedPeer,
			headers: append(as(adminEmail), "X-Forwarded-For", "10.1.2.3", "X-Real-IP", "10.1.2.3"), code: http.StatusUnauthorized, warned: true},
		{name: "forged groups alone", peer: untrustedPeer, headers: []string{"X-Forwarded-Groups", "dashboard-admins"}, code: http.StatusUnauthorized, warned: true},
		{name: "loopback is not trusted unless listed", peer: "127.0.0.1:1234", headers: as(adminEmail), code: http.StatusUnauthorized, warned: true},
		{name: "trusted peer without identity", peer: trustedPeer, code: http.StatusUnauthorized},
		{name: "untrusted peer without identity", peer: untrustedPeer, code: http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := secAuthConfig(t)
			cfg.Roles.Viewers.Groups = []string{"dashboard-viewers"}
			if tc.set != "" {
				cfg.Proxy = ProxyHeaderSets[tc.set]
			}
			f := newSecFixture(t, cfg)
			w := f.do(req(http.MethodGet, "/", tc.peer, nil, tc.headers...))
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if tc.code == http.StatusOK {
				if !strings.Contains(w.Body.String(), tc.body) {
					t.Errorf("body %q, want %q", w.Body, tc.body)
				}
				return
			}
			doc := page(t, w)
			if testID(doc, "unauthenticated").Length() != 1 {
				t.Errorf("401 is not the sign-in-required page: %s", w.Body)
			}
			if strings.Contains(w.Body.String(), "home ") {
				t.Error("the handler ran without an identity")
			}
			logs := f.logs.String()
			forged := strings.Contains(logs, `"level":"WARN"`) && strings.Contains(logs, "identity header from untrusted peer") &&
				strings.Contains(logs, `"peer":"`+strings.Split(tc.peer, ":")[0])
			if forged != tc.warned {
				t.Errorf("forged-identity warning logged=%v, want %v; logs: %s", forged, tc.warned, logs)
			}
		})
	}
}

func TestProxyModeHTMXGetsARefresh(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	w := f.do(req(http.MethodGet, "/projects/p1", untrustedPeer, nil, "HX-Request", "true"))
	if w.Code != http.StatusUnauthorized || w.Header().Get("HX-Refresh") != "true" {
		t.Errorf("htmx without identity: %d HX-Refresh=%q, want 401 and a full reload", w.Code, w.Header().Get("HX-Refresh"))
	}
	if strings.Contains(w.Body.String(), "<html") {
		t.Error("htmx got a full page instead of the panel")
	}
}

func TestProxyHeaderNamesAreConfigurable(t *testing.T) {
	cfg, err := ParseAuthEnv(envMap(map[string]string{
		"AUTH_MODE":               "proxy",
		"AUTH_PROXY_TRUSTED":      "10.0.0.0/8",
		"AUTH_PROXY_USER_HEADER":  "Remote-User",
		"AUTH_PROXY_EMAIL_HEADER": "Remote-Email",
		"AUTH_ADMIN_EMAILS":       adminEmail,
	}))
	if err != nil {
		t.Fatal(err)
	}
	f := newSecFixture(t, cfg)
	if w := f.do(req(http.MethodGet, "/", trustedPeer, nil, "Remote-User", "ada", "Remote-Email", adminEmail)); w.Code != http.StatusOK {
		t.Errorf("configured headers: %d", w.Code)
	}
	if w := f.do(req(http.MethodGet, "/", trustedPeer, nil, as(adminEmail)...)); w.Code != http.StatusUnauthorized {
		t.Errorf("default headers still honoured after renaming: %d", w.Code)
	}
}

// TestProxyRejectsSmuggledIdentityHeaders sends what a signed-in viewer can
// add to the requests their proxy passes on. The proxy sets one header set;
// anything else that names a person, a second value of a header, or one
// header naming two people is refused, never read.
func TestProxyRejectsSmuggledIdentityHeaders(t *testing.T) {
	const (
		viewer     = "viewer@x.test"
		admin      = "admin@corp.test"
		adminGroup = "dashboard-admins"
	)
	config := func(set string) AuthConfig {
		env := map[string]string{
			"AUTH_MODE":           "proxy",
			"AUTH_PROXY_TRUSTED":  "10.0.0.0/8",
			"AUTH_ADMIN_DOMAINS":  "corp.test",
			"AUTH_ADMIN_GROUPS":   adminGroup,
			"AUTH_VIEWER_DOMAINS": "x.test",
		}
		if set != "" {
			env["AUTH_PROXY_HEADERS"] = set
		}
		cfg, err := ParseAuthEnv(envMap(env))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	type header struct{ name, value string }
	for _, tc := range []struct {
		name    string
		set     string // AUTH_PROXY_HEADERS; "" is the default
		headers []header
		code    int
		body    string
	}{
		{name: "x-auth-request proxy: its own headers", set: "x-auth-request",
			headers: []header{{"X-Auth-Request-User", "viewer"}, {"X-Auth-Request-Email", viewer}},
			code:    http.StatusOK, body: "home " + viewer + " role=viewer"},
		{name: "x-auth-request proxy: viewer adds X-Forwarded-Email", set: "x-auth-request",
			headers: []header{{"X-Auth-Request-Email", viewer}, {"X-Forwarded-Email", admin}}, code: http.StatusUnauthorized},
		{name: "x-auth-request proxy: viewer adds X-Forwarded-Groups", set: "x-auth-request",
			headers: []header{{"X-Auth-Request-Email", viewer}, {"X-Forwarded-Groups", adminGroup}}, code: http.StatusUnauthorized},
		{name: "x-auth-request proxy: viewer adds X-Forwarded-User", set: "x-auth-request",
			headers: []header{{"X-Auth-Request-Email", viewer}, {"X-Forwarded-User", admin}}, code: http.StatusUnauthorized},
		{name: "default proxy: viewer adds X-Auth-Request-Email",
			headers: []header{{"X-Forwarded-Email", viewer}, {"X-Auth-Request-Email", admin}}, code: http.StatusUnauthorized},
		{name: "default proxy: viewer adds X-Auth-Request-Groups",
			headers: []header{{"X-Forwarded-Email", viewer}, {"X-Auth-Request-Groups", adminGroup}}, code: http.StatusUnauthorized},
		{name: "two people in one email header",
			headers: []header{{"X-Forwarded-Email", viewer + "," + admin}}, code: http.StatusUnauthorized},
		{name: "two people in one user header",
			headers: []header{{"X-Forwarded-User", viewer + ", " + admin}}, code: http.StatusUnauthorized},
		{name: "email header sent twice",
			headers: []header{{"X-Forwarded-Email", viewer}, {"X-Forwarded-Email", admin}}, code: http.StatusUnauthorized},
		{name: "groups header sent twice",
			headers: []header{{"X-Forwarded-Email", viewer}, {"X-Forwarded-Groups", "support"}, {"X-Forwarded-Groups", adminGroup}}, code: http.StatusUnauthorized},
		{name: "x-auth-request proxy: viewer adds X-Forwarded-Preferred-Username", set: "x-auth-request",
			headers: []header{{"X-Auth-Request-Email", viewer}, {"X-Forwarded-Preferred-Username", "admin"}}, code: http.StatusUnauthorized},
		{name: "default proxy: viewer adds X-Auth-Request-Preferred-Username",
			headers: []header{{"X-Forwarded-Email", viewer}, {"X-Auth-Request-Preferred-Username", "admin"}}, code: http.StatusUnauthorized},
		{name: "oauth2-proxy's preferred username beside two emails",
			headers: []header{{"X-Forwarded-Email", viewer}, {"X-Forwarded-Email", admin}, {"X-Forwarded-Preferred-Username", "viewer"}}, code: http.StatusUnauthorized},
		{name: "default proxy: its own headers, groups comma-separated",
			headers: []header{{"X-Forwarded-Email", viewer}, {"X-Forwarded-Groups", "support, " + adminGroup}},
			code:    http.StatusOK, body: "home " + viewer + " role=admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSecFixture(t, config(tc.set))
			r := req(http.MethodGet, "/", trustedPeer, nil)
			for _, h := range tc.headers {
				r.Header.Add(h.name, h.value)
			}
			w := f.do(r)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if tc.code == http.StatusOK {
				if !strings.Contains(w.Body.String(), tc.body) {
					t.Errorf("body %q, want %q", w.Body, tc.body)
				}
				return
			}
			if strings.Contains(w.Body.String(), "home ") {
				t.Fatal("the handler ran")
			}
			if testID(page(t, w), "bad-identity").Length() != 1 {
				t.Errorf("401 does not explain the refused identity: %s", w.Body)
			}
			if logs := f.logs.String(); !strings.Contains(logs, `"level":"WARN"`) {
				t.Errorf("refusal not logged as a warning: %s", logs)
			}
		})
	}
}

// TestProxyIgnoresWhatItsProxyAddsBesideTheSet sends what oauth2-proxy sends
// with --pass-user-headers when the provider has a preferred_username: the
// configured set plus X-Forwarded-Preferred-Username. That header is the
// proxy's own, so it neither refuses the request nor names anyone.
func TestProxyIgnoresWhatItsProxyAddsBesideTheSet(t *testing.T) {
	const viewer, admin = "viewer@x.test", "admin@corp.test"
	for _, tc := range []struct {
		name    string
		set     string
		headers []string
		code    int
		body    string
		testID  string
	}{
		{name: "oauth2-proxy with preferred_username", headers: []string{"X-Forwarded-User", "v-123", "X-Forwarded-Email", viewer, "X-Forwarded-Preferred-Username", admin},
			code: http.StatusOK, body: "home " + viewer + " role=viewer"},
		{name: "preferred username naming an admin, nothing else", headers: []string{"X-Forwarded-Preferred-Username", admin},
			code: http.StatusUnauthorized, testID: "unauthenticated"},
		{name: "auth_request proxy with preferred_username", set: "x-auth-request",
			headers: []string{"X-Auth-Request-Email", viewer, "X-Auth-Request-Preferred-Username", admin}, code: http.StatusOK, body: "home " + viewer + " role=viewer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"AUTH_MODE": "proxy", "AUTH_PROXY_TRUSTED": "10.0.0.0/8", "AUTH_PROXY_HEADERS": tc.set,
				"AUTH_ADMIN_DOMAINS": "corp.test", "AUTH_VIEWER_DOMAINS": "x.test"}
			cfg, err := ParseAuthEnv(envMap(env))
			if err != nil {
				t.Fatal(err)
			}
			f := newSecFixture(t, cfg)
			w := f.do(req(http.MethodGet, "/", trustedPeer, nil, tc.headers...))
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s\nlogs: %s", w.Code, tc.code, w.Body, f.logs)
			}
			if tc.body != "" && !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body %q, want %q", w.Body, tc.body)
			}
			if tc.testID != "" && testID(page(t, w), tc.testID).Length() != 1 {
				t.Errorf("no %s page: %s", tc.testID, w.Body)
			}
		})
	}
}
