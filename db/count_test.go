package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
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
				{Status: StatusVerified}: int64(len(referenceIDs(t, f, map[authprovider.Provider]string{
					authprovider.Stack: "raw_json -> 'primary_email_verified' = 'true'", authprovider.BetterAuth: `"emailVerified"`}[gen]))),
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
	f := newFixture(t, authprovider.Stack)
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
	f := newFixture(t, authprovider.BetterAuth)
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

// seedCountTable stores n users with a known distribution: two in three
// verified, one in twenty soft-deleted (users_sync), one in two hundred
// banned and one in a hundred admins (better_auth), one in a thousand named
// "Rare", and a run of 200 consecutive users named "Cluster", who share
// blocks.
func seedCountTable(t testing.TB, f *fixture, n int) {
	t.Helper()
	switch f.gen {
	case authprovider.Stack:
		f.exec(t, `INSERT INTO neon_auth.users_sync (raw_json, deleted_at)
SELECT jsonb_build_object('id', 'user_' || i, 'primary_email', 'p' || i || '@example.com',
         'display_name', CASE WHEN i % 1000 = 0 THEN 'Rare ' WHEN i BETWEEN 50000 AND 50199 THEN 'Cluster ' ELSE 'Person ' END || i,
         'primary_email_verified', i % 3 <> 0, 'signed_up_at_millis', $1::bigint + i * 1000),
       CASE WHEN i % 20 = 0 THEN $2::timestamptz END
  FROM generate_series(1, $3::int) i`, t0.UnixMilli(), t0, n)
	case authprovider.BetterAuth:
		f.exec(t, `INSERT INTO neon_auth."user" (id, name, email, "emailVerified", "createdAt", "updatedAt", role, banned)
SELECT md5(i::text)::uuid,
       CASE WHEN i % 1000 = 0 THEN 'Rare ' WHEN i BETWEEN 50000 AND 50199 THEN 'Cluster ' ELSE 'Person ' END || i,
       'p' || i || '@example.com', i % 3 <> 0, $1::timestamptz + i * interval '1 second', $1::timestamptz,
       CASE WHEN i % 250 = 0 THEN 'admin,user' WHEN i % 100 = 0 THEN 'admin' ELSE 'user' END,
       CASE WHEN i % 200 = 0 THEN true END
  FROM generate_series(1, $2::int) i`, t0, n)
	}
}

// TestCountEstimatesAreWithinTwice checks every kind of filter on a large
// table, before and after it is analyzed: an estimate must be within 2× of
// the exact count, or the count reported Unknown. Filters that match many
// rows must be estimated, whatever statistics the planner has.
func TestCountEstimatesAreWithinTwice(t *testing.T) {
	const rows = 150_000
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			f.exec(t, "ALTER TABLE "+specs[gen].table+" SET (autovacuum_enabled = false)")
			seedCountTable(t, f, rows)
			type countCase struct {
				filter    Filter
				estimated bool // must be Known
			}
			cases := []countCase{
				{Filter{}, true},
				{Filter{Status: StatusVerified}, true},
				{Filter{Status: StatusUnverified}, true},
				{Filter{Search: "example"}, true},
				{Filter{Search: "person 1"}, true},
				{Filter{Search: "person 1", Status: StatusVerified}, true},
				{Filter{Search: "rare"}, false},
				{Filter{Search: "cluster"}, false},
				{Filter{Search: "nobody"}, false},
				{Filter{Email: "P77@example.com"}, false},
			}
			if gen == authprovider.Stack {
				cases = append(cases, countCase{Filter{Status: StatusActive}, true}, countCase{Filter{Status: StatusDeleted}, true},
					countCase{Filter{Status: StatusDeleted, Search: "person"}, true})
			} else {
				cases = append(cases, countCase{Filter{Status: StatusBanned}, false}, countCase{Filter{Role: "user"}, true},
					countCase{Filter{Role: "admin"}, false})
			}
			ctx := context.Background()
			for _, analyzed := range []bool{false, true} {
				if analyzed {
					f.exec(t, "ANALYZE "+specs[gen].table)
				}
				b := f.browser(t, nil)
				for _, c := range cases {
					exact, err := b.Count(ctx, c.filter, true)
					if err != nil {
						t.Fatal(err)
					}
					est, err := b.Count(ctx, c.filter, false)
					if err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("analyzed %v, %+v: %+v, exactly %d", analyzed, c.filter, est, exact.N)
					switch {
					case est.Unknown:
						if c.estimated {
							t.Errorf("%s: unknown, want an estimate", what)
						}
						if est.N != 0 || est.Exact {
							t.Errorf("%s: unknown with a figure", what)
						}
					case est.Exact:
						if est.N != exact.N {
							t.Errorf("%s: exact but wrong", what)
						}
					case est.N*2 < exact.N || est.N > exact.N*2:
						t.Errorf("%s: estimate off by more than 2×", what)
					default:
						t.Logf("%s", what)
					}
				}
			}
		})
	}
}

// TestCountTinyTableIsExact covers a table never analyzed, which the
// planner takes to fill 10 pages: about 450 rows for 3.
func TestCountTinyTableIsExact(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 3, 0)
			b := f.browser(t, nil)
			b.largeTable = 100
			ctx := context.Background()
			c, err := b.Count(ctx, Filter{}, false)
			if err != nil || !c.Exact || c.N != 3 || c.Unknown {
				t.Errorf("Count = %+v, %v; want exactly 3", c, err)
			}
			c, err = b.Count(ctx, Filter{Status: StatusVerified}, false)
			if err != nil || !c.Exact || c.N != 1 {
				t.Errorf("Count(verified) = %+v, %v; want exactly 1", c, err)
			}
			a, err := b.AdviseIndex(ctx)
			if err != nil || a.Rows != 3 || !a.RowsExact || !strings.HasPrefix(a.EstimateBasis, "3 rows (counted)") {
				t.Errorf("advice = Rows %d (exact %v, basis %q), %v; want exactly 3", a.Rows, a.RowsExact, a.EstimateBasis, err)
			}
		})
	}
}
