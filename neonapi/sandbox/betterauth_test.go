package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestBetterAuthSignUpSessionAndJWT(t *testing.T) {
	b := newBAEnv(t)
	if !strings.Contains(b.baseURL, "/_sandbox/neon-auth/"+b.branchID+"/neondb/auth") || b.jwksURL != b.baseURL+"/.well-known/jwks.json" {
		t.Fatalf("base_url %q, jwks_url %q", b.baseURL, b.jwksURL)
	}
	out := b.signUp("Ada@Example.com", "correct horse battery")
	user, _ := out["user"].(map[string]any)
	token, _ := out["token"].(string)
	if user["email"] != "ada@example.com" || user["emailVerified"] != false || user["role"] != "user" || len(token) != 32 {
		t.Fatalf("sign up answered %v", out)
	}
	// The cookie is better-call's signed value, URI-encoded.
	raw, _ := url.QueryUnescape(strings.TrimPrefix(b.cookie, cookieSessionToken+"="))
	if v, ok := verifyCookieValue(raw, b.sb.integrationSecret(t, b.branchID)); !ok || v != token {
		t.Fatalf("session cookie %q does not carry the signed token", b.cookie)
	}

	var hash, accountID string
	if err := b.conn.QueryRow(context.Background(), `SELECT a.password, a."accountId" FROM neon_auth.account a
		JOIN neon_auth."user" u ON u.id = a."userId" WHERE u.email = 'ada@example.com' AND a."providerId" = 'credential'`).Scan(&hash, &accountID); err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyPassword(hash, "correct horse battery"); !ok || err != nil || accountID != user["id"] {
		t.Fatalf("credential account: hash verifies %t (%v), accountId %s, user %v", ok, err, accountID, user["id"])
	}

	res := b.call("GET", "/get-session", nil)
	var got struct {
		Session map[string]any `json:"session"`
		User    map[string]any `json:"user"`
	}
	res.json(t, &got)
	if res.status != http.StatusOK || got.Session["token"] != token || got.User["id"] != user["id"] ||
		got.Session["userAgent"] != "Go-http-client/1.1" || got.Session["ipAddress"] != "127.0.0.1" {
		t.Fatalf("get-session: %d %s", res.status, res.body)
	}
	jwtHeader := res.header.Get("set-auth-jwt")

	res = b.call("GET", "/token", nil)
	var tok struct {
		Token string `json:"token"`
	}
	res.json(t, &tok)
	if res.status != http.StatusOK || tok.Token == "" {
		t.Fatalf("token: %d %s", res.status, res.body)
	}
	origin := b.srv.URL
	for _, raw := range []string{tok.Token, jwtHeader} {
		claims := verifyJWT(t, b.env, b.jwksURL, raw)
		if claims.Subject != user["id"] || claims.Issuer != origin || !claims.Audience.Contains(origin) {
			t.Fatalf("JWT claims %+v, want sub %v and iss/aud %s", claims, user["id"], origin)
		}
	}

	res = b.call("GET", "/list-sessions", nil)
	var list []map[string]any
	res.json(t, &list)
	if res.status != http.StatusOK || len(list) != 1 || list[0]["token"] != token {
		t.Fatalf("list-sessions: %d %s", res.status, res.body)
	}

	res = b.call("POST", "/sign-out", map[string]any{})
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"success":true`) || b.cookie != "" {
		t.Fatalf("sign-out: %d %s, cookie left %q", res.status, res.body, b.cookie)
	}
	if n, err := count(t, b.conn, `SELECT count(*) FROM neon_auth.session`); n != 0 || err != nil {
		t.Fatalf("sessions after sign-out: %d, %v", n, err)
	}
	if res := b.call("GET", "/get-session", nil); res.status != http.StatusOK || string(res.body) != "null" {
		t.Fatalf("get-session after sign-out: %d %s", res.status, res.body)
	}
}

// verifyJWT checks a JWT's EdDSA signature against the key set at jwksURL.
func verifyJWT(t *testing.T, e *env, jwksURL, raw string) jwt.Claims {
	t.Helper()
	res := e.request("GET", jwksURL, nil)
	var set jose.JSONWebKeySet
	res.json(t, &set)
	if res.status != http.StatusOK || len(set.Keys) == 0 {
		t.Fatalf("jwks: %d %s", res.status, res.body)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in the key set %s", tok.Headers[0].KeyID, res.body)
	}
	var claims jwt.Claims
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("JWT does not verify against the branch's JWKS: %v", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, 0); err != nil {
		t.Fatalf("JWT times: %v", err)
	}
	return claims
}

// integrationSecret reads a branch integration's secret, for tests that
// check a signature.
func (s *Sandbox) integrationSecret(t *testing.T, branchID string) string {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range s.projects {
		if b := p.branchByID(branchID); b != nil && b.auth != nil {
			return b.auth.authSecret
		}
	}
	t.Fatalf("no integration on %s", branchID)
	return ""
}

func TestBetterAuthRefusals(t *testing.T) {
	b := newBAEnv(t)
	b.signUp("grace@example.com", "hopper-cobol-1959")
	b.cookie = ""
	signIn := func(email, password string, headers ...string) response {
		return b.call("POST", "/sign-in/email", map[string]any{"email": email, "password": password}, headers...)
	}

	t.Run("wrong password", func(t *testing.T) {
		b.refused(signIn("grace@example.com", "not-her-password"), http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
		b.refused(signIn("nobody@example.com", "whatever-it-is"), http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
	})
	t.Run("untrusted origin", func(t *testing.T) {
		b.refused(signIn("grace@example.com", "hopper-cobol-1959", "Origin", "https://evil.example"), http.StatusForbidden, "INVALID_ORIGIN")
		b.settings("POST", "/domains", `{"domain":"https://*.app.example","auth_provider":"better_auth"}`)
		if res := signIn("grace@example.com", "hopper-cobol-1959", "Origin", "https://www.app.example"); res.status != http.StatusOK {
			t.Fatalf("a trusted domain's origin: %d %s", res.status, res.body)
		}
		b.cookie = ""
		if res := signIn("grace@example.com", "hopper-cobol-1959", "Origin", "http://localhost:3000"); res.status != http.StatusOK {
			t.Fatalf("localhost while allowed: %d %s", res.status, res.body)
		}
		b.settings("PATCH", "/allow_localhost", `{"allow_localhost":false}`)
		// With a session cookie every POST checks its origin, and needs one.
		b.refused(b.call("POST", "/sign-out", map[string]any{}, "Origin", "http://localhost:3000"), http.StatusForbidden, "INVALID_ORIGIN")
		b.refused(b.call("POST", "/sign-out", map[string]any{}, "Origin", ""), http.StatusForbidden, "MISSING_OR_NULL_ORIGIN")
		b.cookie = ""
		b.refused(signIn("grace@example.com", "hopper-cobol-1959", "Origin", "http://localhost:3000"), http.StatusForbidden, "INVALID_ORIGIN")
	})
	t.Run("sign-up disabled", func(t *testing.T) {
		b.settings("PATCH", "/email_and_password", `{"disable_sign_up":true}`)
		b.refused(b.call("POST", "/sign-up/email", map[string]any{"email": "new@example.com", "password": "long-enough-pw", "name": "New"}),
			http.StatusBadRequest, "EMAIL_PASSWORD_SIGN_UP_DISABLED")
		if n, err := count(t, b.conn, `SELECT count(*) FROM neon_auth."user" WHERE email = 'new@example.com'`); n != 0 || err != nil {
			t.Fatalf("a refused sign-up wrote %d users (%v)", n, err)
		}
		b.settings("PATCH", "/email_and_password", `{"disable_sign_up":false}`)
	})
	t.Run("unverified", func(t *testing.T) {
		b.settings("PATCH", "/email_and_password", `{"require_email_verification":true}`)
		b.refused(signIn("grace@example.com", "hopper-cobol-1959"), http.StatusForbidden, "EMAIL_NOT_VERIFIED")
		b.exec(`UPDATE neon_auth."user" SET "emailVerified" = true WHERE email = 'grace@example.com'`)
		if res := signIn("grace@example.com", "hopper-cobol-1959"); res.status != http.StatusOK {
			t.Fatalf("verified: %d %s", res.status, res.body)
		}
		b.cookie = ""
	})
	t.Run("banned", func(t *testing.T) {
		b.exec(`UPDATE neon_auth."user" SET banned = true, "banReason" = 'spam' WHERE email = 'grace@example.com'`)
		res := signIn("grace@example.com", "hopper-cobol-1959")
		b.refused(res, http.StatusForbidden, "BANNED_USER")
		if !strings.Contains(string(res.body), "You have been banned from this application") {
			t.Fatalf("ban message: %s", res.body)
		}
		b.exec(`UPDATE neon_auth."user" SET "banExpires" = now() + interval '1 hour' WHERE email = 'grace@example.com'`)
		b.refused(signIn("grace@example.com", "hopper-cobol-1959"), http.StatusForbidden, "BANNED_USER")
	})
	t.Run("expired ban lifted", func(t *testing.T) {
		b.exec(`UPDATE neon_auth."user" SET "banExpires" = now() - interval '1 minute' WHERE email = 'grace@example.com'`)
		res := signIn("grace@example.com", "hopper-cobol-1959")
		if res.status != http.StatusOK || !strings.Contains(string(res.body), `"token":"`) {
			t.Fatalf("expired ban: %d %s", res.status, res.body)
		}
		var banned bool
		var reason *string
		if err := b.conn.QueryRow(context.Background(), `SELECT banned, "banReason" FROM neon_auth."user" WHERE email = 'grace@example.com'`).Scan(&banned, &reason); err != nil || banned || reason != nil {
			t.Fatalf("ban not lifted: banned %t, reason %v (%v)", banned, reason, err)
		}
	})
	t.Run("taken email and short password", func(t *testing.T) {
		b.settings("PATCH", "/email_and_password", `{"require_email_verification":false}`)
		b.refused(b.call("POST", "/sign-up/email", map[string]any{"email": "grace@example.com", "password": "another-password", "name": "G"}),
			http.StatusUnprocessableEntity, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL")
		b.refused(b.call("POST", "/sign-up/email", map[string]any{"email": "short@example.com", "password": "short", "name": "S"}),
			http.StatusBadRequest, "PASSWORD_TOO_SHORT")
	})
}

func TestBetterAuthEmailVerificationLink(t *testing.T) {
	b := newBAEnv(t)
	b.settings("PATCH", "/email_provider", `{"type":"standard","host":"smtp.example.com","port":587,"username":"mailer","password":"smtp-pw-never-shown","sender_email":"auth@example.com","sender_name":"Example"}`)
	b.settings("PATCH", "/email_and_password", `{"email_verification_method":"link","require_email_verification":true}`)

	out := b.signUp("katherine@example.com", "orbital-mechanics")
	if out["token"] != nil || b.cookie != "" {
		t.Fatalf("sign-up with verification required signed in: %v", out)
	}
	b.refused(b.call("POST", "/sign-in/email", map[string]any{"email": "katherine@example.com", "password": "orbital-mechanics"}),
		http.StatusForbidden, "EMAIL_NOT_VERIFIED")

	res := b.request("GET", b.srv.URL+"/_sandbox/emails", nil)
	if res.status != http.StatusOK || !strings.Contains(string(res.body), "katherine@example.com") ||
		!strings.Contains(string(res.body), `"smtp_host":"smtp.example.com"`) || strings.Contains(string(res.body), "smtp-pw-never-shown") {
		t.Fatalf("outbox: %d %s", res.status, res.body)
	}
	// Asking again mails a new link; an unknown email gets the same answer
	// and no email.
	sent := len(b.sb.Emails())
	for _, email := range []string{"katherine@example.com", "nobody@example.com"} {
		res := b.call("POST", "/send-verification-email", map[string]any{"email": email})
		if res.status != http.StatusOK || string(res.body) != `{"status":true}` {
			t.Fatalf("send-verification-email %s: %d %s", email, res.status, res.body)
		}
	}
	if n := len(b.sb.Emails()); n != sent+1 {
		t.Fatalf("%d emails after asking twice, want %d", n, sent+1)
	}
	link := b.verificationLink("katherine@example.com")
	if !strings.HasPrefix(link, b.baseURL+"/verify-email?token=") {
		t.Fatalf("link %q is not on the base URL", link)
	}
	res = b.call("GET", link, nil)
	if res.status != http.StatusFound || res.header.Get("Location") != "/" || b.cookie == "" {
		t.Fatalf("following the link: %d, Location %q, cookie %q", res.status, res.header.Get("Location"), b.cookie)
	}
	var verified bool
	if err := b.conn.QueryRow(context.Background(), `SELECT "emailVerified" FROM neon_auth."user" WHERE email = 'katherine@example.com'`).Scan(&verified); err != nil || !verified {
		t.Fatalf("emailVerified %t (%v)", verified, err)
	}
	if res := b.call("GET", "/get-session", nil); res.status != http.StatusOK || !strings.Contains(string(res.body), `"emailVerified":true`) {
		t.Fatalf("session after verification: %d %s", res.status, res.body)
	}

	// A tampered token is refused, back to the callback with the code.
	res = b.call("GET", strings.Replace(link, "token=", "token=x", 1), nil)
	if res.status != http.StatusFound || res.header.Get("Location") != "/?error=INVALID_TOKEN" {
		t.Fatalf("tampered token: %d, Location %q", res.status, res.header.Get("Location"))
	}
	b.refused(b.call("GET", "/verify-email?token=abc", nil), http.StatusUnauthorized, "INVALID_TOKEN")
}

func TestBetterAuthRevokeSessions(t *testing.T) {
	b := newBAEnv(t)
	b.signUp("dorothy@example.com", "fortran-for-all")
	first := b.cookie
	res := b.call("POST", "/sign-in/email", map[string]any{"email": "dorothy@example.com", "password": "fortran-for-all"})
	var in struct {
		Token string `json:"token"`
	}
	res.json(t, &in)
	b.refused(b.call("POST", "/revoke-session", map[string]any{"token": in.Token}, "Origin", "https://evil.example"), http.StatusForbidden, "INVALID_ORIGIN")
	if res := b.call("POST", "/revoke-session", map[string]any{"token": in.Token}); res.status != http.StatusOK || b.cookie != "" {
		t.Fatalf("revoke own session: %d %s, cookie %q", res.status, res.body, b.cookie)
	}
	b.cookie = first
	if n, _ := count(t, b.conn, `SELECT count(*) FROM neon_auth.session`); n != 1 {
		t.Fatalf("%d sessions after revoking one of two", n)
	}
	b.call("POST", "/sign-in/email", map[string]any{"email": "dorothy@example.com", "password": "fortran-for-all"})
	b.cookie = first
	if res := b.call("POST", "/revoke-other-sessions", map[string]any{}); res.status != http.StatusOK || b.cookie != first {
		t.Fatalf("revoke-other-sessions: %d %s", res.status, res.body)
	}
	if n, _ := count(t, b.conn, `SELECT count(*) FROM neon_auth.session`); n != 1 {
		t.Fatalf("%d sessions after revoking the others", n)
	}
	if res := b.call("POST", "/revoke-sessions", map[string]any{}); res.status != http.StatusOK || !strings.Contains(string(res.body), `"status":true`) {
		t.Fatalf("revoke-sessions: %d %s", res.status, res.body)
	}
	if n, _ := count(t, b.conn, `SELECT count(*) FROM neon_auth.session`); n != 0 {
		t.Fatalf("%d sessions after revoking all", n)
	}
	b.refused(b.call("GET", "/token", nil), http.StatusUnauthorized, "UNAUTHORIZED")
}

// Each branch's base URL reads and writes its own database only.
func TestBetterAuthBranchesAreSeparate(t *testing.T) {
	a := newBAEnv(t)
	var br struct {
		Branch struct {
			ID string `json:"id"`
		} `json:"branch"`
	}
	a.expect("POST", "/projects/"+a.projectID+"/branches", map[string]any{"branch": map[string]any{"name": "dev"}}, http.StatusCreated, &br)
	b := &baEnv{env: a.env, projectID: a.projectID, branchID: br.Branch.ID, auth: "/projects/" + a.projectID + "/branches/" + br.Branch.ID + "/auth"}
	var got integrationJSON
	a.expect("GET", b.auth, nil, http.StatusOK, &got)
	b.baseURL, b.jwksURL = got.BaseURL, got.JWKSURL
	if b.baseURL == a.baseURL || !strings.Contains(b.baseURL, br.Branch.ID) {
		t.Fatalf("branch base URLs %q and %q", a.baseURL, b.baseURL)
	}
	var uri struct {
		URI string `json:"uri"`
	}
	a.expect("GET", "/projects/"+a.projectID+"/connection_uri?branch_id="+br.Branch.ID+"&database_name=neondb&role_name=neondb_owner", nil, http.StatusOK, &uri)
	conn := connectURI(t, uri.URI)
	b.conn = conn

	a.signUp("on-main@example.com", "main-branch-pw")
	b.signUp("on-dev@example.com", "dev-branch-pw!")
	for _, c := range []struct {
		env          *baEnv
		mine, theirs string
	}{{a, "on-main@example.com", "on-dev@example.com"}, {b, "on-dev@example.com", "on-main@example.com"}} {
		if n, err := count(t, c.env.conn, `SELECT count(*) FROM neon_auth."user" WHERE email = $1`, c.mine); n != 1 || err != nil {
			t.Fatalf("%s not in its branch database (%d, %v)", c.mine, n, err)
		}
		if n, err := count(t, c.env.conn, `SELECT count(*) FROM neon_auth."user" WHERE email = $1`, c.theirs); n != 0 || err != nil {
			t.Fatalf("%s leaked into the other branch's database (%d, %v)", c.theirs, n, err)
		}
		if n, err := count(t, c.env.conn, `SELECT count(*) FROM neon_auth.session s JOIN neon_auth."user" u ON u.id = s."userId" WHERE u.email = $1`, c.mine); n != 1 || err != nil {
			t.Fatalf("%s's session not in its branch database (%d, %v)", c.mine, n, err)
		}
	}
	// The main branch's user and cookie mean nothing on dev.
	b.refused(b.call("POST", "/sign-in/email", map[string]any{"email": "on-main@example.com", "password": "main-branch-pw"}), http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
	b.cookie = a.cookie
	if res := b.call("GET", "/get-session", nil); res.status != http.StatusOK || string(res.body) != "null" {
		t.Fatalf("main's cookie on dev: %d %s", res.status, res.body)
	}
	// Each branch signs with its own keys.
	ta, tb := a.call("GET", "/token", nil), a.call("GET", "/jwks", nil)
	var ka, kb struct {
		Keys []json.RawMessage `json:"keys"`
	}
	tb.json(t, &ka)
	b.call("GET", "/jwks", nil).json(t, &kb)
	if ta.status != http.StatusOK || len(ka.Keys) != 1 || len(kb.Keys) != 1 || string(ka.Keys[0]) == string(kb.Keys[0]) {
		t.Fatalf("keys: main %s, dev %s", ka.Keys, kb.Keys)
	}
}

// With Neon's default method the email holds a code for the email OTP
// plugin's verify-email, which allows three wrong tries.
func TestBetterAuthEmailVerificationCode(t *testing.T) {
	b := newBAEnv(t)
	b.settings("PATCH", "/email_and_password", `{"require_email_verification":true}`)
	b.signUp("annie@example.com", "centaur-rocket")
	var code string
	for _, e := range b.sb.Emails() {
		if e.To == "annie@example.com" {
			if m := regexp.MustCompile(`code for .* is (\d{6})\.`).FindStringSubmatch(e.Text); m != nil {
				code = m[1]
			}
		}
	}
	if code == "" {
		t.Fatalf("no verification code mailed: %+v", b.sb.Emails())
	}
	var stored string
	if err := b.conn.QueryRow(context.Background(), `SELECT value FROM neon_auth.verification WHERE identifier = 'email-verification-otp-annie@example.com'`).Scan(&stored); err != nil || stored != code+":0" {
		t.Fatalf("verification row %q (%v)", stored, err)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	b.refused(b.call("POST", "/email-otp/verify-email", map[string]any{"email": "annie@example.com", "otp": wrong}), http.StatusBadRequest, "INVALID_OTP")
	res := b.call("POST", "/email-otp/verify-email", map[string]any{"email": "annie@example.com", "otp": code})
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"emailVerified":true`) || b.cookie == "" {
		t.Fatalf("verify with the code: %d %s", res.status, res.body)
	}
	// Spent: the same code does not verify twice.
	b.refused(b.call("POST", "/email-otp/verify-email", map[string]any{"email": "annie@example.com", "otp": code}), http.StatusBadRequest, "INVALID_OTP")

	b.signUp("mary@example.com", "langley-research")
	b.exec(`UPDATE neon_auth.verification SET value = '123456:3' WHERE identifier = 'email-verification-otp-mary@example.com'`)
	b.refused(b.call("POST", "/email-otp/verify-email", map[string]any{"email": "mary@example.com", "otp": "123456"}), http.StatusForbidden, "TOO_MANY_ATTEMPTS")
}

// A browser app on a trusted origin may call the base URL across origins;
// another origin gets no CORS headers.
func TestBetterAuthCORS(t *testing.T) {
	b := newBAEnv(t)
	b.settings("PATCH", "/allow_localhost", `{"allow_localhost":false}`)
	b.settings("POST", "/domains", `{"domain":"https://app.example.com","auth_provider":"better_auth"}`)
	for _, c := range []struct {
		origin  string
		allowed bool
	}{{"https://app.example.com", true}, {"http://localhost:3000", false}, {"https://evil.example", false}} {
		res := b.call("OPTIONS", "/sign-in/email", nil, "Origin", c.origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
		got := res.header.Get("Access-Control-Allow-Origin")
		if res.status != http.StatusNoContent || (got == c.origin) != c.allowed || (c.allowed && (res.header.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(res.header.Get("Access-Control-Allow-Methods"), "POST") || res.header.Get("Access-Control-Allow-Headers") != "content-type")) {
			t.Errorf("preflight from %s: %d %v", c.origin, res.status, res.header)
		}
		res = b.call("GET", "/get-session", nil, "Origin", c.origin)
		if res.status != http.StatusOK || (res.header.Get("Access-Control-Allow-Origin") == c.origin) != c.allowed {
			t.Errorf("get-session from %s: %d %v", c.origin, res.status, res.header)
		}
	}
}

// Sessions are extended once a day old, refused for list-sessions once not
// fresh, and end (row and cookie) once expired.
func TestBetterAuthSessionLifetime(t *testing.T) {
	b := newBAEnv(t)
	out := b.signUp("ada@example.com", "analytical-engine")
	token := out["token"].(string)
	b.exec(`UPDATE neon_auth.session SET "expiresAt" = now() + interval '5 days', "createdAt" = now() - interval '2 days' WHERE token = $1`, token)
	before := b.cookie
	res := b.call("GET", "/get-session", nil)
	var expires time.Time
	if err := b.conn.QueryRow(context.Background(), `SELECT "expiresAt" FROM neon_auth.session WHERE token = $1`, token).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	if res.status != http.StatusOK || time.Until(expires) < 6*24*time.Hour || !strings.Contains(res.header.Get("Set-Cookie"), "Max-Age=604800") || b.cookie != before {
		t.Fatalf("a two-day-old session was not extended: %d, expires %s, Set-Cookie %q", res.status, expires, res.header.Get("Set-Cookie"))
	}
	b.refused(b.call("GET", "/list-sessions", nil), http.StatusForbidden, "SESSION_NOT_FRESH")

	b.exec(`UPDATE neon_auth.session SET "expiresAt" = now() - interval '1 second' WHERE token = $1`, token)
	if res := b.call("GET", "/get-session", nil); res.status != http.StatusOK || string(res.body) != "null" || b.cookie != "" {
		t.Fatalf("an expired session: %d %s, cookie %q", res.status, res.body, b.cookie)
	}
	if n, _ := count(t, b.conn, `SELECT count(*) FROM neon_auth.session WHERE token = $1`, token); n != 0 {
		t.Fatal("the expired session's row is still there")
	}
}
