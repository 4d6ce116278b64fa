package identity

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHostAllowList sends requests under Host names a DNS-rebinding page
// would use. AUTH_MODE=none answers loopback names only; every mode answers
// only ALLOWED_HOSTS when it is set; probes answer under any name.
func TestHostAllowList(t *testing.T) {
	none := AuthConfig{Mode: AuthModeNone, SessionMaxAge: DefaultSessionMaxAge}
	proxy := func(allowed string) AuthConfig {
		cfg := secAuthConfig(t)
		if allowed != "" {
			var err error
			if cfg.AllowedHosts, err = ParseAllowedHosts(allowed); err != nil {
				t.Fatal(err)
			}
		}
		return cfg
	}
	for _, tc := range []struct {
		name   string
		cfg    AuthConfig
		method string
		path   string
		host   string
		peer   string
		want   int
	}{
		{"none: 127.0.0.1 with a port", none, http.MethodGet, "/", "127.0.0.1:8080", "127.0.0.1:5000", http.StatusOK},
		{"none: localhost", none, http.MethodGet, "/", "localhost:8080", "127.0.0.1:5000", http.StatusOK},
		{"none: LOCALHOST without a port", none, http.MethodGet, "/", "LOCALHOST", "127.0.0.1:5000", http.StatusOK},
		{"none: [::1]", none, http.MethodGet, "/", "[::1]:8080", "[::1]:5000", http.StatusOK},
		{"none: rebinding name", none, http.MethodGet, "/", "attacker.example:8080", "127.0.0.1:5000", http.StatusMisdirectedRequest},
		{"none: rebinding name on the mutating route", none, http.MethodPost, "/projects/p1/users", "attacker.example:8080", "127.0.0.1:5000", http.StatusMisdirectedRequest},
		{"none: name that starts like loopback", none, http.MethodGet, "/", "127.0.0.1.nip.io:8080", "127.0.0.1:5000", http.StatusMisdirectedRequest},
		{"none: localhost as a subdomain", none, http.MethodGet, "/", "localhost.attacker.example", "127.0.0.1:5000", http.StatusMisdirectedRequest},
		{"none: no Host at all", none, http.MethodGet, "/", "", "127.0.0.1:5000", http.StatusMisdirectedRequest},
		{"none: the probe answers any name", none, http.MethodGet, "/healthz", "10.0.0.7:8080", "127.0.0.1:5000", http.StatusOK},
		{"proxy without ALLOWED_HOSTS: any name", proxy(""), http.MethodGet, "/", "anything.example", trustedPeer, http.StatusOK},
		{"proxy: listed name", proxy("dash.example.com, other.example.com"), http.MethodGet, "/", "dash.example.com", trustedPeer, http.StatusOK},
		{"proxy: listed name, any port, any case", proxy("dash.example.com"), http.MethodGet, "/", "DASH.example.com:443", trustedPeer, http.StatusOK},
		{"proxy: unlisted name", proxy("dash.example.com"), http.MethodGet, "/", "evil.example", trustedPeer, http.StatusMisdirectedRequest},
		{"proxy: listed name under another domain", proxy("dash.example.com"), http.MethodGet, "/", "dash.example.com.evil.example", trustedPeer, http.StatusMisdirectedRequest},
		{"proxy: listed port", proxy("dash.example.com:8443"), http.MethodGet, "/", "dash.example.com:8443", trustedPeer, http.StatusOK},
		{"proxy: other port", proxy("dash.example.com:8443"), http.MethodGet, "/", "dash.example.com:9000", trustedPeer, http.StatusMisdirectedRequest},
		{"proxy: probe under the pod's address", proxy("dash.example.com"), http.MethodGet, "/healthz", "10.1.2.3:8080", untrustedPeer, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSecFixture(t, tc.cfg)
			var form url.Values
			if tc.method == http.MethodPost {
				form = url.Values{"email": {"x@y.test"}}
			}
			r := req(tc.method, tc.path, tc.peer, form, as(adminEmail)...)
			r.Host = tc.host
			w := f.do(r)
			if w.Code != tc.want {
				t.Fatalf("Host %q: status %d, want %d: %.400s", tc.host, w.Code, tc.want, w.Body)
			}
			if tc.want != http.StatusMisdirectedRequest {
				return
			}
			if testID(page(t, w), "wrong-host").Length() != 1 || !strings.Contains(w.Body.String(), "ALLOWED_HOSTS") {
				t.Errorf("421 does not explain the host rule: %s", w.Body)
			}
			if n := f.called(http.MethodPost, "/projects/:id/users"); n != 0 {
				t.Errorf("the handler ran %d times for a refused host", n)
			}
			if len(w.Result().Cookies()) != 0 {
				t.Error("a refused host got a cookie")
			}
		})
	}
}

func TestParseAllowedHostsRefusesURLs(t *testing.T) {
	for _, bad := range []string{"https://dash.example.com", "dash.example.com/path", "dash example.com", "dash.example.com:port", "*",
		"dash.\u212aorp.test", "dash.corp.te\u017ft"} { // Kelvin sign and long s, which Unicode lower-casing would make ASCII
		if _, err := ParseAllowedHosts(bad); err == nil || !strings.Contains(err.Error(), "ALLOWED_HOSTS") {
			t.Errorf("ParseAllowedHosts(%q) = %v, want an error naming ALLOWED_HOSTS", bad, err)
		}
	}
	got, err := ParseAllowedHosts(" Dash.Example.com , [::1]:8080,10.0.0.1 ")
	if err != nil || strings.Join(got, " ") != "dash.example.com [::1]:8080 10.0.0.1" {
		t.Errorf("ParseAllowedHosts = %q, %v", got, err)
	}
}
