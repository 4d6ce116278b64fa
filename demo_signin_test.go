package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// TestDemoUserSignsIn follows the README's "Sign a demo user in": the curl
// request signs the demo user in on launchpad's default branch through its
// Better Auth base URL, the session reads back with the cookie, its JWT
// verifies against the branch's key set, and the dashboard's detail page of
// that user shows the new session among the seeded ones. Another seeded
// user, whose credential account holds a stand-in hash, is refused as a
// wrong password.
func TestDemoUserSignsIn(t *testing.T) {
	dbURL := pgtest.Require(t)
	d, client := startDemoAPI(t, dbURL, &syncBuffer{})
	pid := demoProjectID(t, client, demoProjectBranchAuth)
	prefix := strings.TrimSuffix(d.APIURL, "/api/v2") + "/_sandbox/neon-auth/"
	branch, _, ok := strings.Cut(strings.TrimPrefix(d.SignInURL, prefix), "/")
	if !ok || !strings.HasPrefix(d.SignInURL, prefix) {
		t.Fatalf("the demo's sign-in URL is %q", d.SignInURL)
	}

	if res, body := demoCall(t, "POST", d.SignInURL+"/sign-in/email", `{"email":"katherine@example.com","password":"`+demoSignInPassword+`"}`, ""); res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "INVALID_EMAIL_OR_PASSWORD") {
		t.Fatalf("a seeded user with a stand-in hash: %d %s", res.StatusCode, body)
	}
	res, body := demoCall(t, "POST", d.SignInURL+"/sign-in/email", `{"email":"`+demoSignInEmail+`","password":"`+demoSignInPassword+`"}`, "")
	var in struct {
		Token string `json:"token"`
		User  struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"user"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &in) != nil || in.User.Email != demoSignInEmail ||
		!strings.HasPrefix(res.Header.Get("Set-Cookie"), "better-auth.session_token=") {
		t.Fatalf("demo sign-in: %d %s", res.StatusCode, body)
	}
	cookie, _, _ := strings.Cut(res.Header.Get("Set-Cookie"), ";")

	var got struct {
		Session struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		} `json:"session"`
	}
	if res, body := demoCall(t, "GET", d.SignInURL+"/get-session", "", cookie); json.Unmarshal(body, &got) != nil || got.Session.Token != in.Token {
		t.Fatalf("get-session with the cookie: %d %s", res.StatusCode, body)
	}
	checkDemoJWT(t, d.SignInURL, cookie, in.User.ID)

	dash := startDashboardEnv(t, dbURL, map[string]string{"NEON_API_KEY": d.APIKey, "NEON_API_URL": d.APIURL})
	page := dash.URL + "/projects/" + pid + "/branches/" + branch + "/users/" + in.User.ID + "/detail"
	req, _ := http.NewRequest("GET", page, nil)
	req.Header.Set("X-Forwarded-Email", e2eAdminEmail)
	req.Header.Set("X-Forwarded-User", e2eAdminUser)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(html), `data-session="`+got.Session.ID+`"`) || !strings.Contains(string(html), `title="curl/8.5.0"`) {
		t.Fatalf("the user's detail page %s: %d, lacks session %s from curl:\n%s", page, res.StatusCode, got.Session.ID, html)
	}
	if strings.Contains(string(html), in.Token) {
		t.Fatal("the detail page shows the session token")
	}
}

// demoCall sends what the README's curl sends: JSON, curl's user agent, and
// the session cookie when given.
func demoCall(t *testing.T, method, url, body, cookie string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	req.Header.Set("User-Agent", "curl/8.5.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, data
}

// checkDemoJWT: the session's JWT verifies against the branch's key set,
// which parses although the seed stored a stand-in key in neon_auth.jwks.
func checkDemoJWT(t *testing.T, baseURL, cookie, userID string) {
	t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	if res, body := demoCall(t, "GET", baseURL+"/token", "", cookie); json.Unmarshal(body, &tok) != nil || tok.Token == "" {
		t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	var set jose.JSONWebKeySet
	if res, body := demoCall(t, "GET", baseURL+"/jwks", "", ""); json.Unmarshal(body, &set) != nil {
		t.Fatalf("the demo branch's JWKS does not parse: %d %s", res.StatusCode, body)
	}
	parsed, err := jwt.ParseSigned(tok.Token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	if keys := set.Key(parsed.Headers[0].KeyID); len(keys) != 1 || parsed.Claims(keys[0].Key, &claims) != nil || claims.Subject != userID {
		t.Fatalf("the JWT does not verify against the demo branch's JWKS (%d keys)", len(set.Keys))
	}
}
