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

// personSecret is in every token and password the person tests seed; no
// page may show it.
const personSecret = "pers0n-5ecret"

// personDB connects to branch b's database, closed when the test ends.
func (a *testApp) personDB(branchID string) *pgx.Conn {
	a.t.Helper()
	ctx := context.Background()
	uri, err := a.Neon.GetConnectionURI(ctx, a.projectID, neonapi.ConnectionURIOptions{
		BranchID: branchID, DatabaseName: a.project.DatabaseName, RoleName: a.project.RoleName,
	})
	if err != nil {
		a.t.Fatalf("connection uri of %s: %v", branchID, err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		a.t.Fatalf("connect to %s: %v", branchID, err)
	}
	a.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func personExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// seedPerson gives the user n live sessions, an email-and-password account,
// a GitHub account and a membership of an organization named org.
func seedPerson(t *testing.T, conn *pgx.Conn, uid string, n int, org string) {
	t.Helper()
	personExec(t, conn, `INSERT INTO neon_auth.session ("expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
SELECT now() + interval '7 days', $2 || '-' || $1 || '-' || i, now() - i * interval '1 hour', now(), '203.0.113.' || i,
       'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', $1::uuid
  FROM generate_series(1, $3::int) i`, uid, personSecret, n)
	personExec(t, conn, `INSERT INTO neon_auth.account ("accountId", "providerId", "userId", "accessToken", "refreshToken", "idToken", password, "updatedAt") VALUES
 ($1::text, 'credential', $1::uuid, NULL, NULL, NULL, $2 || '-pw', now()),
 ('gh-' || $1::text, 'github', $1::uuid, $2 || '-at', $2 || '-rt', $2 || '-id', NULL, now())`, uid, personSecret)
	personExec(t, conn, `WITH o AS (INSERT INTO neon_auth.organization (name, slug, "createdAt") VALUES ($2, lower($2) || '-' || left($1, 8), now()) RETURNING id)
INSERT INTO neon_auth.member ("organizationId", "userId", role, "createdAt") SELECT id, $1::uuid, 'owner', now() FROM o`, uid, org)
}

// personState reads a user's ban columns and session count straight from
// a branch's database.
func personState(t *testing.T, conn *pgx.Conn, uid string) (banned bool, reason *string, expires *time.Time, sessions int) {
	t.Helper()
	err := conn.QueryRow(context.Background(), `SELECT coalesce(banned, false), "banReason", "banExpires",
       (SELECT count(*) FROM neon_auth.session WHERE "userId" = u.id)
  FROM neon_auth."user" u WHERE id = $1`, uid).Scan(&banned, &reason, &expires, &sessions)
	if err != nil {
		t.Fatalf("read user %s: %v", uid, err)
	}
	return banned, reason, expires, sessions
}

func TestUserDetailPersonPanels(t *testing.T) {
	tb := newPerBranchApp(t)
	cy := tb.previewIDs["cy@preview.test"]
	seedPerson(t, tb.personDB(tb.preview.ID), cy, 2, "Initech")

	page := tb.get(views.UserDetailURL(tb.at(tb.preview), cy))
	page.wantStatus(t, http.StatusOK)
	if strings.Contains(page.Body, personSecret) {
		t.Fatal("the detail page shows a token or a password hash")
	}
	if got := page.byTestID("person-session").Length(); got != 2 {
		t.Errorf("%d sessions listed, want 2", got)
	}
	if !strings.Contains(page.text("person-sessions"), "Chrome") {
		t.Errorf("sessions panel does not say the browser: %q", page.text("person-sessions"))
	}
	if page.byTestID("last-sign-in").Find("time").Length() != 1 {
		t.Errorf("no last sign-in: %q", page.text("last-sign-in"))
	}
	if got := page.Doc.Find(`[data-testid="person-account"][data-provider="credential"] [data-testid="account-password"]`).Text(); got != "yes" {
		t.Errorf("credential account's password set = %q, want yes", got)
	}
	if got := page.Doc.Find(`[data-testid="person-account"][data-provider="github"] [data-testid="account-password"]`).Text(); got != "no" {
		t.Errorf("github account's password set = %q, want no", got)
	}
	if !strings.Contains(page.text("person-memberships"), "Initech") {
		t.Errorf("organizations panel: %q", page.text("person-memberships"))
	}
	if got := page.byTestID("ban-state").AttrOr("data-state", ""); got != "none" {
		t.Errorf("ban state = %q, want none", got)
	}
	if !strings.Contains(page.text("ban-effect"), "up to 5 minutes") || page.byTestID("ban-form").Length() != 1 {
		t.Errorf("ban form or its effect missing: %q", page.text("ban-effect"))
	}
	// A panel whose table is gone degrades alone; the rest of the page shows.
	personExec(t, tb.personDB(tb.preview.ID), `DROP TABLE neon_auth.member`)
	page = tb.get(views.UserDetailURL(tb.at(tb.preview), cy))
	page.wantStatus(t, http.StatusOK)
	if page.byTestID("person-memberships").Find(`[data-testid="api-error"]`).Length() != 1 {
		t.Errorf("organizations panel without its table: %q", page.text("person-memberships"))
	}
	if page.byTestID("person-session").Length() != 2 || page.byTestID("person-account").Length() != 2 || page.byTestID("user-detail").Length() != 1 {
		t.Error("the other panels did not show beside the failed one")
	}
	// The labels name their inputs.
	for _, id := range []string{"ban-reason", "ban-expires"} {
		if page.Doc.Find(`label[for="`+id+`"]`).Length() != 1 || page.Doc.Find("#"+id).Length() != 1 {
			t.Errorf("input %s lacks its label", id)
		}
	}
}

// TestBanPerBranch: a ban posted on preview's route bans the user in
// preview's database and ends their sessions there; main's database, whose
// users are others, is untouched. The unban clears the three columns.
func TestBanPerBranch(t *testing.T) {
	tb := newPerBranchApp(t)
	mainDB, previewDB := tb.personDB(tb.main.ID), tb.personDB(tb.preview.ID)
	ada, cy, di := tb.mainIDs["ada@main.test"], tb.previewIDs["cy@preview.test"], tb.previewIDs["di@preview.test"]
	seedPerson(t, mainDB, ada, 2, "Acme")
	seedPerson(t, previewDB, cy, 3, "Globex")
	seedPerson(t, previewDB, di, 1, "Hooli")

	until := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)
	r := tb.htmxPost(tb.at(tb.preview).User(cy, "/ban"), url.Values{
		"reason": {"chargeback fraud"}, "expires": {until.Format(views.BanExpiresLayout)},
	})
	r.wantStatus(t, http.StatusNoContent)
	if got := r.Header.Get("HX-Redirect"); got != views.UserDetailURL(tb.at(tb.preview), cy) {
		t.Errorf("HX-Redirect = %q", got)
	}
	banned, reason, expires, sessions := personState(t, previewDB, cy)
	if !banned || reason == nil || *reason != "chargeback fraud" || expires == nil || !expires.Equal(until) || sessions != 0 {
		t.Errorf("cy on preview: banned %v reason %v expires %v sessions %d", banned, reason, expires, sessions)
	}
	if banned, _, _, sessions := personState(t, previewDB, di); banned || sessions != 1 {
		t.Errorf("di on preview changed: banned %v sessions %d", banned, sessions)
	}
	if banned, _, _, sessions := personState(t, mainDB, ada); banned || sessions != 2 {
		t.Errorf("ada on main changed: banned %v sessions %d", banned, sessions)
	}

	// The detail page says so, and when the ban lifts.
	page := tb.get(views.UserDetailURL(tb.at(tb.preview), cy))
	page.wantStatus(t, http.StatusOK)
	if got := page.byTestID("ban-state").AttrOr("data-state", ""); got != "active" {
		t.Errorf("ban state after the ban = %q", got)
	}
	if got := page.byTestID("ban-state").Find("time").AttrOr("datetime", ""); got != until.Format(time.RFC3339) {
		t.Errorf("ban lifts at %q, want %s", got, until.Format(time.RFC3339))
	}
	if !strings.Contains(page.Body, "3 sessions ended") {
		t.Errorf("no flash saying how many sessions ended")
	}
	if page.byTestID("unban-form").Length() != 1 {
		t.Error("no unban form for a banned user")
	}

	// Main's user on preview's route is no user of preview: nothing changes.
	tb.htmxPost(tb.at(tb.preview).User(ada, "/ban"), url.Values{"reason": {"x"}}).wantStatus(t, http.StatusNotFound)
	if banned, _, _, sessions := personState(t, mainDB, ada); banned || sessions != 2 {
		t.Errorf("ada on main changed by a ban on preview's route: banned %v sessions %d", banned, sessions)
	}

	// A permanent ban without JavaScript, on main.
	r = tb.postForm(tb.at(tb.main).User(ada, "/ban"), url.Values{"reason": {""}, "expires": {""}})
	r.wantStatus(t, http.StatusSeeOther)
	banned, reason, expires, sessions = personState(t, mainDB, ada)
	if !banned || reason != nil || expires != nil || sessions != 0 {
		t.Errorf("ada on main after a permanent ban: banned %v reason %v expires %v sessions %d", banned, reason, expires, sessions)
	}

	// Unban cy on preview: all three columns cleared, ada still banned on main.
	tb.htmxPost(tb.at(tb.preview).User(cy, "/unban"), nil).wantStatus(t, http.StatusNoContent)
	banned, reason, expires, _ = personState(t, previewDB, cy)
	if banned || reason != nil || expires != nil {
		t.Errorf("cy on preview after the unban: banned %v reason %v expires %v", banned, reason, expires)
	}
	if banned, _, _, _ := personState(t, mainDB, ada); !banned {
		t.Error("the unban on preview lifted ada's ban on main")
	}
}

func TestBanRefusesBadInput(t *testing.T) {
	tb := newPerBranchApp(t)
	db := tb.personDB(tb.preview.ID)
	cy := tb.previewIDs["cy@preview.test"]
	seedPerson(t, db, cy, 1, "Umbrella")
	path := tb.at(tb.preview).User(cy, "/ban")
	past := time.Now().UTC().Add(-time.Hour).Format(views.BanExpiresLayout)
	tests := []struct {
		name, reason, expires, field string
	}{
		{"NUL in the reason", "a\x00b", "", "ban-reason"},
		{"10 KB reason", strings.Repeat("x", 10<<10), "", "ban-reason"},
		{"past expiry", "late", past, "ban-expires"},
		{"not a date", "", "next tuesday", "ban-expires"},
		{"11 years", "", time.Now().UTC().AddDate(11, 0, 0).Format(views.BanExpiresLayout), "ban-expires"},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			for _, htmx := range []bool{true, false} {
				r := tb.post(path, url.Values{"reason": {c.reason}, "expires": {c.expires}}, htmx)
				r.wantStatus(t, http.StatusUnprocessableEntity)
				if r.byTestID("field-error-"+c.field).Length() != 1 {
					t.Errorf("htmx %v: no message next to %s:\n%.2000s", htmx, c.field, r.Body)
				}
				if got := r.Doc.Find("#ban-expires").AttrOr("value", ""); got != c.expires {
					t.Errorf("htmx %v: expiry kept as %q, want %q", htmx, got, c.expires)
				}
				if got, want := r.Doc.Find("#ban-reason").Text(), strings.ReplaceAll(c.reason, "\x00", "\uFFFD"); got != want {
					t.Errorf("htmx %v: reason kept as %.40q, want %.40q", htmx, got, want)
				}
			}
		})
	}
	if banned, _, _, sessions := personState(t, db, cy); banned || sessions != 1 {
		t.Errorf("refused bans changed cy: banned %v sessions %d", banned, sessions)
	}
	// An id that is no uuid, and one no user has.
	for _, id := range []string{"not-a-uuid", "00000000-0000-4000-8000-000000000999"} {
		tb.htmxPost(tb.at(tb.preview).User(id, "/ban"), url.Values{"reason": {"x"}}).wantStatus(t, http.StatusNotFound)
		tb.htmxPost(tb.at(tb.preview).User(id, "/unban"), nil).wantStatus(t, http.StatusNotFound)
	}
}

func TestBanViewerRefused(t *testing.T) {
	a := newTestApp(t, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
	a.enableBetterAuth()
	uid := a.seedUser(authprovider.BetterAuth, "seen@example.com", "")
	db := a.personDB(a.project.BranchID)
	seedPerson(t, db, uid, 2, "Vandelay")
	at := a.usersAt(authprovider.BetterAuth)

	page := a.get(views.UserDetailURL(at, uid))
	page.wantStatus(t, http.StatusOK)
	if page.byTestID("ban-form").Length() != 0 || page.byTestID("unban-form").Length() != 0 {
		t.Error("a viewer sees the ban forms")
	}
	if page.byTestID("person-session").Length() != 2 {
		t.Error("a viewer does not see the sessions")
	}
	a.postForm(at.User(uid, "/ban"), url.Values{"reason": {"x"}}).wantStatus(t, http.StatusForbidden)
	personExec(t, db, `UPDATE neon_auth."user" SET banned = true WHERE id = $1`, uid)
	a.postForm(at.User(uid, "/unban"), nil).wantStatus(t, http.StatusForbidden)
	if banned, _, _, sessions := personState(t, db, uid); !banned || sessions != 2 {
		t.Errorf("a viewer's posts changed the user: banned %v sessions %d", banned, sessions)
	}
}

func TestStackUserDetailSaysNoPeopleTables(t *testing.T) {
	a := newTestApp(t)
	a.enableStack()
	uid := a.seedUser(authprovider.Stack, "stack@example.com", "")
	page := a.get(views.UserDetailURL(a.usersAt(authprovider.Stack), uid))
	page.wantStatus(t, http.StatusOK)
	if !strings.Contains(page.text("person-none"), "no sessions, linked accounts or bans") {
		t.Errorf("Stack Auth detail page does not say it keeps no sessions: %q", page.text("person-none"))
	}
	if page.byTestID("person-panels").Length() != 0 {
		t.Error("Stack Auth detail page shows person panels")
	}
}

// TestPeopleChangesRefusedThroughAnOverride: with DATABASE_URL set, every
// branch of a project reads the one database it names; reading people
// still works, but a ban or a revocation through another branch's route is
// refused with a 409 saying why, and the database is left unchanged.
func TestPeopleChangesRefusedThroughAnOverride(t *testing.T) {
	tb := newPerBranchApp(t)
	mainDB := tb.personDB(tb.main.ID)
	ada := tb.mainIDs["ada@main.test"]
	seedPerson(t, mainDB, ada, 2, "Acme")
	uri, err := tb.Neon.GetConnectionURI(t.Context(), tb.projectID, neonapi.ConnectionURIOptions{
		BranchID: tb.main.ID, DatabaseName: tb.project.DatabaseName, RoleName: tb.project.RoleName,
	})
	if err != nil {
		t.Fatal(err)
	}
	tb.configureUsers(neonauth.UserDBConfig{Default: uri})

	// Through the preview branch's routes, the override's (main's) people.
	tb.get(views.UserDetailURL(tb.at(tb.preview), ada)).wantStatus(t, http.StatusOK)
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{tb.at(tb.preview).User(ada, "/ban"), url.Values{"reason": {"test"}}},
		{tb.at(tb.preview).User(ada, "/sessions/revoke"), url.Values{}},
		{views.BranchURL(tb.projectID, tb.preview.ID) + "/sessions/revoke", url.Values{"ip": {"203.0.113."}, "count": {"2"}}},
	} {
		r := tb.postForm(post.path, post.form)
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "shared database override") {
			t.Errorf("POST %s: %d, want 409 naming the override", post.path, r.Status)
		}
	}
	if banned, _, _, sessions := personState(t, mainDB, ada); banned || sessions != 2 {
		t.Errorf("ada changed through the override: banned %v, %d sessions", banned, sessions)
	}
}

// TestUsersBrowserMarksBans: the users browser marks a permanent ban, a ban
// with the time it lifts, and a ban whose time has passed as lifted.
func TestUsersBrowserMarksBans(t *testing.T) {
	tb := newPerBranchApp(t)
	db := tb.personDB(tb.preview.ID)
	cy, di, ed := tb.previewIDs["cy@preview.test"], tb.previewIDs["di@preview.test"], tb.previewIDs["ed@preview.test"]
	personExec(t, db, `UPDATE neon_auth."user" SET banned = true WHERE id = $1`, cy)
	personExec(t, db, `UPDATE neon_auth."user" SET banned = true, "banExpires" = now() + interval '3 days' WHERE id = $1`, di)
	personExec(t, db, `UPDATE neon_auth."user" SET banned = true, "banExpires" = now() - interval '1 day' WHERE id = $1`, ed)
	r := tb.get(views.BrowseURL(tb.at(tb.preview)))
	r.wantStatus(t, http.StatusOK)
	for uid, want := range map[string]string{cy: "banned", di: "banned until", ed: "ban lifted"} {
		got := strings.TrimSpace(r.Doc.Find(`[data-testid="browse-row"][data-user-id="` + uid + `"] [data-testid="banned-badge"]`).Text())
		if !strings.HasPrefix(got, want) || (want == "banned" && got != "banned") {
			t.Errorf("user %s: badge %q, want %q", uid, got, want)
		}
	}
	if n := r.byTestID("banned-badge").Length(); n != 3 {
		t.Errorf("%d ban badges, want 3", n)
	}
}
