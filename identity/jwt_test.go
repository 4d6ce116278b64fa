package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const (
	jwtHeader   = "Cf-Access-Jwt-Assertion"
	jwtIssuer   = "https://team.cloudflareaccess.test"
	jwtAudience = "aud-tag-1234"
)

// jwksServer serves a key set that tests can rotate, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetches int
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: jose.JSONWebKeySet{Keys: keys}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches++
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.keys)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) rotate(keys ...jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = jose.JSONWebKeySet{Keys: keys}
}

func (s *jwksServer) fetchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// signingKey is a private key with its kid and algorithm.
type signingKey struct {
	priv any
	kid  string
	alg  jose.SignatureAlgorithm
}

func newECKey(t *testing.T, kid string) signingKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{priv: k, kid: kid, alg: jose.ES256}
}

func (k signingKey) public() jose.JSONWebKey {
	var pub any
	switch p := k.priv.(type) {
	case *ecdsa.PrivateKey:
		pub = &p.PublicKey
	case *rsa.PrivateKey:
		pub = &p.PublicKey
	}
	return jose.JSONWebKey{Key: pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// sign makes a compact JWT with claims.
func (k signingKey) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// claimsFor are valid claims for email, changed by edits.
func claimsFor(email string, edits ...func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": jwtIssuer, "aud": []string{jwtAudience}, "sub": "user-" + strings.Split(email, "@")[0],
		"email": email, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	for _, e := range edits {
		e(c)
	}
	return c
}

func jwtFixture(t *testing.T, jwks *jwksServer, extra map[string]string, opts ...func(*SecurityOptions)) *secFixture {
	t.Helper()
	env := map[string]string{
		"AUTH_MODE":          "jwt",
		"AUTH_JWT_HEADER":    jwtHeader,
		"AUTH_JWT_JWKS_URL":  jwks.URL,
		"AUTH_JWT_ISSUER":    jwtIssuer,
		"AUTH_JWT_AUDIENCE":  jwtAudience,
		"AUTH_ADMIN_EMAILS":  adminEmail,
		"AUTH_VIEWER_GROUPS": "support",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := ParseAuthEnv(envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	return newSecFixture(t, cfg, opts...)
}

func TestJWTAssertions(t *testing.T) {
	key := newECKey(t, "k1")
	impostor := newECKey(t, "k1") // same kid, different key
	jwks := newJWKSServer(t, key.public())
	f := jwtFixture(t, jwks, nil)

	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := signingKey{priv: rsaPriv, kid: "k1", alg: jose.PS256} // allowed by neither default

	for _, tc := range []struct {
		name  string
		token string
		code  int
		body  string
		why   string // in the warning logged for a rejected assertion
	}{
		{name: "valid", token: key.sign(t, claimsFor(adminEmail)), code: http.StatusOK, body: "home " + adminEmail + " role=admin"},
		{name: "valid, role from groups", token: key.sign(t, claimsFor("sam@corp.test", func(c map[string]any) { c["groups"] = []string{"support"} })),
			code: http.StatusOK, body: "role=viewer"},
		{name: "bad signature", token: impostor.sign(t, claimsFor(adminEmail)), code: http.StatusUnauthorized, why: "failed to verify signature"},
		{name: "tampered payload", token: tamper(key.sign(t, claimsFor(viewerEmail)), claimsFor(adminEmail)), code: http.StatusUnauthorized, why: "failed to verify signature"},
		{name: "wrong audience", token: key.sign(t, claimsFor(adminEmail, func(c map[string]any) { c["aud"] = []string{"another-app"} })), code: http.StatusUnauthorized, why: "expected audience"},
		{name: "wrong issuer", token: key.sign(t, claimsFor(adminEmail, func(c map[string]any) { c["iss"] = "https://evil.test" })), code: http.StatusUnauthorized, why: "different provider"},
		{name: "expired", token: key.sign(t, claimsFor(adminEmail, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), code: http.StatusUnauthorized, why: "token is expired"},
		{name: "algorithm not allowed", token: rsaKey.sign(t, claimsFor(adminEmail)), code: http.StatusUnauthorized, why: "unexpected signature algorithm"},
		{name: "unsigned", token: unsigned(claimsFor(adminEmail)), code: http.StatusUnauthorized, why: "malformed jwt"},
		{name: "garbage", token: "not.a.jwt", code: http.StatusUnauthorized, why: "malformed jwt"},
		{name: "missing", token: "", code: http.StatusUnauthorized},
		{name: "unverified email grants nothing", token: key.sign(t, claimsFor(adminEmail, func(c map[string]any) { c["email_verified"] = false })), code: http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged := len(f.logs.String())
			var headers []string
			if tc.token != "" {
				headers = []string{jwtHeader, tc.token}
			}
			// Any peer: the signature is what counts in jwt mode.
			w := f.do(req(http.MethodGet, "/", untrustedPeer, nil, headers...))
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s\nlogs: %s", w.Code, tc.code, w.Body, f.logs)
			}
			if tc.body != "" && !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body %q, want %q", w.Body, tc.body)
			}
			if tc.code == http.StatusUnauthorized && testID(page(t, w), "unauthenticated").Length() != 1 {
				t.Errorf("401 is not the sign-in-required page: %s", w.Body)
			}
			if newLogs := f.logs.String()[logged:]; !strings.Contains(newLogs, tc.why) {
				t.Errorf("log %q does not say %q", newLogs, tc.why)
			}
			if tc.token != "" && strings.Contains(f.logs.String(), tc.token) {
				t.Error("a token reached the log")
			}
		})
	}
}

func TestJWTKeyRotation(t *testing.T) {
	oldKey, newKey := newECKey(t, "2026-01"), newECKey(t, "2026-02")
	jwks := newJWKSServer(t, oldKey.public())
	var mu sync.Mutex
	now := time.Now()
	f := jwtFixture(t, jwks, nil, func(o *SecurityOptions) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	get := func(k signingKey) int {
		return f.do(req(http.MethodGet, "/", untrustedPeer, nil, jwtHeader, k.sign(t, claimsFor(adminEmail)))).Code
	}
	if code := get(oldKey); code != http.StatusOK {
		t.Fatalf("old key: %d", code)
	}
	if code := get(oldKey); code != http.StatusOK || jwks.fetchCount() != 1 {
		t.Fatalf("old key again: %d after %d fetches, want 200 from the cache (1 fetch)", code, jwks.fetchCount())
	}
	jwks.rotate(oldKey.public(), newKey.public())
	// The unknown kid triggers a refresh once the refresh interval since
	// the last fetch has passed (TestJWKSRefreshIsRateLimited covers the
	// time before).
	mu.Lock()
	now = now.Add(DefaultJWKSMinRefresh)
	mu.Unlock()
	if code := get(newKey); code != http.StatusOK {
		t.Fatalf("new kid after rotation: %d, want 200", code)
	}
	if n := jwks.fetchCount(); n < 2 {
		t.Errorf("%d JWKS fetches, want a refresh for the unknown kid", n)
	}
	jwks.rotate(newKey.public())
	if code := get(newKey); code != http.StatusOK {
		t.Errorf("new key after the old one was retired: %d", code)
	}
}

func TestJWTClaimNamesAreConfigurable(t *testing.T) {
	key := newECKey(t, "k1")
	f := jwtFixture(t, newJWKSServer(t, key.public()), map[string]string{
		"AUTH_JWT_EMAIL_CLAIM":  "upn",
		"AUTH_JWT_GROUPS_CLAIM": "custom.roles",
	})
	token := key.sign(t, claimsFor("", func(c map[string]any) {
		delete(c, "email")
		c["upn"] = "zed@corp.test"
		c["custom"] = map[string]any{"roles": []string{"support"}}
	}))
	w := f.do(req(http.MethodGet, "/", untrustedPeer, nil, jwtHeader, token))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "home zed@corp.test role=viewer") {
		t.Errorf("custom claims: %d %q", w.Code, w.Body)
	}
}

// tamper swaps a signed token's payload for other claims, keeping the
// signature.
func tamper(token string, claims map[string]any) string {
	parts := strings.Split(token, ".")
	b, _ := json.Marshal(claims)
	parts[1] = b64(b)
	return strings.Join(parts, ".")
}

// unsigned builds an alg=none token.
func unsigned(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64(b) + "."
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestJWKSRefreshIsRateLimited sends assertions naming key ids the proxy
// never published, as anyone on the internet can. They must not turn into
// a fetch of the key set each: at most one refresh per interval, concurrent
// ones merged, and 401 in between without fetching.
func TestJWKSRefreshIsRateLimited(t *testing.T) {
	key := newECKey(t, "k1")
	jwks := newJWKSServer(t, key.public())
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	f := jwtFixture(t, jwks, nil, func(o *SecurityOptions) { o.Now = clock })
	get := func(k signingKey) int {
		return f.do(req(http.MethodGet, "/", untrustedPeer, nil, jwtHeader, k.sign(t, claimsFor(adminEmail)))).Code
	}
	if code := get(key); code != http.StatusOK || jwks.fetchCount() != 1 {
		t.Fatalf("known key: %d after %d fetches, want 200 after 1", code, jwks.fetchCount())
	}
	rogues := make([]signingKey, 50)
	for i := range rogues {
		rogues[i] = newECKey(t, fmt.Sprintf("rogue-%d", i))
	}
	for _, k := range rogues {
		if code := get(k); code != http.StatusUnauthorized {
			t.Fatalf("unknown kid %s: %d, want 401", k.kid, code)
		}
	}
	if n := jwks.fetchCount(); n != 1 {
		t.Fatalf("%d JWKS fetches after 50 unknown key ids within the interval, want 1 (no refresh)", n)
	}

	// Once the interval has passed, 50 at once cause one refresh.
	advance(DefaultJWKSMinRefresh)
	var wg sync.WaitGroup
	codes := make([]int, len(rogues))
	for i, k := range rogues {
		wg.Go(func() { codes[i] = get(k) })
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusUnauthorized {
			t.Errorf("concurrent unknown kid %d: %d, want 401", i, code)
		}
	}
	if n := jwks.fetchCount(); n != 2 {
		t.Fatalf("%d JWKS fetches after 50 concurrent unknown key ids, want 2 (one merged refresh)", n)
	}

	// A real rotation is picked up at the next allowed refresh.
	rotated := newECKey(t, "k2")
	jwks.rotate(key.public(), rotated.public())
	if code := get(rotated); code != http.StatusUnauthorized || jwks.fetchCount() != 2 {
		t.Fatalf("new kid within the interval: %d after %d fetches, want 401 without fetching", code, jwks.fetchCount())
	}
	advance(DefaultJWKSMinRefresh)
	if code := get(rotated); code != http.StatusOK || jwks.fetchCount() != 3 {
		t.Errorf("new kid after the interval: %d after %d fetches, want 200 after 3", code, jwks.fetchCount())
	}
}

func TestJWKSMinRefreshIsConfigurable(t *testing.T) {
	key := newECKey(t, "k1")
	jwks := newJWKSServer(t, key.public())
	var mu sync.Mutex
	now := time.Now()
	f := jwtFixture(t, jwks, map[string]string{"AUTH_JWT_JWKS_MIN_REFRESH": "5m"}, func(o *SecurityOptions) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	get := func(k signingKey) int {
		return f.do(req(http.MethodGet, "/", untrustedPeer, nil, jwtHeader, k.sign(t, claimsFor(adminEmail)))).Code
	}
	get(key)
	mu.Lock()
	now = now.Add(4 * time.Minute)
	mu.Unlock()
	if code := get(newECKey(t, "rogue")); code != http.StatusUnauthorized || jwks.fetchCount() != 1 {
		t.Errorf("unknown kid 4m after a fetch with a 5m interval: %d after %d fetches, want 401 after 1", code, jwks.fetchCount())
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	get(newECKey(t, "rogue-2"))
	if n := jwks.fetchCount(); n != 2 {
		t.Errorf("%d fetches once 5m had passed, want 2", n)
	}
	if _, err := ParseAuthEnv(envMap(map[string]string{"AUTH_JWT_JWKS_MIN_REFRESH": "often"})); err == nil {
		t.Error("AUTH_JWT_JWKS_MIN_REFRESH=often accepted")
	}
}

// TestJWTEmailVerifiedMustBeTrue: an email counts only when email_verified
// is absent (the access proxies vouch for what they assert) or true, as the
// boolean or the string "true" that AWS Cognito sends. Any other value leaves
// the person without the email, so an email or domain grant cannot match.
func TestJWTEmailVerifiedMustBeTrue(t *testing.T) {
	key := newECKey(t, "k1")
	f := jwtFixture(t, newJWKSServer(t, key.public()), nil)
	for _, tc := range []struct {
		name     string
		verified any // nil: no claim
		code     int
	}{
		{"absent", nil, http.StatusOK},
		{"boolean true", true, http.StatusOK},
		{`string "true"`, "true", http.StatusOK},
		{"boolean false", false, http.StatusForbidden},
		{`string "false"`, "false", http.StatusForbidden},
		{`string "False"`, "False", http.StatusForbidden},
		{`string "TRUE"`, "TRUE", http.StatusForbidden},
		{`string "1"`, "1", http.StatusForbidden},
		{"number 1", 1, http.StatusForbidden},
		{"empty string", "", http.StatusForbidden},
		{"null", jsonNull{}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := key.sign(t, claimsFor(adminEmail, func(c map[string]any) {
				switch v := tc.verified.(type) {
				case nil:
				case jsonNull:
					c["email_verified"] = nil
				default:
					c["email_verified"] = v
				}
			}))
			w := f.do(req(http.MethodGet, "/", untrustedPeer, nil, jwtHeader, token))
			if w.Code != tc.code {
				t.Fatalf("email_verified %#v: status %d, want %d: %.300s", tc.verified, w.Code, tc.code, w.Body)
			}
			if tc.code == http.StatusOK && !strings.Contains(w.Body.String(), "role=admin") {
				t.Errorf("body %q, want the admin", w.Body)
			}
		})
	}
}

// jsonNull stands for a claim present with the value null.
type jsonNull struct{}

// TestJWTRefusesASecondAssertion sends two assertion headers. Whichever one
// the dashboard picked, the other party could choose who is asking, so the
// request is refused, even when both are valid or identical.
func TestJWTRefusesASecondAssertion(t *testing.T) {
	key := newECKey(t, "k1")
	f := jwtFixture(t, newJWKSServer(t, key.public()), nil)
	admin, viewer := key.sign(t, claimsFor(adminEmail)), key.sign(t, claimsFor("sam@corp.test", func(c map[string]any) { c["groups"] = []string{"support"} }))
	for _, tc := range []struct {
		name   string
		tokens []string
	}{
		{"admin first", []string{admin, viewer}},
		{"viewer first", []string{viewer, admin}},
		{"garbage first", []string{"not.a.jwt", admin}},
		{"the same token twice", []string{admin, admin}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req(http.MethodGet, "/", untrustedPeer, nil)
			for _, tok := range tc.tokens {
				r.Header.Add(jwtHeader, tok)
			}
			w := f.do(r)
			if w.Code != http.StatusUnauthorized || testID(page(t, w), "bad-identity").Length() != 1 {
				t.Fatalf("status %d, want 401 with the bad-identity page: %.300s", w.Code, w.Body)
			}
			if strings.Contains(w.Body.String(), "home ") {
				t.Error("the handler ran")
			}
			if logs := f.logs.String(); !strings.Contains(logs, jwtHeader+" sent 2 times") {
				t.Errorf("log does not say why: %s", logs)
			}
		})
	}
}
