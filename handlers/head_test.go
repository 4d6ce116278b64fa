package handlers

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/static"
)

// newSecuredTestApp is newTestApp with the real Security installed, so the
// probe and metrics routes exist too.
func newSecuredTestApp(t *testing.T, opts ...appOption) *testApp {
	t.Helper()
	auth, err := identity.ParseAuthEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: auth, ListenAddr: "127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	return newTestApp(t, append(opts, withHandler(func(h *Handler) { h.Security = sec }))...)
}

// TestHeadOnEveryGetRoute sends HEAD to every GET route the server has, with
// real ids where the route takes them: each answers like the GET (same
// status and content type, the GET's length) without a body, never 405.
func TestHeadOnEveryGetRoute(t *testing.T) {
	a := newSecuredTestApp(t)
	a.enableStack()
	e := a.Handler.Echo()
	params := strings.NewReplacer(
		":id", a.projectID,
		":branch", a.project.BranchID,
		":provider", "stack",
		":uid", "00000000-0000-0000-0000-000000000000",
	)
	seen := 0
	for _, r := range e.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		path := params.Replace(r.Path)
		if strings.HasSuffix(path, "*") {
			path = static.URL("app.css")
		}
		seen++
		t.Run(r.Path, func(t *testing.T) {
			get := a.raw(t, http.MethodGet, path)
			head := a.raw(t, http.MethodHead, path)
			if head.status == http.StatusMethodNotAllowed || head.status != get.status {
				t.Fatalf("HEAD %s = %d, GET = %d; want the same status", path, head.status, get.status)
			}
			if head.header.Get("Content-Type") != get.header.Get("Content-Type") {
				t.Errorf("HEAD Content-Type %q, GET %q", head.header.Get("Content-Type"), get.header.Get("Content-Type"))
			}
			if get.bodyLen > 0 && head.header.Get("Content-Length") == "" {
				t.Errorf("HEAD %s has no Content-Length; GET sent %d bytes", path, get.bodyLen)
			}
		})
	}
	for _, must := range []string{"/healthz", "/readyz", "/projects"} {
		if !hasGetRoute(e.Routes(), must) {
			t.Errorf("no GET %s route to check", must)
		}
	}
	if seen < 10 {
		t.Errorf("checked %d GET routes, want every one", seen)
	}
}

// TestHeadLengthMatchesGet checks the length HEAD reports on answers whose
// body does not change between requests, and that no body follows a HEAD
// answer on the wire: a GET sent behind it on the same connection must read
// cleanly.
func TestHeadLengthMatchesGet(t *testing.T) {
	a := newSecuredTestApp(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.Server.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("reading the %s answer: %v", method, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || (method == http.MethodGet && string(b) != "ok\n") {
			t.Fatalf("%s /healthz on a shared connection: %d %q", method, res.StatusCode, b)
		}
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		get := a.raw(t, http.MethodGet, path)
		head := a.raw(t, http.MethodHead, path)
		if head.status != http.StatusOK || head.header.Get("Content-Length") != strconv.Itoa(get.bodyLen) {
			t.Errorf("HEAD %s: %d, Content-Length %q; want 200 and %d", path, head.status, head.header.Get("Content-Length"), get.bodyLen)
		}
	}
}

type rawAnswer struct {
	status  int
	header  http.Header
	bodyLen int
}

// raw sends one request without following redirects and reads the raw answer.
func (a *testApp) raw(t *testing.T, method, path string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(method, a.Server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return rawAnswer{status: res.StatusCode, header: res.Header, bodyLen: len(b)}
}

func hasGetRoute(routes []*echo.Route, path string) bool {
	for _, r := range routes {
		if r.Method == http.MethodGet && r.Path == path {
			return true
		}
	}
	return false
}
