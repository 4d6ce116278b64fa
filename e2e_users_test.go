package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// seedDemoUsers inserts n Stack Auth users, user<i>@example.com created i
// minutes after 2023-11-14 (older than the demo's own), straight into the
// demo database the users page names.
func seedDemoUsers(t *testing.T, dbURL, database string, n int) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = database
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to %s: %v", database, err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO neon_auth.users_sync (raw_json)
		SELECT jsonb_build_object('id', 'seed-' || i, 'display_name', 'User ' || i, 'primary_email', 'user' || i || '@example.com',
			'signed_up_at_millis', 1699920000000 + i::bigint * 60000)
		FROM generate_series(1, $1::int) i`, n)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
}

// TestE2EUsersBrowser pages through the users table and back, searches it,
// opens a user and downloads an export, in Chromium.
func TestE2EUsersBrowser(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)
	dash := startDashboardEnv(t, dbURL, nil)
	b := browsertest.New(t, browsertest.Options{Headers: a11yIdentities[""], Budget: 3 * time.Minute})
	id := browsertest.TestID

	b.Follow("open the projects page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects"))
	project := findProject(b, demoProject)
	users := dash.URL + "/projects/" + project + "/users?provider=stack"
	b.Follow("open the users page", http.StatusOK, chromedp.Navigate(users))
	where := browsertest.Get(b, "read the database", chromedp.Text(id("database")))
	seedDemoUsers(t, dbURL, where[strings.LastIndex(where, "/")+1:], 60)

	// 3 demo users, then user60 down to user14 on the first page.
	b.Follow("reload the users page", http.StatusOK, chromedp.Navigate(users))
	b.Run("wait for the browser to load", browsertest.WaitText(id("users-count"), "users match"))
	rows := func(step string) int {
		return browsertest.Get(b, step, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="browse-row"]').length`))
	}
	if n := rows("count the first page"); n != 50 {
		b.Fail("count the first page", fmt.Errorf("%d rows, want 50", n))
	}
	first := browsertest.Get(b, "read the first row", chromedp.Evaluate[string](`document.querySelector('[data-testid="browse-row"] [data-testid="detail-link"]').textContent`))
	b.Run("go to the older page",
		chromedp.Click(id("page-next")),
		browsertest.WaitText(id("browse-row"), "user13@example.com"),
	)
	if loc := browsertest.Get(b, "read the location", chromedp.Location()); !strings.Contains(loc, "/users/browse?") || !strings.Contains(loc, "after=") {
		b.Fail("check the URL holds the page", fmt.Errorf("location %s", loc))
	}
	// Back reloads the page from the server (htmx keeps no history cache),
	// so the step waits for the first page's own first row: the older
	// page's rows would satisfy any weaker wait before the page is back.
	b.Run("go back", chromedp.NavigateBack(), browsertest.Visible(id("create-user-form")), browsertest.WaitText(id("browse-row"), first))
	if n := rows("count the first page again"); n != 50 {
		b.Fail("count the first page again", fmt.Errorf("%d rows, want 50", n))
	}

	b.Run("search",
		chromedp.SendKeys(chromedp.ID("browse-q"), "user42"),
		chromedp.Click(id("browse-apply")),
		browsertest.WaitText(id("browse-row"), "user42@example.com"),
	)
	if n := rows("count the matches"); n != 1 {
		b.Fail("count the matches", fmt.Errorf("%d rows, want 1", n))
	}
	csv := browsertest.Get(b, "download the export", chromedp.Evaluate[string](`fetch(document.querySelector('[data-testid="export-csv"]').href)
		.then(r => r.ok ? r.text() : "status " + r.status)`, chromedp.EvalAwaitPromise))
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if !strings.HasPrefix(lines[0], "id,email,") || len(lines) != 2 || !strings.Contains(lines[1], "user42@example.com") {
		b.Fail("check the export", fmt.Errorf("export = %q", csv))
	}

	b.Follow("open the user", http.StatusOK, chromedp.Click(id("detail-link")))
	b.Run("see the user", browsertest.WaitText(id("row-email"), "user42@example.com"), browsertest.Visible(id("raw-json")))
	b.CheckAccessibility("user detail")
}
