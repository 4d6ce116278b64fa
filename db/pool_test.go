package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		name, connString, want string
	}{
		{"neon uri", "postgresql://neondb_owner:npg_S3cret@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require", "ep-cool-darkness-123456.us-east-2.aws.neon.tech:5432/neondb"},
		{"explicit port", "postgres://u:pw@db.internal:6543/app?sslmode=disable", "db.internal:6543/app"},
		{"keyword/value", "host=10.0.0.7 port=5433 user=u password=S3cret dbname=reports sslmode=disable", "10.0.0.7:5433/reports"},
		{"ipv6", "postgres://u:pw@[::1]:5432/app?sslmode=disable", "[::1]:5432/app"},
		{"unparsable", "postgres://u:S3cret@host:notaport/app", "(invalid connection string)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.connString)
			if got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "S3cret") || strings.Contains(got, "pw") {
				t.Errorf("Describe = %q leaks the password", got)
			}
		})
	}
}

func TestPoolsGetReusesPoolPerConnString(t *testing.T) {
	connString := pgtest.NewDatabase(t)
	pools := newPools(t)
	ctx := context.Background()

	const n = 16
	got := make([]*pgxpool.Pool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			pool, err := pools.Get(ctx, connString)
			if err != nil {
				t.Errorf("Get: %v", err)
			}
			got[i] = pool
		})
	}
	wg.Wait()
	for i, pool := range got {
		if pool == nil || pool != got[0] {
			t.Fatalf("Get #%d returned %p, want the same pool as #0 (%p)", i, pool, got[0])
		}
	}
	if len(pools.pools) != 1 {
		t.Errorf("%d pools after concurrent Get of one string, want 1", len(pools.pools))
	}

	other, err := pools.Get(ctx, withParam(connString, "application_name=other"))
	if err != nil {
		t.Fatalf("Get other: %v", err)
	}
	if other == got[0] {
		t.Error("a different connection string shares a pool")
	}
	if again, _ := pools.Get(ctx, connString); again != got[0] {
		t.Error("Get after another string returned a new pool")
	}
	slow, err := pools.Get(WithLane(ctx, LaneSlow), connString)
	if err != nil {
		t.Fatalf("Get slow: %v", err)
	}
	if slow == got[0] {
		t.Error("the slow lane shares the fast lane's pool")
	}
	if again, _ := pools.Get(WithLane(ctx, LaneSlow), connString); again != slow {
		t.Error("a second Get on the slow lane returned a new pool")
	}
}

func TestPoolsGetAppliesBounds(t *testing.T) {
	pools := NewPools(PoolOptions{Fast: LaneLimits{MaxConns: 2}, MaxConnIdleTime: 30 * time.Second, ConnectTimeout: 3 * time.Second})
	t.Cleanup(pools.Close)
	pool, err := pools.Get(context.Background(), "postgres://u:pw@127.0.0.1:1/app?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg := pool.Config()
	if cfg.MaxConns != 2 || cfg.MaxConnIdleTime != 30*time.Second || cfg.ConnConfig.ConnectTimeout != 3*time.Second {
		t.Errorf("config MaxConns=%d MaxConnIdleTime=%s ConnectTimeout=%s, want 2, 30s, 3s",
			cfg.MaxConns, cfg.MaxConnIdleTime, cfg.ConnConfig.ConnectTimeout)
	}
	if got := cfg.ConnConfig.RuntimeParams["application_name"]; got != applicationName {
		t.Errorf("application_name = %q, want %q", got, applicationName)
	}
	if got, ok := cfg.ConnConfig.RuntimeParams["statement_timeout"]; ok {
		t.Errorf("fast lane statement_timeout = %q, want none", got)
	}
	for _, tc := range []struct {
		lane    Lane
		max     int32
		timeout string
	}{{LaneSlow, 2, "15000"}, {LaneExport, 1, ""}} {
		pool, err := pools.Get(WithLane(context.Background(), tc.lane), "postgres://u:pw@127.0.0.1:1/app?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		cfg := pool.Config()
		if got := cfg.ConnConfig.RuntimeParams["statement_timeout"]; cfg.MaxConns != tc.max || got != tc.timeout {
			t.Errorf("%s lane: MaxConns=%d statement_timeout=%q, want %d, %q", tc.lane, cfg.MaxConns, got, tc.max, tc.timeout)
		}
	}

	// A connect_timeout in the string is the operator's choice and wins.
	pool, err = pools.Get(context.Background(), "postgres://u:pw@127.0.0.1:1/app?sslmode=disable&connect_timeout=9")
	if err != nil {
		t.Fatal(err)
	}
	if got := pool.Config().ConnConfig.ConnectTimeout; got != 9*time.Second {
		t.Errorf("ConnectTimeout = %s, want the string's 9s", got)
	}
}

func TestPoolsGetBadConnStringHidesIt(t *testing.T) {
	pools := newPools(t)
	_, err := pools.Get(context.Background(), "postgres://neondb_owner:npg_S3cretPassw0rd@host:notaport/neondb")
	if !errors.Is(err, ErrBadConnString) {
		t.Fatalf("err = %v, want ErrBadConnString", err)
	}
	if strings.Contains(err.Error(), "npg_S3cretPassw0rd") || strings.Contains(err.Error(), "neondb_owner") {
		t.Errorf("error %q leaks credentials", err)
	}
	var parseErr *pgconn.ParseConfigError
	if errors.As(err, &parseErr) {
		t.Error("error chain holds pgconn.ParseConfigError, which carries the raw connection string")
	}
}

func TestPoolsPrintWithoutPasswords(t *testing.T) {
	pools := newPools(t)
	pool, err := pools.Get(context.Background(), "postgres://neondb_owner:npg_S3cretPassw0rd@127.0.0.1:1/neondb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	d := NewUserDirectory(pool, authprovider.Stack)
	for _, v := range []any{pools, d, *d, pools.Stats()} {
		if s := fmt.Sprintf("%+v", v); strings.Contains(s, "npg_S3cretPassw0rd") {
			t.Errorf("%%+v of %T leaks the password: %s", v, s)
		}
	}
}

func TestPoolsSweepClosesIdlePools(t *testing.T) {
	connString := pgtest.NewDatabase(t)
	const idle = 10 * time.Minute
	// The janitor's own ticker never fires during the test; sweep is driven by hand.
	pools := newPoolsWithClock(PoolOptions{PoolIdleTimeout: idle, SweepInterval: time.Hour}, func() time.Time { return t0 })
	t.Cleanup(pools.Close)
	ctx := context.Background()

	pool, err := pools.Get(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	if n := pools.sweep(t0.Add(idle - time.Second)); n != 0 {
		t.Fatalf("sweep before the idle timeout closed %d pools, want 0", n)
	}
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("pool unusable after an early sweep: %v", err)
	}

	// A connection in use keeps its pool alive however old the last acquire is.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := pools.sweep(t0.Add(10 * idle)); n != 0 {
		t.Fatalf("sweep closed %d pools while a connection was in use, want 0", n)
	}
	conn.Release()

	if n := pools.sweep(t0.Add(idle + time.Second)); n != 1 {
		t.Fatalf("sweep after the idle timeout closed %d pools, want 1", n)
	}
	if err := pool.Ping(ctx); err == nil {
		t.Error("swept pool still answers Ping; it should be closed")
	}
	fresh, err := pools.Get(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == pool {
		t.Error("Get after a sweep returned the closed pool")
	}
	if err := fresh.Ping(ctx); err != nil {
		t.Errorf("new pool: %v", err)
	}
}

func TestPoolsSweepCountsGetAsUse(t *testing.T) {
	const idle = 10 * time.Minute
	now := t0
	pools := newPoolsWithClock(PoolOptions{PoolIdleTimeout: idle, SweepInterval: time.Hour}, func() time.Time { return now })
	t.Cleanup(pools.Close)
	connString := "postgres://u:pw@127.0.0.1:1/app?sslmode=disable"
	if _, err := pools.Get(context.Background(), connString); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(idle) // single goroutine: no pool activity reads now concurrently
	if _, err := pools.Get(context.Background(), connString); err != nil {
		t.Fatal(err)
	}
	if n := pools.sweep(t0.Add(idle + time.Second)); n != 0 {
		t.Errorf("sweep closed %d pools used by a recent Get, want 0", n)
	}
	if n := pools.sweep(t0.Add(2*idle + time.Second)); n != 1 {
		t.Errorf("sweep closed %d pools, want 1", n)
	}
}

func TestPoolsClose(t *testing.T) {
	connString := pgtest.NewDatabase(t)
	pools := NewPools(PoolOptions{})
	ctx := context.Background()
	pool, err := pools.Get(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	pools.Close()
	pools.Close() // idempotent
	if err := pool.Ping(ctx); err == nil {
		t.Error("pool still answers Ping after Pools.Close")
	}
	if _, err := pools.Get(ctx, connString); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: err = %v, want ErrClosed", err)
	}
}

func TestPoolsStats(t *testing.T) {
	connString := pgtest.NewDatabase(t)
	pools := newPools(t)
	ctx := context.Background()
	if got := pools.Stats(); len(got) != 0 {
		t.Fatalf("Stats of no pools = %+v, want none", got)
	}
	// Two strings reaching the same database: one series, summed.
	for _, cs := range []string{connString, withParam(connString, "application_name=second")} {
		pool, err := pools.Get(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		if err := pool.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	held, err := pools.pools[keyOf(connString, LaneFast)].pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	got := pools.Stats()
	want := []PoolStat{{Target: Describe(connString), Lane: "fast", Acquired: 1, Idle: 1, Total: 2, Max: 8}}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}

	// Each lane is a series of its own.
	slow, err := pools.Get(WithLane(ctx, LaneSlow), connString)
	if err != nil {
		t.Fatal(err)
	}
	if err := slow.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	got = pools.Stats()
	want = append(want, PoolStat{Target: Describe(connString), Lane: "slow", Idle: 1, Total: 1, Max: 2})
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if strings.Contains(got[0].Target, "postgres@") {
		t.Errorf("Stats target %q names the user", got[0].Target)
	}
}

// withParam appends a query parameter to a URL connection string.
func withParam(connString, param string) string {
	if strings.Contains(connString, "?") {
		return connString + "&" + param
	}
	return connString + "?" + param
}
