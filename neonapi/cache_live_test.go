package neonapi

import (
	"context"
	"testing"
	"time"
)

// TestCacheReadLive checks that a live read goes to Neon although the cache
// holds the answer, and that what it brings back serves the next cached
// read: the readiness page reads live, its badge from the cache.
func TestCacheReadLive(t *testing.T) {
	f := newFakeAPI()
	c, _ := newTestCache(f, time.Minute)
	ctx := context.Background()
	live := ReadLive(ctx)
	const op = "listBranchNeonAuthTrustedDomains"

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
		if _, err := c.ListTrustedDomains(s.ctx, "p-1", "br-1"); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := f.count(op + ":p-1/br-1"); got != s.want {
			t.Errorf("step %d: upstream reads = %d, want %d", i, got, s.want)
		}
	}
}
