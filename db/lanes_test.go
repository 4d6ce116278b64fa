package db

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

func TestLaneFrom(t *testing.T) {
	ctx := context.Background()
	if got := LaneFrom(ctx); got != LaneFast {
		t.Errorf("unmarked: %s, want fast", got)
	}
	for _, l := range []Lane{LaneFast, LaneSlow, LaneExport} {
		if got := LaneFrom(WithLane(ctx, l)); got != l {
			t.Errorf("LaneFrom(WithLane(%s)) = %s", l, got)
		}
	}
	if got := LaneFrom(WithLane(ctx, Lane(200))); got != LaneFast {
		t.Errorf("unknown lane: %s, want fast", got)
	}
}

// sleeper runs a long query on pool until the test ends, holding one of its
// connections; done closes when the query returns.
func sleeper(t *testing.T, pool *pgxpool.Pool) (done <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-ch
	})
	go func() {
		defer close(ch)
		_, _ = pool.Exec(ctx, "SELECT pg_sleep(300)")
	}()
	return ch
}

// waitFull waits until all of pool's connections are in use.
func waitFull(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := pool.Stat()
		if st.AcquiredConns() == st.MaxConns() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool never filled: %d of %d connections in use", st.AcquiredConns(), st.MaxConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestFastLaneNotQueuedBehindSlow fills the slow lane with queries that run
// until the test ends: fast-lane work still completes, and more slow work is
// turned away as busy after the lane's wait instead of queueing.
func TestFastLaneNotQueuedBehindSlow(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	f.insert(t, seedUser{key: "alice", email: "alice@example.com", name: "Alice", created: t0})
	pools := NewPools(PoolOptions{Slow: LaneLimits{MaxConns: 2, AcquireWait: 100 * time.Millisecond}})
	t.Cleanup(pools.Close)
	ctx := context.Background()

	slow, err := pools.Get(WithLane(ctx, LaneSlow), f.connString)
	if err != nil {
		t.Fatal(err)
	}
	sleepers := []<-chan struct{}{sleeper(t, slow), sleeper(t, slow)}
	waitFull(t, slow)

	fast, err := pools.Get(ctx, f.connString)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenUserBrowser(ctx, fast, nil)
	if err != nil {
		t.Fatalf("OpenUserBrowser on the fast lane: %v", err)
	}
	page, err := b.Browse(ctx, PageRequest{})
	if err != nil || len(page.Users) != 1 {
		t.Fatalf("Browse on the fast lane = %d users, %v; want alice", len(page.Users), err)
	}
	for i, s := range sleepers {
		if closed(s) {
			t.Fatalf("slow query %d ended before the fast one; the test proves nothing", i)
		}
	}

	// Slow work beyond the lane's connections fails as busy while the
	// sleepers still hold them, not as an unreachable database.
	_, err = NewUserBrowser(slow, authprovider.BetterAuth, nil).Count(ctx, Filter{Search: "ali"}, true)
	if !errors.Is(err, ErrBusy) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("Count on the full slow lane: %v, want ErrBusy and not ErrUnreachable", err)
	}
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Lane != LaneSlow || busy.Wait != 100*time.Millisecond {
		t.Errorf("busy error = %#v, want the slow lane and its 100ms wait", busy)
	}
	for i, s := range sleepers {
		if closed(s) {
			t.Errorf("slow query %d ended before the busy answer: the wait was not bounded by the lane", i)
		}
	}
	if st := laneStat(pools, "slow"); st.Acquired != 2 || st.Max != 2 {
		t.Errorf("slow lane stats = %+v, want 2 of 2 in use", st)
	}
}

func laneStat(p *Pools, lane string) PoolStat {
	for _, s := range p.Stats() {
		if s.Lane == lane {
			return s
		}
	}
	return PoolStat{}
}

// TestBusyNeedsTheRequestAlive: when the request's own deadline ends the
// wait first, the answer is that deadline, not "busy".
func TestBusyNeedsTheRequestAlive(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	pools := NewPools(PoolOptions{Fast: LaneLimits{MaxConns: 1, AcquireWait: time.Minute}})
	t.Cleanup(pools.Close)
	pool, err := pools.Get(context.Background(), f.connString)
	if err != nil {
		t.Fatal(err)
	}
	done := sleeper(t, pool)
	waitFull(t, pool)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Detect(ctx, pool)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrBusy) || errors.Is(err, ErrUnreachable) {
		t.Errorf("Detect past the request's deadline: %v, want DeadlineExceeded only", err)
	}
	if closed(done) {
		t.Error("the sleeper ended early")
	}
}

// TestSlowLaneStatementTimeout blocks a count behind a lock: on the slow
// lane the database stops it (ErrQueryTimeout); on the fast lane, which has
// no statement timeout, the request's deadline does, and neither reads as an
// unreachable database.
func TestSlowLaneStatementTimeout(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	f.insert(t, seedUser{key: "alice", email: "alice@example.com", created: t0})
	pools := NewPools(PoolOptions{Slow: LaneLimits{StatementTimeout: 200 * time.Millisecond}})
	t.Cleanup(pools.Close)
	ctx := context.Background()

	tx, err := f.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "LOCK TABLE neon_auth.users_sync IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	slow, err := pools.Get(WithLane(ctx, LaneSlow), f.connString)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewUserBrowser(slow, authprovider.Stack, nil).Count(ctx, Filter{Search: "alice"}, true)
	if !errors.Is(err, ErrQueryTimeout) || errors.Is(err, ErrUnreachable) {
		t.Errorf("slow count behind a lock: %v, want ErrQueryTimeout", err)
	}

	fast, err := pools.Get(ctx, f.connString)
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = NewUserBrowser(fast, authprovider.Stack, nil).Browse(dctx, PageRequest{})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrQueryTimeout) {
		t.Errorf("fast browse past its deadline: %v, want DeadlineExceeded only", err)
	}
}
