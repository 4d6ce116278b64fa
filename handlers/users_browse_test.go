package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// seedRows inserts n users straight into provider's users table, far faster
// than creating them through Neon: user<i>@example.com, created i minutes
// after 2023-11-14 00:00 UTC, so user<n> is the newest. Stack Auth rows with
// i%10 == 0 are deleted and even ones verified; Better Auth rows with
// i%5 == 0 are admins, i%7 == 0 banned and even ones verified.
func (a *testApp) seedRows(provider authprovider.Provider, n int) {
	a.t.Helper()
	a.execUsersSQL(seedSQL(provider), n)
}

// seedSQL is the insert behind seedRows, with n as $1.
func seedSQL(provider authprovider.Provider) string {
	if provider == authprovider.Stack {
		return `INSERT INTO neon_auth.users_sync (raw_json, deleted_at)
			SELECT jsonb_build_object('id', 'u' || lpad(i::text, 7, '0'), 'display_name', 'User ' || i,
				'primary_email', 'user' || i || '@example.com', 'primary_email_verified', i % 2 = 0,
				'signed_up_at_millis', 1699920000000 + i::bigint * 60000, 'has_password', true),
				CASE WHEN i % 10 = 0 THEN timestamptz '2024-01-01' END
			FROM generate_series(1, $1::int) i`
	}
	return `INSERT INTO neon_auth."user" (name, email, "emailVerified", "createdAt", role, banned)
		SELECT 'User ' || i, 'user' || i || '@example.com', i % 2 = 0,
			timestamptz '2023-11-14 00:00:00+00' + i * interval '1 minute',
			CASE WHEN i % 5 = 0 THEN 'admin' ELSE 'user' END, i % 7 = 0
		FROM generate_series(1, $1::int) i`
}

// execUsersSQL runs one statement on the project's branch database, then
// refreshes the planner's statistics the estimates read.
func (a *testApp) execUsersSQL(sql string, args ...any) {
	a.t.Helper()
	ctx := context.Background()
	uri, err := a.Neon.GetConnectionURI(ctx, a.projectID, neonapi.ConnectionURIOptions{
		BranchID: a.project.BranchID, DatabaseName: a.project.DatabaseName, RoleName: a.project.RoleName,
	})
	if err != nil {
		a.t.Fatalf("connection uri: %v", err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		a.t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		a.t.Fatalf("seed: %v", err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		a.t.Fatalf("analyze: %v", err)
	}
}

// userIDOf is the id of seeded user i as provider's table holds it.
func (a *testApp) userIDOf(provider authprovider.Provider, i int) string {
	a.t.Helper()
	if provider == authprovider.Stack {
		return fmt.Sprintf("u%07d", i)
	}
	r := a.htmxGet(a.browsePath(provider, url.Values{"q": {fmt.Sprintf("user%d@example.com", i)}}), "users-browser")
	id, ok := r.byTestID("browse-row").First().Attr("data-user-id")
	if !ok {
		a.t.Fatalf("user %d not found:\n%s", i, r.Body)
	}
	return id
}

func (a *testApp) browsePath(provider authprovider.Provider, v url.Values) string {
	return a.usersAt(provider).URL("/browse", v)
}

// emails are the browse rows' emails in order.
func (r *testResponse) emails() []string {
	var out []string
	r.Doc.Find(`[data-testid="browse-row"] [data-testid="detail-link"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

// wantEmails checks the page lists user<from> down to user<to>.
func wantEmails(t *testing.T, r *testResponse, from, to int) {
	t.Helper()
	got := r.emails()
	if len(got) != from-to+1 || got[0] != fmt.Sprintf("user%d@example.com", from) || got[len(got)-1] != fmt.Sprintf("user%d@example.com", to) {
		t.Fatalf("rows %d..%d, got %d rows %v", from, to, len(got), got)
	}
}

// link is the href of the element with testID, which must be there.
func link(t *testing.T, r *testResponse, testID string) string {
	t.Helper()
	href, ok := r.byTestID(testID).Attr("hx-get")
	if !ok {
		t.Fatalf("no %s link in:\n%s", testID, r.Body)
	}
	return href
}

func TestBrowseUsersPages(t *testing.T) {
	for _, provider := range providers {
		t.Run(string(provider), func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.enable(provider)
			a.seedRows(provider, 120)

			first := a.htmxGet(a.browsePath(provider, nil), "users-browser")
			first.wantStatus(t, http.StatusOK)
			if first.Doc.Find("html head title").Length() != 0 {
				t.Fatal("htmx got a full page")
			}
			wantEmails(t, first, 120, 71)
			if first.byTestID("page-prev").Length() != 0 {
				t.Error("the first page offers a newer page")
			}
			second := a.htmxGet(link(t, first, "page-next"), "users-browser")
			wantEmails(t, second, 70, 21)
			third := a.htmxGet(link(t, second, "page-next"), "users-browser")
			wantEmails(t, third, 20, 1)
			if third.byTestID("page-next").Length() != 0 {
				t.Error("the last page offers an older page")
			}
			back := a.htmxGet(link(t, third, "page-prev"), "users-browser")
			wantEmails(t, back, 70, 21)
			last := a.htmxGet(link(t, first, "page-last"), "users-browser")
			wantEmails(t, last, 50, 1)

			big := a.htmxGet(a.browsePath(provider, url.Values{"size": {"100"}}), "users-browser")
			wantEmails(t, big, 120, 21)
			// user60 was created at 2023-11-14 01:00; the day before holds none.
			day := a.htmxGet(a.browsePath(provider, url.Values{"at": {"2023-11-14"}}), "users-browser")
			wantEmails(t, day, 120, 71)
			if got := a.htmxGet(a.browsePath(provider, url.Values{"at": {"2023-11-13"}}), "users-browser"); got.byTestID("browse-empty").Length() != 1 {
				t.Errorf("a day before every user shows rows: %v", got.emails())
			}

			full := a.get(link(t, first, "page-next"))
			full.wantStatus(t, http.StatusOK)
			if full.Doc.Find("html head title").Length() != 1 || full.byTestID("project-name").Length() != 1 {
				t.Fatal("a plain request got a fragment")
			}
			wantEmails(t, full, 70, 21)
			if got := full.text("count-exact"); got != "120" {
				t.Errorf("inline count = %q, want 120", got)
			}
		})
	}
}

func TestBrowseUsersFilters(t *testing.T) {
	for _, provider := range providers {
		t.Run(string(provider), func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.enable(provider)
			a.seedRows(provider, 120)

			search := a.htmxGet(a.browsePath(provider, url.Values{"q": {"user11"}}), "users-browser")
			search.wantStatus(t, http.StatusOK)
			// user11, user110..user119
			if got := search.emails(); len(got) != 11 || got[0] != "user119@example.com" || got[10] != "user11@example.com" {
				t.Errorf("search user11 = %v", got)
			}
			byName := a.htmxGet(a.browsePath(provider, url.Values{"q": {"User 42"}}), "users-browser")
			if got := byName.emails(); len(got) != 1 || got[0] != "user42@example.com" {
				t.Errorf("search by name = %v", got)
			}

			id := a.userIDOf(provider, 7)
			if provider == authprovider.BetterAuth {
				exact := a.htmxGet(a.browsePath(provider, url.Values{"q": {strings.ToUpper(id)}}), "users-browser")
				if got := exact.emails(); len(got) != 1 || got[0] != "user7@example.com" {
					t.Errorf("id lookup = %v", got)
				}
			}

			status, want := "deleted", 12
			if provider == authprovider.BetterAuth {
				status, want = "banned", 17
			}
			filtered := a.htmxGet(a.browsePath(provider, url.Values{"status": {status}, "size": {"200"}}), "users-browser")
			if got := filtered.emails(); len(got) != want {
				t.Errorf("status %s: %d rows, want %d", status, len(got), want)
			}
			if sel := filtered.Doc.Find(`#browse-status option[selected]`).AttrOr("value", ""); sel != status {
				t.Errorf("status select shows %q", sel)
			}
			if provider == authprovider.BetterAuth {
				admins := a.htmxGet(a.browsePath(provider, url.Values{"role": {"admin"}, "size": {"200"}}), "users-browser")
				if got := admins.emails(); len(got) != 24 {
					t.Errorf("role admin: %d rows, want 24", len(got))
				}
			}
		})
	}
}

func TestBrowseUsersBadInput(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enable(authprovider.BetterAuth)
	a.seedRows(authprovider.BetterAuth, 3)
	for _, tc := range []struct {
		name   string
		params url.Values
		field  string
		keep   string
	}{
		{"size", url.Values{"size": {"70"}}, "browse-size", ""},
		{"size text", url.Values{"size": {"lots"}}, "browse-size", ""},
		{"date", url.Values{"at": {"14/11/2023"}}, "browse-at", "14/11/2023"},
		{"status", url.Values{"status": {"deleted"}}, "browse-status", ""},
		{"search", url.Values{"q": {strings.Repeat("x", 300)}}, "browse-q", strings.Repeat("x", 300)},
		{"cursor", url.Values{"after": {"not-a-cursor"}, "q": {"ada"}}, "browse-cursor", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, htmx := range []bool{true, false} {
				var r *testResponse
				if htmx {
					r = a.htmxGet(a.browsePath(authprovider.BetterAuth, tc.params), "users-browser")
				} else {
					r = a.get(a.browsePath(authprovider.BetterAuth, tc.params))
				}
				r.wantStatus(t, http.StatusBadRequest)
				if r.byTestID("field-error-"+tc.field).Length() != 1 {
					t.Errorf("htmx=%v: no message at %s:\n%s", htmx, tc.field, r.Body)
				}
				if r.byTestID("browse-row").Length() != 0 {
					t.Errorf("htmx=%v: rows shown beside a refused filter", htmx)
				}
				if tc.keep != "" {
					if got := r.Doc.Find("#"+tc.field).AttrOr("value", ""); got != tc.keep {
						t.Errorf("htmx=%v: field keeps %q, want %q", htmx, got, tc.keep)
					}
				}
			}
		})
	}
}

func TestCountUsers(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enable(authprovider.Stack)
	a.seedRows(authprovider.Stack, 100_000)
	count := "/projects/" + a.projectID + "/users/count?provider=stack"

	est := a.htmxGet(count, "users-count")
	est.wantStatus(t, http.StatusOK)
	if got := est.text("count-estimate"); !strings.HasPrefix(got, "about ") || !strings.HasSuffix(got, "(estimate)") {
		t.Fatalf("estimate = %q\n%s", got, est.Body)
	}
	exactURL := link(t, est, "count-exactly")
	if !strings.Contains(exactURL, "exact=1") {
		t.Errorf("count exactly asks %s", exactURL)
	}
	exact := a.htmxGet(exactURL, "users-count")
	if got := exact.text("count-exact"); got != "100000" {
		t.Errorf("exact = %q, want 100000", got)
	}
	deleted := a.htmxGet(count+"&status=deleted&exact=1", "users-count")
	if got := deleted.text("count-exact"); got != "10000" {
		t.Errorf("exact deleted = %q, want 10000", got)
	}
	// Without htmx the button is a link to the browse page, which counts inline.
	plain := a.get(count + "&exact=1")
	if plain.Status != http.StatusSeeOther || !strings.Contains(plain.Header.Get("Location"), "/users/browse?") || !strings.Contains(plain.Header.Get("Location"), "exact=1") {
		t.Errorf("plain count: %d to %q", plain.Status, plain.Header.Get("Location"))
	}
	page := a.get(plain.Header.Get("Location"))
	if got := page.text("count-exact"); got != "100000" {
		t.Errorf("browse page's exact count = %q", got)
	}
	// The users page's header estimates a large table instead of scanning it.
	users := a.get(a.usersPath(authprovider.Stack))
	users.wantStatus(t, http.StatusOK)
	if got := users.text("user-counts"); !strings.HasPrefix(got, "about ") || !strings.HasSuffix(got, "(estimate)") {
		t.Errorf("header counts = %q", got)
	}
	// Nor does it wait for the newest rows: they load once the page is shown.
	if users.byTestID("users-browser-loader").Length() != 1 || users.byTestID("browse-row").Length() != 0 {
		t.Errorf("users page of a large table read the newest rows inline:\n%s", users.Body)
	}
	if trig := users.byTestID("users-browser-loader").AttrOr("hx-trigger", ""); !strings.HasPrefix(trig, "load") {
		t.Errorf("deferred users table triggers on %q, want load first", trig)
	}
	latest := a.htmxGet(a.usersSub(authprovider.Stack, "/browse", ""), "users-browser")
	latest.wantStatus(t, http.StatusOK)
	if n := latest.byTestID("browse-row").Length(); n != 50 {
		t.Errorf("the deferred users table's own request has %d rows, want 50", n)
	}
}

// TestUsersPageFirstPage checks the users page's one table is the
// browser's first page: the newest users, in order, with the page itself.
func TestUsersPageFirstPage(t *testing.T) {
	for _, provider := range providers {
		t.Run(string(provider), func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.enable(provider)
			a.seedRows(provider, 60)
			r := a.get(a.usersPath(provider))
			if n := r.Doc.Find("table").Length(); n != 1 {
				t.Errorf("the users page has %d tables, want one", n)
			}
			r.wantStatus(t, http.StatusOK)
			var got []string
			r.byTestID("browse-row").Each(func(_ int, s *goquery.Selection) {
				got = append(got, strings.TrimSpace(s.Find(".user-email").Text()))
			})
			if len(got) != 50 || got[0] != "user60@example.com" || got[49] != "user11@example.com" {
				t.Errorf("latest = %d rows %v", len(got), got)
			}
		})
	}
}
