package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// baEnv is one branch's Better Auth server on a sandbox served over HTTP,
// called as an app's server or browser would, with its own cookie.
type baEnv struct {
	*env
	projectID, branchID string
	auth                string // the branch's /auth API path
	baseURL             string // the integration's base_url
	jwksURL             string
	conn                *pgx.Conn // the branch database
	cookie              string    // the session cookie as a Cookie header value
}

// newBAEnv enables Better Auth on a new project's default branch.
func newBAEnv(t *testing.T) *baEnv {
	t.Helper()
	// The sandbox's error lines show in the test's log.
	e := newEnv(t, Config{Logger: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	projectID, branchID := e.seedProject("ba")
	return enableBA(e, projectID, branchID, e.connect(projectID))
}

// enableBA enables Better Auth on a branch and reads its URLs back with
// getNeonAuth.
func enableBA(e *env, projectID, branchID string, conn *pgx.Conn) *baEnv {
	e.t.Helper()
	auth := "/projects/" + projectID + "/branches/" + branchID + "/auth"
	e.expect("POST", auth, `{"auth_provider":"better_auth"}`, http.StatusCreated, nil)
	var got integrationJSON
	e.expect("GET", auth, nil, http.StatusOK, &got)
	return &baEnv{env: e, projectID: projectID, branchID: branchID, auth: auth, baseURL: got.BaseURL, jwksURL: got.JWKSURL, conn: conn}
}

// baError is Better Auth's error body.
type baErrorJSON struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

// call sends a request to a Better Auth route of the base URL, with the
// session cookie when there is one; headers are name, value pairs, an
// empty value removing the header. It
// never follows redirects, and keeps the session cookie the answer sets.
func (b *baEnv) call(method, route string, body any, headers ...string) response {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	url := route
	if !strings.HasPrefix(route, "http") {
		url = b.baseURL + route
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
		// A browser names the page's origin; here the app is served from
		// the sandbox's own origin, which Better Auth always trusts.
		req.Header.Set("Origin", b.srv.URL)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, route, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range res.Cookies() {
		if c.Name == cookieSessionToken {
			b.cookie = c.Name + "=" + c.Value
			if c.Value == "" {
				b.cookie = ""
			}
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// refused checks a Better Auth error answer.
func (b *baEnv) refused(res response, status int, code string) {
	b.t.Helper()
	var e baErrorJSON
	if res.status != status || json.Unmarshal(res.body, &e) != nil || e.Code != code || e.Message == "" {
		b.t.Fatalf("answer %d %s, want %d with code %s", res.status, res.body, status, code)
	}
}

// signUp signs a user up and checks the answer is 200.
func (b *baEnv) signUp(email, password string) map[string]any {
	b.t.Helper()
	res := b.call("POST", "/sign-up/email", map[string]any{"email": email, "password": password, "name": "Test " + email})
	if res.status != http.StatusOK {
		b.t.Fatalf("sign up %s: %d %s", email, res.status, res.body)
	}
	var out map[string]any
	res.json(b.t, &out)
	return out
}

// settings patches one of the branch's settings groups over the API.
func (b *baEnv) settings(method, path string, body string) {
	b.t.Helper()
	res := b.request(method, b.auth+path, body)
	if res.status >= 300 {
		b.t.Fatalf("%s %s: %d %s", method, path, res.status, res.body)
	}
}

// exec runs SQL on the branch database.
func (b *baEnv) exec(sql string, args ...any) {
	b.t.Helper()
	if _, err := b.conn.Exec(context.Background(), sql, args...); err != nil {
		b.t.Fatalf("%s: %v", sql, err)
	}
}

// verificationLink is the link of the newest verification email to an
// address.
func (b *baEnv) verificationLink(to string) string {
	b.t.Helper()
	link := regexp.MustCompile(`https?://\S+/verify-email\?\S+`)
	emails := b.sb.Emails()
	for i := len(emails) - 1; i >= 0; i-- {
		if emails[i].To == to && emails[i].Subject == "Verify your email address" {
			if m := link.FindString(emails[i].Text); m != "" {
				return m
			}
		}
	}
	b.t.Fatalf("no verification email to %s among %d emails", to, len(emails))
	return ""
}

// connectURI opens a connection the test closes.
func connectURI(t *testing.T, uri string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), uri)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// testLog writes log lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
