package neonapi

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// fakeAPI counts upstream reads and can hold them until released.
type fakeAPI struct {
	API // nil: calls the tests do not expect panic

	mu      sync.Mutex
	calls   map[string]int
	fail    map[string]error // op → error for its next call
	gate    chan struct{}    // when non-nil, reads wait for it to close
	entered chan string      // receives the op of each read as it starts
	integr  map[string][]Integration
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{calls: map[string]int{}, fail: map[string]error{}, integr: map[string][]Integration{}}
}

func (f *fakeAPI) read(ctx context.Context, op string) error {
	f.mu.Lock()
	f.calls[op]++
	err := f.fail[op]
	delete(f.fail, op)
	gate, entered := f.gate, f.entered
	f.mu.Unlock()
	if entered != nil {
		entered <- op
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

func (f *fakeAPI) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeAPI) GetProject(ctx context.Context, id string) (*Project, error) {
	if err := f.read(ctx, "getProject:"+id); err != nil {
		return nil, err
	}
	return &Project{ID: id, Name: "name-" + id}, nil
}

func (f *fakeAPI) ListIntegrations(ctx context.Context, id string) ([]Integration, error) {
	// Snapshot before waiting, as a real answer reflects the state when the
	// request reached the server.
	f.mu.Lock()
	snapshot := append([]Integration(nil), f.integr[id]...)
	f.mu.Unlock()
	if err := f.read(ctx, "listIntegrations:"+id); err != nil {
		return nil, err
	}
	return snapshot, nil
}

func (f *fakeAPI) ListProjects(ctx context.Context, opts ListProjectsOptions) (*ProjectsPage, error) {
	if err := f.read(ctx, "listProjects:"+opts.Search); err != nil {
		return nil, err
	}
	return &ProjectsPage{Projects: []Project{{ID: "p1"}, {ID: "p2"}}, Cursor: "c"}, nil
}

func (f *fakeAPI) CreateIntegration(ctx context.Context, req CreateIntegrationRequest) (*IntegrationKeys, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.integr[req.ProjectID] = append(f.integr[req.ProjectID], Integration{AuthProvider: req.AuthProvider})
	return &IntegrationKeys{AuthProvider: req.AuthProvider}, nil
}

func (f *fakeAPI) TransferOwnership(ctx context.Context, req TransferRequest) (*TransferResponse, error) {
	return &TransferResponse{URL: "https://example.test/claim"}, nil
}

func (f *fakeAPI) CreateSDKKeys(ctx context.Context, req TransferRequest) (*IntegrationKeys, error) {
	return &IntegrationKeys{AuthProvider: req.AuthProvider, SecretServerKey: "ssk_fake"}, nil
}

func (f *fakeAPI) DeleteIntegration(ctx context.Context, projectID string, p authprovider.Provider, deleteData bool) error {
	return nil
}

func (f *fakeAPI) EnableBranchAuth(ctx context.Context, projectID, branchID string, req EnableBranchAuthRequest) (*IntegrationKeys, error) {
	return &IntegrationKeys{}, nil
}

func (f *fakeAPI) CreateBranch(ctx context.Context, projectID string, req CreateBranchRequest) (*CreatedBranch, error) {
	return &CreatedBranch{}, nil
}

func (f *fakeAPI) CreateDatabase(ctx context.Context, projectID, branchID string, req CreateDatabaseRequest) (*CreatedDatabase, error) {
	return &CreatedDatabase{}, nil
}

func (f *fakeAPI) CreateRole(ctx context.Context, projectID, branchID string, req CreateRoleRequest) (*CreatedRole, error) {
	return &CreatedRole{}, nil
}

func (f *fakeAPI) UpdateAuthConfig(ctx context.Context, projectID, branchID string, req AuthConfigUpdate) (*AuthConfig, error) {
	return &AuthConfig{Name: req.Name}, nil
}

func (f *fakeAPI) DisableBranchAuth(ctx context.Context, projectID, branchID string, deleteData bool) error {
	return errors.New("write failed after it may have applied")
}

// fakeClock is a settable clock for TTL tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestCache(f *fakeAPI, ttl time.Duration) (*Cache, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)}
	c := NewCache(f, ttl)
	c.now = clock.now
	return c, clock
}

func TestCacheCoalescesConcurrentReads(t *testing.T) {
	const callers = 20
	f := newFakeAPI()
	f.gate = make(chan struct{})
	// A zero TTL keeps nothing, so only coalescing can save upstream calls.
	c, _ := newTestCache(f, 0)
	var joined sync.WaitGroup
	joined.Add(callers)
	c.joined = joined.Done

	type result struct {
		p   *Project
		err error
	}
	results := make(chan result, callers)
	for range callers {
		go func() {
			p, err := c.GetProject(context.Background(), "p1")
			results <- result{p, err}
		}()
	}
	joined.Wait() // every caller is now waiting on the flight
	close(f.gate)
	for range callers {
		r := <-results
		if r.err != nil || r.p == nil || r.p.Name != "name-p1" {
			t.Fatalf("GetProject = %+v, %v; want project p1", r.p, r.err)
		}
	}
	if got := f.count("getProject:p1"); got != 1 {
		t.Errorf("upstream calls = %d, want 1 for %d concurrent callers", got, callers)
	}
}

func TestCacheExpiresAfterTTL(t *testing.T) {
	f := newFakeAPI()
	c, clock := newTestCache(f, 15*time.Second)
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
		if got := f.count("listProjects:x"); got != s.want {
			t.Errorf("step %d: upstream calls = %d, want %d", i, got, s.want)
		}
	}
	// A different query is a different entry.
	if _, err := c.ListProjects(ctx, ListProjectsOptions{Search: "y"}); err != nil {
		t.Fatal(err)
	}
	if got := f.count("listProjects:y"); got != 1 {
		t.Errorf("other search: upstream calls = %d, want 1", got)
	}
}

func TestCacheDoesNotKeepErrors(t *testing.T) {
	f := newFakeAPI()
	upstream := &APIError{StatusCode: 503, Message: "try later", RequestID: "req-1"}
	f.fail["getProject:p1"] = upstream
	c, _ := newTestCache(f, time.Minute)
	ctx := context.Background()

	_, err := c.GetProject(ctx, "p1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.RequestID != "req-1" || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first call error = %v, want the upstream APIError", err)
	}
	p, err := c.GetProject(ctx, "p1")
	if err != nil || p.ID != "p1" {
		t.Fatalf("second call = %+v, %v; want a fresh success", p, err)
	}
	if _, err := c.GetProject(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if got := f.count("getProject:p1"); got != 2 {
		t.Errorf("upstream calls = %d, want 2 (the error is retried, the success kept)", got)
	}
}

func TestCacheWritesInvalidateTheirProject(t *testing.T) {
	ctx := context.Background()
	writes := []struct {
		name  string
		write func(c *Cache) error
	}{
		{"CreateIntegration", func(c *Cache) error {
			_, err := c.CreateIntegration(ctx, CreateIntegrationRequest{ProjectID: "p1", AuthProvider: authprovider.Stack})
			return err
		}},
		{"TransferOwnership", func(c *Cache) error {
			_, err := c.TransferOwnership(ctx, TransferRequest{ProjectID: "p1", AuthProvider: authprovider.Stack})
			return err
		}},
		{"CreateSDKKeys", func(c *Cache) error {
			_, err := c.CreateSDKKeys(ctx, TransferRequest{ProjectID: "p1", AuthProvider: authprovider.Stack})
			return err
		}},
		{"DeleteIntegration", func(c *Cache) error { return c.DeleteIntegration(ctx, "p1", authprovider.Stack, true) }},
		{"EnableBranchAuth", func(c *Cache) error {
			_, err := c.EnableBranchAuth(ctx, "p1", "br-main", EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth})
			return err
		}},
		{"CreateBranch", func(c *Cache) error { _, err := c.CreateBranch(ctx, "p1", CreateBranchRequest{}); return err }},
		{"CreateDatabase", func(c *Cache) error {
			_, err := c.CreateDatabase(ctx, "p1", "br-main", CreateDatabaseRequest{Name: "d", OwnerName: "o"})
			return err
		}},
		{"CreateRole", func(c *Cache) error {
			_, err := c.CreateRole(ctx, "p1", "br-main", CreateRoleRequest{Name: "r"})
			return err
		}},
		{"UpdateAuthConfig", func(c *Cache) error {
			_, err := c.UpdateAuthConfig(ctx, "p1", "br-main", AuthConfigUpdate{Name: "App"})
			return err
		}},
		// A failed write still invalidates: it may have applied before failing.
		{"DisableBranchAuth (failing)", func(c *Cache) error {
			_ = c.DisableBranchAuth(ctx, "p1", "br-main", false)
			return nil
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			f := newFakeAPI()
			c, _ := newTestCache(f, time.Minute)
			for _, id := range []string{"p1", "p2", "p1", "p2"} {
				if _, err := c.ListIntegrations(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.write(c); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"p1", "p2"} {
				if _, err := c.ListIntegrations(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.count("listIntegrations:p1"); got != 2 {
				t.Errorf("p1 upstream calls = %d, want 2 (re-read after the write)", got)
			}
			if got := f.count("listIntegrations:p2"); got != 1 {
				t.Errorf("p2 upstream calls = %d, want 1 (another project stays cached)", got)
			}
		})
	}
}

func TestCacheShowsOwnWriteDespiteReadInFlight(t *testing.T) {
	f := newFakeAPI()
	gate := make(chan struct{})
	f.gate = gate
	f.entered = make(chan string, 4)
	c, _ := newTestCache(f, time.Minute)
	ctx := context.Background()

	// A read starts before the write and answers with the old state after it.
	stale := make(chan []Integration, 1)
	go func() {
		got, _ := c.ListIntegrations(ctx, "p1")
		stale <- got
	}()
	<-f.entered
	if _, err := c.CreateIntegration(ctx, CreateIntegrationRequest{ProjectID: "p1", AuthProvider: authprovider.Stack}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.gate = nil // reads from now on answer at once
	f.mu.Unlock()

	// A read after the write starts its own flight (joining the old one would
	// block here) and sees the write.
	got, err := c.ListIntegrations(ctx, "p1")
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
	got, err = c.ListIntegrations(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("after the stale read finished = %d integrations, want 1 (its answer must not be stored)", len(got))
	}
	if n := f.count("listIntegrations:p1"); n != 2 {
		t.Errorf("upstream calls = %d, want 2", n)
	}
}

func TestCacheHandsOutCopies(t *testing.T) {
	f := newFakeAPI()
	c, _ := newTestCache(f, time.Minute)
	ctx := context.Background()
	page, err := c.ListProjects(ctx, ListProjectsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	page.Projects[0].ID = "changed"
	page2, err := c.ListProjects(ctx, ListProjectsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if page2.Projects[0].ID != "p1" {
		t.Errorf("cached page was modified through a caller's copy: %q", page2.Projects[0].ID)
	}
	if got := f.count("listProjects:"); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}

func TestCacheCallerCancellationDoesNotFailOthers(t *testing.T) {
	f := newFakeAPI()
	f.gate = make(chan struct{})
	c, _ := newTestCache(f, time.Minute)
	var joined sync.WaitGroup
	joined.Add(2)
	c.joined = joined.Done

	ctx1, cancel := context.WithCancel(context.Background())
	err1 := make(chan error, 1)
	go func() { _, err := c.GetProject(ctx1, "p1"); err1 <- err }()
	res2 := make(chan error, 1)
	go func() { _, err := c.GetProject(context.Background(), "p1"); res2 <- err }()
	joined.Wait()
	cancel()
	if err := <-err1; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller got %v, want context.Canceled", err)
	}
	close(f.gate)
	if err := <-res2; err != nil {
		t.Errorf("other caller got %v, want the project", err)
	}
	if got := f.count("getProject:p1"); got != 1 {
		t.Errorf("upstream calls = %d, want 1", got)
	}
}
