package identity

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// hostileGrants is the role policy the hostile names are tried against.
var hostileGrants = map[string]string{
	"AUTH_ADMIN_EMAILS":   "kim@example.org",
	"AUTH_ADMIN_DOMAINS":  "corp.test,kontor.test",
	"AUTH_ADMIN_GROUPS":   "platform-admins",
	"AUTH_VIEWER_EMAILS":  "",
	"AUTH_VIEWER_DOMAINS": "bücher.test,xn--strae-oqa.test",
	"AUTH_VIEWER_GROUPS":  "",
}

// hostileCase is one identity and what the dashboard must make of it: a
// role ("admin", "viewer"), no role ("none": the 403 page), or no identity
// at all ("refused": a malformed identity is never accepted).
type hostileCase struct {
	name   string
	email  string
	groups []string
	want   string
}

var hostileCases = []hostileCase{
	{"ASCII case is ignored in the domain", "mallory@CORP.Test", nil, "admin"},
	{"ASCII case is ignored in the local part", "KIM@Example.org", nil, "admin"},
	{"long s (U+017F) in the domain", "mallory@corp.te\u017ft", nil, "none"},
	{"Kelvin sign (U+212A) in the domain", "mallory@\u212aontor.test", nil, "none"},
	{"Kelvin sign (U+212A) in the local part of an admin email", "\u212aim@example.org", nil, "none"},
	{"look-alike local part at an admin domain is still at that domain", "\u212aim@corp.test", nil, "admin"},
	{"fullwidth letters in the domain", "mallory@\uff43\uff4f\uff52\uff50.test", nil, "none"},
	{"combining mark in the domain", "mallory@corp.tes\u0301t", nil, "none"},
	{"combining mark starting a domain label", "mallory@\u0301corp.test", nil, "none"},
	{"zero-width space in the domain", "mallory@co\u200brp.test", nil, "none"},
	{"trailing dot in the domain", "mallory@corp.test.", nil, "refused"},
	{"subdomain of an admin domain", "mallory@evil.corp.test", nil, "none"},
	{"punycode email, Unicode grant", "ida@xn--bcher-kva.test", nil, "viewer"},
	{"Unicode email, Unicode grant", "ida@bücher.test", nil, "viewer"},
	{"Unicode email, punycode grant", "ida@straße.test", nil, "viewer"},
	{"transitional mapping of ß is not the same domain", "ida@strasse.test", nil, "none"},
	{"upper-case non-ASCII letter in the domain", "ida@BÜCHER.test", nil, "none"},
	{"long s (U+017F) in a group", "mallory@example.org", []string{"platform-admin\u017f"}, "none"},
	{"Kelvin sign in a group", "mallory@example.org", []string{"platform-admins\u212a"}, "none"},
	{"group in other ASCII case", "mallory@example.org", []string{"Platform-Admins"}, "none"},
	{"fullwidth group", "mallory@example.org", []string{"\uff50latform-admins"}, "none"},
	{"group with a combining mark", "mallory@example.org", []string{"platform-admins\u0301"}, "none"},
	{"the group itself", "mallory@example.org", []string{"platform-admins"}, "admin"},
}

// TestHostileNamesGrantNothing sends look-alike emails and groups through
// each identity mode. Nothing that Unicode case folding or compatibility
// mapping would turn into a granted name may receive its role.
func TestHostileNamesGrantNothing(t *testing.T) {
	t.Run("proxy", func(t *testing.T) {
		cfg := parseEnv(t, withGrants(map[string]string{"AUTH_MODE": "proxy", "AUTH_PROXY_TRUSTED": "10.0.0.0/8"}))
		f := newSecFixture(t, cfg)
		for _, tc := range hostileCases {
			r := req(http.MethodGet, "/", trustedPeer, nil, "X-Forwarded-Email", tc.email)
			if tc.groups != nil {
				r.Header.Set("X-Forwarded-Groups", strings.Join(tc.groups, ","))
			}
			checkHostile(t, tc, f.do(r).Result())
		}
	})
	t.Run("jwt", func(t *testing.T) {
		key := newECKey(t, "k1")
		f := jwtFixture(t, newJWKSServer(t, key.public()), withGrants(nil))
		for _, tc := range hostileCases {
			token := key.sign(t, claimsFor(tc.email, func(c map[string]any) {
				if tc.groups != nil {
					c["groups"] = tc.groups
				}
			}))
			checkHostile(t, tc, f.do(req(http.MethodGet, "/", untrustedPeer, nil, jwtHeader, token)).Result())
		}
	})
	t.Run("oidc", func(t *testing.T) {
		var extra []string
		for k, v := range withGrants(nil) {
			extra = append(extra, k, v)
		}
		h := newOIDCHarness(t, extra...)
		for _, tc := range hostileCases {
			h.mock.QueueUser(&mockoidc.MockUser{Subject: "s-" + tc.name, Email: tc.email, EmailVerified: true, Groups: tc.groups})
			r := h.get(h.authorize(h.startLogin("/")))
			if r.code != http.StatusSeeOther {
				checkHostile(t, tc, &http.Response{StatusCode: r.code, Header: r.header, Body: http.NoBody})
				continue
			}
			res, err := h.web.Get(h.app.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			checkHostile(t, tc, res)
			res.Body.Close()
		}
	})
}

// withGrants adds hostileGrants to env.
func withGrants(env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range hostileGrants {
		out[k] = v
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}

func parseEnv(t *testing.T, env map[string]string) AuthConfig {
	t.Helper()
	cfg, err := ParseAuthEnv(envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// checkHostile compares the dashboard's answer with what tc wants. The
// fixture's home page says the role; the 403 and 401 pages say why.
func checkHostile(t *testing.T, tc hostileCase, res *http.Response) {
	t.Helper()
	var body strings.Builder
	if res.Body != nil {
		b := make([]byte, 64<<10)
		n, _ := res.Body.Read(b)
		body.Write(b[:n])
	}
	var got string
	switch {
	case res.StatusCode == http.StatusOK && strings.Contains(body.String(), "role=admin"):
		got = "admin"
	case res.StatusCode == http.StatusOK && strings.Contains(body.String(), "role=viewer"):
		got = "viewer"
	case res.StatusCode == http.StatusForbidden:
		got = "none"
	case res.StatusCode == http.StatusUnauthorized:
		got = "refused"
	default:
		got = res.Status
	}
	if got != tc.want {
		t.Errorf("%s (%q, groups %q): %s, want %s\n%.300s", tc.name, tc.email, tc.groups, got, tc.want, body.String())
	}
}

func TestCanonicalDomain(t *testing.T) {
	for in, want := range map[string]string{
		"corp.test":          "corp.test",
		"CORP.Test":          "corp.test",
		"bücher.test":        "xn--bcher-kva.test",
		"xn--bcher-kva.test": "xn--bcher-kva.test",
		"XN--BCHER-KVA.TEST": "xn--bcher-kva.test",
		"straße.test":        "xn--strae-oqa.test",
		"corp.te\u015bt":     "corp.xn--tet-dza", // precomposed ś (NFC)
		"corp.te\u017ft":     "",                 // long s
		"\u212aorp.test":     "",                 // Kelvin sign
		"\uff43orp.test":     "",                 // fullwidth c
		"corp.tes\u0301t":    "",                 // s + combining acute: not NFC
		"BÜCHER.test":        "",                 // upper-case non-ASCII
		"corp\u3002test":     "",                 // ideographic full stop
		"corp.test.":         "",
		".corp.test":         "",
		"corp..test":         "",
		"":                   "",
		"xn--zz.test":        "", // punycode that decodes to nothing valid
		"a_b.test":           "",
		"-corp.test":         "",
	} {
		got, err := canonicalDomain(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("canonicalDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCanonicalEmailFoldsASCIIOnly(t *testing.T) {
	for in, want := range map[string]string{
		"Ada@Example.COM":        "ada@example.com",
		"jÜrgen@bücher.test":     "jÜrgen@xn--bcher-kva.test", // non-ASCII in the local part stays as sent
		"\u212aim@corp.test":     "\u212aim@corp.test",
		"bo\u017fs@corp.test":    "bo\u017fs@corp.test",
		"ada@corp.te\u017ft":     "",
		"ada@corp.test.":         "",
		"no-at-sign.corp.test":   "",
		"@corp.test":             "",
		"ada@xn--bcher-kva.tEST": "ada@xn--bcher-kva.test",
	} {
		got, err := canonicalEmail(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("canonicalEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestValidateRefusesGrantsWithoutCanonicalForm: a grant that could never
// match (or that only a folding comparison would have matched) is a mistake
// worth stopping for.
func TestValidateRefusesGrantsWithoutCanonicalForm(t *testing.T) {
	for _, tc := range []struct{ name, key, value, want string }{
		{"ASCII upper case", "AUTH_ADMIN_DOMAINS", "CORP.test", ""},
		{"Unicode IDN", "AUTH_ADMIN_DOMAINS", "bücher.test", ""},
		{"punycode IDN", "AUTH_ADMIN_DOMAINS", "@xn--bcher-kva.test", ""},
		{"long s", "AUTH_ADMIN_DOMAINS", "corp.te\u017ft", `AUTH_ADMIN_DOMAINS: "corp.te` + "\u017f" + `t"`},
		{"trailing dot", "AUTH_VIEWER_DOMAINS", "corp.test.", `AUTH_VIEWER_DOMAINS: "corp.test."`},
		{"fullwidth", "AUTH_ADMIN_DOMAINS", "\uff43orp.test", "AUTH_ADMIN_DOMAINS"},
		{"upper-case IDN", "AUTH_ADMIN_DOMAINS", "BÜCHER.test", "lower case or as punycode"},
		{"email with a long s domain", "AUTH_ADMIN_EMAILS", "ada@corp.te\u017ft", "AUTH_ADMIN_EMAILS"},
		{"email that is not an address", "AUTH_VIEWER_EMAILS", "Ada <ada@corp.test>", "AUTH_VIEWER_EMAILS"},
		{"viewer star", "AUTH_VIEWER_DOMAINS", "*", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"AUTH_MODE": "proxy", "AUTH_PROXY_TRUSTED": "10.0.0.5", "AUTH_ADMIN_GROUPS": "platform-admins", tc.key: tc.value}
			err := parseEnv(t, env).Validate("0.0.0.0:8080")
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v, want ok", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
