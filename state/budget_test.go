package state_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

// openBudgets opens the budget of one key through n stores on one
// database, as n replicas would.
func openBudgets(t *testing.T, n, perMinute, burst int) ([]*state.Budget, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	out := make([]*state.Budget, n)
	for i := range n {
		st, err := state.Open(ctx, url, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		if out[i], err = st.Budget(ctx, "napi_secret-test-key", perMinute, burst); err != nil {
			t.Fatal(err)
		}
	}
	return out, url
}

// TestBudgetGivesTheBurstThenQueues: a new budget holds its burst; the
// next slot must wait one interval, and is refused without being taken
// when the caller may not wait that long.
func TestBudgetGivesTheBurstThenQueues(t *testing.T) {
	// A slot a second: the assertions leave the test's own statements
	// (milliseconds on a busy machine) a wide margin.
	b, url := openBudgets(t, 1, 60, 5)
	ctx := context.Background()
	for i := range 5 {
		if wait, ok, err := b[0].Reserve(ctx, 1, 0); err != nil || !ok || wait != 0 {
			t.Fatalf("slot %d of the burst: wait %v, taken %t, err %v", i+1, wait, ok, err)
		}
	}
	wait, ok, err := b[0].Reserve(ctx, 1, 0)
	if err != nil || ok || wait < 800*time.Millisecond || wait > time.Second {
		t.Fatalf("no spare slot, no wait allowed: wait %v, taken %t, err %v; want refused, ~1s", wait, ok, err)
	}
	wait, ok, err = b[0].Reserve(ctx, 1, 5*time.Second)
	if err != nil || !ok || wait < 800*time.Millisecond || wait > time.Second {
		t.Fatalf("queued slot: wait %v, taken %t, err %v; want taken after ~1s (the refusal took nothing)", wait, ok, err)
	}
	wait, ok, err = b[0].Reserve(ctx, 1, 5*time.Second)
	if err != nil || !ok || wait < 1800*time.Millisecond || wait > 2*time.Second {
		t.Fatalf("second queued slot: wait %v, taken %t, err %v; want ~2s", wait, ok, err)
	}
	if wait, ok, err := b[0].Reserve(ctx, 1, time.Second); err != nil || ok || wait < 2800*time.Millisecond {
		t.Fatalf("a slot ~3s away with 1s allowed: wait %v, taken %t, err %v; want refused", wait, ok, err)
	}
	// Handing both back makes the next slot wait only for the first.
	for range 2 {
		if err := b[0].Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if wait, ok, _ := b[0].Reserve(ctx, 1, 5*time.Second); !ok || wait > time.Second {
		t.Errorf("after two releases: wait %v, taken %t; want ~1s", wait, ok)
	}
	if n, err := b[0].LastMinute(ctx); err != nil || n != 8 {
		t.Errorf("LastMinute = %d, %v; want the 8 slots taken", n, err)
	}
	// The store knows the key only by its hash.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var name string
	if err := conn.QueryRow(ctx, `SELECT key_hash FROM dashboard_state.neon_budget`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != state.KeyHash("napi_secret-test-key") || strings.Contains(name, "secret") {
		t.Errorf("row named %q", name)
	}
	// The tables are unlogged: after a crash the row is gone, and the
	// budget comes back full.
	if _, err := conn.Exec(ctx, `TRUNCATE dashboard_state.neon_budget`); err != nil {
		t.Fatal(err)
	}
	if wait, ok, err := b[0].Reserve(ctx, 1, 0); err != nil || !ok || wait != 0 {
		t.Errorf("after the row was lost: wait %v, taken %t, err %v; want a full budget", wait, ok, err)
	}
}

// TestBudgetRoomForABatch: the first read of a batch needs room for all of
// it, and takes only its own slot.
func TestBudgetRoomForABatch(t *testing.T) {
	b, _ := openBudgets(t, 1, 60, 5)
	ctx := context.Background()
	for range 3 {
		if _, ok, err := b[0].Reserve(ctx, 1, 0); !ok || err != nil {
			t.Fatal("burst", ok, err)
		}
	}
	// Two slots left: a batch of three is refused, one of two goes.
	if wait, ok, err := b[0].Reserve(ctx, 3, 0); err != nil || ok || wait < 800*time.Millisecond {
		t.Fatalf("batch of three with two slots: wait %v, taken %t, err %v", wait, ok, err)
	}
	if _, ok, err := b[0].Reserve(ctx, 2, 0); err != nil || !ok {
		t.Fatalf("batch of two with two slots: taken %t, err %v", ok, err)
	}
	if _, ok, err := b[0].Reserve(ctx, 1, 0); err != nil || !ok {
		t.Fatalf("the batch took one slot only, one is left: taken %t, err %v", ok, err)
	}
}

// TestBudgetSharedByReplicas: three replicas taking spare slots as fast as
// they can for two seconds get no more together than the rate and burst
// allow, each gets some, and the database's row lock loses no update.
func TestBudgetSharedByReplicas(t *testing.T) {
	const perMinute, burst = 1200, 10 // 20 a second
	b, _ := openBudgets(t, 3, perMinute, burst)
	ctx := context.Background()
	counts := make([]atomic.Int64, len(b))
	start := time.Now()
	deadline := start.Add(2 * time.Second)
	var wg sync.WaitGroup
	for i := range b {
		for range 3 {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					_, ok, err := b[i].Reserve(ctx, 1, 0)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						counts[i].Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := int64(0)
	for i := range counts {
		n := counts[i].Load()
		if n == 0 {
			t.Errorf("replica %d got no slot", i)
		}
		total += n
	}
	allowed := int64(burst) + int64(elapsed.Seconds()*perMinute/60) + 1
	if total > allowed || total < allowed*8/10 {
		t.Errorf("%d slots in %v; want at most %d and not far below", total, elapsed, allowed)
	}
	if n, err := b[0].LastMinute(ctx); err != nil || int64(n) != total {
		t.Errorf("LastMinute = %d, %v; want the %d slots every replica took", n, err, total)
	}
}
