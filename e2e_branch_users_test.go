package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/internal/secret"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestE2EBranchUsers checks, in Chromium against the real server and the
// sandbox on real Postgres, that a Better Auth project's users are per branch.
// The launchpad project's main and preview branches share the users main had
// when preview was made, and each then gets users of its own. The project
// page's "Users →" links and the users page's branch switcher show each
// branch's users and no other's. On preview, deleting a user main has too,
// creating one and making another an admin reach preview's database alone
// (asked of Postgres, not of the dashboard), and after each the table, the
// header's count, the exact count and the signups chart follow without a
// reload. The export holds preview's users, and an old project-level link
// lands on preview's page.
func TestE2EBranchUsers(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)

	p := startBranchUsersProject(t, dbURL)
	dash := startDashboardEnv(t, dbURL, map[string]string{"NEON_API_KEY": p.APIKey, "NEON_API_URL": p.APIURL})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the dashboard's log:\n%s", dash.logs)
		}
	})
	b := browsertest.New(t, browsertest.Options{
		Headers: map[string]string{"X-Forwarded-Email": e2eAdminEmail, "X-Forwarded-User": e2eAdminUser},
		Budget:  3 * time.Minute,
	})
	f := &branchUsersFlow{t: t, b: b, p: p, base: dash.URL}

	// From the project page, each branch's "Users →" shows that branch's
	// users: its own and the ones both branches have, none of the other's.
	for _, br := range []*branchUsersDB{p.preview, p.main} {
		b.Follow("open the project page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+p.projectID))
		row := chromedp.CSS(`[data-testid="branch-table-panel"] [data-testid="branch-row"][data-branch-id="` + br.id + `"]`)
		b.Follow("open "+br.name+"'s users", http.StatusOK, chromedp.Click(row+` [data-testid="branch-users-link"]`))
		f.checkShows(br)
	}
	// One click on the switcher goes from main's users to preview's.
	f.switchTo(p.main, p.preview)
	b.Run("wait for the signups chart", browsertest.Visible(browsertest.TestID("signups-chart")))
	b.CheckAccessibility("a branch's users page")

	// Changes on preview, each followed by the page without a reload and
	// checked in both branches' databases.
	b.Run("mark the document", chromedp.Evaluate[chromedp.Void](`window.e2eDocument = "users page"; void 0`))
	f.shown = readUsersPanels(b)
	f.mainRows = p.main.rows(t)
	f.deleteOnPreview(p.shared[1])
	f.createOnPreview()
	f.promoteOnPreview(p.shared[0])
	// The export downloads preview's users, as the table shows them.
	f.checkExport(f.shown.IDs)

	// A link from before users were per branch lands on preview's page.
	old := "/projects/" + p.projectID + "/users?" + url.Values{"provider": {"better_auth"}, "branch": {p.preview.id}}.Encode()
	b.Follow("follow an old users link", http.StatusOK, chromedp.Navigate(dash.URL+old))
	f.checkShows(p.preview)

	// Main kept the user deleted on preview, and shows it still.
	f.switchTo(p.preview, p.main)
	b.Run("see "+p.shared[1].email+" on main", browsertest.WaitText(browseRow(p.shared[1].id), p.shared[1].email))

	if problems := b.Problems(); len(problems) > 0 {
		t.Errorf("the browser reported errors:\n  %s", strings.Join(problems, "\n  "))
	}
}

// branchUsersFlow is the browser's way through the branches' users pages,
// with what the page and main's database showed before each change.
type branchUsersFlow struct {
	t    *testing.T
	b    *browsertest.Browser
	p    *branchUsersProject
	base string
	// shown is what preview's page shows after the last change.
	shown usersPanels
	// mainRows are main's neon_auth."user" rows, which no change on
	// preview may touch.
	mainRows []string
}

// switchTo follows the branch switcher from one branch's users to another's.
func (f *branchUsersFlow) switchTo(from, to *branchUsersDB) {
	f.t.Helper()
	link := chromedp.CSS(`[data-testid="branch-switch-link"][data-branch-id="` + to.id + `"]`)
	f.b.Run("find the branch switcher", browsertest.WaitText(browsertest.TestID("branch-switch-current"), from.name), browsertest.Visible(link))
	f.b.Follow("switch to "+to.name, http.StatusOK, chromedp.Click(link))
	f.checkShows(to)
	f.b.Run("see "+to.name+" is the current branch", browsertest.WaitText(browsertest.TestID("branch-switch-current"), to.name))
}

// mainUntouched fails the test if main's users changed.
func (f *branchUsersFlow) mainUntouched(change string) {
	f.t.Helper()
	if got := f.p.main.rows(f.t); !reflect.DeepEqual(got, f.mainRows) {
		f.t.Errorf("main's neon_auth.\"user\" changed when %s on preview:\nbefore %q\nafter  %q", change, f.mainRows, got)
	}
}

// deleteOnPreview deletes u, whom main has too, from preview's users page.
func (f *branchUsersFlow) deleteOnPreview(u demoUser) {
	f.t.Helper()
	id := browsertest.TestID
	previewIDs := f.p.preview.userIDs(f.t)
	f.b.Run("ask to delete "+u.email,
		chromedp.Click(browseRow(u.id)+` [data-testid="delete-link"]`),
		browsertest.WaitText(`#user-activity [data-testid="delete-user"]`, u.email),
	)
	f.b.Run("delete "+u.email,
		chromedp.Click(chromedp.ID("delete-confirm")),
		chromedp.Click(id("delete-user-form")+` button[type="submit"]`),
		browsertest.WaitAttr(`#user-activity [data-testid="sync-panel"]`, "data-state", "gone"),
	)
	f.shown = f.shown.with(-1, nil, []string{u.id})
	waitUsersPanels(f.b, "see the deletion without a reload", f.shown)

	want := slices.DeleteFunc(previewIDs, func(id string) bool { return id == u.id })
	if got := f.p.preview.userIDs(f.t); !slices.Equal(got, want) {
		f.t.Errorf("preview's neon_auth.\"user\" holds %q after %s was deleted, want %q", got, u.id, want)
	}
	f.mainUntouched("a user was deleted")
}

// createOnPreview creates a user with preview's create form.
func (f *branchUsersFlow) createOnPreview() {
	f.t.Helper()
	id := browsertest.TestID
	email := "newcomer-" + randomSuffix() + "@example.com"
	f.b.Run("create "+email,
		chromedp.SendKeys(chromedp.ID("user-email"), email),
		chromedp.SendKeys(chromedp.ID("user-name"), "New Comer"),
		chromedp.Click(id("create-user-form")+` button[type="submit"]`),
		browsertest.Visible(id("created-user-id")),
		browsertest.WaitAttr(`#create-user [data-testid="sync-panel"]`, "data-state", "synced"),
	)
	created := strings.TrimSpace(browsertest.Get(f.b, "read the new user's id", chromedp.TextContent(id("created-user-id"))))
	f.shown = f.shown.with(+1, []string{created}, nil)
	waitUsersPanels(f.b, "see the new user without a reload", f.shown)
	if got := browsertest.Get(f.b, "read the new row", chromedp.TextContent(browseRow(created))); !strings.Contains(got, email) {
		f.b.Fail("read the new row", fmt.Errorf("row %s reads %q, want %s in it", created, got, email))
	}
	if got := f.p.preview.userIDs(f.t); !slices.Contains(got, created) {
		f.t.Errorf("preview's neon_auth.\"user\" lacks the user created on preview (%s): %q", created, got)
	}
	f.mainUntouched("a user was created")
}

// promoteOnPreview makes u, whom main has too, an admin with the role form
// of u's row on preview's page.
func (f *branchUsersFlow) promoteOnPreview(u demoUser) {
	f.t.Helper()
	if got := f.p.preview.role(f.t, u.id); got == "admin" {
		f.t.Fatalf("%s is an admin on preview already", u.email)
	}
	row := browseRow(u.id)
	f.b.Run("make "+u.email+" an admin",
		chromedp.SetValue(row+` [data-testid="role-select"]`, "admin"),
		chromedp.Click(row+` [data-testid="role-form"] button[type="submit"]`),
		browsertest.WaitAttr(`#user-activity [data-testid="sync-panel"]`, "data-state", "synced"),
		browsertest.WaitText(`#user-activity [data-testid="sync-role"]`, "admin"),
		// The table reloads on its own and shows the new role.
		browsertest.WaitText(row+` [data-testid="user-role"]`, "admin"),
	)
	waitUsersPanels(f.b, "see the role change without a reload", f.shown)
	if got := f.p.preview.role(f.t, u.id); got != "admin" {
		f.t.Errorf("preview's neon_auth.\"user\" has role %q for %s, want admin", got, u.email)
	}
	f.mainUntouched("a user's role was changed")
}

// branchUsersProject is the demo's Better Auth project, launchpad, with
// users only main has and one only preview has besides the two they share.
type branchUsersProject struct {
	*demo
	projectID     string
	main, preview *branchUsersDB
	// shared are users both branches hold under the same ids, copied when
	// preview was made.
	shared []demoUser
}

// demoUser is a user the test arranged.
type demoUser struct{ id, email string }

// branchUsersDB is one branch and its database, which the test reads with
// its own connection.
type branchUsersDB struct {
	id, name string
	uri      string
	// own is how many users only this branch has; ownIDs are their ids.
	own    int
	ownIDs []string
}

// startBranchUsersProject starts and seeds the demo sandbox, then gives
// launchpad's main branch two users of its own and preview one, through
// Neon's API. The branches then differ in their counts too, so that a count
// or chart shown for the wrong branch would not go unseen.
func startBranchUsersProject(t *testing.T, dbURL string) *branchUsersProject {
	t.Helper()
	ctx := t.Context()
	d, client := startDemoAPI(t, dbURL, &syncBuffer{})
	p := &branchUsersProject{demo: d, projectID: demoProjectID(t, client, demoProjectBranchAuth)}
	branches, err := client.ListBranches(ctx, p.projectID)
	if err != nil {
		t.Fatal(err)
	}
	for _, br := range branches {
		switch br.Name {
		case "main":
			p.main = &branchUsersDB{id: br.ID, name: br.Name, own: 2}
		case demoPreviewBranch:
			p.preview = &branchUsersDB{id: br.ID, name: br.Name, own: 1}
		}
	}
	if p.main == nil || p.preview == nil {
		t.Fatalf("launchpad's branches are %+v, want main and %s", branches, demoPreviewBranch)
	}
	for _, br := range []*branchUsersDB{p.main, p.preview} {
		br.uri = branchUsersURI(t, client, p.projectID, br.id)
		for range br.own {
			u, err := client.CreateBranchUser(ctx, p.projectID, br.id, neonapi.CreateBranchUserRequest{
				Email: br.name + "-only-" + randomSuffix() + "@example.com", Name: "Only on " + br.name,
			})
			if err != nil {
				t.Fatalf("create a user on %s: %v", br.name, err)
			}
			br.ownIDs = append(br.ownIDs, u.ID)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.sb.WaitForSync(wctx); err != nil {
		t.Fatalf("the users created through the API did not reach their databases: %v", err)
	}
	for _, br := range []*branchUsersDB{p.main, p.preview} {
		other := p.other(br)
		if ids := br.userIDs(t); len(intersect(ids, br.ownIDs)) != br.own || len(intersect(ids, other.ownIDs)) != 0 {
			t.Fatalf("%s's database holds %q; want its own user %q and not %s's %q", br.name, ids, br.ownIDs, other.name, other.ownIDs)
		}
	}

	// The shared users: the demo's, in both databases under the same ids.
	for _, u := range demoBranchUsers {
		var ids [2]string
		for i, br := range []*branchUsersDB{p.main, p.preview} {
			err := br.query(t, func(conn *pgx.Conn) error {
				return conn.QueryRow(ctx, `SELECT id::text FROM neon_auth."user" WHERE email = $1`, u.Email).Scan(&ids[i])
			})
			if err != nil {
				t.Fatalf("find %s on %s: %v", u.Email, br.name, err)
			}
		}
		if ids[0] != ids[1] {
			t.Fatalf("%s has id %s on main and %s on preview; the test needs one user under one id", u.Email, ids[0], ids[1])
		}
		p.shared = append(p.shared, demoUser{id: ids[0], email: u.Email})
	}
	if len(p.shared) < 2 {
		t.Fatalf("the demo's branches share %d users; the test needs two", len(p.shared))
	}
	return p
}

// branchUsersURI asks Neon (getConnectionURI) for the connection string of
// the database holding a branch's Better Auth users.
func branchUsersURI(t *testing.T, client *neonapi.Client, projectID, branchID string) string {
	t.Helper()
	ctx := t.Context()
	auth, err := client.GetBranchAuth(ctx, projectID, branchID)
	if err != nil {
		t.Fatalf("getNeonAuth on %s: %v", branchID, err)
	}
	d, err := client.GetDatabase(ctx, projectID, branchID, auth.DBName)
	if err != nil {
		t.Fatalf("database %s on %s: %v", auth.DBName, branchID, err)
	}
	uri, err := client.GetConnectionURI(ctx, projectID, neonapi.ConnectionURIOptions{BranchID: branchID, DatabaseName: d.Name, RoleName: d.OwnerName})
	if err != nil {
		t.Fatalf("getConnectionURI for %s: %v", branchID, err)
	}
	return uri
}

// query runs f on a connection of its own to the branch's database.
func (br *branchUsersDB) query(t *testing.T, f func(*pgx.Conn) error) error {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, br.uri)
	if err != nil {
		t.Fatalf("connect to %s's database: %v", br.name, err)
	}
	defer conn.Close(ctx)
	return f(conn)
}

// userIDs are the ids in the branch's neon_auth."user", sorted.
func (br *branchUsersDB) userIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	err := br.query(t, func(conn *pgx.Conn) error {
		rows, err := conn.Query(t.Context(), `SELECT id::text FROM neon_auth."user" ORDER BY 1`)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatalf("read %s's users: %v", br.name, err)
	}
	return ids
}

// role is the role column of one user in the branch's neon_auth."user".
func (br *branchUsersDB) role(t *testing.T, userID string) string {
	t.Helper()
	var role *string
	err := br.query(t, func(conn *pgx.Conn) error {
		return conn.QueryRow(t.Context(), `SELECT role FROM neon_auth."user" WHERE id::text = $1`, userID).Scan(&role)
	})
	if err != nil {
		t.Fatalf("read the role of %s on %s: %v", userID, br.name, err)
	}
	if role == nil {
		return ""
	}
	return *role
}

// rows are the branch's neon_auth."user" rows, every column, as JSON.
func (br *branchUsersDB) rows(t *testing.T) []string {
	t.Helper()
	var out []string
	err := br.query(t, func(conn *pgx.Conn) error {
		rows, err := conn.Query(t.Context(), `SELECT row_to_json(u)::text FROM neon_auth."user" u ORDER BY id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatalf("read %s's user rows: %v", br.name, err)
	}
	return out
}

// checkShows checks the page, freshly loaded, is br's users page: its table
// lists exactly the users br's database holds, and its counts and signups
// chart count them.
func (f *branchUsersFlow) checkShows(br *branchUsersDB) {
	f.t.Helper()
	b, p, base := f.b, f.p, f.base
	id := browsertest.TestID
	b.Run("wait for "+br.name+"'s users",
		browsertest.WaitText(id("users-branch-name"), br.name),
		browsertest.Visible(id("users-browser")),
	)
	want := "/projects/" + p.projectID + "/branches/" + br.id + "/users"
	if loc := browsertest.Get(b, "read the location", chromedp.Location()); loc != base+want {
		b.Fail("check the users page's address", fmt.Errorf("location %s, want %s", loc, base+want))
	}
	if got := strings.TrimSpace(browsertest.Get(b, "read the branch name", chromedp.TextContent(id("users-branch-name")))); got != br.name {
		b.Fail("check the page names "+br.name, fmt.Errorf("the header names branch %q", got))
	}
	ids := br.userIDs(f.t)
	if other := p.other(br); len(intersect(ids, other.ownIDs)) > 0 {
		f.t.Fatalf("%s's database holds %s's own users %q", br.name, other.name, intersect(ids, other.ownIDs))
	}
	// Every user is new, so the 30-day signups chart counts them all.
	n := len(ids)
	waitUsersPanels(b, "check "+br.name+"'s users", usersPanels{IDs: ids, Total: n, Exact: n, Signups: n, Summary: n})
}

// other is the branch that is not br.
func (p *branchUsersProject) other(br *branchUsersDB) *branchUsersDB {
	if br == p.main {
		return p.preview
	}
	return p.main
}

// checkExport downloads the users page's CSV export and checks it holds
// exactly the users ids.
func (f *branchUsersFlow) checkExport(ids []string) {
	f.t.Helper()
	b := f.b
	body := browsertest.Get(b, "download the export", chromedp.Evaluate[string](`fetch(document.querySelector('[data-testid="export-csv"]').href)
		.then(r => r.ok ? r.text() : "status " + r.status)`, chromedp.EvalAwaitPromise))
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(records) == 0 || len(records[0]) == 0 || records[0][0] != "id" {
		b.Fail("read the export", fmt.Errorf("export %q: %v", body, err))
	}
	var got []string
	for _, r := range records[1:] {
		got = append(got, r[0])
	}
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		b.Fail("check the export", fmt.Errorf("the export holds users %q, want %q", got, ids))
	}
}

// usersPanels is what the users page shows of its users at one moment.
type usersPanels struct {
	// IDs are the table's rows, sorted.
	IDs []string `json:"ids"`
	// Total is the header's count; Exact the browser's count panel.
	Total int `json:"total"`
	Exact int `json:"exact"`
	// Signups adds up the chart's data table; Summary is the total its
	// accessible name gives.
	Signups int `json:"signups"`
	Summary int `json:"summary"`
	// Document is the marker set on the page's window; a reload loses it.
	Document string `json:"document"`
}

// with is u after n more users, with the ids added and removed.
func (u usersPanels) with(n int, added, removed []string) usersPanels {
	out := u
	out.IDs = slices.DeleteFunc(slices.Clone(u.IDs), func(id string) bool { return slices.Contains(removed, id) })
	out.IDs = append(out.IDs, added...)
	slices.Sort(out.IDs)
	out.Total, out.Exact, out.Signups, out.Summary = u.Total+n, u.Exact+n, u.Signups+n, u.Summary+n
	return out
}

// readUsersPanelsJS reads usersPanels; a missing figure is -1.
const readUsersPanelsJS = `(() => {
	const num = (s) => { const m = /\d[\d,\s]*/.exec(s || ""); return m ? parseInt(m[0].replace(/\D/g, ""), 10) : -1; };
	const text = (sel) => { const el = document.querySelector(sel); return el ? el.textContent : ""; };
	const counts = [...document.querySelectorAll('[data-testid="signups-data"] [data-testid="signups-count"]')];
	const svg = document.querySelector('[data-testid="signups"] [data-testid="signups-svg"]');
	const summary = svg ? /: ([\d,\s]+) signups?/.exec(svg.getAttribute("aria-label") || "") : null;
	return {
		ids: [...document.querySelectorAll('#users-browser [data-testid="browse-row"]')].map((r) => r.dataset.userId).sort(),
		total: num(text('#user-counts [data-testid="user-total"]')),
		exact: num(text('#users-count [data-testid="count-exact"]')),
		signups: counts.length ? counts.reduce((n, td) => n + num(td.textContent), 0) : -1,
		summary: summary ? num(summary[1]) : -1,
		document: window.e2eDocument || "",
	};
})()`

func readUsersPanels(b *browsertest.Browser) usersPanels {
	u := browsertest.Get(b, "read the users panels", chromedp.Evaluate[usersPanels](readUsersPanelsJS))
	if u.IDs == nil {
		u.IDs = []string{}
	}
	return u
}

// waitUsersPanels waits until the page shows want, each panel having
// reloaded itself, and fails the step with what it shows instead.
func waitUsersPanels(b *browsertest.Browser, step string, want usersPanels) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := readUsersPanels(b)
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.Fail(step, fmt.Errorf("the page shows\n  %+v\nwant\n  %+v", got, want))
		}
		time.Sleep(50 * time.Millisecond) // the pace of the polling, not a condition
	}
}

// browseRow selects the users table's row of one user.
func browseRow(userID string) chromedp.CSS {
	return chromedp.CSS(`#users-browser [data-testid="browse-row"][data-user-id=` + strconv.Quote(userID) + `]`)
}

// intersect is the elements of a also in b.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// startDemoAPI starts and seeds the demo's Neon API sandbox for a test that
// runs the dashboard against it and asks Neon itself what changed; the
// sandbox logs into logs.
func startDemoAPI(t *testing.T, dbURL string, logs *syncBuffer) (*demo, *neonapi.Client) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := startDemo(t.Context(), Config{DatabaseURL: secret.Value(dbURL), SyncDelay: 200 * time.Millisecond}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close the sandbox: %v", err)
		}
	})
	client, err := neonapi.New(d.APIKey, neonapi.WithBaseURL(d.APIURL))
	if err != nil {
		t.Fatal(err)
	}
	return d, client
}

// demoProjectID finds a demo project's id by its name.
func demoProjectID(t *testing.T, client *neonapi.Client, name string) string {
	t.Helper()
	page, err := client.ListProjects(t.Context(), neonapi.ListProjectsOptions{Search: name})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range page.Projects {
		if p.Name == name {
			return p.ID
		}
	}
	t.Fatalf("no project %q in the demo", name)
	return ""
}
