package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// sessionsToken is the token of every seeded session: no page may show it.
const sessionsToken = "tok-HANDLER-SECRET-51d2"

// sessionsApp is two Better Auth branches whose users and sessions differ,
// with background revocations on.
type sessionsApp struct {
	*perBranchApp
}

func newSessionsApp(t *testing.T) *sessionsApp {
	t.Helper()
	a := newUsersApp(t, usersAppConfig{handler: func(h *Handler) {
		useMemoryJobs(t, h)
	}})
	bs := a.createBranches("preview")
	tb := &perBranchApp{testApp: a, main: bs["main"], preview: bs["preview"], mainIDs: map[string]string{}, previewIDs: map[string]string{}}
	a.enableBetterAuthOn(tb.main)
	a.enableBetterAuthOn(tb.preview)
	tb.mainIDs["ada@main.test"] = tb.createOn(tb.main, "ada@main.test")
	tb.previewIDs["cy@preview.test"] = tb.createOn(tb.preview, "cy@preview.test")
	a.waitForSync()
	return &sessionsApp{tb}
}

// conn connects to b's own database.
func (sa *sessionsApp) conn(b neonapi.Branch) *pgx.Conn {
	sa.t.Helper()
	ctx := context.Background()
	uri, err := sa.Neon.GetConnectionURI(ctx, sa.projectID, neonapi.ConnectionURIOptions{
		BranchID: b.ID, DatabaseName: sa.project.DatabaseName, RoleName: sa.project.RoleName,
	})
	if err != nil {
		sa.t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		sa.t.Fatal(err)
	}
	sa.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// seed stores n sessions of uid on b with the user agent ua.
func (sa *sessionsApp) seed(b neonapi.Branch, uid string, n int, ua string) {
	sa.t.Helper()
	_, err := sa.conn(b).Exec(context.Background(), `INSERT INTO neon_auth.session ("expiresAt", token, "updatedAt", "ipAddress", "userAgent", "userId")
SELECT now() + interval '1 day', $1 || gen_random_uuid(), now(), '10.0.0.' || (i % 200), $2, $3::uuid FROM generate_series(1, $4::int) i`,
		sessionsToken, ua, uid, n)
	if err != nil {
		sa.t.Fatal(err)
	}
}

// count is how many sessions b's database holds: the proof of which branch
// an action touched.
func (sa *sessionsApp) count(b neonapi.Branch) int {
	sa.t.Helper()
	var n int
	if err := sa.conn(b).QueryRow(context.Background(), `SELECT count(*) FROM neon_auth.session`).Scan(&n); err != nil {
		sa.t.Fatal(err)
	}
	return n
}

func (sa *sessionsApp) path(b neonapi.Branch, sub string) string {
	return "/projects/" + sa.projectID + "/branches/" + b.ID + sub
}

func TestSessionsPerBranch(t *testing.T) {
	sa := newSessionsApp(t)
	ada, cy := sa.mainIDs["ada@main.test"], sa.previewIDs["cy@preview.test"]
	sa.seed(sa.main, ada, 3, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
	sa.seed(sa.preview, cy, 4, "curl/8.4.0")

	for _, c := range []struct {
		b     neonapi.Branch
		email string
		rows  int
	}{{sa.main, "ada@main.test", 3}, {sa.preview, "cy@preview.test", 4}} {
		page := sa.get(sa.path(c.b, "/sessions"))
		page.wantStatus(t, http.StatusOK)
		if got := page.byTestID("session-row").Length(); got != c.rows {
			t.Errorf("%s lists %d sessions, want %d", c.b.Name, got, c.rows)
		}
		if got := page.byTestID("session-user-link").First().Text(); strings.TrimSpace(got) != c.email {
			t.Errorf("%s's sessions belong to %q, want %s", c.b.Name, got, c.email)
		}
		if got := page.text("sessions-count-exact"); got != map[int]string{3: "3", 4: "4"}[c.rows] {
			t.Errorf("%s count = %q", c.b.Name, got)
		}
		if !strings.Contains(page.Body, "A revoked session ends at once in the database") {
			t.Errorf("%s's sessions page does not say when a revocation takes effect", c.b.Name)
		}
		if strings.Contains(page.Body, sessionsToken) {
			t.Errorf("%s's sessions page shows a session token", c.b.Name)
		}
	}
	page := sa.get(sa.path(sa.main, "/sessions"))
	if ua := page.byTestID("session-ua").First(); strings.TrimSpace(ua.Text()) != "Chrome 120 on MacOS" || !strings.HasPrefix(ua.AttrOr("title", ""), "Mozilla/5.0") {
		t.Errorf("user agent shown as %q (title %q)", ua.Text(), ua.AttrOr("title", ""))
	}

	// One session of preview: preview loses it, main keeps all of its own.
	sid := sa.get(sa.path(sa.preview, "/sessions")).byTestID("session-row").First().AttrOr("data-session-id", "")
	r := sa.postForm(sa.path(sa.preview, "/sessions/"+sid+"/revoke"), url.Values{"return_to": {sa.path(sa.preview, "/sessions?ua=curl")}})
	r.wantStatus(t, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != sa.path(sa.preview, "/sessions?ua=curl") {
		t.Errorf("back to %q", loc)
	}
	if sa.count(sa.preview) != 3 || sa.count(sa.main) != 3 {
		t.Errorf("after revoking one preview session: preview %d, main %d; want 3 and 3", sa.count(sa.preview), sa.count(sa.main))
	}
	// The same session id on main's route touches nothing on main.
	sa.postForm(sa.path(sa.main, "/sessions/"+sid+"/revoke"), nil).wantStatus(t, http.StatusSeeOther)
	if sa.count(sa.main) != 3 {
		t.Errorf("main lost a session to a revocation of preview's")
	}

	// A preview user's sessions, asked for on main's route, are not main's.
	sa.postForm(sa.path(sa.main, "/users/"+cy+"/sessions/revoke"), nil).wantStatus(t, http.StatusSeeOther)
	if sa.count(sa.preview) != 3 {
		t.Errorf("preview lost sessions through main's route")
	}
	sa.postForm(sa.path(sa.preview, "/users/"+cy+"/sessions/revoke"), nil).wantStatus(t, http.StatusSeeOther)
	if sa.count(sa.preview) != 0 || sa.count(sa.main) != 3 {
		t.Errorf("after revoking cy's sessions: preview %d, main %d; want 0 and 3", sa.count(sa.preview), sa.count(sa.main))
	}
}

func TestRevokeSessionsByFilter(t *testing.T) {
	sa := newSessionsApp(t)
	ada, cy := sa.mainIDs["ada@main.test"], sa.previewIDs["cy@preview.test"]
	sa.seed(sa.main, ada, 5, "Bot/2.0")
	sa.seed(sa.main, ada, 2, "Mozilla/5.0")
	sa.seed(sa.preview, cy, 5, "Bot/2.0")

	confirm := sa.get(sa.path(sa.main, "/sessions/revoke?ua=bot&ip=10.0."))
	confirm.wantStatus(t, http.StatusOK)
	if got := confirm.text("revoke-count"); got != "5" {
		t.Fatalf("confirmation counts %q, want 5", got)
	}
	if words := confirm.text("revoke-filter-words"); !strings.Contains(words, `"bot" in the user agent`) || !strings.Contains(words, "starting 10.0.") {
		t.Errorf("filter in words: %q", words)
	}
	if confirm.byTestID("revocation-note").Length() != 1 {
		t.Error("the confirmation does not say when a revocation takes effect")
	}

	// A count that moved since the confirmation revokes nothing.
	form := url.Values{"ua": {"bot"}, "ip": {"10.0."}, "count": {"4"}}
	r := sa.postForm(sa.path(sa.main, "/sessions/revoke"), form)
	r.wantStatus(t, http.StatusConflict)
	if r.byTestID("revoke-count-changed").Length() != 1 || r.text("revoke-count") != "5" {
		t.Errorf("a changed count is not shown with the new count")
	}
	if sa.count(sa.main) != 7 {
		t.Fatalf("a refused revocation revoked: main has %d sessions", sa.count(sa.main))
	}

	form.Set("count", "5")
	sa.postForm(sa.path(sa.main, "/sessions/revoke"), form).wantStatus(t, http.StatusSeeOther)
	if sa.count(sa.main) != 2 || sa.count(sa.preview) != 5 {
		t.Errorf("after revoking main's bots: main %d, preview %d; want 2 and 5", sa.count(sa.main), sa.count(sa.preview))
	}
}

func TestRevokeManySessionsInTheBackground(t *testing.T) {
	sa := newSessionsApp(t)
	cy := sa.previewIDs["cy@preview.test"]
	sa.seed(sa.preview, cy, 2300, "Bot/2.0")
	sa.seed(sa.main, sa.mainIDs["ada@main.test"], 10, "Bot/2.0")

	r := sa.postForm(sa.path(sa.preview, "/sessions/revoke"), url.Values{"ua": {"bot"}, "count": {"2300"}})
	r.wantStatus(t, http.StatusSeeOther)
	progressURL := sa.path(sa.preview, "/sessions/revoke/progress")
	if loc := r.Header.Get("Location"); loc != progressURL {
		t.Fatalf("sent to %q, want the progress page", loc)
	}
	// Poll as the panel does until the revocation says it is done.
	var last *testResponse
	for range 600 {
		last = sa.htmxGet(progressURL, "revocation-progress")
		last.wantStatus(t, http.StatusOK)
		if last.byTestID("revocation-running").Length() == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if last.byTestID("revocation-done").Length() != 1 || last.text("revocation-revoked") != "2300" {
		t.Fatalf("progress panel: %s", last.Body)
	}
	if sa.count(sa.preview) != 0 || sa.count(sa.main) != 10 {
		t.Errorf("after the background revocation: preview %d, main %d; want 0 and 10", sa.count(sa.preview), sa.count(sa.main))
	}
	page := sa.get(progressURL)
	page.wantStatus(t, http.StatusOK)
	if page.byTestID("revocation-note").Length() != 1 {
		t.Error("the progress page does not say when a revocation takes effect")
	}
}

func TestSessionsRefuseBadInput(t *testing.T) {
	sa := newSessionsApp(t)
	for _, c := range []struct {
		name, query, field string
	}{
		{"nul in user agent", "ua=a%00b", "ua"},
		{"10 KB user agent", "ua=" + strings.Repeat("a", 10<<10), "ua"},
		{"user neither id nor email", "user=nobody", "user"},
		{"bad date", "from=2026-13-01", "from"},
		{"bad ip", "ip=10.0.0.1%27--", "ip"},
		{"dates reversed", "from=2026-03-02&to=2026-03-01", "to"},
		{"bad cursor", "after=zzz", "cursor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := sa.get(sa.path(sa.main, "/sessions?"+c.query))
			r.wantStatus(t, http.StatusBadRequest)
			id := "field-error-sessions-" + c.field
			if c.field == "cursor" {
				id = "field-error-sessions-cursor"
			}
			if r.Doc.Find(`#err-sessions-`+c.field+`, [data-testid="`+id+`"]`).Length() == 0 {
				t.Errorf("no message next to %s", c.field)
			}
			if c.field == "ua" && c.name == "10 KB user agent" {
				if v := r.Doc.Find("#sessions-ua").AttrOr("value", ""); len(v) != 10<<10 {
					t.Errorf("the typed value was not kept (%d bytes)", len(v))
				}
			}
		})
	}
	sa.postForm(sa.path(sa.main, "/sessions/not-a-uuid/revoke"), nil).wantStatus(t, http.StatusNotFound)
	sa.postForm(sa.path(sa.main, "/users/not-a-uuid/sessions/revoke"), nil).wantStatus(t, http.StatusNotFound)
	r := sa.postForm(sa.path(sa.main, "/sessions/revoke"), url.Values{"ua": {"x"}, "count": {"many"}})
	r.wantStatus(t, http.StatusBadRequest)
	r = sa.get(sa.path(sa.main, "/sessions/revoke?from=yesterday"))
	r.wantStatus(t, http.StatusBadRequest)
	if r.byTestID("revoke-error-from").Length() != 1 {
		t.Error("the confirmation does not say what is wrong with the date")
	}
}

func TestViewerCannotRevokeSessions(t *testing.T) {
	a := newRoleApp(t, &Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer})
	a.enableBetterAuth()
	uid := a.seedUser("better_auth", "ada@x.test", "Ada")
	sa := &sessionsApp{&perBranchApp{testApp: a}}
	main := neonapi.Branch{ID: a.project.BranchID, Name: "main"}
	sa.seed(main, uid, 2, "ua")
	sid := sa.get(sa.path(main, "/sessions")).byTestID("session-row").First().AttrOr("data-session-id", "")
	if sid == "" {
		t.Fatal("a viewer sees no sessions")
	}
	for _, p := range []string{"/sessions/" + sid + "/revoke", "/users/" + uid + "/sessions/revoke", "/sessions/revoke"} {
		sa.postForm(sa.path(main, p), url.Values{"count": {"2"}}).wantStatus(t, http.StatusForbidden)
	}
	sa.get(sa.path(main, "/sessions/revoke")).wantStatus(t, http.StatusForbidden)
	if sa.count(main) != 2 {
		t.Errorf("a viewer revoked sessions: %d left", sa.count(main))
	}
}
