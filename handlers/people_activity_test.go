package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// seedSession gives the user with email a session created and refreshed
// at.
func seedSession(t *testing.T, conn *pgx.Conn, email string, at time.Time) {
	t.Helper()
	execOn(t, conn, `INSERT INTO neon_auth.session (id, "expiresAt", token, "createdAt", "updatedAt", "userId")
SELECT gen_random_uuid(), $1::timestamptz + interval '7 days', gen_random_uuid()::text, $1, $1, id FROM neon_auth."user" WHERE email = $2`, at, email)
}

// seedAccount links the user with email to provider, refreshed at.
func seedAccount(t *testing.T, conn *pgx.Conn, email, provider string, at time.Time) {
	t.Helper()
	execOn(t, conn, `INSERT INTO neon_auth.account (id, "accountId", "providerId", "userId", "createdAt", "updatedAt", "accessToken")
SELECT gen_random_uuid(), id::text, $1, id, $2, $2, 'secret-access-token' FROM neon_auth."user" WHERE email = $3`, provider, at, email)
}

// activityCells are a chart's numbers: series name, then per row its counts
// joined by ",".
func activityCells(r *testResponse) (series []string, rows map[string]string) {
	r.byTestID("activity-series").Each(func(_ int, s *goquery.Selection) { series = append(series, strings.TrimSpace(s.Text())) })
	rows = map[string]string{}
	r.byTestID("activity-row").Each(func(_ int, s *goquery.Selection) {
		var counts []string
		s.Find(`[data-testid="activity-count"]`).Each(func(_ int, c *goquery.Selection) { counts = append(counts, strings.TrimSpace(c.Text())) })
		rows[s.AttrOr("data-start", "")] = strings.Join(counts, ",")
	})
	return series, rows
}

func distinctSessionUsers(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(DISTINCT "userId") FROM neon_auth.session`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestActivityPerBranch: each branch's charts count that branch's sessions
// only, as its own database says.
func TestActivityPerBranch(t *testing.T) {
	tb := newPerBranchApp(t)
	now := time.Now().UTC()
	today := now.Format("2006-01-02")
	mainDB, previewDB := tb.branchDB(tb.main), tb.branchDB(tb.preview)
	// main: ada twice (one user), bob through Google.
	seedSession(t, mainDB, "ada@main.test", now.Add(-time.Minute))
	seedSession(t, mainDB, "ada@main.test", now.Add(-2*time.Minute))
	seedAccount(t, mainDB, "bob@main.test", "google", now.Add(-3*time.Minute-time.Second))
	seedSession(t, mainDB, "bob@main.test", now.Add(-3*time.Minute))
	// preview: cy alone, with a password.
	seedSession(t, previewDB, "cy@preview.test", now.Add(-time.Minute))

	for _, c := range []struct {
		b          neonapi.Branch
		conn       *pgx.Conn
		active     string
		series     string
		signIns    string
		legendHint string
	}{
		{tb.main, mainDB, "2", "email,google", "2,1", "google (1)"},
		{tb.preview, previewDB, "1", "email", "1", "email (1)"},
	} {
		if got := distinctSessionUsers(t, c.conn); got != int(c.active[0]-'0') {
			t.Fatalf("%s's database holds sessions of %d users", c.b.Name, got)
		}
		r := tb.get(views.ActivityURL(tb.projectID, c.b.ID))
		r.wantStatus(t, http.StatusOK)
		if r.byTestID("activity-active-users-slot").Length() != 1 || r.byTestID("activity-sign-ins-slot").Length() != 1 {
			t.Fatalf("%s: activity page without its chart slots:\n%.2000s", c.b.Name, r.Body)
		}
		r = tb.htmxGet(views.ActivityChartURL(tb.projectID, c.b.ID, views.ActivityActiveUsers, "30d", "day"), "activity-active-users")
		r.wantStatus(t, http.StatusOK)
		if _, rows := activityCells(r); rows[today] != c.active || len(rows) < 30 {
			t.Errorf("%s: active users today %q (%d rows), want %s:\n%.3000s", c.b.Name, rows[today], len(rows), c.active, r.Body)
		}
		if r.byTestID("activity-svg").Length() != 1 || !strings.Contains(r.text("activity-cost"), "took") {
			t.Errorf("%s: no chart or no cost:\n%.2000s", c.b.Name, r.Body)
		}
		r = tb.htmxGet(views.ActivityChartURL(tb.projectID, c.b.ID, views.ActivitySignIns, "90d", "week"), "activity-sign-ins")
		r.wantStatus(t, http.StatusOK)
		series, rows := activityCells(r)
		var week string
		for start, counts := range rows {
			if start <= today && strings.Trim(counts, "0,") != "" {
				week = counts
			}
		}
		if strings.Join(series, ",") != c.series || week != c.signIns {
			t.Errorf("%s: sign-ins series %v, this week %q; want %s and %s", c.b.Name, series, week, c.series, c.signIns)
		}
		if !strings.Contains(r.text("activity-legend"), c.legendHint) || !strings.Contains(r.text("activity-rule"), "within the minute before") {
			t.Errorf("%s: legend %q, rule %q", c.b.Name, r.text("activity-legend"), r.text("activity-rule"))
		}
		// The users browser's last active column, from the same sessions.
		r = tb.get(views.UsersAt{ProjectID: tb.projectID, Provider: authprovider.BetterAuth, BranchID: c.b.ID}.URL("", nil))
		r.wantStatus(t, http.StatusOK)
		var active, none int
		r.byTestID("last-active").Each(func(_ int, s *goquery.Selection) {
			if strings.Contains(s.Text(), "No session") {
				none++
			} else {
				active++
			}
		})
		if want := int(c.active[0] - '0'); active != want || active+none != r.byTestID("browse-row").Length() {
			t.Errorf("%s: %d users last active, %d without a session; want %d active", c.b.Name, active, none, want)
		}
		if strings.Contains(r.Body, "secret-access-token") {
			t.Errorf("%s: the page shows an account's token", c.b.Name)
		}
	}
}

// TestActivityBadInputAndStack: a range or bucket it does not take is
// refused next to its field, on the full page as in the panel; a Stack Auth
// branch says plainly it keeps no sessions.
func TestActivityBadInputAndStack(t *testing.T) {
	tb := newPerBranchApp(t)
	long := strings.Repeat("x", 10<<10)
	for _, c := range []struct{ rng, bucket, field string }{
		{"7d", "day", "range"}, {long, "day", "range"}, {"30d", "year", "bucket"}, {"30d", "a\x00b", "bucket"},
	} {
		u := views.ActivityChartURL(tb.projectID, tb.main.ID, views.ActivitySignIns, c.rng, c.bucket)
		for _, htmx := range []bool{false, true} {
			var r *testResponse
			if htmx {
				r = tb.htmxGet(u, "activity-sign-ins")
			} else {
				r = tb.get(u)
			}
			r.wantStatus(t, http.StatusBadRequest)
			if r.text("field-error-activity-sign-ins-"+c.field) == "" {
				t.Errorf("%.10q/%.10q (htmx %v): no message next to %s:\n%.1500s", c.rng, c.bucket, htmx, c.field, r.Body)
			}
		}
	}
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	for _, u := range []string{views.ActivityURL(a.projectID, a.project.BranchID), views.ActivityChartURL(a.projectID, a.project.BranchID, views.ActivityActiveUsers, "", "")} {
		r := a.get(u)
		r.wantStatus(t, http.StatusNotFound)
		if got := r.text("api-error"); !strings.Contains(got, "Stack Auth keeps no sessions") {
			t.Errorf("Stack Auth branch %s: %q", u, got)
		}
	}
}
