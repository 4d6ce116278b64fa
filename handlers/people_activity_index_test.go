package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// TestIndexAdvisorSessionsIndexPerBranch: the advisor offers the sessions
// index on the Better Auth branch whose session table is above the
// threshold, not on the one below it, and builds it on that branch alone,
// as each branch's catalog says.
func TestIndexAdvisorSessionsIndexPerBranch(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{settings: func(s *Settings) { s.IndexAdviceRows = 5 }})
	bs := a.createBranches("preview")
	tb := &perBranchApp{testApp: a, main: bs["main"], preview: bs["preview"]}
	a.enableBetterAuthOn(tb.main)
	a.enableBetterAuthOn(tb.preview)
	tb.createOn(tb.main, "ada@main.test")
	tb.createOn(tb.preview, "cy@preview.test")
	a.waitForSync()
	mainDB, previewDB := tb.branchDB(tb.main), tb.branchDB(tb.preview)
	for i := range 6 {
		seedSession(t, mainDB, "ada@main.test", time.Now().Add(-time.Duration(i)*time.Minute))
	}
	seedSession(t, previewDB, "cy@preview.test", time.Now())
	panel := func(b neonapi.Branch) *testResponse {
		t.Helper()
		r := a.htmxGet(views.IndexURL(views.UsersPanelRef{ProjectID: a.projectID, Provider: authprovider.BetterAuth, BranchID: b.ID}), "index-advisor")
		r.wantStatus(t, http.StatusOK)
		return r
	}
	if r := panel(tb.preview); r.byTestID("index-sessions").Length() != 0 {
		t.Errorf("preview (1 session) is offered the sessions index:\n%.2000s", r.Body)
	}
	r := panel(tb.main)
	if r.byTestID("index-sessions-create").Length() != 1 || r.text("index-sessions-sql") != neonauth.SessionsIndexSQL {
		t.Fatalf("main (6 sessions) is not offered the sessions index:\n%.3000s", r.Body)
	}
	r = a.htmxPost(views.IndexURL(views.UsersPanelRef{ProjectID: a.projectID, Provider: authprovider.BetterAuth, BranchID: tb.main.ID}),
		url.Values{"purpose": {"sessions"}})
	r.wantStatus(t, http.StatusAccepted)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(r.text("index-sessions-summary"), "served by index") {
		if time.Now().After(deadline) {
			t.Fatalf("the sessions index was never served:\n%.3000s", r.Body)
		}
		time.Sleep(100 * time.Millisecond)
		r = panel(tb.main)
	}
	has := func(conn *pgx.Conn) bool {
		var ok bool
		if err := conn.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'neon_auth' AND indexname = 'session_createdAt_id_idx')`).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !has(mainDB) || has(previewDB) {
		t.Errorf("sessions index on main %v, on preview %v; want main only", has(mainDB), has(previewDB))
	}
}
