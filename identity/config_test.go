package identity

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

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
		// The dashboard reads one header set, never several.
		"unknown header set": {"AUTH_PROXY_HEADERS": "both"},
		"two email headers":  {"AUTH_PROXY_EMAIL_HEADER": "X-Forwarded-Email, X-Auth-Request-Email"},
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
