package identity

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestAuditWritesOneLinePerMutation(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	// Reads are not audited.
	f.do(req(http.MethodGet, "/projects/p1", trustedPeer, nil, as(adminEmail)...))
	if got := f.audit.String(); got != "" {
		t.Fatalf("a GET wrote audit lines: %s", got)
	}

	const secret = "hunter2-super-secret"
	w := f.post(adminEmail, "/projects/proj-1/integrations", url.Values{
		"email": {"new@user.test"}, "password": {secret}, "branch_id": {"br-main"}, "provider": {"stack"},
	})
	if w.Code != http.StatusOK {
		t.Fatalf("admin post: %d", w.Code)
	}
	f.post(viewerEmail, "/projects/proj-2/integrations/stack/transfer", nil)
	cookie, _ := f.csrf(adminEmail)
	r := req(http.MethodPost, "/projects/proj-3/integrations/better_auth/delete", trustedPeer, url.Values{}, as(adminEmail)...)
	r.AddCookie(cookie)
	f.do(r)

	lines := f.audit.Lines(t)
	if len(lines) != 3 {
		t.Fatalf("%d audit lines, want 3:\n%s", len(lines), f.audit)
	}
	want := []map[string]any{
		{"audit": true, "actor": adminEmail, "role": "admin", "action": "neon_auth.enable", "project": "proj-1", "branch": "br-main",
			"target": "provider=stack email=new@user.test", "outcome": "ok", "status": 200.0, "method": "POST", "route": "/projects/:id/integrations"},
		{"actor": viewerEmail, "role": "viewer", "action": "neon_auth.transfer", "project": "proj-2", "outcome": "denied", "reason": "viewer", "status": 403.0},
		{"actor": adminEmail, "action": "neon_auth.delete", "project": "proj-3", "target": "provider=better_auth", "outcome": "denied", "reason": "csrf", "status": 403.0},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
		for _, k := range []string{"time", "request_id", "peer"} {
			if s, _ := lines[i][k].(string); s == "" {
				t.Errorf("line %d: no %s", i, k)
			}
		}
	}
	if strings.Contains(f.audit.String(), secret) || strings.Contains(f.logs.String(), secret) {
		t.Error("a password field reached the logs")
	}
}

func TestAuditRecordsNeonFailureBehindAnOKPage(t *testing.T) {
	neon := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
	}))
	t.Cleanup(neon.Close)
	client := &http.Client{Transport: AuditTransport(nil)}

	f := newSecFixture(t, secAuthConfig(t))
	f.e.POST("/projects/:id/users/import", func(c echo.Context) error {
		resp, err := client.Do(mustRequest(c.Request().Context(), http.MethodPost, neon.URL))
		if err != nil {
			return err
		}
		resp.Body.Close()
		// The handler shows the refusal in place, with a 200.
		return c.String(http.StatusOK, "form with Neon's error")
	})
	if w := f.post(adminEmail, "/projects/p1/users/import", url.Values{"email": {"a@b.test"}}); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	lines := f.audit.Lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d audit lines, want 1", len(lines))
	}
	if lines[0]["outcome"] != "error" || lines[0]["neon_status"] != 409.0 || lines[0]["action"] != "POST /projects/:id/users/import" {
		t.Errorf("audit line %v: want outcome error, neon_status 409, action named after the route", lines[0])
	}
}

func mustRequest(ctx context.Context, method, target string) *http.Request {
	r, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func TestAuditRecordsHandlerErrors(t *testing.T) {
	f := newSecFixture(t, secAuthConfig(t))
	f.e.POST("/projects/:id/boom", func(c echo.Context) error { return errors.New("boom") })
	w := f.post(adminEmail, "/projects/p9/boom", nil)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	lines := f.audit.Lines(t)
	if len(lines) != 1 || lines[0]["outcome"] != "error" || lines[0]["status"] != 500.0 {
		t.Errorf("audit lines %v, want one error line with status 500", lines)
	}
}
