package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/internal/secret"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// TestDemoStartupOutput starts the demo, uses it, and checks what its console
// shows: the dashboard's URL first, a short banner, and none of the sandbox's
// per-request lines.
func TestDemoStartupOutput(t *testing.T) {
	dbURL := pgtest.Require(t)
	for _, k := range []string{"AUTH_MODE", "SESSION_KEYS", "NEON_API_KEY", "DATABASE_URL", "LISTEN_ADDR", "AUDIT_LOG", "CACHE_TTL", "SYNC_TIMEOUT", "USERS_INDEX_ROWS", "COOKIE_SECURE", "DEMO_USERS"} {
		t.Setenv(k, "")
	}
	// The banner's last line says how to stop.
	stdout, stderr := newLineWatcher(regexp.MustCompile(`(Ctrl\+C)`)), &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--listen", "127.0.0.1:0", "--database-url", dbURL, "--sync-delay", "0s"}, stdout, stderr)
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })

	select {
	case <-stdout.match:
	case err := <-done:
		stopped = true
		t.Fatalf("demo stopped: %v\n%s", err, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("no banner within 30s; stdout %q, stderr:\n%s", stdout, stderr)
	}
	banner := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	url, ok := strings.CutPrefix(banner[0], "Dashboard: ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q, want the dashboard's URL", banner[0])
	}
	if len(banner) > 5 || !strings.Contains(stdout.String(), "/api/v2") || !strings.Contains(stdout.String(), "demo-app") {
		t.Errorf("banner, want a few lines naming the sandbox and the projects:\n%s", stdout)
	}

	// Using the dashboard makes sandbox requests; none may reach the console.
	for _, path := range []string{"projects", "healthz"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /%s: %s", path, resp.Status)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("demo stopped with %v\n%s", err, stderr)
	}
	for _, noise := range []string{"sandbox request", "SESSION_KEYS"} {
		if strings.Contains(stderr.String(), noise) {
			t.Errorf("console shows %q lines:\n%s", noise, stderr)
		}
	}
}

func TestMinLevelKeepsWarnings(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(minLevel{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.LevelWarn}).With("component", "sandbox")
	log.Debug("debug line")
	log.Info("sandbox request")
	log.WithGroup("g").Warn("sandbox sync: slow")
	log.Error("sandbox request failed")
	out := buf.String()
	if strings.Contains(out, "debug line") || strings.Contains(out, "msg=\"sandbox request\"") {
		t.Errorf("lines below WARN got through:\n%s", out)
	}
	for _, want := range []string{"sandbox sync: slow", "sandbox request failed", "component=sandbox"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestDemoSeedsBranchAuthProject: the demo's Better Auth project has its
// default branch and a preview branch, both with Neon Auth, both starting
// short of production-ready, and the preview trusting one domain more.
func TestDemoSeedsBranchAuthProject(t *testing.T) {
	dbURL := pgtest.Require(t)
	ctx := context.Background()
	d, err := startDemo(ctx, Config{DatabaseURL: secret.Value(dbURL), SyncDelay: -1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close demo: %v", err)
		}
	})
	client, err := neonapi.New(d.APIKey, neonapi.WithBaseURL(d.APIURL))
	if err != nil {
		t.Fatal(err)
	}
	page, err := client.ListProjects(ctx, neonapi.ListProjectsOptions{Search: demoProjectBranchAuth})
	if err != nil || len(page.Projects) != 1 {
		t.Fatalf("find %s: %v, %+v", demoProjectBranchAuth, err, page)
	}
	pid := page.Projects[0].ID
	branches, err := client.ListBranches(ctx, pid)
	if err != nil || len(branches) != 2 {
		t.Fatalf("branches of %s: %v, %+v", demoProjectBranchAuth, err, branches)
	}
	for _, b := range branches {
		if b.Default == (b.Name == demoPreviewBranch) {
			t.Errorf("branch %q default=%v", b.Name, b.Default)
		}
		r, err := neonauth.ReadBranchSettings(ctx, client, pid, b.ID)
		if err != nil {
			t.Fatalf("settings of %s: %v", b.Name, err)
		}
		ready := neonauth.CheckReadiness(r)
		if ready.Summary.Status != neonauth.StatusRed {
			t.Errorf("%s starts %s, want red: %+v", b.Name, ready.Summary.Status, ready.Summary)
		}
		domains := ready.Items[0]
		if want := b.Name == demoPreviewBranch; (domains.Status == neonauth.StatusGreen) != want || domains.Key != "trusted-domains" {
			t.Errorf("%s: %s is %s (%s)", b.Name, domains.Key, domains.Status, domains.Explanation)
		}
		checkDemoPeople(t, client, pid, b)
	}
}

// checkDemoPeople: the default branch has sessions for every user but the
// banned one, linked accounts, the two named organizations with members and
// invitations; the preview branch, branched before, has none of it.
func checkDemoPeople(t *testing.T, client *neonapi.Client, pid string, b neonapi.Branch) {
	t.Helper()
	ctx := t.Context()
	dbs, err := client.ListDatabases(ctx, pid, b.ID)
	if err != nil || len(dbs) == 0 {
		t.Fatalf("databases of %s: %v", b.Name, err)
	}
	uri, err := client.GetConnectionURI(ctx, pid, neonapi.ConnectionURIOptions{BranchID: b.ID, DatabaseName: dbs[0].Name, RoleName: dbs[0].OwnerName})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var users, withSessions, orgs, members, invitations, accounts int
	var banned bool
	var banExpires *time.Time
	var bannedSessions int
	var names string
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM neon_auth."user"),
       (SELECT count(DISTINCT "userId") FROM neon_auth.session),
       (SELECT count(*) FROM neon_auth.organization),
       (SELECT count(*) FROM neon_auth.member),
       (SELECT count(*) FROM neon_auth.invitation),
       (SELECT count(*) FROM neon_auth.account),
       coalesce((SELECT banned FROM neon_auth."user" WHERE email = $1), false),
       (SELECT "banExpires" FROM neon_auth."user" WHERE email = $1),
       (SELECT count(*) FROM neon_auth.session s JOIN neon_auth."user" u ON u.id = s."userId" WHERE u.email = $1),
       coalesce((SELECT string_agg(name, ', ' ORDER BY name) FROM neon_auth.organization), '')`, demoBanned).
		Scan(&users, &withSessions, &orgs, &members, &invitations, &accounts, &banned, &banExpires, &bannedSessions, &names)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name == demoPreviewBranch {
		if withSessions != 0 || orgs != 0 || banned {
			t.Errorf("preview has people of its own: %d users with sessions, %d organizations, banned %v", withSessions, orgs, banned)
		}
		return
	}
	if users != len(demoBranchUsers) || withSessions != users-1 || accounts < users || !banned || banExpires == nil || bannedSessions != 0 {
		t.Errorf("main: %d users, %d with sessions, %d accounts, %s banned %v until %v with %d sessions",
			users, withSessions, accounts, demoBanned, banned, banExpires, bannedSessions)
	}
	if names != "Acme Rockets, Globex" || members != 6 || invitations != 8 {
		t.Errorf("main: organizations %q, %d members, %d invitations", names, members, invitations)
	}
}

// TestDemoUsersShowIndexAdvisor starts the demo with --demo-users at the
// index advisor's threshold: both users tables with people in them are then
// large enough, and their users pages offer the browse index, plus the email
// index on Stack Auth's users_sync.
func TestDemoUsersShowIndexAdvisor(t *testing.T) {
	dbURL := pgtest.Require(t)
	for _, k := range []string{"AUTH_MODE", "SESSION_KEYS", "NEON_API_KEY", "DATABASE_URL", "LISTEN_ADDR", "AUDIT_LOG", "CACHE_TTL", "SYNC_TIMEOUT", "USERS_INDEX_ROWS", "COOKIE_SECURE", "DEMO_USERS"} {
		t.Setenv(k, "")
	}
	// The threshold alone, without the demo's named users, is enough: the
	// README promises it.
	n := neonauth.DefaultIndexAdviceRows
	stdout, stderr := newLineWatcher(regexp.MustCompile(`(Ctrl\+C)`)), &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--listen", "127.0.0.1:0", "--database-url", dbURL, "--sync-delay", "0s",
			"--demo-users", strconv.Itoa(n)}, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo stopped with %v\n%s", err, stderr)
		}
	})
	select {
	case <-stdout.match:
	case err := <-done:
		done <- err
		t.Fatalf("demo stopped: %v\n%s", err, stderr)
	case <-time.After(5 * time.Minute):
		t.Fatalf("no banner within 5m; stdout %q, stderr:\n%s", stdout, stderr)
	}
	banner := stdout.String()
	if want := fmt.Sprintf("Generated users: %d more", n); !strings.Contains(banner, want) {
		t.Errorf("banner lacks %q:\n%s", want, banner)
	}
	base := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(banner, "\n", 2)[0], "Dashboard: "), "/")

	projects := getDoc(t, base+"/projects", false)
	for _, tc := range []struct {
		project  string
		provider authprovider.Provider
	}{
		{demoProject, authprovider.Stack},
		{demoProjectBranchAuth, authprovider.BetterAuth},
	} {
		t.Run(tc.project, func(t *testing.T) {
			var id string
			projects.Find(`[data-testid="project-row"]`).Each(func(_ int, row *goquery.Selection) {
				if strings.TrimSpace(row.Find(`[data-testid="project-link"]`).Text()) == tc.project {
					id, _ = row.Attr("data-project-id")
				}
			})
			if id == "" {
				t.Fatalf("no row for project %s", tc.project)
			}
			users := getDoc(t, base+"/projects/"+id+"/users?provider="+string(tc.provider), false)
			panelURL, ok := users.Find(`[data-testid="index-advisor-slot"]`).Attr("hx-get")
			if !ok {
				t.Fatal("the users page has no index advisor slot")
			}
			panel := getDoc(t, base+panelURL, true).Find(`[data-testid="index-advisor"]`)
			if state, _ := panel.Attr("data-state"); state != views.IndexStateAdvise {
				t.Fatalf("advisor state %q, want %q:\n%s", state, views.IndexStateAdvise, panel.Text())
			}
			if sql := panel.Find(`[data-testid="index-create-sql"]`).Text(); !strings.Contains(sql, "CREATE INDEX CONCURRENTLY") {
				t.Errorf("offered statement %q", sql)
			}
			if panel.Find(`[data-testid="index-create"]`).Length() != 1 {
				t.Error("no Create index button for the demo's admin")
			}
			lookup := panel.Find(`[data-testid="index-lookup-sql"]`).Length() == 1
			if want := tc.provider == authprovider.Stack; lookup != want {
				t.Errorf("email index offered: %t, want %t", lookup, want)
			}
		})
	}
}

// getDoc GETs url, as htmx does when htmx is set, and parses the page.
func getDoc(t *testing.T, url string, htmx bool) *goquery.Document {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %s\n%s", url, res.Status, b)
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return doc
}
