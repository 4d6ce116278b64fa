package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// usersDB is a users_sync table in a database of its own, reached by the
// dashboard through the DATABASE_URL override.
type usersDB struct {
	connString string
	conn       *pgx.Conn
}

func newUsersDB(t *testing.T) *usersDB {
	t.Helper()
	connString := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), connString)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	d := &usersDB{connString: connString, conn: conn}
	d.exec(t, sandbox.StackDDL())
	return d
}

func (d *usersDB) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := d.conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// insert stores a users_sync row the way Neon does, through raw_json, and
// soft-deletes it at deleted when that is not zero.
func (d *usersDB) insert(t *testing.T, id string, created, deleted time.Time) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"id": id, "display_name": id, "primary_email": id + "@example.com",
		"signed_up_at_millis": created.UnixMilli(), "oauth_providers": []any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	d.exec(t, `INSERT INTO neon_auth.users_sync (raw_json) VALUES ($1)`, raw)
	if !deleted.IsZero() {
		d.exec(t, `UPDATE neon_auth.users_sync SET deleted_at = $2 WHERE id = $1`, id, deleted)
	}
}

// seed stores n users, one a minute back from now, and analyzes the table
// so the planner's estimate is the row count.
func (d *usersDB) seed(t *testing.T, n int) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	for i := range n {
		d.insert(t, fmt.Sprintf("user_%03d", i), now.Add(-time.Duration(i)*time.Minute), time.Time{})
	}
	d.exec(t, "ANALYZE neon_auth.users_sync")
}

// newIndexApp serves a dashboard reaching d as connString says, offering
// an index from threshold rows.
func newIndexApp(t *testing.T, connString string, threshold int64, opts ...appOption) *testApp {
	t.Helper()
	return newTestApp(t, append([]appOption{withHandlerNeon(func(h *Handler, neon *neonapi.Client) {
		h.Auth = neonauth.New(neon, testPools(t), neonauth.UserDBConfig{Default: connString})
		h.Settings.IndexAdviceRows = threshold
		useMemoryJobs(t, h)
	})}, opts...)...)
}

func (a *testApp) indexPath() string {
	return "/projects/" + a.projectID + "/users/index?provider=stack"
}

// indexPanel loads the advisor as the slot does.
func (a *testApp) indexPanel() *testResponse {
	a.t.Helper()
	r := a.htmxGet(a.indexPath(), "index-advisor")
	r.wantStatus(a.t, http.StatusOK)
	return r
}

func panelState(r *testResponse) string {
	s, _ := r.byTestID("index-advisor").Attr("data-state")
	return s
}

// pollIndex follows the panel's own polling until until accepts it.
func (a *testApp) pollIndex(r *testResponse, what string, until func(*testResponse) bool) *testResponse {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !until(r) {
		if trig, _ := r.byTestID("index-advisor").Attr("hx-trigger"); trig != "every 1s" {
			a.t.Fatalf("waiting for %s, the panel stopped polling (hx-trigger %q):\n%s", what, trig, r.Body)
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("no %s by the deadline:\n%s", what, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
		r = a.indexPanel()
	}
	return r
}

func TestIndexAdvisorSmallTable(t *testing.T) {
	d := newUsersDB(t)
	d.seed(t, 5)
	a := newIndexApp(t, d.connString, 0)
	r := a.indexPanel()
	if panelState(r) != views.IndexStateSmall || !strings.Contains(r.text("index-summary"), "no index needed") {
		t.Fatalf("state %q, summary %q", panelState(r), r.text("index-summary"))
	}
	if r.byTestID("index-create").Length() != 0 {
		t.Error("a small table is offered an index")
	}
}

// TestIndexAdvisorCreateProgressDrop offers the index on a "large" table,
// builds it while a writer holds the build in its first phase (so the
// progress Postgres reports is seen), then drops it.
func TestIndexAdvisorCreateProgressDrop(t *testing.T) {
	d := newUsersDB(t)
	d.seed(t, 40)
	a := newIndexApp(t, d.connString, 10)

	r := a.indexPanel()
	if panelState(r) != views.IndexStateAdvise {
		t.Fatalf("state %q, want advise:\n%s", panelState(r), r.Body)
	}
	if sum := r.text("index-summary"); !strings.Contains(sum, "scans the whole table: about 40 rows") {
		t.Errorf("summary = %q", sum)
	}
	sql := r.text("index-create-sql")
	if sql != `CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_sync_created_at_id_idx" ON neon_auth.users_sync (created_at DESC, id DESC)` {
		t.Errorf("statement = %q", sql)
	}
	if size := r.text("index-size"); !strings.Contains(size, "16.0 KiB") || !strings.Contains(size, "40 rows (counted)") {
		t.Errorf("size = %q", size)
	}
	if _, polls := r.byTestID("index-advisor").Attr("hx-trigger"); polls {
		t.Error("the panel polls without a build")
	}

	writer, err := d.conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback(context.Background())
	if _, err := writer.Exec(context.Background(), `UPDATE neon_auth.users_sync SET updated_at = now() WHERE id = 'user_000'`); err != nil {
		t.Fatal(err)
	}
	created := a.htmxPost("/projects/"+a.projectID+"/users/index", url.Values{"provider": {"stack"}})
	created.wantStatus(t, http.StatusAccepted)
	if panelState(created) != views.IndexStateBuilding {
		t.Fatalf("after create: state %q:\n%s", panelState(created), created.Body)
	}
	r = a.pollIndex(created, "the build's phase from Postgres", func(r *testResponse) bool {
		return strings.Contains(r.text("index-summary"), "waiting for")
	})
	if r.byTestID("index-progress").Length() != 1 || !strings.Contains(r.text("index-summary"), "users_sync_created_at_id_idx") {
		t.Errorf("progress panel:\n%s", r.Body)
	}
	if err := writer.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = a.pollIndex(r, "the served state", func(r *testResponse) bool { return panelState(r) != views.IndexStateBuilding })
	if panelState(r) != views.IndexStateServed || !strings.Contains(r.text("index-summary"), "served by index users_sync_created_at_id_idx") {
		t.Fatalf("after the build: state %q:\n%s", panelState(r), r.Body)
	}
	if _, polls := r.byTestID("index-advisor").Attr("hx-trigger"); polls {
		t.Error("the panel still polls after the build")
	}

	dropped := a.htmxPost("/projects/"+a.projectID+"/users/index/delete", url.Values{"provider": {"stack"}, "index": {"users_sync_created_at_id_idx"}})
	dropped.wantStatus(t, http.StatusOK)
	if panelState(dropped) != views.IndexStateAdvise {
		t.Fatalf("after drop: state %q", panelState(dropped))
	}
	refused := a.htmxPost("/projects/"+a.projectID+"/users/index/delete", url.Values{"provider": {"stack"}, "index": {"users_sync_pkey"}})
	refused.wantStatus(t, http.StatusUnprocessableEntity)
}

func TestIndexAdvisorForViewer(t *testing.T) {
	d := newUsersDB(t)
	d.seed(t, 20)
	a := newIndexApp(t, d.connString, 10, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
	r := a.indexPanel()
	if panelState(r) != views.IndexStateAdvise || r.text("index-create-sql") == "" {
		t.Fatalf("viewer sees state %q:\n%s", panelState(r), r.Body)
	}
	if r.byTestID("index-create").Length() != 0 || r.byTestID("index-drop").Length() != 0 {
		t.Error("a viewer is offered buttons")
	}
	if r.byTestID("index-admin-only").Length() != 1 {
		t.Error("the viewer is not told an admin can create it")
	}
	a.htmxPost("/projects/"+a.projectID+"/users/index", url.Values{"provider": {"stack"}}).wantStatus(t, http.StatusForbidden)
	a.htmxPost("/projects/"+a.projectID+"/users/index/delete", url.Values{"provider": {"stack"}, "index": {"x"}}).wantStatus(t, http.StatusForbidden)
	if panelState(a.indexPanel()) != views.IndexStateAdvise {
		t.Error("a viewer's post changed the table")
	}
}

// TestIndexAdvisorRoleWithoutOwnership connects as a role that may read
// the table but does not own it.
func TestIndexAdvisorRoleWithoutOwnership(t *testing.T) {
	d := newUsersDB(t)
	d.seed(t, 20)
	role, asRole := pgtest.NewRole(t, d.connString, "USAGE ON SCHEMA neon_auth", "SELECT ON neon_auth.users_sync")
	a := newIndexApp(t, asRole, 10)

	r := a.indexPanel()
	why := r.text("index-why-not")
	if panelState(r) != views.IndexStateAdvise || !strings.Contains(why, "role "+role+", which does not own neon_auth.users_sync (owner: postgres)") {
		t.Fatalf("state %q, why %q", panelState(r), why)
	}
	if r.byTestID("index-create").Length() != 0 || r.text("index-create-sql") == "" {
		t.Errorf("a role that cannot create the index gets a button, or no statement:\n%s", r.Body)
	}
	refused := a.htmxPost("/projects/"+a.projectID+"/users/index", url.Values{"provider": {"stack"}})
	refused.wantStatus(t, http.StatusForbidden)
	if !strings.Contains(refused.text("index-failure"), "does not own") {
		t.Errorf("refusal = %q", refused.text("index-failure"))
	}
}

func TestIndexAdvisorInvalidIndex(t *testing.T) {
	d := newUsersDB(t)
	d.seed(t, 20)
	d.insert(t, "user_dup", time.Now(), time.Time{})
	d.exec(t, `UPDATE neon_auth.users_sync SET raw_json = raw_json || '{"primary_email": "user_000@example.com"}' WHERE id = 'user_dup'`)
	// A concurrent unique build over duplicate emails fails after creating
	// its catalog entry, leaving the index INVALID.
	if _, err := d.conn.Exec(context.Background(), "CREATE UNIQUE INDEX CONCURRENTLY users_sync_created_at_id_idx ON neon_auth.users_sync (email)"); err == nil {
		t.Fatal("the failing build succeeded")
	}
	a := newIndexApp(t, d.connString, 10)
	r := a.indexPanel()
	if panelState(r) != views.IndexStateInvalid || r.text("index-drop-sql") != `DROP INDEX CONCURRENTLY IF EXISTS "neon_auth"."users_sync_created_at_id_idx"` {
		t.Fatalf("state %q:\n%s", panelState(r), r.Body)
	}
	name, _ := r.byTestID("index-drop-form").Find(`input[name="index"]`).Attr("value")
	dropped := a.htmxPost("/projects/"+a.projectID+"/users/index/delete", url.Values{"provider": {"stack"}, "index": {name}})
	dropped.wantStatus(t, http.StatusOK)
	if panelState(dropped) != views.IndexStateAdvise {
		t.Errorf("after dropping the leftover: state %q", panelState(dropped))
	}
}

// TestIndexAdvisorFullPage serves the panel as a page to a browser without
// htmx, and the create form's plain post redirects back to it.
func TestIndexAdvisorFullPage(t *testing.T) {
	d := newUsersDB(t)
	d.seed(t, 5)
	a := newIndexApp(t, d.connString, 0)
	r := a.get(a.indexPath())
	r.wantStatus(t, http.StatusOK)
	if r.Doc.Find("h1#page-title").Length() != 1 || panelState(r) != views.IndexStateSmall {
		t.Fatalf("full page:\n%s", r.Body)
	}
	bad := a.get("/projects/" + a.projectID + "/users/index?provider=nope")
	bad.wantStatus(t, http.StatusBadRequest)
}

// TestIndexChangesAreAudited creates and drops the index through the full
// security stack and checks each left one audit line.
func TestIndexChangesAreAudited(t *testing.T) {
	d := newUsersDB(t)
	d.seed(t, 20)
	audit := &lockedBuffer{}
	a := newIndexApp(t, d.connString, 10, withHandlerNeon(func(h *Handler, neon *neonapi.Client) {
		h.Auth = neonauth.New(neon, testPools(t), neonauth.UserDBConfig{Default: d.connString})
		h.Settings.IndexAdviceRows = 10
		useMemoryJobs(t, h)
		cfg := secAuthConfig(t)
		cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
		sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", AuditLog: audit})
		if err != nil {
			t.Fatal(err)
		}
		h.Security = sec
	}))
	a.Client.Transport = &flowBrowser{base: http.DefaultTransport, email: adminEmail}

	a.indexPanel()
	a.htmxPost("/projects/"+a.projectID+"/users/index", url.Values{"provider": {"stack"}}).wantStatus(t, http.StatusAccepted)
	r := a.pollIndex(a.indexPanel(), "the served state", func(r *testResponse) bool { return panelState(r) != views.IndexStateBuilding })
	if panelState(r) != views.IndexStateServed {
		t.Fatalf("state %q after the build", panelState(r))
	}
	a.htmxPost("/projects/"+a.projectID+"/users/index/delete", url.Values{"provider": {"stack"}, "index": {"users_sync_created_at_id_idx"}}).wantStatus(t, http.StatusOK)

	lines := audit.Lines(t)
	want := []struct {
		action string
		status float64
	}{{"users.index.create", http.StatusAccepted}, {"users.index.drop", http.StatusOK}}
	if len(lines) != len(want) {
		t.Fatalf("%d audit lines, want %d:\n%s", len(lines), len(want), audit)
	}
	for i, w := range want {
		l := lines[i]
		if l["action"] != w.action || l["outcome"] != "ok" || l["status"] != w.status || l["actor"] != adminEmail || l["project"] != a.projectID {
			t.Errorf("line %d = %v, want %s ok %v", i, l, w.action, w.status)
		}
	}
}

// TestIndexAdvisorEmailLookupIndex: a large users_sync table is offered the
// email-lookup index beside the browse-order one; an admin creates it from
// the panel, which then says email lookups are served, and can remove it.
func TestIndexAdvisorEmailLookupIndex(t *testing.T) {
	d := newUsersDB(t)
	d.seed(t, 40)
	a := newIndexApp(t, d.connString, 10)

	r := a.indexPanel()
	if r.byTestID("index-lookup").Length() != 1 || !strings.Contains(r.text("index-lookup-sql"), "(lower(email))") {
		t.Fatalf("no email index offered:\n%s", r.Body)
	}
	created := a.htmxPost("/projects/"+a.projectID+"/users/index", url.Values{"provider": {"stack"}, "purpose": {"email"}})
	created.wantStatus(t, http.StatusAccepted)
	r = a.pollIndex(created, "the email index served", func(r *testResponse) bool {
		return panelState(r) != views.IndexStateBuilding && strings.Contains(r.text("index-lookup-summary"), "served by index")
	})
	if got := r.text("index-lookup-summary"); !strings.Contains(got, "users_sync_lower_email_idx") {
		t.Errorf("lookup summary = %q", got)
	}
	// The browse-order offer is untouched by it.
	if panelState(r) != views.IndexStateAdvise {
		t.Errorf("browse-order state after the email index = %q, want advise", panelState(r))
	}
	dropped := a.htmxPost("/projects/"+a.projectID+"/users/index/delete", url.Values{"provider": {"stack"}, "index": {"users_sync_lower_email_idx"}})
	dropped.wantStatus(t, http.StatusOK)
	if got := dropped.text("index-lookup-summary"); !strings.Contains(got, "scans every row") {
		t.Errorf("after the drop the lookup summary = %q", got)
	}
	bad := a.htmxPost("/projects/"+a.projectID+"/users/index", url.Values{"provider": {"stack"}, "purpose": {"nope"}})
	bad.wantStatus(t, http.StatusUnprocessableEntity)
}
