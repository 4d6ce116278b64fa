package identity

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// overlong is an address whose first 320 bytes end in "@corp.test": cut to
// that length it would match AUTH_ADMIN_DOMAINS=corp.test.
var overlong = strings.Repeat("a", 310) + "@corp.test.evil.example"

// TestMalformedEmailsAreRefusedNotCut sends over-long and malformed
// identities through each mode. None may be cut down to something that
// matches a grant, and none may reach a handler.
func TestMalformedEmailsAreRefusedNotCut(t *testing.T) {
	if len(overlong) <= maxEmailLen || overlong[:320] != strings.Repeat("a", 310)+"@corp.test" {
		t.Fatal("the test address lost its shape")
	}
	bad := []struct{ name, email string }{
		{"over-long, admin domain in the first 320 bytes", overlong},
		{"NUL byte", "ada@corp.test\x00.evil.example"},
		{"control character", "ada@corp.test\x1b"},
		{"display-name form", "Ada <ada@corp.test>"},
		{"two at signs", "ada@evil.example@corp.test"},
		{"quoted local part with a comma", `"ada,bob"@corp.test`},
		{"no domain", "ada@"},
		{"empty domain label", "ada@corp..test"},
	}

	t.Run("proxy", func(t *testing.T) {
		cfg := secAuthConfig(t)
		cfg.Roles.Admins.Domains = []string{"corp.test"}
		f := newSecFixture(t, cfg)
		for _, tc := range bad {
			r := req(http.MethodGet, "/", trustedPeer, nil)
			r.Header["X-Forwarded-Email"] = []string{tc.email}
			w := f.do(r)
			if w.Code != http.StatusUnauthorized || testID(page(t, w), "bad-identity").Length() != 1 {
				t.Errorf("%s: status %d, want 401 with the bad-identity page: %.300s", tc.name, w.Code, w.Body)
			}
		}
		long := req(http.MethodGet, "/", trustedPeer, nil, "X-Forwarded-User", strings.Repeat("u", 300), "X-Forwarded-Email", adminEmail)
		if w := f.do(long); w.Code != http.StatusUnauthorized {
			t.Errorf("over-long user header: status %d, want 401", w.Code)
		}
		group := req(http.MethodGet, "/", trustedPeer, nil, "X-Forwarded-Email", viewerEmail, "X-Forwarded-Groups", "ops,"+strings.Repeat("g", 300))
		if w := f.do(group); w.Code != http.StatusUnauthorized {
			t.Errorf("over-long group: status %d, want 401", w.Code)
		}
	})

	t.Run("jwt", func(t *testing.T) {
		key := newECKey(t, "k1")
		f := jwtFixture(t, newJWKSServer(t, key.public()), map[string]string{"AUTH_ADMIN_DOMAINS": "corp.test"})
		for _, tc := range bad {
			token := key.sign(t, claimsFor("", func(c map[string]any) { c["email"] = tc.email }))
			w := f.do(req(http.MethodGet, "/", untrustedPeer, nil, jwtHeader, token))
			if w.Code != http.StatusUnauthorized || testID(page(t, w), "bad-identity").Length() != 1 {
				t.Errorf("%s: status %d, want 401 with the bad-identity page: %.300s", tc.name, w.Code, w.Body)
			}
		}
		notText := key.sign(t, claimsFor("", func(c map[string]any) { c["email"] = 42 }))
		if w := f.do(req(http.MethodGet, "/", untrustedPeer, nil, jwtHeader, notText)); w.Code != http.StatusUnauthorized {
			t.Errorf("email claim that is not a string: status %d, want 401", w.Code)
		}
	})

	t.Run("oidc", func(t *testing.T) {
		h := newOIDCHarness(t, "AUTH_ADMIN_DOMAINS", "corp.test")
		h.mock.QueueUser(&mockoidc.MockUser{Subject: "s-1", Email: overlong, EmailVerified: true, PreferredUsername: "mallory"})
		r := h.get(h.authorize(h.startLogin("/")))
		h.want(r, http.StatusUnauthorized, "callback naming an over-long email")
		if !strings.Contains(r.body, `data-testid="sign-in-failed"`) {
			t.Errorf("no sign-in-failed page: %s", r.body)
		}
		if h.cookie(authCookie) != nil {
			t.Error("a session was created")
		}
		h.want(h.get("/"), http.StatusFound, "home after the refused sign-in")
	})
}

func TestCheckEmailAcceptsOrdinaryAddresses(t *testing.T) {
	for _, s := range []string{"ada@example.com", "ada.lovelace+dash@corp.example.co.uk", "o'brien@example.ie", "x@localhost", "jürgen@beispiel.de"} {
		if err := checkEmail(s); err != nil {
			t.Errorf("checkEmail(%q) = %v, want ok", s, err)
		}
	}
}
