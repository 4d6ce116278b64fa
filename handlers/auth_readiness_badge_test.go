package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
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
	a.fixReadiness(a.API, bid)
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
// gets a slot that loads its badge once the row is scrolled into view
// (htmx's intersect, once), with a plain link to the checklist until then,
// and a settings link; rows without it get neither.
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
		if trigger, _ := slot.Attr("hx-trigger"); trigger != "intersect once" {
			t.Errorf("%s: slot trigger %q, want intersect once", name, trigger)
		}
		if swap, _ := slot.Attr("hx-swap"); swap != "outerHTML" {
			t.Errorf("%s: slot swap %q, want outerHTML (a loaded badge must not load again)", name, swap)
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

// TestReadinessBadgeShedsAtOnce: with no room in the rate budget, a badge
// does not wait for it. It answers at once with 503, a Retry-After and a
// "busy" slot that asks again once by itself, after the hint and some
// jitter; refused again, it waits for a click. Neon hears nothing of either.
func TestReadinessBadgeShedsAtOnce(t *testing.T) {
	t.Parallel()
	counter := &neontest.Requests{}
	// A token every five seconds: enabling Neon Auth spends the only one.
	a := newTestApp(t, withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter}), neonapi.WithRateLimit(12, 1)))
	a.enableBetterAuth()
	counter.Take()
	badge := a.badgeURL(a.project.BranchID)

	start := time.Now()
	r := a.htmxGet(badge, "")
	took := time.Since(start)
	r.wantStatus(t, http.StatusServiceUnavailable)
	if took > 500*time.Millisecond {
		t.Errorf("the shed badge took %v, want an answer at once", took)
	}
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 5 {
		t.Errorf("Retry-After %q, want the seconds until the next token (1-5)", r.Header.Get("Retry-After"))
	}
	slot := r.byTestID("readiness-busy")
	if get, _ := slot.Attr("hx-get"); get != badge+"?retry=1" {
		t.Errorf("busy slot asks again at %q, want %q", get, badge+"?retry=1")
	}
	trigger, _ := slot.Attr("hx-trigger")
	var delay int
	if _, err := fmt.Sscanf(trigger, "load delay:%dms", &delay); err != nil || delay < retry*1000 || delay >= 2*retry*1000 {
		t.Errorf("busy slot trigger %q, want a load delay from Retry-After (%ds) to twice it", trigger, retry)
	}
	if title, _ := r.byTestID("readiness-unavailable").Attr("title"); !strings.Contains(title, "busy") {
		t.Errorf("busy badge title %q, want it to say the dashboard is busy", title)
	}
	if r.byTestID("readiness-badge").Length() != 0 || r.byTestID("readiness-retry").Length() != 0 {
		t.Error("the first refusal shows a verdict or waits for a click")
	}

	again := a.htmxGet(badge+"?retry=1", "")
	again.wantStatus(t, http.StatusServiceUnavailable)
	if again.Header.Get("Retry-After") == "" {
		t.Error("the second refusal has no Retry-After")
	}
	if _, ok := again.byTestID("readiness-busy").Attr("hx-trigger"); ok {
		t.Error("the second refusal asks again by itself")
	}
	button := again.byTestID("readiness-retry")
	if get, _ := button.Attr("hx-get"); get != badge+"?retry=1" {
		t.Errorf("retry button asks at %q, want %q", get, badge+"?retry=1")
	}
	if target, _ := button.Attr("hx-target"); target != "closest .readiness-slot" {
		t.Errorf("retry button replaces %q, want its slot", target)
	}
	if calls := counter.Take(); len(calls) != 0 {
		t.Errorf("Neon heard %v from refused badges, want nothing", calls)
	}
}

// TestReadinessBadgeRecoversOnceTheLoadStops floods the project page and
// its badge: every badge answers at once, with its verdict or shed, and
// once the flood stops the next badge asked for is a verdict, with no
// backlog of waiting badges ahead of it.
func TestReadinessBadgeRecoversOnceTheLoadStops(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withNeonClient("test-key", neonapi.WithRateLimit(6000, 20))) // 100 a second
	a.enableBetterAuth()
	badge := a.Server.URL + a.badgeURL(a.project.BranchID)
	page := a.Server.URL + "/projects/" + a.projectID
	get := func(ctx context.Context, url string) (status int, retryAfter string, err error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("HX-Request", "true")
		res, err := a.Client.Do(req)
		if err != nil {
			return 0, "", err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Retry-After"), nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var (
		mu      sync.Mutex
		slowest time.Duration
		shed    int
		other   []string
	)
	var g errgroup.Group
	for w := range 16 {
		g.Go(func() error {
			for i := w; ctx.Err() == nil; i++ {
				if i%2 == 0 {
					_, _, _ = get(ctx, page)
					continue
				}
				start := time.Now()
				status, retryAfter, err := get(ctx, badge)
				took := time.Since(start)
				if ctx.Err() != nil {
					return nil
				}
				mu.Lock()
				slowest = max(slowest, took)
				switch {
				case err != nil:
					other = append(other, err.Error())
				case status == http.StatusServiceUnavailable && retryAfter != "":
					shed++
				case status != http.StatusOK:
					other = append(other, strconv.Itoa(status))
				}
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	stopped := time.Now()
	t.Logf("under load: %d badges shed, slowest badge answer %v", shed, slowest)
	if len(other) > 0 {
		t.Errorf("badges under load answered %v, want each a verdict or shed with Retry-After", other)
	}
	if shed == 0 {
		t.Fatal("no badge was shed: the load did not exhaust the rate budget, so this test proves nothing")
	}
	if slowest > time.Second {
		t.Errorf("the slowest badge under load took %v, want every one answered at once", slowest)
	}

	for {
		status, _, err := get(context.Background(), badge)
		if err == nil && status == http.StatusOK {
			break
		}
		if time.Since(stopped) > 5*time.Second {
			t.Fatalf("no verdict within 5s of the load stopping (last: %d, %v)", status, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	recovery := time.Since(stopped)
	t.Logf("first verdict %v after the load stopped", recovery)
	if recovery > time.Second {
		t.Errorf("first verdict %v after the load stopped, want under a second", recovery)
	}
}
