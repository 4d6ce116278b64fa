package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

func TestProjectsListShowsNeonAuthState(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableStack()
	plain := a.createProject("plain-app")

	for _, path := range []string{"/", "/projects"} {
		r := a.get(path)
		r.wantStatus(t, http.StatusOK)
		rows := r.byTestID("project-row")
		if rows.Length() != 2 {
			t.Fatalf("%s: %d project rows, want 2", path, rows.Length())
		}
		demo := r.Doc.Find(`[data-testid="project-row"][data-project-id="` + a.projectID + `"]`)
		if got := strings.TrimSpace(demo.Find(`[data-testid="project-link"]`).Text()); got != "demo-app" {
			t.Errorf("%s: demo row name = %q", path, got)
		}
		if href, _ := demo.Find(`[data-testid="project-link"]`).Attr("href"); href != "/projects/"+a.projectID {
			t.Errorf("%s: demo row links to %q", path, href)
		}
		badge := demo.Find(`[data-testid="auth-badge"]`)
		if p, _ := badge.Attr("data-provider"); p != "stack" {
			t.Errorf("%s: demo row provider = %q, want stack", path, p)
		}
		if !strings.Contains(badge.Text(), "Neon-owned") {
			t.Errorf("%s: demo row badge %q does not say Neon-owned", path, badge.Text())
		}
		other := r.Doc.Find(`[data-testid="project-row"][data-project-id="` + plain.ID + `"]`)
		if other.Find(`[data-testid="auth-none"]`).Length() != 1 {
			t.Errorf("%s: plain-app row does not say Neon Auth is not enabled: %q", path, other.Text())
		}
	}
}

func TestProjectsSearch(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.createProject("billing-api")
	a.createProject("billing-worker")

	cases := []struct {
		name  string
		query string
		want  []string
	}{
		{"by name", "billing", []string{"billing-api", "billing-worker"}},
		{"by full name", "demo-app", []string{"demo-app"}},
		{"by id", a.projectID, []string{"demo-app"}},
		{"nothing", "no-such-thing", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/projects?q=" + url.QueryEscape(tc.query)
			for _, r := range []*testResponse{a.get(path), a.htmxGet(path, "project-list")} {
				r.wantStatus(t, http.StatusOK)
				got := rowNames(r)
				if strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("search %q = %v, want %v", tc.query, got, tc.want)
				}
				if len(tc.want) == 0 && !strings.Contains(r.text("projects-empty"), tc.query) {
					t.Errorf("empty result does not repeat the query: %q", r.text("projects-empty"))
				}
			}
		})
	}

	// The full page keeps the query in the box; the htmx answer is the list only.
	full := a.get("/projects?q=billing")
	if v, _ := full.Doc.Find(`input[name="q"]`).Attr("value"); v != "billing" {
		t.Errorf("search box value = %q, want billing", v)
	}
	frag := a.htmxGet("/projects?q=billing", "project-list")
	if frag.Doc.Find("html head title").Length() != 0 || frag.Doc.Find(`input[name="q"]`).Length() != 0 {
		t.Error("htmx search answered a full page, want the list fragment")
	}

	// An overlong query is cut to maxSearchLen bytes, never inside a character.
	long := a.get("/projects?q=" + url.QueryEscape("a"+strings.Repeat("é", maxSearchLen)))
	long.wantStatus(t, http.StatusOK)
	if v, _ := long.Doc.Find(`input[name="q"]`).Attr("value"); v != "a"+strings.Repeat("é", maxSearchLen/2-1) {
		t.Errorf("search box keeps %d bytes (valid UTF-8: %t), want %d", len(v), utf8.ValidString(v), maxSearchLen-1)
	}
}

func rowNames(r *testResponse) []string {
	var names []string
	r.byTestID("project-row").Each(func(_ int, s *goquery.Selection) {
		names = append(names, strings.TrimSpace(s.Find(`[data-testid="project-link"]`).Text()))
	})
	return names
}

// asRows parses a fragment of table rows in a table, as the browser does
// when htmx swaps it into one; outside a table the parser drops <tr>.
func (r *testResponse) asRows(t *testing.T) {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + r.Body + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	r.Doc = doc
}

func TestProjectsPagination(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	for _, n := range []string{"p-two", "p-three", "p-four", "p-five"} {
		a.createProject(n)
	}
	// Five projects, two per page: 2 + 2 + 1.
	first := a.get("/projects?limit=2")
	first.wantStatus(t, http.StatusOK)
	if got := rowNames(first); strings.Join(got, ",") != "demo-app,p-two" {
		t.Fatalf("page 1 = %v", got)
	}
	more, ok := first.byTestID("more-projects").Attr("href")
	if !ok || !strings.Contains(more, "cursor=") {
		t.Fatalf("page 1 has no next link (%q)", more)
	}

	// Without JavaScript the link is a page of its own, with a way back.
	second := a.get(more)
	second.wantStatus(t, http.StatusOK)
	if got := rowNames(second); strings.Join(got, ",") != "p-three,p-four" {
		t.Fatalf("page 2 = %v", got)
	}
	if href, _ := second.byTestID("first-page").Attr("href"); href != "/projects?limit=2" {
		t.Errorf("page 2 first-page link = %q", href)
	}

	// htmx "load more" gets the next rows plus a new "more" row, no table.
	frag := a.htmxGet(more, "more-row")
	frag.wantStatus(t, http.StatusOK)
	if strings.Contains(frag.Body, "<table") || !strings.HasPrefix(strings.TrimSpace(frag.Body), "<tr") {
		t.Errorf("load-more fragment is not rows only: %.200s", frag.Body)
	}
	frag.asRows(t)
	if got := rowNames(frag); strings.Join(got, ",") != "p-three,p-four" {
		t.Errorf("load-more rows = %v", got)
	}
	last, _ := frag.byTestID("more-projects").Attr("href")
	third := a.htmxGet(last, "more-row")
	third.asRows(t)
	if got := rowNames(third); strings.Join(got, ",") != "p-five" {
		t.Errorf("last page = %v", got)
	}
	if third.byTestID("more-projects").Length() != 0 {
		t.Error("the last page still offers more")
	}
}

func TestProjectsRowLookupFailureDegradesTheRow(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableStack()
	// Every integrations lookup fails beyond the client's retries.
	a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/auth/integrations"})

	r := a.get("/projects")
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("project-row").Length() != 1 {
		t.Fatalf("rows = %d, want the project listed despite the failed lookup", r.byTestID("project-row").Length())
	}
	if r.byTestID("auth-error").Length() != 1 {
		t.Errorf("row does not say its lookup failed: %q", r.text("auth-state"))
	}
	if !strings.Contains(r.text("auth-state"), "request id") {
		t.Errorf("row error has no request id: %q", r.text("auth-state"))
	}
}

func TestProjectsListFailureShowsNeonError(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/projects"})

	r := a.get("/projects")
	r.wantStatus(t, http.StatusBadGateway)
	if r.byTestID("api-error").Length() != 1 {
		t.Fatalf("no error box; body: %s", r.Body)
	}
	if r.text("request-id") == "" {
		t.Error("error box has no request id")
	}
	if r.Doc.Find(`input[name="q"]`).Length() != 1 {
		t.Error("the page around the failed list is missing")
	}
}

// benchProjects is how many projects the projects-page benchmarks list.
const benchProjects = 10

// newProjectsBench seeds benchProjects projects, half with Neon Auth, and
// returns the dashboard's handler, warmed once.
func newProjectsBench(b *testing.B, opts ...appOption) http.Handler {
	a := newTestApp(b, opts...)
	a.enableStack()
	for i := 1; i < benchProjects; i++ {
		p := a.createProject(fmt.Sprintf("bench-%02d", i))
		if i%2 == 0 {
			a.projectID, a.project = p.ID, p
			a.enableStack()
		}
	}
	e := a.Handler.Echo()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/projects", nil))
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `data-testid="project-row"`) != benchProjects {
		b.Fatalf("warm-up: status %d, body %.300s", rec.Code, rec.Body.String())
	}
	return e
}

func benchProjectsPage(b *testing.B, e http.Handler) {
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/projects", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkProjectsPageCached serves the projects page (one listProjects and
// one listNeonAuthIntegrations per row) from the cache: the dashboard's own
// cost per page view.
func BenchmarkProjectsPageCached(b *testing.B) {
	benchProjectsPage(b, newProjectsBench(b, withCache(time.Hour)))
}

// BenchmarkProjectsPageUncached is the same page with every read going to the
// local sandbox over HTTP, for comparison.
func BenchmarkProjectsPageUncached(b *testing.B) {
	benchProjectsPage(b, newProjectsBench(b))
}
