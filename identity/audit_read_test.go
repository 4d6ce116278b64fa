package identity

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestAuditReadsWithAnAction checks that a GET route naming an audit action
// (an export of personal data) writes exactly one line carrying the facts its
// handler added, that viewers refused by it are logged too, and that plain
// reads stay silent.
func TestAuditReadsWithAnAction(t *testing.T) {
	audit := &lockedBuffer{}
	sec, err := NewSecurity(t.Context(), SecurityOptions{Auth: secAuthConfig(t), ListenAddr: "127.0.0.1:8080", AuditLog: audit, Logger: jsonLogger(&lockedBuffer{})})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	sec.Install(e, []Rule{
		{http.MethodGet, "/projects/:id/export", Admin, "users.export"},
		{http.MethodGet, "/projects/:id", Viewer, ""},
	})
	e.GET("/projects/:id/export", func(c echo.Context) error {
		AddAuditAttrs(c, slog.Int64("rows", 42))
		AddAuditAttrs(c, slog.String("filter", "q=ada"))
		return c.String(http.StatusOK, "id,email\n")
	}, Require(Admin))
	e.GET("/projects/:id", func(c echo.Context) error {
		AddAuditAttrs(c, slog.Int64("rows", 1))
		return c.String(http.StatusOK, "project")
	}, Require(Viewer))
	do := func(path, email string) int {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req(http.MethodGet, path, trustedPeer, nil, as(email)...))
		return w.Code
	}
	if code := do("/projects/p1", adminEmail); code != http.StatusOK {
		t.Fatalf("plain read: %d", code)
	}
	if got := audit.String(); got != "" {
		t.Fatalf("a plain read wrote audit lines: %s", got)
	}
	if code := do("/projects/p1/export", adminEmail); code != http.StatusOK {
		t.Fatalf("admin export: %d", code)
	}
	if code := do("/projects/p2/export", viewerEmail); code != http.StatusForbidden {
		t.Fatalf("viewer export: %d, want 403", code)
	}
	lines := audit.Lines(t)
	if len(lines) != 2 {
		t.Fatalf("%d audit lines, want 2:\n%s", len(lines), audit)
	}
	want := []map[string]any{
		{"action": "users.export", "method": "GET", "project": "p1", "outcome": "ok", "status": 200.0, "rows": 42.0, "filter": "q=ada", "actor": adminEmail},
		{"action": "users.export", "project": "p2", "outcome": "denied", "status": 403.0, "actor": viewerEmail},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
	}
	if _, ok := lines[1]["rows"]; ok {
		t.Error("the refused export logged rows")
	}
}
