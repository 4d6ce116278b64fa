package neonapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// noAuthBranch is the fake's branch without Neon Auth: getNeonAuth answers 404.
const noAuthBranch = "br-none"

func (f *fakeAPI) ListBranches(ctx context.Context, projectID string) ([]Branch, error) {
	if err := f.read(ctx, "listBranches:"+projectID); err != nil {
		return nil, err
	}
	return []Branch{{ID: "br-main", Name: "main", Default: true}, {ID: noAuthBranch, Name: "dev"}}, nil
}

func (f *fakeAPI) GetBranchAuth(ctx context.Context, projectID, branchID string) (*Integration, error) {
	if err := f.read(ctx, "getNeonAuth:"+projectID+"/"+branchID); err != nil {
		return nil, err
	}
	if branchID == noAuthBranch {
		return nil, &APIError{StatusCode: 404, Message: "neon auth is not enabled", RequestID: "req-404", Operation: "getNeonAuth"}
	}
	return &Integration{AuthProvider: authprovider.BetterAuth, BranchID: branchID}, nil
}

// TestCacheKeepsBranchAuthNotFound: "no Neon Auth on this branch" is an
// answer, kept for the TTL with its request id, while a failure is not.
func TestCacheKeepsBranchAuthNotFound(t *testing.T) {
	f := newFakeAPI()
	c, clock := newTestCache(f, time.Minute)
	ctx := context.Background()
	for i := range 3 {
		in, err := c.GetBranchAuth(ctx, "p1", noAuthBranch)
		var apiErr *APIError
		if in != nil || !errors.Is(err, ErrNotFound) || !errors.As(err, &apiErr) || apiErr.RequestID != "req-404" {
			t.Fatalf("call %d = %+v, %v; want Neon's 404 with its request id", i, in, err)
		}
	}
	if got := f.count("getNeonAuth:p1/" + noAuthBranch); got != 1 {
		t.Errorf("upstream calls for the branch without auth = %d, want 1", got)
	}
	clock.advance(2 * time.Minute)
	if _, err := c.GetBranchAuth(ctx, "p1", noAuthBranch); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if got := f.count("getNeonAuth:p1/" + noAuthBranch); got != 2 {
		t.Errorf("upstream calls after the TTL = %d, want 2", got)
	}

	f.fail["getNeonAuth:p1/br-main"] = &APIError{StatusCode: 503, Message: "try later"}
	if _, err := c.GetBranchAuth(ctx, "p1", "br-main"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first read = %v, want the 503", err)
	}
	in, err := c.GetBranchAuth(ctx, "p1", "br-main")
	if err != nil || in.BranchID != "br-main" {
		t.Fatalf("second read = %+v, %v; want a fresh success", in, err)
	}
	in.BranchID = "changed by the caller"
	if again, _ := c.GetBranchAuth(ctx, "p1", "br-main"); again.BranchID != "br-main" {
		t.Errorf("a caller's change reached the cache: %q", again.BranchID)
	}
	if got := f.count("getNeonAuth:p1/br-main"); got != 2 {
		t.Errorf("upstream calls = %d, want 2 (the 503 retried, the success kept)", got)
	}
}

// TestCacheWritesDropBranchReads: the branch list and each branch's auth
// state, found or not, are read again after a write to their project.
func TestCacheWritesDropBranchReads(t *testing.T) {
	ctx := context.Background()
	writes := map[string]func(c *Cache){
		"EnableBranchAuth": func(c *Cache) {
			_, _ = c.EnableBranchAuth(ctx, "p1", noAuthBranch, EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth})
		},
		"DisableBranchAuth": func(c *Cache) { _ = c.DisableBranchAuth(ctx, "p1", "br-main", false) },
		"CreateBranch":      func(c *Cache) { _, _ = c.CreateBranch(ctx, "p1", CreateBranchRequest{}) },
		"CreateIntegration": func(c *Cache) {
			_, _ = c.CreateIntegration(ctx, CreateIntegrationRequest{ProjectID: "p1", AuthProvider: authprovider.Stack})
		},
		"DeleteIntegration": func(c *Cache) { _ = c.DeleteIntegration(ctx, "p1", authprovider.Stack, false) },
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI()
			c, _ := newTestCache(f, time.Minute)
			readAll := func() {
				t.Helper()
				for _, p := range []string{"p1", "p2"} {
					if _, err := c.ListBranches(ctx, p); err != nil {
						t.Fatal(err)
					}
					if _, err := c.GetBranchAuth(ctx, p, "br-main"); err != nil {
						t.Fatal(err)
					}
					if _, err := c.GetBranchAuth(ctx, p, noAuthBranch); !errors.Is(err, ErrNotFound) {
						t.Fatal(err)
					}
				}
			}
			readAll()
			readAll()
			write(c)
			readAll()
			for op, want := range map[string]int{
				"listBranches:p1": 2, "getNeonAuth:p1/br-main": 2, "getNeonAuth:p1/" + noAuthBranch: 2,
				"listBranches:p2": 1, "getNeonAuth:p2/br-main": 1, "getNeonAuth:p2/" + noAuthBranch: 1,
			} {
				if got := f.count(op); got != want {
					t.Errorf("%s: upstream calls = %d, want %d", op, got, want)
				}
			}
		})
	}
}
