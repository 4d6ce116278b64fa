package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// badgeURL is the readiness badge fragment of a branch of the seeded project.
func (a *testApp) badgeURL(branchID string) string { return a.readinessURL(branchID) + "/badge" }

// badgeStatus loads a branch's badge fragment as htmx does and returns the
// badge's data-status, failing the test unless it links to the checklist.
func (a *testApp) badgeStatus(t *testing.T, branchID string) string {
	t.Helper()
	r := a.htmxGet(a.badgeURL(branchID), "")
	r.wantStatus(t, http.StatusOK)
	if href, _ := r.byTestID("readiness-link").Attr("href"); href != a.readinessURL(branchID) {
		t.Errorf("badge links to %q, want the checklist %q", href, a.readinessURL(branchID))
	}
	s, _ := r.byTestID("readiness-badge").Attr("data-status")
	return s
}

// TestReadinessBadgeFragment: a fresh Better Auth branch's badge is red; once
// every check is fixed through the API it is green.
func TestReadinessBadgeFragment(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableBetterAuth()
	bid := a.project.BranchID
	if s := a.badgeStatus(t, bid); s != "red" {
		t.Errorf("fresh branch: badge %q, want red", s)
	}
	a.fixReadiness(a.Neon, bid)
	if s := a.badgeStatus(t, bid); s != "green" {
		t.Errorf("after the fixes: badge %q, want green", s)
	}
}

// TestReadinessBadgeFollowsWritesThroughTheCache: with the cache in front
// of Neon, fixes made through it show on the next badge at once.
func TestReadinessBadgeFollowsWritesThroughTheCache(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(time.Hour))
	a.enableBetterAuth()
	bid := a.project.BranchID
	if s := a.badgeStatus(t, bid); s != "red" {
		t.Errorf("fresh branch: badge %q, want red", s)
	}
	a.fixReadiness(a.Handler.Neon.(*neonapi.Cache), bid)
	if s := a.badgeStatus(t, bid); s != "green" {
		t.Errorf("after the fixes through the cache: badge %q, want green", s)
	}
}

// TestReadinessBadgeFailures: a failed settings read answers with its status
// (the layout's htmx config swaps it in) and an "unavailable" badge whose
// tooltip carries Neon's request id; a branch without branch-level Neon
// Auth and a malformed id are 404s.
func TestReadinessBadgeFailures(t *testing.T) {
	t.Parallel()
	t.Run("a settings read fails", func(t *testing.T) {
		a := newTestApp(t)
		a.enableBetterAuth()
		a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/auth/email_provider"})
		r := a.htmxGet(a.badgeURL(a.project.BranchID), "")
		r.wantStatus(t, http.StatusBadGateway)
		title, _ := r.byTestID("readiness-unavailable").Attr("title")
		if !strings.Contains(title, "request id ") || !strings.Contains(r.text("readiness-unavailable"), "unavailable") {
			t.Errorf("unavailable badge = %q, title %q: want Neon's request id", r.text("readiness-unavailable"), title)
		}
		if r.byTestID("readiness-badge").Length() != 0 {
			t.Error("a verdict was shown from part of the settings")
		}
	})
	t.Run("no branch-level Neon Auth", func(t *testing.T) {
		a := newTestApp(t)
		a.enableStack()
		r := a.htmxGet(a.badgeURL(a.project.BranchID), "")
		r.wantStatus(t, http.StatusNotFound)
		if title, _ := r.byTestID("readiness-unavailable").Attr("title"); !strings.Contains(title, "not enabled") {
			t.Errorf("title = %q", title)
		}
	})
	t.Run("malformed branch id", func(t *testing.T) {
		a := newTestApp(t)
		a.htmxGet(a.badgeURL("NOT_AN_ID"), "").wantStatus(t, http.StatusNotFound)
	})
}

// TestProjectPageLoadsBadgesLazily: each row with branch-level Better Auth
// gets a slot that loads its badge after the page, with a plain link to the
// checklist until then, and a settings link; rows without it get neither.
// The caption links to the comparison once there are two branches.
func TestProjectPageLoadsBadgesLazily(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	if r := a.get("/projects/" + a.projectID); r.byTestID("compare-link").Length() != 0 {
		t.Error("a project with one branch offers a comparison")
	}
	branches := a.createBranches("dev", "qa")
	a.enableBetterAuthOn(branches["dev"])
	a.enableBetterAuthOn(branches["qa"])

	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)
	if href, _ := r.byTestID("compare-link").Attr("href"); href != "/projects/"+a.projectID+"/auth/compare" {
		t.Errorf("compare link = %q", href)
	}
	for _, name := range []string{"dev", "qa"} {
		b := branches[name]
		slot := r.branchRow(b).Find(`[data-testid="readiness-slot"]`)
		if get, _ := slot.Attr("hx-get"); get != a.badgeURL(b.ID) {
			t.Errorf("%s: slot loads %q, want %q", name, get, a.badgeURL(b.ID))
		}
		if trigger, _ := slot.Attr("hx-trigger"); trigger != "load" {
			t.Errorf("%s: slot trigger %q, want load", name, trigger)
		}
		if href, _ := slot.Find(`[data-testid="readiness-check-link"]`).Attr("href"); href != a.readinessURL(b.ID) {
			t.Errorf("%s: fallback link %q", name, href)
		}
		if slot.Find(".htmx-indicator").Length() != 1 {
			t.Errorf("%s: no loading indicator", name)
		}
		if r.branchRow(b).Find(`[data-testid="readiness-badge"]`).Length() != 0 {
			t.Errorf("%s: the page waited for the badge", name)
		}
		want := "/projects/" + a.projectID + "/branches/" + b.ID + "/auth/settings/domains"
		if href, _ := r.branchRow(b).Find(`[data-testid="branch-settings-link"]`).Attr("href"); href != want {
			t.Errorf("%s: settings link %q, want %q", name, href, want)
		}
	}
	main := r.branchRow(branches["main"])
	if main.Find(`[data-testid="readiness-slot"]`).Length() != 0 || main.Find(`[data-testid="branch-settings-link"]`).Length() != 0 {
		t.Error("the branch without Neon Auth has a readiness slot or settings link")
	}
}

// TestProjectPageWithStackAuthHasNoBadge: project-level Stack Auth has no
// branch settings, so its row gets no slot.
func TestProjectPageWithStackAuthHasNoBadge(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableStack()
	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("readiness-slot").Length() != 0 || r.byTestID("branch-settings-link").Length() != 0 {
		t.Error("a Stack Auth row has a readiness slot or settings link")
	}
}

// TestProjectPageBadgesNeonCalls counts what a project page with ten
// branches, Better Auth on all of them, costs with every badge loaded: the
// page, then the badges cold (nine reads a branch: the branch and its
// integration, then seven settings; getNeonAuth is cached by the page), then
// the same view again, which Neon never hears of.
func TestProjectPageBadgesNeonCalls(t *testing.T) {
	t.Parallel()
	counter := &neontest.Requests{}
	a := newTestApp(t, withCache(time.Hour), withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter})))
	names := make([]string, 9)
	for i := range names {
		names[i] = fmt.Sprintf("b%d", i+1)
	}
	branches := a.createBranches(names...)
	for _, b := range branches {
		a.enableBetterAuthOn(b)
	}
	view := func() (page, badges int) {
		counter.Take()
		r := a.get("/projects/" + a.projectID)
		r.wantStatus(t, http.StatusOK)
		page = len(counter.Take())
		slots := r.byTestID("readiness-slot")
		if slots.Length() != 10 {
			t.Fatalf("%d readiness slots, want 10", slots.Length())
		}
		for i := range slots.Length() {
			get, _ := slots.Eq(i).Attr("hx-get")
			br := a.htmxGet(get, "")
			br.wantStatus(t, http.StatusOK)
			if br.byTestID("readiness-badge").Length() != 1 {
				t.Fatalf("%s: no badge", get)
			}
		}
		return page, len(counter.Take())
	}
	page, badges := view()
	t.Logf("cold: page %d Neon calls, badges %d", page, badges)
	if page != 15 || badges != 80 {
		t.Errorf("cold: page %d calls, badges %d, want 15 and 80 (8 a branch)", page, badges)
	}
	page, badges = view()
	t.Logf("warm: page %d Neon calls, badges %d", page, badges)
	if page != 0 || badges != 0 {
		t.Errorf("warm: page %d calls, badges %d, want none", page, badges)
	}
}

// countingChecks counts readiness reads, retries included.
type countingChecks struct {
	BranchChecks
	reads atomic.Int64
}

func (c *countingChecks) BranchReadiness(ctx context.Context, projectID, branchID string) (*neonauth.Readiness, error) {
	c.reads.Add(1)
	return c.BranchChecks.BranchReadiness(ctx, projectID, branchID)
}

// TestReadinessBadgesWaitForTheRateLimiter: ten cold badges at once ask
// for more reads than the client-side rate limiter lets out in its queue
// time; the reads it sheds are asked again, so every badge still arrives,
// and Neon hears each read once.
func TestReadinessBadgesWaitForTheRateLimiter(t *testing.T) {
	t.Parallel()
	counter := &neontest.Requests{}
	checks := &countingChecks{}
	a := newTestApp(t, withCache(time.Hour),
		withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter}), neonapi.WithRateLimit(3000, 10)),
		withHandler(func(h *Handler) { checks.BranchChecks = h.Checks; h.Checks = checks }))
	names := make([]string, 9)
	for i := range names {
		names[i] = fmt.Sprintf("b%d", i+1)
	}
	for _, b := range a.createBranches(names...) {
		a.enableBetterAuthOn(b)
	}
	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)
	counter.Take()
	var g errgroup.Group
	r.byTestID("readiness-slot").Each(func(_ int, s *goquery.Selection) {
		get, _ := s.Attr("hx-get")
		g.Go(func() error {
			br := a.htmxGet(get, "")
			if br.Status != http.StatusOK || br.byTestID("readiness-badge").Length() != 1 {
				return fmt.Errorf("%s: status %d, %q", get, br.Status, strings.Join(strings.Fields(br.Doc.Text()), " "))
			}
			return nil
		})
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := len(counter.Take()); n != 80 {
		t.Errorf("Neon heard %d reads for ten badges, want 80: shed reads never reach it, and reads that did are not repeated", n)
	}
	if n := checks.reads.Load(); n <= 10 {
		t.Errorf("%d readiness reads for ten badges: the limiter shed nothing, so this test proves nothing; tighten its rate limit", n)
	} else {
		t.Logf("%d readiness reads for ten badges: %d retried after the limiter shed them", n, n-10)
	}
}
