package neonapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

func TestReadCacheMergesConcurrentReads(t *testing.T) {
	const callers = 20
	e := newCacheEnv(t)
	c, w, _ := e.client(t, time.Minute)
	release := w.holdGets(nil)
	var joined sync.WaitGroup
	joined.Add(callers)
	c.cache.joined = joined.Done

	type result struct {
		p   *Project
		err error
	}
	results := make(chan result, callers)
	for range callers {
		go func() {
			p, err := c.GetProject(context.Background(), e.p1.ID)
			results <- result{p, err}
		}()
	}
	joined.Wait() // every caller is now waiting on the flight
	close(release)
	for range callers {
		r := <-results
		if r.err != nil || r.p == nil || r.p.Name != "one" {
			t.Fatalf("GetProject = %+v, %v; want project one", r.p, r.err)
		}
	}
	if got := w.count("GET /projects/" + e.p1.ID); got != 1 {
		t.Errorf("upstream calls = %d, want 1 for %d concurrent callers", got, callers)
	}
}

func TestReadCacheExpiresAfterTTL(t *testing.T) {
	e := newCacheEnv(t)
	c, w, clock := e.client(t, 15*time.Second)
	ctx := context.Background()

	steps := []struct {
		advance time.Duration
		want    int
	}{
		{0, 1},
		{5 * time.Second, 1},
		{9*time.Second + 999*time.Millisecond, 1},
		{time.Millisecond, 2}, // exactly at the TTL the entry is stale
		{14 * time.Second, 2},
		{time.Second, 3},
	}
	for i, s := range steps {
		clock.advance(s.advance)
		if _, err := c.ListProjects(ctx, ListProjectsOptions{Search: "x"}); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := w.count("GET /projects?search=x"); got != s.want {
			t.Errorf("step %d: upstream calls = %d, want %d", i, got, s.want)
		}
	}
	// A different query is a different entry.
	if _, err := c.ListProjects(ctx, ListProjectsOptions{Search: "y"}); err != nil {
		t.Fatal(err)
	}
	if got := w.count("GET /projects?search=y"); got != 1 {
		t.Errorf("other search: upstream calls = %d, want 1", got)
	}
}

func TestReadCacheDoesNotKeepErrors(t *testing.T) {
	e := newCacheEnv(t)
	c, w, _ := e.client(t, time.Minute)
	ctx := context.Background()
	e.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, PathContains: "/projects/" + e.p1.ID, Method: http.MethodGet})

	_, err := c.GetProject(WithRequestID(ctx, "req-1"), e.p1.ID)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.RequestID != "req-1" || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first call error = %v, want Neon's 503 with request id req-1", err)
	}
	p, err := c.GetProject(ctx, e.p1.ID)
	if err != nil || p.ID != e.p1.ID {
		t.Fatalf("second call = %+v, %v; want a fresh success", p, err)
	}
	if _, err := c.GetProject(ctx, e.p1.ID); err != nil {
		t.Fatal(err)
	}
	if got := w.count("GET /projects/" + e.p1.ID); got != 2 {
		t.Errorf("upstream calls = %d, want 2 (the error is retried, the success kept)", got)
	}
}

// TestReadCacheWritesInvalidateTheirProject makes each kind of write for
// real, one after the other on the first project, each with a cache of its
// own; the last one applies but loses its answer.
func TestReadCacheWritesInvalidateTheirProject(t *testing.T) {
	e := newCacheEnv(t)
	ctx := context.Background()
	p := e.p1
	stack := TransferRequest{ProjectID: p.ID, AuthProvider: authprovider.Stack}
	writes := []struct {
		name  string
		write func(c *Client) error
	}{
		{"CreateIntegration", func(c *Client) error {
			_, err := c.CreateIntegration(ctx, CreateIntegrationRequest{ProjectID: p.ID, BranchID: p.BranchID,
				AuthProvider: authprovider.Stack, DatabaseName: p.DatabaseName, RoleName: p.RoleName})
			return err
		}},
		{"TransferOwnership", func(c *Client) error { _, err := c.TransferOwnership(ctx, stack); return err }},
		{"CreateSDKKeys", func(c *Client) error { _, err := c.CreateSDKKeys(ctx, stack); return err }},
		{"DeleteIntegration", func(c *Client) error { return c.DeleteIntegration(ctx, p.ID, authprovider.Stack, true) }},
		{"EnableBranchAuth", func(c *Client) error {
			_, err := c.EnableBranchAuth(ctx, p.ID, p.BranchID, EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth})
			return err
		}},
		{"CreateBranch", func(c *Client) error { _, err := c.CreateBranch(ctx, p.ID, CreateBranchRequest{}); return err }},
		{"CreateRole", func(c *Client) error {
			_, err := c.CreateRole(ctx, p.ID, p.BranchID, CreateRoleRequest{Name: "r"})
			return err
		}},
		{"CreateDatabase", func(c *Client) error {
			_, err := c.CreateDatabase(ctx, p.ID, p.BranchID, CreateDatabaseRequest{Name: "d", OwnerName: "r"})
			return err
		}},
		{"UpdateAuthConfig", func(c *Client) error {
			_, err := c.UpdateAuthConfig(ctx, p.ID, p.BranchID, AuthConfigUpdate{Name: "App"})
			return err
		}},
		// A failed write still invalidates: it may have applied before failing.
		{"DisableBranchAuth (applied, answer lost)", func(c *Client) error {
			e.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultDropAfter, Method: http.MethodDelete})
			if err := c.DisableBranchAuth(ctx, p.ID, p.BranchID, false); err == nil {
				return errors.New("it succeeded, want the dropped answer's error")
			}
			return nil
		}},
	}
	for _, wr := range writes {
		t.Run(wr.name, func(t *testing.T) {
			c, w, _ := e.client(t, time.Minute)
			for _, id := range []string{e.p1.ID, e.p2.ID, e.p1.ID, e.p2.ID} {
				if _, err := c.ListIntegrations(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			if err := wr.write(c); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{e.p1.ID, e.p2.ID} {
				if _, err := c.ListIntegrations(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			if got := w.count("GET /projects/" + e.p1.ID + "/auth/integrations"); got != 2 {
				t.Errorf("p1 upstream calls = %d, want 2 (re-read after the write)", got)
			}
			if got := w.count("GET /projects/" + e.p2.ID + "/auth/integrations"); got != 1 {
				t.Errorf("p2 upstream calls = %d, want 1 (another project stays cached)", got)
			}
		})
	}
}

func TestReadCacheShowsOwnWriteDespiteReadInFlight(t *testing.T) {
	e := newCacheEnv(t)
	c, w, _ := e.client(t, time.Minute)
	ctx := context.Background()
	p := e.p1
	entered := make(chan string, 4)
	gate := w.holdGets(entered)

	// A read starts before the write and answers with the old state after it.
	stale := make(chan []Integration, 1)
	go func() {
		got, _ := c.ListIntegrations(ctx, p.ID)
		stale <- got
	}()
	<-entered
	if _, err := c.CreateIntegration(ctx, CreateIntegrationRequest{ProjectID: p.ID, BranchID: p.BranchID,
		AuthProvider: authprovider.Stack, DatabaseName: p.DatabaseName, RoleName: p.RoleName}); err != nil {
		t.Fatal(err)
	}
	w.release() // reads from now on answer at once

	// A read after the write starts its own flight (joining the old one would
	// block here until the deadline) and sees the write.
	after, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := c.ListIntegrations(after, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("read after write = %d integrations, want 1", len(got))
	}

	close(gate)
	if old := <-stale; len(old) != 0 {
		t.Fatalf("stale read = %d integrations, want 0 (it began before the write)", len(old))
	}
	got, err = c.ListIntegrations(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("after the stale read finished = %d integrations, want 1 (its answer must not be stored)", len(got))
	}
	if n := w.count("GET /projects/" + p.ID + "/auth/integrations"); n != 2 {
		t.Errorf("upstream calls = %d, want 2", n)
	}
}

func TestReadCacheHandsOutCopies(t *testing.T) {
	e := newCacheEnv(t)
	c, w, _ := e.client(t, time.Minute)
	ctx := context.Background()
	page, err := c.ListProjects(ctx, ListProjectsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := page.Projects[0].ID
	page.Projects[0].ID = "changed"
	page2, err := c.ListProjects(ctx, ListProjectsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if page2.Projects[0].ID != want {
		t.Errorf("cached page was modified through a caller's copy: %q", page2.Projects[0].ID)
	}
	if got := w.count("GET /projects"); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}

func TestReadCacheCallerCancellationDoesNotFailOthers(t *testing.T) {
	e := newCacheEnv(t)
	c, w, _ := e.client(t, time.Minute)
	release := w.holdGets(nil)
	var joined sync.WaitGroup
	joined.Add(2)
	c.cache.joined = joined.Done

	ctx1, cancel := context.WithCancel(context.Background())
	err1 := make(chan error, 1)
	go func() { _, err := c.GetProject(ctx1, e.p1.ID); err1 <- err }()
	res2 := make(chan error, 1)
	go func() { _, err := c.GetProject(context.Background(), e.p1.ID); res2 <- err }()
	joined.Wait()
	cancel()
	if err := <-err1; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller got %v, want context.Canceled", err)
	}
	close(release)
	if err := <-res2; err != nil {
		t.Errorf("other caller got %v, want the project", err)
	}
	if got := w.count("GET /projects/" + e.p1.ID); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}

// callCounter is an Observer counting ObserveCall.
type callCounter struct {
	nopObserver
	mu    sync.Mutex
	calls int
}

func (o *callCounter) ObserveCall(string, int, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
}

func (o *callCounter) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls
}

// TestReadCacheHitCostsNothing: a hit sends nothing, takes no token from the
// rate limiter and reports no call to the Observer.
func TestReadCacheHitCostsNothing(t *testing.T) {
	e := newCacheEnv(t)
	obs := &callCounter{}
	// One request a minute: a second request would wait a minute for its token.
	c, w, _ := e.client(t, time.Minute, WithRateLimit(1, 1), WithObserver(obs))
	if _, err := c.GetProject(context.Background(), e.p1.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for range 3 {
		if _, err := c.GetProject(ctx, e.p1.ID); err != nil {
			t.Fatalf("cached read: %v, want the project without waiting for a token", err)
		}
	}
	if got := w.count("GET /projects/" + e.p1.ID); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
	if n := obs.count(); n != 1 {
		t.Errorf("ObserveCall reported %d calls, want 1: hits are not calls", n)
	}
}

// TestReadCacheOff: without a TTL the client keeps nothing.
func TestReadCacheOff(t *testing.T) {
	e := newCacheEnv(t)
	for _, ttl := range []time.Duration{0, -time.Second} {
		c, w, _ := e.client(t, ttl)
		if c.cache != nil {
			t.Fatalf("WithReadCache(%v) made a cache", ttl)
		}
		for range 2 {
			if _, err := c.GetProject(context.Background(), e.p1.ID); err != nil {
				t.Fatal(err)
			}
		}
		if got := w.count("GET /projects/" + e.p1.ID); got != 2 {
			t.Errorf("WithReadCache(%v): upstream calls = %d, want 2", ttl, got)
		}
	}
}

func TestProjectOf(t *testing.T) {
	for path, want := range map[string]string{
		"/projects":                          "",
		"/auth":                              "",
		"/users/me":                          "",
		"/projects/p-1":                      "p-1",
		"/projects/p-1/branches/br-1/auth":   "p-1",
		"/projects/a%2Fb/branches":           "a/b",
		"/projects/shared":                   "shared",
		"/projects/auth/create":              "auth",
		"/organizations/org-1/projects/p-1/": "",
	} {
		if got := projectOf(path); got != want {
			t.Errorf("projectOf(%q) = %q, want %q", path, got, want)
		}
	}
	if got := bodyProject(TransferRequest{ProjectID: "p-1"}); got != "p-1" {
		t.Errorf("bodyProject = %q, want p-1", got)
	}
	if got := bodyProject([]string{"p-1"}); got != "" {
		t.Errorf("bodyProject of an array = %q, want none", got)
	}
}
