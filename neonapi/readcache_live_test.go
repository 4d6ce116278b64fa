package neonapi

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestReadCacheReadLive checks that a live read goes to Neon although the
// cache holds the answer, and that what it brings back serves the next cached
// read: the readiness page reads live, its badge from the cache.
func TestReadCacheReadLive(t *testing.T) {
	e := newCacheEnv(t)
	e.enableBetterAuth(e.p1.ID, e.p1.BranchID)
	c, w, _ := e.client(t, time.Minute)
	ctx := context.Background()
	live := ReadLive(ctx)
	key := branchGet(e.p1.ID, e.p1.BranchID, "/auth/domains")

	steps := []struct {
		ctx  context.Context
		want int // upstream reads so far
	}{
		{ctx, 1},  // cold: fetched and kept
		{ctx, 1},  // cached
		{live, 2}, // live: fetched although cached
		{live, 3}, // and again
		{ctx, 3},  // the live answer was kept for cached readers
	}
	for i, s := range steps {
		if _, err := c.ListTrustedDomains(s.ctx, e.p1.ID, e.p1.BranchID); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := w.count(key); got != s.want {
			t.Errorf("step %d: upstream reads = %d, want %d", i, got, s.want)
		}
	}
}

// TestReadCacheKeepsEveryRead: reads the cache has no code for are kept
// like the rest, and dropped by a write to their project.
func TestReadCacheKeepsEveryRead(t *testing.T) {
	e := newCacheEnv(t)
	ctx := context.Background()
	if _, err := e.sb.CreateSharedProject(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	p, b := e.p1.ID, e.p1.BranchID
	reads := []struct {
		op, key string
		read    func(c *Client) error
	}{
		{"listProjectBranchEndpoints", branchGet(p, b, "/endpoints"), func(c *Client) error { return errOf(c.ListBranchEndpoints(ctx, p, b)) }},
		{"getProjectBranchDatabase", branchGet(p, b, "/databases/"+e.p1.DatabaseName), func(c *Client) error {
			return errOf(c.GetDatabase(ctx, p, b, e.p1.DatabaseName))
		}},
		{"getCurrentUserInfo", "GET /users/me", func(c *Client) error { return errOf(c.GetCurrentUser(ctx)) }},
		{"listSharedProjects", "GET /projects/shared", func(c *Client) error {
			return errOf(c.ListSharedProjects(ctx, ListSharedProjectsOptions{}))
		}},
	}
	for _, r := range reads {
		t.Run(r.op, func(t *testing.T) {
			c, w, _ := e.client(t, time.Minute)
			for range 3 {
				if err := r.read(c); err != nil {
					t.Fatal(err)
				}
			}
			if got := w.count(r.key); got != 1 {
				t.Errorf("upstream reads = %d, want 1", got)
			}
		})
	}
	t.Run("dropped by a write", func(t *testing.T) {
		c, w, _ := e.client(t, time.Minute)
		for range 2 {
			if _, err := c.ListBranchEndpoints(ctx, p, b); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.CreateRole(ctx, p, b, CreateRoleRequest{Name: "r"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListBranchEndpoints(ctx, p, b); err != nil {
			t.Fatal(err)
		}
		if got := w.count(branchGet(p, b, "/endpoints")); got != 2 {
			t.Errorf("upstream reads = %d, want 2: the write drops the project's entries", got)
		}
	})
}

// TestReadCacheSendsUncachedReads: the reads in uncachedOps reach Neon every
// time and leave nothing in the cache; the connection URI holds a password.
func TestReadCacheSendsUncachedReads(t *testing.T) {
	e := newCacheEnv(t)
	ctx := context.Background()
	p := e.p1
	reads := map[string]func(c *Client) error{
		"getConnectionURI": func(c *Client) error {
			uri, err := c.GetConnectionURI(ctx, p.ID, ConnectionURIOptions{DatabaseName: p.DatabaseName, RoleName: p.RoleName})
			if err == nil && uri == "" {
				return errors.New("no URI")
			}
			return err
		},
		"listProjectOperations": func(c *Client) error { return errOf(c.ListOperations(ctx, p.ID, ListOperationsOptions{})) },
		"getAuthDetails":        func(c *Client) error { return errOf(c.GetAuthDetails(ctx)) },
	}
	for op, read := range reads {
		t.Run(op, func(t *testing.T) {
			if _, ok := uncachedOps[op]; !ok {
				t.Fatalf("%s is not in uncachedOps", op)
			}
			c, w, _ := e.client(t, time.Hour)
			for range 3 {
				if err := read(c); err != nil {
					t.Fatal(err)
				}
			}
			if sent := w.sent(); len(sent) != 1 || sent[0] != 3 {
				t.Errorf("sent %v requests, want one request three times", sent)
			}
			if n := len(c.cache.entries); n != 0 {
				t.Errorf("the cache holds %d entries, want none", n)
			}
		})
	}
}
