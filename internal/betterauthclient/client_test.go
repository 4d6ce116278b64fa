// Package betterauthclient proves the Neon API sandbox's Better Auth base
// URLs with Better Auth's own code: client.mjs runs better-auth's client
// library and password hash (pinned in package.json and package-lock.json)
// against a sandbox these tests start.
package betterauthclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// requireNode returns the path of node with better-auth installed beside
// client.mjs (npm ci when node_modules is missing). Without node the test
// skips, but fails under CI, which must never pass by skipping.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed; CI needs Node 20 for Better Auth's client")
		}
		t.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "better-auth", "package.json")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	return node
}

// runNode runs one step of client.mjs and decodes its JSON line into out.
func runNode(t *testing.T, env []string, out any, args ...string) {
	t.Helper()
	node := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"client.mjs"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client.mjs %s: %v\n%s", args[0], err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("node client.mjs %s printed %q: %v", args[0], stdout, err)
	}
}

// A hash the sandbox stores verifies in Better Auth, and Better Auth's
// verifies in the sandbox, NFKC normalisation included.
func TestPasswordHashMatchesBetterAuth(t *testing.T) {
	// "ﬁ" (U+FB01) and "e" with a combining accent are what NFKC changes.
	for _, pw := range []string{"correct horse battery staple", "ﬁance\u0301-p@ss"} {
		goHash, err := sandbox.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			OK bool `json:"ok"`
		}
		runNode(t, nil, &v, "verify", goHash, pw)
		if !v.OK {
			t.Fatalf("Better Auth does not verify the sandbox's hash %q of %q", goHash, pw)
		}
		runNode(t, nil, &v, "verify", goHash, pw+"x")
		if v.OK {
			t.Fatalf("Better Auth verifies the sandbox's hash with a wrong password")
		}
		var h struct {
			Hash string `json:"hash"`
		}
		runNode(t, nil, &h, "hash", pw)
		if !regexp.MustCompile(`^[0-9a-f]{32}:[0-9a-f]{128}$`).MatchString(h.Hash) {
			t.Fatalf("Better Auth's hash %q has another shape", h.Hash)
		}
		ok, err := sandbox.VerifyPassword(h.Hash, pw)
		if err != nil || !ok {
			t.Fatalf("the sandbox does not verify Better Auth's hash %q of %q: %t, %v", h.Hash, pw, ok, err)
		}
		if ok, _ := sandbox.VerifyPassword(h.Hash, "wrong"); ok {
			t.Fatal("the sandbox verifies Better Auth's hash with a wrong password")
		}
	}
	// The normalised spelling is the same password.
	h, _ := sandbox.HashPassword("ﬁ-password")
	var v struct {
		OK bool `json:"ok"`
	}
	runNode(t, nil, &v, "verify", h, "fi-password")
	if !v.OK {
		t.Fatal("Better Auth does not NFKC-normalise as the sandbox does")
	}
}

// sandboxAPI is a sandbox served over HTTP, called as a script calls Neon.
type sandboxAPI struct {
	t   *testing.T
	sb  *sandbox.Sandbox
	url string
}

func startSandbox(t *testing.T) *sandboxAPI {
	t.Helper()
	sb, err := sandbox.New(context.Background(), sandbox.Config{DatabaseURL: pgtest.Require(t), SyncDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return &sandboxAPI{t: t, sb: sb, url: srv.URL}
}

// do sends a request with a bearer token and decodes a JSON answer into out.
func (a *sandboxAPI) do(method, path, body string, want int, out any) {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("%s %s: %s: %v", method, path, data, err)
		}
	}
}

// clientResult is a Better Auth client call's {data, error}.
type clientResult struct {
	Data  json.RawMessage `json:"data"`
	Error *struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	} `json:"error"`
}

// clientBranch is a sandbox branch with Better Auth, as the client test
// uses it: its own email server, verification links required.
type clientBranch struct {
	api              *sandboxAPI
	baseURL, jwksURL string
	conn             *pgx.Conn // the branch database
}

func newClientBranch(t *testing.T) *clientBranch {
	t.Helper()
	a := startSandbox(t)
	p, err := a.sb.CreateProject(context.Background(), "client")
	if err != nil {
		t.Fatal(err)
	}
	auth := "/api/v2/projects/" + p.ID + "/branches/" + p.BranchID + "/auth"
	a.do("POST", auth, `{"auth_provider":"better_auth"}`, http.StatusCreated, nil)
	var integ struct {
		BaseURL string `json:"base_url"`
		JWKSURL string `json:"jwks_url"`
	}
	a.do("GET", auth, "", http.StatusOK, &integ)
	a.do("PATCH", auth+"/email_provider", `{"type":"standard","host":"smtp.example.com","port":587,"username":"mailer","password":"smtp-secret","sender_email":"auth@example.com","sender_name":"Example"}`, http.StatusOK, nil)
	a.do("PATCH", auth+"/email_and_password", `{"email_verification_method":"link","require_email_verification":true}`, http.StatusOK, nil)
	var uri struct {
		URI string `json:"uri"`
	}
	a.do("GET", "/api/v2/projects/"+p.ID+"/connection_uri?database_name=neondb&role_name=neondb_owner", "", http.StatusOK, &uri)
	conn, err := pgx.Connect(context.Background(), uri.URI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &clientBranch{api: a, baseURL: integ.BaseURL, jwksURL: integ.JWKSURL, conn: conn}
}

// signInResult is what client.mjs's sign-in step prints.
type signInResult struct {
	SignIn   clientResult `json:"signIn"`
	Cookies  []string     `json:"cookies"`
	Session  clientResult `json:"session"`
	Sessions clientResult `json:"sessions"`
	Token    clientResult `json:"token"`
}

// refused checks that a client call failed with Better Auth's status and code.
func refused(t *testing.T, step string, r clientResult, status int, code string) {
	t.Helper()
	if r.Error == nil || r.Error.Status != status || r.Error.Code != code {
		t.Fatalf("%s: %+v %s, want %d %s", step, r.Error, r.Data, status, code)
	}
}

// Better Auth's client signs up, verifies by the emailed link, signs in,
// reads its session and a JWT that verifies against the branch's JWKS, and
// is refused once the user is banned in the table.
func TestBetterAuthClientAgainstSandbox(t *testing.T) {
	requireNode(t)
	b := newClientBranch(t)
	env := []string{"BASE_URL=" + b.baseURL, "EMAIL=mary@example.com", "PASSWORD=wind-tunnel-1958", "NAME=Mary Jackson", "ORIGIN=http://localhost:3000"}
	var up struct {
		SignUp clientResult `json:"signUp"`
	}
	runNode(t, env, &up, "sign-up")
	var created struct {
		Token *string `json:"token"`
		User  struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"user"`
	}
	if up.SignUp.Error != nil || json.Unmarshal(up.SignUp.Data, &created) != nil || created.User.Email != "mary@example.com" || created.Token != nil {
		t.Fatalf("sign-up through the client: %+v %s", up.SignUp.Error, up.SignUp.Data)
	}
	var in signInResult
	runNode(t, env, &in, "sign-in")
	refused(t, "sign-in before verification", in.SignIn, http.StatusForbidden, "EMAIL_NOT_VERIFIED")

	followVerificationLink(t, b.api, b.baseURL, "mary@example.com")
	var verified bool
	if err := b.conn.QueryRow(context.Background(), `SELECT "emailVerified" FROM neon_auth."user" WHERE id = $1`, created.User.ID).Scan(&verified); err != nil || !verified {
		t.Fatalf("emailVerified after the link: %t, %v", verified, err)
	}

	in = signInResult{}
	runNode(t, env, &in, "sign-in")
	b.checkSignedIn(t, in, created.User.ID)

	// The Origin the client sends is checked: an untrusted one is refused.
	in = signInResult{}
	runNode(t, append(env, "ORIGIN=https://evil.example"), &in, "sign-in")
	refused(t, "sign-in from an untrusted origin", in.SignIn, http.StatusForbidden, "INVALID_ORIGIN")

	if _, err := b.conn.Exec(context.Background(), `UPDATE neon_auth."user" SET banned = true WHERE id = $1`, created.User.ID); err != nil {
		t.Fatal(err)
	}
	in = signInResult{}
	runNode(t, env, &in, "sign-in")
	refused(t, "sign-in of a banned user", in.SignIn, http.StatusForbidden, "BANNED_USER")
}

// checkSignedIn checks what the client read once signed in: its cookie, its
// session (a row of the branch database, from node), the user's sessions
// and a JWT that verifies against the branch's JWKS.
func (b *clientBranch) checkSignedIn(t *testing.T, in signInResult, userID string) {
	t.Helper()
	if in.SignIn.Error != nil || len(in.Cookies) != 1 || in.Cookies[0] != "better-auth.session_token" {
		t.Fatalf("sign-in through the client: %+v, cookies %v", in.SignIn, in.Cookies)
	}
	var session struct {
		Session struct{ Token string } `json:"session"`
		User    struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if in.Session.Error != nil || json.Unmarshal(in.Session.Data, &session) != nil || session.User.ID != userID || session.Session.Token == "" {
		t.Fatalf("getSession through the client: %+v %s", in.Session.Error, in.Session.Data)
	}
	// Two sessions: the one the verification link opened, and the client's.
	var list []map[string]any
	if in.Sessions.Error != nil || json.Unmarshal(in.Sessions.Data, &list) != nil || len(list) != 2 || list[1]["token"] != session.Session.Token {
		t.Fatalf("listSessions through the client: %+v %s", in.Sessions.Error, in.Sessions.Data)
	}
	var ua string
	if err := b.conn.QueryRow(context.Background(), `SELECT "userAgent" FROM neon_auth.session WHERE token = $1 AND "userId" = $2`,
		session.Session.Token, userID).Scan(&ua); err != nil || ua != "node" {
		t.Fatalf("the client's session row: user agent %q, %v", ua, err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if in.Token.Error != nil || json.Unmarshal(in.Token.Data, &tok) != nil {
		t.Fatalf("token through the client: %+v %s", in.Token.Error, in.Token.Data)
	}
	claims := verifyAgainstJWKS(t, b.jwksURL, tok.Token)
	if claims.Subject != userID || claims.Issuer != b.api.url || !claims.Audience.Contains(b.api.url) {
		t.Fatalf("JWT claims %+v", claims)
	}
}

// followVerificationLink reads the newest verification email to an address
// from GET /_sandbox/emails and opens its link, which signs the user in and
// redirects to the callback URL.
func followVerificationLink(t *testing.T, a *sandboxAPI, baseURL, to string) {
	t.Helper()
	var outbox struct {
		Emails []sandbox.Email `json:"emails"`
	}
	a.do("GET", "/_sandbox/emails", "", http.StatusOK, &outbox)
	var link string
	for _, e := range outbox.Emails {
		if e.To == to {
			link = regexp.MustCompile(`\S+/verify-email\?\S+`).FindString(e.Text)
		}
	}
	if !strings.HasPrefix(link, baseURL+"/verify-email?token=") {
		t.Fatalf("no verification link to %s on %s in %+v", to, baseURL, outbox.Emails)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Set-Cookie"), "better-auth.session_token=") {
		t.Fatalf("verification link: %d, Set-Cookie %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
}

// verifyAgainstJWKS checks a JWT's signature with the key set at jwksURL.
func verifyAgainstJWKS(t *testing.T, jwksURL, raw string) jwt.Claims {
	t.Helper()
	res, err := http.Get(jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("jwks: %d, %v", res.StatusCode, err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatalf("parse JWT: %v", err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in the branch's key set", tok.Headers[0].KeyID)
	}
	var claims jwt.Claims
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("JWT does not verify against the branch's JWKS: %v", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	return claims
}
