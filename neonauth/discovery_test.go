package neonauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// discoveryEnv is a sandbox project with branches, and a Service reading it
// over HTTP through client options the test picks.
type discoveryEnv struct {
	sb       *sandbox.Sandbox
	srv      string // the API base
	neon     *neonapi.Client
	project  sandbox.CreatedProject
	branches map[string]neonapi.Branch // by name, "main" included
}

// newDiscoveryEnv seeds a project whose default branch "main" has the extra
// branches named; a name ending in "!" makes a protected branch.
func newDiscoveryEnv(t *testing.T, extra ...string) *discoveryEnv {
	t.Helper()
	ctx := context.Background()
	sb, srv := neontest.StartSandbox(t, -1)
	e := &discoveryEnv{sb: sb, srv: srv.URL + "/api/v2", branches: map[string]neonapi.Branch{}}
	e.neon = e.client(t, nil)
	p, err := sb.CreateProject(ctx, "discovery")
	if err != nil {
		t.Fatal(err)
	}
	e.project = p
	for _, name := range extra {
		protected := strings.HasSuffix(name, "!")
		name = strings.TrimSuffix(name, "!")
		if _, err := e.neon.CreateBranch(ctx, p.ID, neonapi.CreateBranchRequest{Name: name, Protected: protected}); err != nil {
			t.Fatalf("create branch %s: %v", name, err)
		}
	}
	bs, err := e.neon.ListBranches(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		e.branches[b.Name] = b
	}
	if len(bs) != 1+len(extra) {
		t.Fatalf("project has %d branches, want %d", len(bs), 1+len(extra))
	}
	return e
}

// client is a Neon client for the sandbox without rate limit and with quick
// retries, sending through rt (http.DefaultTransport when nil), plus opts.
func (e *discoveryEnv) client(t *testing.T, rt http.RoundTripper, opts ...neonapi.Option) *neonapi.Client {
	t.Helper()
	if rt == nil {
		rt = http.DefaultTransport
	}
	c, err := neonapi.New("test-key", append([]neonapi.Option{
		neonapi.WithBaseURL(e.srv),
		neonapi.WithoutRateLimit(),
		neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}),
		neonapi.WithHTTPClient(&http.Client{Transport: rt}),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *discoveryEnv) enableBetterAuth(t *testing.T, branch string) {
	t.Helper()
	_, err := e.neon.EnableBranchAuth(context.Background(), e.project.ID, e.branches[branch].ID,
		neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth, DatabaseName: e.project.DatabaseName})
	if err != nil {
		t.Fatalf("enable Better Auth on %s: %v", branch, err)
	}
}

// byName indexes branch states by branch name.
func byName(states []BranchState) map[string]BranchState {
	m := map[string]BranchState{}
	for _, s := range states {
		m[s.Branch.Name] = s
	}
	return m
}

// TestDiscoverFindsAuthOnANonDefaultBranch: Better Auth enabled on one
// non-default branch is found there, with what getNeonAuth reports, and
// every other branch reads as not enabled.
func TestDiscoverFindsAuthOnANonDefaultBranch(t *testing.T) {
	e := newDiscoveryEnv(t, "dev", "release!")
	e.enableBetterAuth(t, "dev")
	svc := New(e.neon, newPools(t), UserDBConfig{})

	d := svc.Discover(context.Background(), e.project.ID)
	if err := d.Err(); err != nil {
		t.Fatalf("discovery failed: %v", err)
	}
	if len(d.Branches) != 3 || len(d.Legacy) != 0 {
		t.Fatalf("discovery = %d branches, %d legacy; want 3 and 0", len(d.Branches), len(d.Legacy))
	}
	states := byName(d.Branches)
	dev := states["dev"]
	if !dev.Enabled() || dev.Provider() != authprovider.BetterAuth || dev.Auth.BranchID != e.branches["dev"].ID {
		t.Fatalf("dev = %+v, want Better Auth on it", dev.Auth)
	}
	if !strings.HasPrefix(dev.Auth.BaseURL, "http") || !strings.HasSuffix(dev.Auth.JWKSURL, "/.well-known/jwks.json") || dev.Auth.DBName != e.project.DatabaseName {
		t.Errorf("dev's integration lacks what getNeonAuth reports: %+v", *dev.Auth)
	}
	for _, name := range []string{"main", "release"} {
		if s := states[name]; s.Enabled() || s.Err != nil {
			t.Errorf("%s = %+v, %v; want not enabled", name, s.Auth, s.Err)
		}
	}
	if !states["main"].Branch.Default || !states["release"].Branch.Protected {
		t.Errorf("branch flags lost: main default %t, release protected %t", states["main"].Branch.Default, states["release"].Branch.Protected)
	}
	ins := d.Integrations()
	if len(ins) != 1 || ins[0].AuthProvider != authprovider.BetterAuth || ins[0].BranchID != e.branches["dev"].ID {
		t.Errorf("integrations = %+v, want Better Auth on dev alone", ins)
	}
}

// TestDiscoverListsStackAuthOnce: the project-level integration comes from
// the legacy list, and the branch it lives on shows it without listing it a
// second time among the integrations.
func TestDiscoverListsStackAuthOnce(t *testing.T) {
	e := newDiscoveryEnv(t, "dev")
	ctx := context.Background()
	if _, err := e.neon.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{
		AuthProvider: authprovider.Stack, ProjectID: e.project.ID, BranchID: e.project.BranchID,
		DatabaseName: e.project.DatabaseName, RoleName: e.project.RoleName,
	}); err != nil {
		t.Fatal(err)
	}
	e.enableBetterAuth(t, "dev")
	svc := New(e.neon, newPools(t), UserDBConfig{})

	d := svc.Discover(ctx, e.project.ID)
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if len(d.Legacy) != 1 || d.Legacy[0].AuthProvider != authprovider.Stack {
		t.Fatalf("legacy = %+v, want the Stack Auth integration alone", d.Legacy)
	}
	if main := byName(d.Branches)["main"]; main.Provider() != authprovider.Stack {
		t.Errorf("main's getNeonAuth provider = %q, want stack", main.Provider())
	}
	var got []authprovider.Provider
	for _, in := range d.Integrations() {
		got = append(got, in.AuthProvider)
	}
	if len(got) != 2 || got[0] != authprovider.Stack || got[1] != authprovider.BetterAuth {
		t.Errorf("integrations = %v, want [stack better_auth]", got)
	}

	dd := svc.DiscoverDefault(ctx, e.project.ID)
	if len(dd.Branches) != 1 || !dd.Branches[0].Branch.Default || len(dd.Legacy) != 1 {
		t.Errorf("DiscoverDefault = %d branches (default %t), %d legacy; want the default branch and Stack Auth",
			len(dd.Branches), len(dd.Branches) == 1 && dd.Branches[0].Branch.Default, len(dd.Legacy))
	}
}

// TestBranchStatesIsolateFailures: a branch whose getNeonAuth fails beyond
// the retries, or that the rate limiter refuses, carries its own error with
// Neon's request id; the other branches are read all the same.
func TestBranchStatesIsolateFailures(t *testing.T) {
	e := newDiscoveryEnv(t, "dev", "qa")
	e.enableBetterAuth(t, "qa")
	ctx := context.Background()
	e.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/branches/" + e.branches["dev"].ID + "/auth"})
	svc := New(e.neon, newPools(t), UserDBConfig{})

	d := svc.Discover(ctx, e.project.ID)
	states := byName(d.Branches)
	dev := states["dev"]
	var apiErr *neonapi.APIError
	if !errors.Is(dev.Err, neonapi.ErrUnavailable) || !errors.As(dev.Err, &apiErr) || apiErr.RequestID == "" || dev.Auth != nil {
		t.Fatalf("dev = %+v, %v; want Neon's 503 with a request id", dev.Auth, dev.Err)
	}
	if !errors.Is(d.Err(), neonapi.ErrUnavailable) {
		t.Errorf("Err() = %v, want dev's failure", d.Err())
	}
	if s := states["qa"]; s.Err != nil || s.Provider() != authprovider.BetterAuth {
		t.Errorf("qa = %+v, %v; want Better Auth despite dev's failure", s.Auth, s.Err)
	}
	if s := states["main"]; s.Err != nil || s.Enabled() {
		t.Errorf("main = %+v, %v; want not enabled", s.Auth, s.Err)
	}

	// One token a minute, one at once: a single branch gets it, and the
	// others cannot get one before the deadline.
	e.sb.ClearFaults()
	limited := New(e.client(t, nil, neonapi.WithRateLimit(1, 1)), newPools(t), UserDBConfig{})
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var all []neonapi.Branch
	for _, b := range e.branches {
		all = append(all, b)
	}
	read, refused := 0, 0
	for _, s := range limited.BranchStates(dctx, e.project.ID, all) {
		switch {
		case s.Branch.ID == "":
			t.Errorf("a state lost its branch: %+v", s)
		case s.Err != nil && s.Auth == nil:
			refused++
			t.Logf("%s: %v", s.Branch.Name, s.Err)
		case s.Err == nil:
			read++
		}
	}
	if read != 1 || refused != 2 {
		t.Errorf("under the limit: %d branches read, %d refused; want 1 and 2", read, refused)
	}
}

// gatedAuth holds getNeonAuth requests until limit of them are in flight at
// once, or every expected one has arrived, and records the most in flight.
type gatedAuth struct {
	expected, limit int

	mu       sync.Mutex
	arrived  int
	inFlight int
	most     int
	open     chan struct{}
}

func (g *gatedAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/auth") {
		return http.DefaultTransport.RoundTrip(r)
	}
	g.mu.Lock()
	g.arrived++
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	open := g.open
	if g.inFlight >= g.limit || g.arrived == g.expected {
		close(open) // lets this request and every waiting one through
		g.open = make(chan struct{})
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	select {
	case <-open:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestBranchStatesBoundTheirConcurrency: ten branches are read four at a
// time: never more, and not one by one.
func TestBranchStatesBoundTheirConcurrency(t *testing.T) {
	names := []string{"b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9"}
	e := newDiscoveryEnv(t, names...)
	gate := &gatedAuth{expected: 10, limit: branchLookups, open: make(chan struct{})}
	svc := New(e.client(t, gate), newPools(t), UserDBConfig{})
	// The deadline only ends a test whose reads wait for one another forever.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	d := svc.Discover(ctx, e.project.ID)
	if err := d.Err(); err != nil || len(d.Branches) != 10 {
		t.Fatalf("discovery = %d branches, %v", len(d.Branches), err)
	}
	if gate.most != branchLookups {
		t.Errorf("at most %d getNeonAuth in flight, want %d", gate.most, branchLookups)
	}
}
