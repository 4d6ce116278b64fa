package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// The demo's people the test acts on: a user it bans, the network whose
// sessions it revokes and the organization it opens.
const (
	peopleBanned   = "dorothy@example.com"
	peopleIPPrefix = "192.168."
	peopleOrgSlug  = "acme"
	peopleOrgName  = "Acme Rockets"
)

// TestE2EPeople drives the people console of launchpad's default branch in
// Chromium, as an admin, against the real server and the demo sandbox on
// real Postgres. From a user's detail page it bans the user until a set
// time and sees the ban and its end there; Postgres shows the user's
// sessions gone and the dashboard's audit output the ban. On the sessions
// page it filters by an IP prefix, sees on the confirmation exactly how
// many sessions that is, revokes them, and Postgres shows exactly those
// gone and every other left. It opens the organizations, then Acme Rockets,
// then follows a member to their detail page.
func TestE2EPeople(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)

	d, client := startDemoAPI(t, dbURL, &syncBuffer{})
	pid := demoProjectID(t, client, demoProjectBranchAuth)
	branches, err := client.ListBranches(t.Context(), pid)
	if err != nil {
		t.Fatal(err)
	}
	br := &branchUsersDB{name: "main"}
	for _, b := range branches {
		if b.Name == br.name {
			br.id = b.ID
		}
	}
	if br.id == "" {
		t.Fatalf("launchpad has no main branch: %+v", branches)
	}
	br.uri = branchUsersURI(t, client, pid, br.id)
	dash := startDashboardEnv(t, dbURL, map[string]string{"NEON_API_KEY": d.APIKey, "NEON_API_URL": d.APIURL})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the dashboard's log:\n%s", dash.logs)
		}
	})
	f := &peopleFlow{
		t:    t,
		b:    browsertest.New(t, browsertest.Options{Headers: map[string]string{"X-Forwarded-Email": e2eAdminEmail, "X-Forwarded-User": e2eAdminUser}, Budget: time.Minute}),
		br:   br,
		dash: dash,
		home: dash.URL + "/projects/" + pid + "/branches/" + br.id + "/users",
	}

	f.ban()
	f.revokeByFilter()
	f.followMember()

	if p := f.b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported errors:\n  %s", strings.Join(p, "\n  "))
	}
	// The demo marks every secret column; the server's log never names one.
	if strings.Contains(dash.logs.String(), "demo-secret-") {
		t.Error("a secret column's value is in the dashboard's log")
	}
}

// peopleFlow is the browser's way through the people console of one
// branch, whose database the test reads on its own.
type peopleFlow struct {
	t    *testing.T
	b    *browsertest.Browser
	br   *branchUsersDB
	dash *dashboard
	// home is the branch's users page.
	home string
}

// openUsers loads the branch's users page, where every flow starts.
func (f *peopleFlow) openUsers() {
	f.t.Helper()
	f.b.Follow("open main's users", http.StatusOK, chromedp.Navigate(f.home))
	f.b.Run("wait for the users", browsertest.Visible(browsertest.TestID("users-browser")))
}

// noSecret fails the step when the page shows a value of a secret column.
func (f *peopleFlow) noSecret(page string) {
	f.t.Helper()
	if strings.Contains(f.b.HTML(), "demo-secret-") {
		f.b.Fail("check "+page+" for secrets", fmt.Errorf("the page shows a value of a secret column"))
	}
}

// ban bans peopleBanned until three days from now from the user's detail
// page, and checks the page, the database and the audit output.
func (f *peopleFlow) ban() {
	f.t.Helper()
	id := browsertest.TestID
	uid := f.text(`SELECT id::text FROM neon_auth."user" WHERE email = $1`, peopleBanned)
	had := f.count(`SELECT count(*) FROM neon_auth.session WHERE "userId" = $1::uuid`, uid)
	if had == 0 {
		f.t.Fatalf("the demo gives %s no session: the ban would end none", peopleBanned)
	}
	until := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)

	f.openUsers()
	f.b.Follow("open "+peopleBanned+"'s detail page", http.StatusOK, chromedp.Click(browseRow(uid)+` [data-testid="detail-link"]`))
	f.b.Run("see "+peopleBanned+" is not banned",
		browsertest.WaitAttr(id("ban-state"), "data-state", "none"),
		browsertest.Visible(id("person-session")),
	)
	f.b.Run("ban "+peopleBanned,
		chromedp.SendKeys(chromedp.ID("ban-reason"), "Card testing from many accounts"),
		chromedp.SetValue(chromedp.ID("ban-expires"), until.Format("2006-01-02T15:04")),
		chromedp.Click(id("ban-form")+` button[type="submit"]`),
		// The answer sends the browser to the detail page, now with the ban.
		browsertest.WaitAttr(id("ban-state"), "data-state", "active"),
		browsertest.WaitText(id("ban-state"), "lifts by itself"),
		browsertest.Visible(id("unban-form")),
	)
	lifts := browsertest.Get(f.b, "read when the ban lifts", chromedp.Evaluate[string](
		`(document.querySelector('[data-testid="ban-state"] time') || {getAttribute: () => ""}).getAttribute("datetime")`))
	if lifts != until.Format(time.RFC3339) {
		f.b.Fail("check when the ban lifts", fmt.Errorf("the page says the ban lifts at %q, want %s", lifts, until.Format(time.RFC3339)))
	}
	f.b.Run("see no session left", browsertest.WaitText(id("last-sign-in"), "no session in the table"))
	f.b.CheckAccessibility("a banned user's detail page")
	f.noSecret("the detail page")

	// Postgres: banned until then, and no session left.
	var banned bool
	var expires *time.Time
	err := f.br.query(f.t, func(conn *pgx.Conn) error {
		return conn.QueryRow(f.t.Context(), `SELECT coalesce(banned, false), "banExpires" FROM neon_auth."user" WHERE id = $1::uuid`, uid).Scan(&banned, &expires)
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if !banned || expires == nil || !expires.Equal(until) {
		f.t.Errorf("the database has %s banned %v until %v, want banned until %s", peopleBanned, banned, expires, until)
	}
	if n := f.count(`SELECT count(*) FROM neon_auth.session WHERE "userId" = $1::uuid`, uid); n != 0 {
		f.t.Errorf("%s keeps %d of %d sessions after the ban", peopleBanned, n, had)
	}

	// The audit output: one user.ban line for the user on this branch,
	// with the expiry and the sessions ended, and without the reason.
	var bans []map[string]any
	for line := range strings.Lines(f.dash.logs.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["audit"] == true && m["action"] == "user.ban" {
			bans = append(bans, m)
		}
	}
	if len(bans) != 1 {
		f.t.Fatalf("%d user.ban audit lines, want 1:\n%s", len(bans), f.dash.logs)
	}
	want := map[string]any{"outcome": "ok", "actor": e2eAdminEmail, "branch": f.br.id, "target": "user=" + uid,
		"expires": until.Format(time.RFC3339), "sessions_revoked": float64(had)}
	for k, v := range want {
		if bans[0][k] != v {
			f.t.Errorf("the ban's audit line has %s = %v, want %v", k, bans[0][k], v)
		}
	}
	if strings.Contains(fmt.Sprint(bans[0]), "Card testing") {
		f.t.Error("the ban's audit line carries its reason")
	}
}

// revokeByFilter filters the sessions page by peopleIPPrefix, confirms the
// exact count and revokes, then checks in Postgres that exactly the
// matching sessions went.
func (f *peopleFlow) revokeByFilter() {
	f.t.Helper()
	id := browsertest.TestID
	before := f.sessionIDs(`SELECT id::text FROM neon_auth.session ORDER BY 1`)
	matching := f.sessionIDs(`SELECT id::text FROM neon_auth.session WHERE "ipAddress" LIKE $1 AND "expiresAt" > now() ORDER BY 1`, peopleIPPrefix+"%")
	if len(matching) == 0 || len(matching) == len(before) {
		f.t.Fatalf("%d of the demo's %d sessions come from %s; the test needs some and not all", len(matching), len(before), peopleIPPrefix)
	}

	f.openUsers()
	f.b.Follow("open the sessions", http.StatusOK, chromedp.Click(id("users-sessions-link")))
	f.b.Run("wait for the sessions", browsertest.Visible(id("session-row")))
	f.b.CheckAccessibility("the sessions page")
	f.noSecret("the sessions page")
	f.b.Run("filter by "+peopleIPPrefix,
		chromedp.SendKeys(chromedp.ID("sessions-ip"), peopleIPPrefix),
		chromedp.Click(id("sessions-apply")),
	)
	// The list swaps in place and the address follows it.
	browsertest.Get(f.b, "wait for the filtered list", chromedp.Poll[bool](fmt.Sprintf(`(() => {
		const n = document.querySelector('[data-testid="sessions-count-exact"]');
		return !!n && n.textContent.trim() === %q && new URLSearchParams(location.search).get("ip") === %q;
	})()`, strconv.Itoa(len(matching)), peopleIPPrefix), chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
	ips := browsertest.Get(f.b, "read the filtered sessions", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[data-testid="session-row"] [data-testid="session-ip"]')].map((e) => e.textContent.trim())`))
	if len(ips) != len(matching) || slices.ContainsFunc(ips, func(ip string) bool { return !strings.HasPrefix(ip, peopleIPPrefix) }) {
		f.b.Fail("check the filtered sessions", fmt.Errorf("the list shows addresses %q, want the %d from %s", ips, len(matching), peopleIPPrefix))
	}

	f.b.Follow("ask to revoke them", http.StatusOK, chromedp.Click(id("revoke-matching-link")))
	f.b.Run("see the count", browsertest.WaitText(id("revoke-filter-words"), peopleIPPrefix))
	if got := strings.TrimSpace(browsertest.Get(f.b, "read the count", chromedp.TextContent(id("revoke-count")))); got != strconv.Itoa(len(matching)) {
		f.b.Fail("check the count", fmt.Errorf("the confirmation revokes %q sessions, want %d", got, len(matching)))
	}
	f.b.CheckAccessibility("the revocation's confirmation")
	f.b.Follow("revoke them", http.StatusOK, chromedp.Click(id("revoke-matching-confirm")))
	f.b.Run("see they were revoked", browsertest.WaitText(id("flash"), "Revoked "+strconv.Itoa(len(matching))))

	after := f.sessionIDs(`SELECT id::text FROM neon_auth.session ORDER BY 1`)
	want := slices.DeleteFunc(slices.Clone(before), func(s string) bool { return slices.Contains(matching, s) })
	if !slices.Equal(after, want) {
		f.t.Errorf("after revoking the %d sessions from %s the branch holds %d sessions, want the other %d:\ngone %q",
			len(matching), peopleIPPrefix, len(after), len(want), matching)
	}
}

// followMember opens the organizations from the users page, then Acme
// Rockets, then one of its members' detail page.
func (f *peopleFlow) followMember() {
	f.t.Helper()
	id := browsertest.TestID
	oid := f.text(`SELECT id::text FROM neon_auth.organization WHERE slug = $1`, peopleOrgSlug)
	member := f.text(`SELECT "userId"::text FROM neon_auth.member WHERE "organizationId" = $1::uuid ORDER BY "createdAt" LIMIT 1`, oid)

	f.openUsers()
	f.b.Follow("open the organizations", http.StatusOK, chromedp.Click(id("users-organizations-link")))
	row := chromedp.CSS(`[data-testid="organization-row"][data-organization-id="` + oid + `"]`)
	f.b.Run("find "+peopleOrgName, browsertest.WaitText(row+` [data-testid="organization-link"]`, peopleOrgName))
	f.b.CheckAccessibility("the organizations page")
	f.b.Follow("open "+peopleOrgName, http.StatusOK, chromedp.Click(row+` [data-testid="organization-link"]`))
	link := chromedp.CSS(`[data-testid="member-row"][data-user-id="` + member + `"] [data-testid="member-link"]`)
	f.b.Run("see "+peopleOrgName+"'s members",
		browsertest.WaitText(id("organization-slug"), peopleOrgSlug),
		browsertest.Visible(link),
	)
	f.b.CheckAccessibility("an organization's page")
	f.noSecret("the organization's page")
	f.b.Follow("follow a member", http.StatusOK, chromedp.Click(link))
	f.b.Run("see the member's organizations", browsertest.WaitText(id("person-memberships"), peopleOrgName))
	wantURL := f.home + "/" + member + "/detail"
	if loc := browsertest.Get(f.b, "read the location", chromedp.Location()); loc != wantURL {
		f.b.Fail("check the member's page", fmt.Errorf("location %s, want %s", loc, wantURL))
	}
}

// text reads one text value from the branch's database.
func (f *peopleFlow) text(query string, args ...any) string {
	f.t.Helper()
	var s string
	if err := f.br.query(f.t, func(conn *pgx.Conn) error { return conn.QueryRow(f.t.Context(), query, args...).Scan(&s) }); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return s
}

// count reads one count from the branch's database.
func (f *peopleFlow) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.br.query(f.t, func(conn *pgx.Conn) error { return conn.QueryRow(f.t.Context(), query, args...).Scan(&n) }); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// sessionIDs reads session ids from the branch's database.
func (f *peopleFlow) sessionIDs(query string, args ...any) []string {
	f.t.Helper()
	var ids []string
	err := f.br.query(f.t, func(conn *pgx.Conn) error {
		rows, err := conn.Query(f.t.Context(), query, args...)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return ids
}
