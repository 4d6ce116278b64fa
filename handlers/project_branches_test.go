package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// createBranches adds branches to the seeded project through the API and
// returns every branch of it by name, "main" included. A name ending in "!"
// makes a protected branch.
func (a *testApp) createBranches(names ...string) map[string]neonapi.Branch {
	a.t.Helper()
	ctx := context.Background()
	for _, name := range names {
		protected := strings.HasSuffix(name, "!")
		name = strings.TrimSuffix(name, "!")
		if _, err := a.Neon.CreateBranch(ctx, a.projectID, neonapi.CreateBranchRequest{Name: name, Protected: protected}); err != nil {
			a.t.Fatalf("create branch %s: %v", name, err)
		}
	}
	bs, err := a.Neon.ListBranches(ctx, a.projectID)
	if err != nil {
		a.t.Fatal(err)
	}
	out := map[string]neonapi.Branch{}
	for _, b := range bs {
		out[b.Name] = b
	}
	return out
}

// enableBetterAuthOn enables branch-level Neon Auth on one branch of the
// seeded project straight through the API.
func (a *testApp) enableBetterAuthOn(b neonapi.Branch) {
	a.t.Helper()
	if _, err := a.Neon.EnableBranchAuth(context.Background(), a.projectID, b.ID, neonapi.EnableBranchAuthRequest{
		AuthProvider: authprovider.BetterAuth, DatabaseName: a.project.DatabaseName,
	}); err != nil {
		a.t.Fatalf("enable Better Auth on %s: %v", b.Name, err)
	}
}

// branchRow is the project page's row for the branch.
func (r *testResponse) branchRow(b neonapi.Branch) *goquery.Selection {
	return r.Doc.Find(`[data-testid="branch-row"][data-branch-id="` + b.ID + `"]`)
}

// TestProjectPageListsEveryBranch: Better Auth on a non-default branch only
// is found by asking each branch, even when the deprecated integrations list
// fails, and every other branch says it has none.
func TestProjectPageListsEveryBranch(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	branches := a.createBranches("dev", "release!")
	a.enableBetterAuthOn(branches["dev"])

	for _, legacyFails := range []bool{false, true} {
		if legacyFails {
			a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/auth/integrations"})
		}
		r := a.get("/projects/" + a.projectID)
		r.wantStatus(t, http.StatusOK)
		if n := r.byTestID("branch-row").Length(); n != 3 {
			t.Fatalf("legacy fails %t: %d branch rows, want 3", legacyFails, n)
		}
		if first, _ := r.byTestID("branch-row").First().Attr("data-branch-id"); first != branches["main"].ID {
			t.Errorf("legacy fails %t: first row is %q, want the default branch", legacyFails, first)
		}
		dev := r.branchRow(branches["dev"])
		if p, _ := dev.Attr("data-provider"); p != string(authprovider.BetterAuth) {
			t.Errorf("legacy fails %t: dev provider = %q, want better_auth", legacyFails, p)
		}
		base := dev.Find(`[data-testid="branch-base-url"]`).Text()
		jwks := dev.Find(`[data-testid="branch-jwks-url"]`).Text()
		if !strings.HasPrefix(base, "http") || !strings.HasSuffix(jwks, "/.well-known/jwks.json") {
			t.Errorf("legacy fails %t: dev base URL %q, JWKS URL %q", legacyFails, base, jwks)
		}
		want := "/projects/" + a.projectID + "/branches/" + branches["dev"].ID + "/users"
		if href, _ := dev.Find(`[data-testid="branch-users-link"]`).Attr("href"); href != want {
			t.Errorf("legacy fails %t: dev users link = %q, want %q", legacyFails, href, want)
		}
		for name, flag := range map[string]string{"main": "branch-default", "release": "branch-protected"} {
			row := r.branchRow(branches[name])
			if row.Find(`[data-testid="`+flag+`"]`).Length() != 1 || row.Find(`[data-testid="branch-auth-none"]`).Length() != 1 {
				t.Errorf("legacy fails %t: %s row = %q, want %s and not enabled", legacyFails, name, strings.Join(strings.Fields(row.Text()), " "), flag)
			}
		}
		if r.byTestID("integrations-empty").Length() != 0 {
			t.Errorf("legacy fails %t: the page says Neon Auth is off", legacyFails)
		}
		if n := r.byTestID("integration-card").Length(); n != 0 {
			t.Errorf("legacy fails %t: %d integration cards; Better Auth on dev shows in its row only", legacyFails, n)
		}
	}
}

// TestProjectPageIsolatesABranchFailure: a branch whose getNeonAuth fails
// beyond the retries shows Neon's failure in its own row; the page and the
// other rows are served as usual.
func TestProjectPageIsolatesABranchFailure(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	branches := a.createBranches("dev", "qa")
	a.enableBetterAuthOn(branches["qa"])
	a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/branches/" + branches["dev"].ID + "/auth"})

	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)
	dev := r.branchRow(branches["dev"])
	if dev.Find(`[data-testid="branch-auth-error"]`).Length() != 1 || dev.Find(`[data-testid="branch-request-id"]`).Text() == "" {
		t.Errorf("dev row does not show its failure with a request id: %q", strings.Join(strings.Fields(dev.Text()), " "))
	}
	if p, _ := r.branchRow(branches["qa"]).Attr("data-provider"); p != string(authprovider.BetterAuth) {
		t.Errorf("qa provider = %q, want better_auth despite dev's failure", p)
	}
	if r.branchRow(branches["main"]).Find(`[data-testid="branch-auth-none"]`).Length() != 1 {
		t.Error("main does not read as not enabled")
	}
	if r.text("project-name") != "demo-app" || r.byTestID("enable-form").Length() != 1 {
		t.Error("the rest of the page is missing")
	}
}

// getNeonAuthCalls counts the getNeonAuth requests among calls.
func getNeonAuthCalls(calls []string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "GET ") && strings.HasSuffix(c, "/auth") {
			n++
		}
	}
	return n
}

// TestProjectPageNeonCalls counts what the projects list and the project
// page of a project with ten branches cost in Neon calls, cold and from the
// cache. The list asks for the default branch's Neon Auth only; the page for
// every branch's, four reads more than the branch count; a branch without
// Neon Auth costs nothing once its 404 is cached.
func TestProjectPageNeonCalls(t *testing.T) {
	t.Parallel()
	counter := &neontest.Requests{}
	a := newTestApp(t, withCache(time.Hour), withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter})))
	names := make([]string, 9)
	for i := range names {
		names[i] = fmt.Sprintf("b%d", i+1)
	}
	branches := a.createBranches(names...)
	a.enableBetterAuthOn(branches["b3"])
	a.enableBetterAuthOn(branches["b7"])

	steps := []struct {
		name, path string
		// calls and auth are the Neon calls in all and getNeonAuth among them.
		calls, auth int
	}{
		// listProjects, listNeonAuthIntegrations, listProjectBranches and the
		// default branch's getNeonAuth.
		{"projects list, cold", "/projects", 4, 1},
		// getProject, the enable form's databases and roles, and the nine
		// branches the list did not ask about.
		{"project page after the list", "/projects/" + a.projectID, 12, 9},
		{"project page again", "/projects/" + a.projectID, 0, 0},
		{"projects list again", "/projects", 0, 0},
	}
	counter.Take()
	for _, s := range steps {
		r := a.get(s.path)
		r.wantStatus(t, http.StatusOK)
		calls := counter.Take()
		t.Logf("%s: %d Neon calls: %s", s.name, len(calls), strings.Join(calls, ", "))
		if len(calls) != s.calls || getNeonAuthCalls(calls) != s.auth {
			t.Errorf("%s: %d calls (%d getNeonAuth), want %d (%d)", s.name, len(calls), getNeonAuthCalls(calls), s.calls, s.auth)
		}
		if strings.HasPrefix(s.path, "/projects/") && r.byTestID("branch-row").Length() != 10 {
			t.Errorf("%s: %d branch rows, want 10", s.name, r.byTestID("branch-row").Length())
		}
	}

	// A cold page on its own: five reads and one getNeonAuth per branch.
	cold := newTestApp(t, withCache(time.Hour), withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter})))
	cold.createBranches(names...)
	counter.Take()
	cold.get("/projects/"+cold.projectID).wantStatus(t, http.StatusOK)
	if calls := counter.Take(); len(calls) != 15 || getNeonAuthCalls(calls) != 10 {
		t.Errorf("cold project page: %d calls (%d getNeonAuth), want 15 (10): %s", len(calls), getNeonAuthCalls(calls), strings.Join(calls, ", "))
	}
}

// TestEnablingOnABranchShowsInItsRow: enabling Better Auth on a non-default
// branch through the dashboard refreshes that branch's row, though the
// cache had the branch's 404.
func TestEnablingOnABranchShowsInItsRow(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(time.Hour))
	branches := a.createBranches("dev")
	page := a.get("/projects/" + a.projectID)
	if page.branchRow(branches["dev"]).Find(`[data-testid="branch-auth-none"]`).Length() != 1 {
		t.Fatal("dev does not start without Neon Auth")
	}
	values := enableValues(a, "better_auth")
	values.Set("branch_id", branches["dev"].ID)
	r := a.htmxPost("/projects/"+a.projectID+"/integrations", values)
	r.wantStatus(t, http.StatusCreated)
	oob := r.Doc.Find(`#integrations[hx-swap-oob="true"]`)
	if p, _ := oob.Find(`[data-testid="branch-row"][data-branch-id="` + branches["dev"].ID + `"]`).Attr("data-provider"); p != string(authprovider.BetterAuth) {
		t.Errorf("refreshed panel's dev row provider = %q, want better_auth", p)
	}
	page = a.get("/projects/" + a.projectID)
	if p, _ := page.branchRow(branches["dev"]).Attr("data-provider"); p != string(authprovider.BetterAuth) {
		t.Errorf("dev row provider after enabling = %q, want better_auth", p)
	}
}

// BenchmarkProjectPage10Branches serves the page of a project with ten
// branches, Better Auth on all of them, straight from the sandbox ("cold":
// fifteen Neon calls a view) and from a warm cache ("cached": none), beside
// one raw getProject on the same sandbox for scale. The "+badges" runs also
// load every row's readiness badge, ten at once as a browser does after the
// page: ninety Neon calls more cold (nine a branch, getNeonAuth again among
// them, since nothing is cached), none cached. neon-calls/op is what a view costs in Neon's
// rate budget.
func BenchmarkProjectPage10Branches(b *testing.B) {
	counter := &neontest.Requests{}
	a := newTestApp(b, withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter})))
	names := make([]string, 9)
	for i := range names {
		names[i] = fmt.Sprintf("b%d", i+1)
	}
	for _, br := range a.createBranches(names...) {
		a.enableBetterAuthOn(br)
	}
	path := "/projects/" + a.projectID

	cache, err := neonapi.New("test-key", neonapi.WithBaseURL(a.NeonSrv.URL+"/api/v2"), neonapi.WithoutRateLimit(),
		neonapi.WithHTTPClient(&http.Client{Transport: counter}), neonapi.WithReadCache(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	cached := *a.Handler
	svc := neonauth.New(cache, testPools(b), neonauth.UserDBConfig{})
	cached.Auth, cached.Checks = svc, svc

	b.Run("sandbox-getProject", func(b *testing.B) {
		req, err := http.NewRequest(http.MethodGet, a.NeonSrv.URL+"/api/v2"+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer test-key")
		for b.Loop() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	for _, bc := range []struct {
		name   string
		h      *Handler
		badges bool
	}{{"cold", a.Handler, false}, {"cached", &cached, false}, {"cold+badges", a.Handler, true}, {"cached+badges", &cached, true}} {
		b.Run(bc.name, func(b *testing.B) {
			e := bc.h.Echo()
			view := func() {
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `data-testid="branch-row"`) != 10 {
					b.Fatalf("status %d, body %.300s", rec.Code, rec.Body.String())
				}
				if bc.badges {
					loadBadges(b, e, rec.Body.String())
				}
			}
			view() // the cached handler's first view fills its cache
			before := counter.Count()
			b.ReportAllocs()
			for b.Loop() {
				view()
			}
			b.ReportMetric(float64(counter.Count()-before)/float64(b.N), "neon-calls/op")
		})
	}
}

// loadBadges fetches every readiness badge the project page in body asks
// for, all at once, as htmx does when the page loads.
func loadBadges(b *testing.B, e http.Handler, body string) {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	var urls []string
	doc.Find(`[data-testid="readiness-slot"]`).Each(func(_ int, s *goquery.Selection) {
		u, _ := s.Attr("hx-get")
		urls = append(urls, u)
	})
	if len(urls) != 10 {
		b.Fatalf("%d readiness slots, want 10", len(urls))
	}
	var g errgroup.Group
	for _, u := range urls {
		g.Go(func() error {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("HX-Request", "true")
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="readiness-badge"`) {
				return fmt.Errorf("%s: status %d, body %.300s", u, rec.Code, rec.Body.String())
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// TestProjectsListReadsTheDefaultBranch: a row's branch-level badge comes
// from the default branch's getNeonAuth, once, beside the project-level one.
func TestProjectsListReadsTheDefaultBranch(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableBetterAuthOn(a.createBranches()["main"])

	r := a.get("/projects")
	r.wantStatus(t, http.StatusOK)
	badges := r.Doc.Find(`[data-testid="project-row"][data-project-id="` + a.projectID + `"] [data-testid="auth-badge"]`)
	if badges.Length() != 1 {
		t.Fatalf("%d badges, want one", badges.Length())
	}
	if p, _ := badges.Attr("data-provider"); p != string(authprovider.BetterAuth) {
		t.Errorf("badge provider = %q, want better_auth", p)
	}
}
