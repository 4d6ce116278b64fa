package identity

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

func openAuditStore(t *testing.T, url string) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), url, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func withStore(st AuditStore) func(*SecurityOptions) {
	return func(o *SecurityOptions) { o.AuditStore = st }
}

// Every audited request, refused ones included, is appended to the trail
// in the same request, with the user the route names, and its log line
// still goes out carrying the entry's number.
func TestAuditStoreGetsEveryLine(t *testing.T) {
	st := openAuditStore(t, pgtest.NewDatabase(t))
	f := newSecFixture(t, secAuthConfig(t), withStore(st))
	f.e.GET("/projects/:id/export", func(c echo.Context) error {
		AddAuditAttrs(c, slog.Int64("rows", 7), slog.Any("before", map[string]string{"a": "1"}))
		return c.String(http.StatusOK, "rows")
	})
	if w := f.post(adminEmail, "/projects/p1/users/u-42/delete", url.Values{"password": {"hunter2"}}); w.Code != http.StatusOK {
		t.Fatalf("admin delete: %d", w.Code)
	}
	if w := f.post(viewerEmail, "/projects/p1/users/u-43/role", url.Values{"role": {"admin"}}); w.Code != http.StatusForbidden {
		t.Fatalf("viewer role change: %d", w.Code)
	}
	page, err := st.ListAudit(t.Context(), state.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 {
		t.Fatalf("%d entries, want 2", len(page.Entries))
	}
	denied, done := page.Entries[0], page.Entries[1]
	if done.Action != "user.delete" || done.Actor != adminEmail || done.Role != "admin" || done.Project != "p1" || done.TargetUser != "u-42" ||
		done.Outcome != "ok" || done.Status != 200 || done.NeonStatus != nil || done.RequestID == "" || done.Peer == "" || done.Route != "/projects/:id/users/:uid/delete" {
		t.Errorf("done entry %+v", done)
	}
	if denied.Action != "user.role" || denied.Outcome != "denied" || denied.Reason != "viewer" || denied.Status != 403 || denied.TargetUser != "u-43" {
		t.Errorf("denied entry %+v", denied)
	}
	lines := f.audit.Lines(t)
	if len(lines) != 2 || lines[0]["audit_seq"] != 1.0 || lines[1]["audit_seq"] != 2.0 || lines[0]["request_id"] != done.RequestID {
		t.Errorf("log lines %v, want audit_seq 1 and 2", lines)
	}
	// Each line carries its entry's hash: the log stream anchors the chain.
	if len(lines) == 2 && (lines[0]["audit_hash"] != done.Hash || lines[1]["audit_hash"] != denied.Hash || done.Hash == "") {
		t.Errorf("log lines' audit_hash %v, %v; want the entries' %q, %q", lines[0]["audit_hash"], lines[1]["audit_hash"], done.Hash, denied.Hash)
	}
	if v, err := st.VerifyAudit(t.Context()); err != nil || v.Broken != nil || v.Entries != 2 {
		t.Errorf("verify: %+v %v", v, err)
	}
	if strings.Contains(f.audit.String(), "hunter2") {
		t.Error("a password field reached the log")
	}
}

// A store that does not answer refuses the change before it is made (503,
// the handler never runs); the refusal's own log line goes out, marked as
// not stored.
func TestAuditStoreDownRefusesChanges(t *testing.T) {
	st, err := state.Open(context.Background(), pgtest.NewDatabase(t), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	f := newSecFixture(t, secAuthConfig(t), withStore(st))
	w := f.post(adminEmail, "/projects/p1/users/u-42/delete", url.Values{})
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "audit trail cannot be written, so no change was made") {
		t.Fatalf("status %d body %.500s", w.Code, w.Body)
	}
	if n := f.called(http.MethodPost, "/projects/:id/users/:uid/delete"); n != 0 {
		t.Fatalf("the handler ran %d times", n)
	}
	htmx := f.post(adminEmail, "/projects/p1/users", url.Values{"email": {"a@b.test"}}, "HX-Request", "true")
	if htmx.Code != http.StatusServiceUnavailable || !strings.Contains(htmx.Body.String(), "no change was made") || strings.Contains(htmx.Body.String(), "<html") {
		t.Fatalf("htmx: status %d body %.300s", htmx.Code, htmx.Body)
	}
	lines := f.audit.Lines(t)
	if len(lines) != 2 || lines[0]["outcome"] != "denied" || lines[0]["reason"] != "audit_trail_unavailable" || lines[0]["status"] != 503.0 || lines[0]["audit_stored"] != false {
		t.Errorf("log lines %v", lines)
	}
	if f.sec.AuditAppendFailures() != 2 {
		t.Errorf("%d failures counted, want 2", f.sec.AuditAppendFailures())
	}
	// Reads go on.
	if w := f.do(req(http.MethodGet, "/projects/p1", trustedPeer, nil, as(adminEmail)...)); w.Code != http.StatusOK {
		t.Errorf("a read with the store down: %d", w.Code)
	}
}

// When the append fails after the change was made, the user sees the
// change's result, the log line goes out marked, and the failure is
// counted and logged.
func TestAuditAppendFailingAfterTheChange(t *testing.T) {
	u := pgtest.NewDatabase(t)
	st := openAuditStore(t, u)
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// The store answers pings but refuses this one action's entry.
	if _, err := conn.Exec(t.Context(), `ALTER TABLE dashboard_state.audit_entries ADD CONSTRAINT refuse_role CHECK (action <> 'user.role')`); err != nil {
		t.Fatal(err)
	}
	f := newSecFixture(t, secAuthConfig(t), withStore(st))
	if w := f.post(adminEmail, "/projects/p1/users/u-9/role", url.Values{"role": {"admin"}}); w.Code != http.StatusOK || w.Body.String() != "done" {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
	if n := f.called(http.MethodPost, "/projects/:id/users/:uid/role"); n != 1 {
		t.Fatalf("handler ran %d times", n)
	}
	lines := f.audit.Lines(t)
	if len(lines) != 1 || lines[0]["action"] != "user.role" || lines[0]["outcome"] != "ok" || lines[0]["audit_stored"] != false {
		t.Errorf("log lines %v", lines)
	}
	if f.sec.AuditAppendFailures() != 1 || !strings.Contains(f.logs.String(), "audit trail: entry not stored") {
		t.Errorf("failures %d, logs %s", f.sec.AuditAppendFailures(), f.logs)
	}
	// The next change finds the store answering, and is stored.
	if w := f.post(adminEmail, "/projects/p1/users/u-9/delete", url.Values{}); w.Code != http.StatusOK {
		t.Fatalf("next change: %d", w.Code)
	}
	if v, err := st.VerifyAudit(t.Context()); err != nil || v.Broken != nil || v.Entries != 1 {
		t.Errorf("verify: %+v %v", v, err)
	}
}
