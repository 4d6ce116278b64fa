package db

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCountSmallTableIsExact(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 120, 3)
			b := f.browser(t, nil)
			ctx := context.Background()
			want := map[Filter]int64{
				{}:                   int64(len(referenceIDs(t, f, ""))),
				{Search: "person 1"}: int64(len(referenceIDs(t, f, "name ILIKE '%person 1%'"))),
				{Status: StatusVerified}: int64(len(referenceIDs(t, f, map[Generation]string{
					GenerationStack: "raw_json -> 'primary_email_verified' = 'true'", GenerationBetterAuth: `"emailVerified"`}[gen]))),
				{ID: f.id("nobody")}: 0,
			}
			for filter, n := range want {
				c, err := b.Count(ctx, filter, false)
				if err != nil {
					t.Fatal(err)
				}
				if !c.Exact || c.N != n || c.AsOf.IsZero() {
					t.Errorf("Count(%+v) = %+v, want exactly %d", filter, c, n)
				}
			}
		})
	}
}

func TestCountLargeTableEstimatesUnlessAsked(t *testing.T) {
	f := newFixture(t, GenerationStack)
	seedMany(t, f, 3000, 0)
	f.exec(t, "ANALYZE neon_auth.users_sync")
	b := f.browser(t, nil)
	b.largeTable = 1000
	ctx := context.Background()

	c, err := b.Count(ctx, Filter{}, false)
	if err != nil || c.Exact || c.N != 3000 {
		t.Errorf("estimate of all = %+v, %v; want 3000, not exact (analyzed)", c, err)
	}
	c, err = b.Count(ctx, Filter{Status: StatusDeleted}, false)
	if err != nil || c.Exact || c.N < 200 || c.N > 400 {
		t.Errorf("estimate of deleted = %+v, %v; want about 300", c, err)
	}
	c, err = b.Count(ctx, Filter{Status: StatusDeleted}, true)
	if err != nil || !c.Exact || c.N != 300 {
		t.Errorf("exact deleted = %+v, %v; want exactly 300", c, err)
	}
	c, err = b.Count(ctx, Filter{ID: "user_00001"}, false)
	if err != nil || !c.Exact || c.N != 1 {
		t.Errorf("count by id = %+v, %v; want exactly 1", c, err)
	}
	wantInputError(t, func() error { _, err := b.Count(ctx, Filter{Search: "\x00"}, true); return err }(), "q")
}

func TestExactCountIsCachedPerFilter(t *testing.T) {
	f := newFixture(t, GenerationBetterAuth)
	seedMany(t, f, 10, 0)
	b := f.browser(t, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.cache.now = func() time.Time { return now }
	ctx := context.Background()
	count := func(filter Filter) UserCount {
		t.Helper()
		c, err := b.Count(ctx, filter, true)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := count(Filter{})
	f.exec(t, `DELETE FROM neon_auth."user" WHERE id = md5('1')::uuid`)
	if c := count(Filter{}); c != first {
		t.Errorf("within the TTL: %+v, want the cached %+v", c, first)
	}
	if c := count(Filter{Search: "person"}); c.N != 9 {
		t.Errorf("another filter is counted afresh: %+v, want 9", c)
	}
	now = now.Add(DefaultCacheTTL)
	if c := count(Filter{}); c.N != 9 || !c.AsOf.Equal(now) {
		t.Errorf("after the TTL: %+v, want 9 as of %v", c, now)
	}
}

// TestCachedSharesOneLoad starts many callers for one key while the load is
// held, and checks that it ran once and that a caller giving up does not
// cancel it for the others.
func TestCachedSharesOneLoad(t *testing.T) {
	c := NewCache(time.Minute)
	var loads atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	load := func(ctx context.Context) (int, error) {
		if loads.Add(1) == 1 {
			close(started)
		}
		<-release
		return 42, ctx.Err()
	}
	impatient, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, _, err := cached(impatient, c, "k", load)
		errs <- err
	}()
	<-started
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := range results {
		wg.Go(func() {
			v, _, err := cached(context.Background(), c, "k", load)
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		})
	}
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("impatient caller got %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	for i, v := range results {
		if v != 42 {
			t.Errorf("caller %d got %d", i, v)
		}
	}
	if v, _, err := cached(context.Background(), c, "k", load); v != 42 || err != nil {
		t.Errorf("cached value = %d, %v", v, err)
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("load ran %d times, want 1", n)
	}
}

func TestCacheStaysBounded(t *testing.T) {
	c := NewCache(time.Minute)
	for i := range 3 * maxCacheEntries {
		c.store(string(rune(i)), cacheEntry{value: i, at: c.now()})
	}
	if n := len(c.entries); n > maxCacheEntries {
		t.Errorf("%d entries, want at most %d", n, maxCacheEntries)
	}
}
