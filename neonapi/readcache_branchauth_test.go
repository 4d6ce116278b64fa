package neonapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// newBranchAuthEnv is a cacheEnv with Better Auth on both projects' default
// branches and, in each project, a branch without Neon Auth, whose ids it
// returns by project id.
func newBranchAuthEnv(t *testing.T) (*cacheEnv, map[string]string) {
	t.Helper()
	e := newCacheEnv(t)
	noAuth := map[string]string{}
	for _, p := range []sandbox.CreatedProject{e.p1, e.p2} {
		br, err := e.setup.CreateBranch(context.Background(), p.ID, CreateBranchRequest{Name: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		noAuth[p.ID] = br.Branch.ID
		e.enableBetterAuth(p.ID, p.BranchID)
	}
	return e, noAuth
}

// TestReadCacheKeepsBranchAuthNotFound: "no Neon Auth on this branch" is an
// answer, kept for the TTL with the request id Neon gave it, while a failure
// is not.
func TestReadCacheKeepsBranchAuthNotFound(t *testing.T) {
	e, noAuth := newBranchAuthEnv(t)
	c, w, clock := e.client(t, time.Minute)
	ctx := context.Background()
	p, dev := e.p1.ID, noAuth[e.p1.ID]
	for i := range 3 {
		in, err := c.GetBranchAuth(WithRequestID(ctx, "req-"+string(rune('a'+i))), p, dev)
		var apiErr *APIError
		if in != nil || !errors.Is(err, ErrNotFound) || !errors.As(err, &apiErr) || apiErr.RequestID != "req-a" {
			t.Fatalf("call %d = %+v, %v; want Neon's 404 with its request id req-a", i, in, err)
		}
	}
	if got := w.count(branchGet(p, dev, "/auth")); got != 1 {
		t.Errorf("upstream calls for the branch without auth = %d, want 1", got)
	}
	clock.advance(2 * time.Minute)
	if _, err := c.GetBranchAuth(ctx, p, dev); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if got := w.count(branchGet(p, dev, "/auth")); got != 2 {
		t.Errorf("upstream calls after the TTL = %d, want 2", got)
	}

	main := e.p1.BranchID
	e.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, PathContains: "/branches/" + main + "/auth", Method: http.MethodGet})
	if _, err := c.GetBranchAuth(ctx, p, main); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first read = %v, want the 503", err)
	}
	in, err := c.GetBranchAuth(ctx, p, main)
	if err != nil || in.BranchID != main {
		t.Fatalf("second read = %+v, %v; want a fresh success", in, err)
	}
	in.BranchID = "changed by the caller"
	if again, _ := c.GetBranchAuth(ctx, p, main); again.BranchID != main {
		t.Errorf("a caller's change reached the cache: %q", again.BranchID)
	}
	if got := w.count(branchGet(p, main, "/auth")); got != 2 {
		t.Errorf("upstream calls = %d, want 2 (the 503 retried, the success kept)", got)
	}
}

// TestReadCacheWritesDropBranchReads: the branch list and each branch's auth
// state, found or not, are read again after a write to their project, here
// one the sandbox refuses.
func TestReadCacheWritesDropBranchReads(t *testing.T) {
	e, noAuth := newBranchAuthEnv(t)
	ctx := context.Background()
	p := e.p1
	// written is the branch a write below one branch is for: the reads
	// below the project's other branches stay.
	written := map[string]string{"EnableBranchAuth": noAuth[p.ID], "DisableBranchAuth": p.BranchID}
	writes := map[string]func(c *Client){
		"EnableBranchAuth": func(c *Client) {
			_, _ = c.EnableBranchAuth(ctx, p.ID, noAuth[p.ID], EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth})
		},
		"DisableBranchAuth": func(c *Client) { _ = c.DisableBranchAuth(ctx, p.ID, p.BranchID, false) },
		"CreateBranch":      func(c *Client) { _, _ = c.CreateBranch(ctx, p.ID, CreateBranchRequest{}) },
		"CreateIntegration": func(c *Client) {
			_, _ = c.CreateIntegration(ctx, CreateIntegrationRequest{ProjectID: p.ID, BranchID: p.BranchID, AuthProvider: authprovider.Stack})
		},
		"DeleteIntegration": func(c *Client) { _ = c.DeleteIntegration(ctx, p.ID, authprovider.Stack, false) },
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			c, w, _ := e.client(t, time.Minute)
			readAll := func() {
				t.Helper()
				for _, q := range []sandbox.CreatedProject{e.p1, e.p2} {
					if _, err := c.ListBranches(ctx, q.ID); err != nil {
						t.Fatal(err)
					}
					if _, err := c.GetBranchAuth(ctx, q.ID, q.BranchID); err != nil {
						t.Fatal(err)
					}
					if _, err := c.GetBranchAuth(ctx, q.ID, noAuth[q.ID]); !errors.Is(err, ErrNotFound) {
						t.Fatal(err)
					}
				}
			}
			readAll()
			readAll()
			e.refuseWrites(1)
			write(c)
			e.sb.ClearFaults()
			if n := w.writes(); n != 1 {
				t.Fatalf("%d write requests sent, want 1", n)
			}
			readAll()
			for _, q := range []sandbox.CreatedProject{e.p1, e.p2} {
				for _, b := range []string{"", q.BranchID, noAuth[q.ID]} {
					key := "GET /projects/" + q.ID + "/branches?limit=100"
					if b != "" {
						key = branchGet(q.ID, b, "/auth")
					}
					want := 1
					if q.ID == p.ID && (b == "" || written[name] == "" || written[name] == b) {
						want = 2
					}
					if got := w.count(key); got != want {
						t.Errorf("%s: upstream calls = %d, want %d", key, got, want)
					}
				}
			}
		})
	}
}

// TestReadCacheSettingsWriteKeepsTheProject: a change to one of a branch's
// Neon Auth settings drops what is below that branch, its settings and its
// Neon Auth among them, and keeps the project, its branch list and the
// branch itself, which it cannot change.
func TestReadCacheSettingsWriteKeepsTheProject(t *testing.T) {
	e, _ := newBranchAuthEnv(t)
	ctx := context.Background()
	p, b := e.p1.ID, e.p1.BranchID
	c, w, _ := e.client(t, time.Minute)
	readAll := func() {
		t.Helper()
		if _, err := c.GetProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetBranch(ctx, p, b); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListBranches(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetBranchAuth(ctx, p, b); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListTrustedDomains(ctx, p, b); err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	readAll()
	if err := c.AddTrustedDomain(ctx, p, b, AddTrustedDomainRequest{Domain: "https://kept.example.com", AuthProvider: authprovider.BetterAuth}); err != nil {
		t.Fatal(err)
	}
	readAll()
	for key, want := range map[string]int{
		"GET /projects/" + p:                         1,
		"GET /projects/" + p + "/branches/" + b:      1,
		"GET /projects/" + p + "/branches?limit=100": 1,
		branchGet(p, b, "/auth"):                     2,
		branchGet(p, b, "/auth/domains"):             2,
	} {
		if got := w.count(key); got != want {
			t.Errorf("%s: upstream calls = %d, want %d", key, got, want)
		}
	}
	domains, err := c.ListTrustedDomains(ctx, p, b)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range domains {
		found = found || d.Domain == "https://kept.example.com"
	}
	if !found {
		t.Errorf("the domains read after the write lack the new one: %+v", domains)
	}
}
