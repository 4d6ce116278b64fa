package sandbox

import (
	"net/http"
	"net/url"
	"testing"
)

// TestBetterAuthCallbackURLOpenRedirect checks that verify-email, which
// redirects to its callbackURL even for a bad token, refuses the relative
// paths browsers read as another site (a tab or newline they strip, an
// encoded slash) and an origin Go cannot parse, as Better Auth's
// isSafeRelativeURL and getOrigin do, while a plain path still redirects.
func TestBetterAuthCallbackURLOpenRedirect(t *testing.T) {
	b := newBAEnv(t)
	b.settings("POST", "/domains", `{"domain":"https://*.example.com","auth_provider":"better_auth"}`)
	for _, cb := range []string{"/\t/evil.test", "/\n/evil.test", "/%2f%2fevil.test", "/%5Cevil.test", `https://evil.test\.example.com`} {
		res := b.call("GET", "/verify-email?token=abc&callbackURL="+url.QueryEscape(cb), nil)
		if res.status == http.StatusFound {
			t.Errorf("callbackURL %q: redirected to %q", cb, res.header.Get("Location"))
			continue
		}
		b.refused(res, http.StatusForbidden, "INVALID_CALLBACK_URL")
	}
	res := b.call("GET", "/verify-email?token=abc&callbackURL="+url.QueryEscape("/welcome?from=mail"), nil)
	if res.status != http.StatusFound || res.header.Get("Location") != "/welcome?from=mail&error=INVALID_TOKEN" {
		t.Errorf("plain path: %d, Location %q", res.status, res.header.Get("Location"))
	}
}
