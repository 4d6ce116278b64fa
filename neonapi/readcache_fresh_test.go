package neonapi

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestFreshnessWindowKeepsAuthReads: with a freshness window, a branch's
// Neon Auth settings stay fresh past the TTL (no call), while other reads
// follow the TTL; a write through the client drops both at once.
func TestFreshnessWindowKeepsAuthReads(t *testing.T) {
	e := newCacheEnv(t)
	e.enableBetterAuth(e.p1.ID, e.p1.BranchID)
	c, w, clock := e.client(t, 15*time.Second, WithFreshness(10*time.Minute))
	ctx := context.Background()
	read := func() {
		t.Helper()
		if _, err := c.GetAllowLocalhost(ctx, e.p1.ID, e.p1.BranchID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetProject(ctx, e.p1.ID); err != nil {
			t.Fatal(err)
		}
	}
	settings := "GET /projects/" + e.p1.ID + "/branches/" + e.p1.BranchID + "/auth/allow_localhost"
	project := "GET /projects/" + e.p1.ID
	read()
	clock.advance(5 * time.Minute)
	sctx, fresh := TrackFreshness(ctx)
	if _, err := c.GetAllowLocalhost(sctx, e.p1.ID, e.p1.BranchID); err != nil {
		t.Fatal(err)
	}
	if _, stale := fresh.AsOf(); stale {
		t.Error("a settings read within the window was served stale, want fresh")
	}
	read()
	waitFor(t, func() bool { return w.count(project) == 2 }, "the project read past its TTL to be refreshed")
	if got := w.count(settings); got != 1 {
		t.Errorf("settings read %d times within the window, want 1", got)
	}

	if _, err := c.UpdateAllowLocalhost(ctx, e.p1.ID, e.p1.BranchID, true); err != nil {
		t.Fatal(err)
	}
	allow, err := c.GetAllowLocalhost(ctx, e.p1.ID, e.p1.BranchID)
	if err != nil || !allow {
		t.Fatalf("after the client's own write: allow = %v, %v; want the new value at once", allow, err)
	}
	if got := w.count(settings); got != 2 {
		t.Errorf("settings read %d times after the write, want 2 (read again at once)", got)
	}
}

// TestStaleReadServedWhileOneRefreshRuns: past its freshness an answer is
// served at once, marked stale on the request's Freshness, while exactly
// one background read refreshes it, however many callers ask; the refreshed
// answer then serves as fresh.
func TestStaleReadServedWhileOneRefreshRuns(t *testing.T) {
	e := newCacheEnv(t)
	c, w, clock := e.client(t, 15*time.Second, WithFreshness(10*time.Minute))
	ctx := context.Background()
	before, err := c.ListBranches(ctx, e.p1.ID)
	if err != nil {
		t.Fatal(err)
	}
	fetched := clock.now()
	if _, err := e.setup.CreateBranch(ctx, e.p1.ID, CreateBranchRequest{Name: "made-elsewhere"}); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Minute)

	entered := make(chan string, 8)
	hold := w.holdGets(entered)
	for range 5 {
		rctx, fresh := TrackFreshness(ctx)
		got, err := c.ListBranches(rctx, e.p1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(before) {
			t.Errorf("stale read: %d branches, want the kept %d", len(got), len(before))
		}
		if asOf, stale := fresh.AsOf(); !stale || !asOf.Equal(fetched) {
			t.Errorf("Freshness = %v, %v; want stale as of %v", asOf, stale, fetched)
		}
	}
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no background refresh reached Neon")
	}
	branches := "GET /projects/" + e.p1.ID + "/branches?limit=" + strconv.Itoa(branchPageSize)
	if got := w.count(branches); got != 2 {
		t.Errorf("five stale reads sent %d reads in all, want 2 (the first and one refresh)", got)
	}
	w.release()
	close(hold)
	waitFor(t, func() bool {
		rctx, fresh := TrackFreshness(ctx)
		got, err := c.ListBranches(rctx, e.p1.ID)
		_, stale := fresh.AsOf()
		return err == nil && len(got) == len(before)+1 && !stale
	}, "the refreshed answer to be served fresh")
}

// TestStaleReadsEndWithTheWindow: an answer older than its freshness plus
// the window is not served; the caller waits for Neon.
func TestStaleReadsEndWithTheWindow(t *testing.T) {
	e := newCacheEnv(t)
	c, w, clock := e.client(t, 15*time.Second, WithFreshness(time.Minute))
	ctx := context.Background()
	if _, err := c.GetProject(ctx, e.p1.ID); err != nil {
		t.Fatal(err)
	}
	clock.advance(15*time.Second + time.Minute)
	rctx, fresh := TrackFreshness(ctx)
	if _, err := c.GetProject(rctx, e.p1.ID); err != nil {
		t.Fatal(err)
	}
	if _, stale := fresh.AsOf(); stale {
		t.Error("an answer past the window was served stale")
	}
	if got := w.count("GET /projects/" + e.p1.ID); got != 2 {
		t.Errorf("reads = %d, want 2", got)
	}
}

// TestSpendCountsRequestsSent: Spend counts what reached Neon in the last
// minute, not cache hits, and reports the limiter's budget.
func TestSpendCountsRequestsSent(t *testing.T) {
	e := newCacheEnv(t)
	c, _, _ := e.client(t, time.Minute, WithRateLimit(175, 10))
	ctx := context.Background()
	for range 3 {
		if _, err := c.GetProject(ctx, e.p1.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetProject(ctx, e.p2.ID); err != nil {
		t.Fatal(err)
	}
	if s := c.Spend(); s.LastMinute != 2 || s.PerMinute != 175 {
		t.Errorf("Spend = %+v, want 2 requests of a 175/min budget", s)
	}
	m := newSpendMeter()
	now := time.Unix(1_000_000, 0)
	m.now = func() time.Time { return now }
	m.add()
	now = now.Add(59 * time.Second)
	m.add()
	if n := m.lastMinute(); n != 2 {
		t.Errorf("within a minute: %d, want 2", n)
	}
	now = now.Add(2 * time.Second)
	if n := m.lastMinute(); n != 1 {
		t.Errorf("a minute on: %d, want 1", n)
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBranchBelow(t *testing.T) {
	for path, want := range map[string]string{
		"/projects/p-1/branches/br-1/auth/domains": "/projects/p-1/branches/br-1/",
		"/projects/p-1/branches/br-1/auth":         "/projects/p-1/branches/br-1/",
		"/projects/p-1/branches/br-1/databases":    "/projects/p-1/branches/br-1/",
		"/projects/p-1/branches/br-1":              "", // the branch itself shows in the project's list
		"/projects/p-1/branches":                   "",
		"/projects/p-1":                            "",
		"/projects/auth/keys":                      "",
		"/projects/p-1/branches//auth":             "",
	} {
		if got := branchBelow(path); got != want {
			t.Errorf("branchBelow(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestWriteBelowABranchKeepsTheOtherBranches: a settings write on one
// branch drops that branch's reads, and keeps the project's own, which it
// cannot change, and what is kept about the project's other branches.
func TestWriteBelowABranchKeepsTheOtherBranches(t *testing.T) {
	e := newCacheEnv(t)
	ctx := context.Background()
	other, err := e.setup.CreateBranch(ctx, e.p1.ID, CreateBranchRequest{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{e.p1.BranchID, other.Branch.ID} {
		e.enableBetterAuth(e.p1.ID, b)
	}
	c, w, _ := e.client(t, time.Hour)
	readAll := func() {
		t.Helper()
		for _, b := range []string{e.p1.BranchID, other.Branch.ID} {
			if _, err := c.GetAllowLocalhost(ctx, e.p1.ID, b); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.GetProject(ctx, e.p1.ID); err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	if _, err := c.UpdateAllowLocalhost(ctx, e.p1.ID, e.p1.BranchID, false); err != nil {
		t.Fatal(err)
	}
	readAll()
	for key, want := range map[string]int{
		branchGet(e.p1.ID, e.p1.BranchID, "/auth/allow_localhost"):   2,
		"GET /projects/" + e.p1.ID:                                   1,
		branchGet(e.p1.ID, other.Branch.ID, "/auth/allow_localhost"): 1,
	} {
		if got := w.count(key); got != want {
			t.Errorf("%s: %d reads, want %d", key, got, want)
		}
	}
}
