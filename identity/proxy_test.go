package identity

import (
	"net/http"
	"strings"
	"testing"
)

func TestProxyHeadersOnlyFromTrustedPeers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		peer    string
		headers []string
		code    int
		body    string // expected in a 200 body
		warned  bool   // a forged identity is logged as a warning
	}{
		{name: "oauth2-proxy headers from the trusted CIDR", peer: trustedPeer, headers: as(adminEmail), code: http.StatusOK, body: "home " + adminEmail + " role=admin"},
		{name: "X-Auth-Request headers from the trusted CIDR", peer: "10.200.0.1:1234",
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
			cfg.Roles.Viewers.Groups = []string{"Dashboard-Viewers"}
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
