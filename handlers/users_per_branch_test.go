package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// perBranchApp is the seeded project with Better Auth on main and on a
// preview branch, each holding users the other has not.
type perBranchApp struct {
	*testApp
	main, preview neonapi.Branch
	// bare has no Neon Auth.
	bare neonapi.Branch
	// mainIDs and previewIDs are each branch's users, by email.
	mainIDs, previewIDs map[string]string
}

func newPerBranchApp(t *testing.T) *perBranchApp {
	t.Helper()
	a := newUsersApp(t, usersAppConfig{})
	bs := a.createBranches("preview", "bare")
	tb := &perBranchApp{testApp: a, main: bs["main"], preview: bs["preview"], bare: bs["bare"], mainIDs: map[string]string{}, previewIDs: map[string]string{}}
	a.enableBetterAuthOn(tb.main)
	a.enableBetterAuthOn(tb.preview)
	for _, e := range []string{"ada@main.test", "bob@main.test"} {
		tb.mainIDs[e] = tb.createOn(tb.main, e)
	}
	for _, e := range []string{"cy@preview.test", "di@preview.test", "ed@preview.test"} {
		tb.previewIDs[e] = tb.createOn(tb.preview, e)
	}
	a.waitForSync()
	return tb
}

func (tb *perBranchApp) createOn(b neonapi.Branch, email string) string {
	tb.t.Helper()
	u, err := tb.Neon.CreateBranchUser(context.Background(), tb.projectID, b.ID, neonapi.CreateBranchUserRequest{Email: email})
	if err != nil {
		tb.t.Fatalf("create %s on %s: %v", email, b.Name, err)
	}
	return u.ID
}

func (tb *perBranchApp) at(b neonapi.Branch) views.UsersAt {
	return views.UsersAt{ProjectID: tb.projectID, Provider: authprovider.BetterAuth, BranchID: b.ID}
}

// emailsInDatabase reads the branch's neon_auth."user" straight from its
// database: the proof of which branch an action touched.
func (tb *perBranchApp) emailsInDatabase(b neonapi.Branch) []string {
	tb.t.Helper()
	ctx := context.Background()
	uri, err := tb.Neon.GetConnectionURI(ctx, tb.projectID, neonapi.ConnectionURIOptions{
		BranchID: b.ID, DatabaseName: tb.project.DatabaseName, RoleName: tb.project.RoleName,
	})
	if err != nil {
		tb.t.Fatalf("connection uri of %s: %v", b.Name, err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		tb.t.Fatalf("connect to %s: %v", b.Name, err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT email FROM neon_auth."user" ORDER BY email`)
	if err != nil {
		tb.t.Fatal(err)
	}
	emails, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.t.Fatal(err)
	}
	return emails
}

// pageEmails are the emails the users table of a page or fragment lists.
func tableEmails(r *testResponse) []string {
	var out []string
	for _, n := range r.Doc.Find(`[data-testid="browse-row"] .user-email`).Nodes {
		if n.FirstChild != nil {
			out = append(out, strings.TrimSpace(n.FirstChild.Data))
		}
	}
	slices.Sort(out)
	return out
}

func sortedEmails(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestUsersPerBranch: each branch's page lists that branch's users and
// names it; a delete on preview reaches preview's database and leaves
// main's untouched.
func TestUsersPerBranch(t *testing.T) {
	tb := newPerBranchApp(t)
	mainBefore := tb.emailsInDatabase(tb.main)

	for _, c := range []struct {
		b    neonapi.Branch
		want map[string]string
	}{{tb.main, tb.mainIDs}, {tb.preview, tb.previewIDs}} {
		page := tb.get(tb.at(c.b).URL("", nil))
		page.wantStatus(t, http.StatusOK)
		if got := page.text("users-branch-name"); got != c.b.Name {
			t.Errorf("%s page names branch %q", c.b.Name, got)
		}
		if got, want := tableEmails(page), sortedEmails(c.want); !slices.Equal(got, want) {
			t.Errorf("%s page lists %v, want %v", c.b.Name, got, want)
		}
		if got := page.text("user-total"); got != map[int]string{2: "2", 3: "3"}[len(c.want)] {
			t.Errorf("%s total = %q, want %d", c.b.Name, got, len(c.want))
		}
		// One click to every other branch's users (the switcher lists the
		// project's branches, which costs one read, not one per branch).
		var links []string
		page.byTestID("branch-switch-link").Each(func(_ int, s *goquery.Selection) { links = append(links, s.AttrOr("href", "")) })
		others := []string{tb.at(tb.main).URL("", nil), tb.at(tb.preview).URL("", nil), tb.at(tb.bare).URL("", nil)}
		others = slices.DeleteFunc(others, func(u string) bool { return u == tb.at(c.b).URL("", nil) })
		slices.Sort(links)
		slices.Sort(others)
		if !slices.Equal(links, others) {
			t.Errorf("%s page's switcher links %v, want %v", c.b.Name, links, others)
		}
		// The fragments the page loads are the branch's too.
		browse := tb.htmxGet(tb.at(c.b).URL("/browse", nil), "users-browser")
		if got, want := tableEmails(browse), sortedEmails(c.want); !slices.Equal(got, want) {
			t.Errorf("%s browse lists %v, want %v", c.b.Name, got, want)
		}
	}

	// Delete cy on preview through the dashboard.
	id := tb.previewIDs["cy@preview.test"]
	r := tb.htmxPost(tb.at(tb.preview).User(id, "/delete"), url.Values{"confirm": {"yes"}})
	r.wantStatus(t, http.StatusOK)
	r = tb.pollSync(r)
	if got := r.byTestID("sync-panel").AttrOr("data-state", ""); got != string(views.SyncGone) {
		t.Fatalf("sync state = %q, want gone:\n%s", got, r.Body)
	}
	if got := tb.emailsInDatabase(tb.preview); !slices.Equal(got, []string{"di@preview.test", "ed@preview.test"}) {
		t.Errorf("preview's database holds %v after the delete", got)
	}
	if got := tb.emailsInDatabase(tb.main); !slices.Equal(got, mainBefore) {
		t.Errorf("main's database changed: %v, was %v", got, mainBefore)
	}
	// And main's id on preview's route is no user of preview.
	tb.htmxPost(tb.at(tb.preview).User(tb.mainIDs["ada@main.test"], "/delete"), url.Values{"confirm": {"yes"}}).wantStatus(t, http.StatusNotFound)
	if got := tb.emailsInDatabase(tb.main); !slices.Equal(got, mainBefore) {
		t.Errorf("main's database changed by a delete on preview's route: %v", got)
	}

	// A create on main lands in main's database only.
	created := tb.htmxPost(tb.at(tb.main).Path(""), url.Values{"email": {"fay@main.test"}})
	created.wantStatus(t, http.StatusCreated)
	tb.waitForSync()
	if got := tb.emailsInDatabase(tb.main); !slices.Contains(got, "fay@main.test") {
		t.Errorf("main's database lacks the created user: %v", got)
	}
	if got := tb.emailsInDatabase(tb.preview); slices.Contains(got, "fay@main.test") {
		t.Errorf("preview's database got main's new user: %v", got)
	}
	// The counts after the change include it at once, not after a cache.
	count := tb.htmxGet(tb.at(tb.main).URL("/count", nil), "users-count")
	if got := count.text("count-exact"); got != "3" {
		t.Errorf("main's count after the create = %q, want 3", got)
	}
}

// TestOldUsersLinksRedirect: links from before users were per branch land
// on the branch's route, keeping the rest of the request.
func TestOldUsersLinksRedirect(t *testing.T) {
	tb := newPerBranchApp(t)
	project := "/projects/" + tb.projectID + "/users"
	tests := []struct {
		name, method, path string
		status             int
		location           string
	}{
		{"named branch", http.MethodGet, project + "?provider=better_auth&branch=" + tb.preview.ID + "&q=cy%40preview.test", http.StatusMovedPermanently,
			tb.at(tb.preview).Path("") + "?q=cy%40preview.test"},
		{"browse of a named branch", http.MethodGet, project + "/browse?provider=better_auth&branch=" + tb.preview.ID + "&size=100", http.StatusMovedPermanently,
			tb.at(tb.preview).Path("/browse") + "?size=100"},
		{"no branch: the default one", http.MethodGet, project + "?provider=better_auth", http.StatusFound, tb.at(tb.main).Path("")},
		{"no provider, no Stack Auth", http.MethodGet, project, http.StatusFound, tb.at(tb.main).Path("")},
		{"a user's detail", http.MethodGet, project + "/" + tb.previewIDs["di@preview.test"] + "/detail?provider=better_auth&branch=" + tb.preview.ID, http.StatusMovedPermanently,
			tb.at(tb.preview).User(tb.previewIDs["di@preview.test"], "/detail")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tb.get(tt.path)
			if r.Status != tt.status || r.Header.Get("Location") != tt.location {
				t.Errorf("%s %s: %d to %q, want %d to %q", tt.method, tt.path, r.Status, r.Header.Get("Location"), tt.status, tt.location)
			}
		})
	}
	// A form posted to the old route keeps its method and body.
	r := tb.htmxPost(project+"?provider=better_auth&branch="+tb.preview.ID, url.Values{"email": {"x@preview.test"}})
	if r.Status != http.StatusPermanentRedirect || r.Header.Get("Location") != tb.at(tb.preview).Path("") {
		t.Errorf("old create form: %d to %q", r.Status, r.Header.Get("Location"))
	}
	if got := tb.emailsInDatabase(tb.preview); slices.Contains(got, "x@preview.test") {
		t.Error("the redirect itself created the user")
	}
}

// TestBranchUsersRefusals: what a branch's users route refuses, and how.
func TestBranchUsersRefusals(t *testing.T) {
	tb := newPerBranchApp(t)
	bare := tb.bare
	tests := []struct {
		name, path string
		status     int
		says       string
	}{
		{"unknown branch", "/projects/" + tb.projectID + "/branches/br-nope-123/users", http.StatusNotFound, "no branch"},
		{"not a branch id", "/projects/" + tb.projectID + "/branches/BR_x/users", http.StatusNotFound, "no branch"},
		{"branch without Neon Auth", tb.at(bare).Path(""), http.StatusNotFound, "has no branch-level Neon Auth"},
		{"another provider on a branch route", tb.at(tb.main).Path("") + "?provider=stack", http.StatusBadRequest, "provider must be better_auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tb.get(tt.path)
			r.wantStatus(t, tt.status)
			if !strings.Contains(r.Body, tt.says) {
				t.Errorf("%s does not say %q:\n%.600s", tt.path, tt.says, r.Body)
			}
		})
	}
}

// TestCountViewLinks: the "count exactly" link of a branch's unfiltered
// count, whose URL has no query of its own, is a working URL; an unknown
// estimate offers it, a failed count says so.
func TestCountViewLinks(t *testing.T) {
	for countURL, want := range map[string]string{
		"/projects/p-1/branches/br-1/users/count":        "/projects/p-1/branches/br-1/users/count?exact=1",
		"/projects/p-1/users/count?provider=stack&q=ada": "/projects/p-1/users/count?provider=stack&q=ada&exact=1",
	} {
		if got := countView(countURL, db.UserCount{N: 5}, nil).ExactURL; got != want {
			t.Errorf("exact URL of %s = %q, want %q", countURL, got, want)
		}
	}
	unknown := countView("/c", db.UserCount{Unknown: true}, nil)
	if unknown.Known || unknown.Unreadable {
		t.Errorf("an estimate that could not be trusted = %+v, want unknown and readable", unknown)
	}
	failed := countView("/c", db.UserCount{}, errors.New("down"))
	if failed.Known || !failed.Unreadable {
		t.Errorf("a failed count = %+v, want unreadable", failed)
	}
}
