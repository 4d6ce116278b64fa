package neonapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/state"
)

// sharedKey is the API key both replicas use.
const sharedKey = "napi_shared-budget-test"

// limitedSandbox serves a sandbox that limits each key to perMinute calls
// a minute, as Neon does.
func limitedSandbox(t *testing.T, perMinute int) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	sb, err := sandbox.New(context.Background(), sandbox.Config{DatabaseURL: pgtest.Require(t), SyncDelay: -1, RateLimitPerMinute: perMinute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("sandbox close: %v", err)
		}
	})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return sb, srv
}

// sandboxRequests reads GET /_sandbox/requests, or resets it with DELETE.
func sandboxRequests(t *testing.T, srv *httptest.Server, method string) sandbox.RequestStats {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/_sandbox/requests", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st sandbox.RequestStats
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s /_sandbox/requests: status %d", method, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// countingBudget counts the store's reservations.
type countingBudget struct {
	*state.Budget
	reserves atomic.Int64
}

func (b *countingBudget) Reserve(ctx context.Context, room int, maxWait time.Duration) (time.Duration, bool, error) {
	b.reserves.Add(1)
	return b.Budget.Reserve(ctx, room, maxWait)
}

// replicaClients returns n clients of one key at perMinute with burst, as
// n replicas would build them: each on a store of its own on one database,
// taking from the key's shared budget when shared is set.
func replicaClients(t *testing.T, srv *httptest.Server, n, perMinute, burst int, shared bool) ([]*neonapi.Client, []*countingBudget) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	clients := make([]*neonapi.Client, n)
	budgets := make([]*countingBudget, n)
	for i := range n {
		st, err := state.Open(ctx, url, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		opts := []neonapi.Option{
			neonapi.WithBaseURL(srv.URL + "/api/v2"),
			neonapi.WithRateLimit(perMinute, burst),
			// One attempt: a 429 is seen, not retried out of sight.
			neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}),
		}
		if shared {
			b, err := st.Budget(ctx, sharedKey, perMinute, burst)
			if err != nil {
				t.Fatal(err)
			}
			budgets[i] = &countingBudget{Budget: b}
			opts = append(opts, neonapi.WithSharedBudget(budgets[i], nil))
		}
		if clients[i], err = neonapi.New(sharedKey, opts...); err != nil {
			t.Fatal(err)
		}
	}
	return clients, budgets
}

// demand is what driving the clients gave.
type demand struct {
	sent, shed, limited []int64
	elapsed             time.Duration
}

// drive calls Neon from workers goroutines per client as fast as the
// clients let them, for d: far more than the budget.
func drive(t *testing.T, clients []*neonapi.Client, workers int, d time.Duration) demand {
	t.Helper()
	out := demand{sent: make([]int64, len(clients)), shed: make([]int64, len(clients)), limited: make([]int64, len(clients))}
	var sent, shed, limited = make([]atomic.Int64, len(clients)), make([]atomic.Int64, len(clients)), make([]atomic.Int64, len(clients))
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for i, c := range clients {
		for range workers {
			wg.Go(func() {
				for time.Now().Before(stop) {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					_, err := c.GetAuthDetails(ctx)
					cancel()
					var apiErr *neonapi.APIError
					switch {
					case err == nil:
						sent[i].Add(1)
					case errors.Is(err, neonapi.ErrShed):
						shed[i].Add(1)
						time.Sleep(20 * time.Millisecond) // a person would not click faster
					case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests:
						limited[i].Add(1)
						time.Sleep(20 * time.Millisecond)
					default:
						t.Errorf("client %d: %v", i, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	for i := range clients {
		out.sent[i], out.shed[i], out.limited[i] = sent[i].Load(), shed[i].Load(), limited[i].Load()
	}
	return out
}

// TestSharedBudgetKeepsReplicasUnderNeonsLimit: two replicas each given
// Neon's whole limit, with far more demand than it, collect no 429 from a
// sandbox that limits the key as Neon does when they share one budget;
// together they send no more than the budget allows for the time, each
// gets about half, and the footer's spend counts both. The same replicas
// with their own limiters collect 429s, which shows the test can fail.
func TestSharedBudgetKeepsReplicasUnderNeonsLimit(t *testing.T) {
	// Neon's rate, and a burst a few calls below Neon's 40: the sandbox's
	// bucket starts refilling when the first call arrives, the budget's
	// when it was taken, a connection's setup earlier. With no margin at
	// all the budget's first call after the burst lands that much early
	// and draws one 429.
	const perMinute, burst = 700, 35
	const workers, runFor = 6, 6 * time.Second
	sb, srv := limitedSandbox(t, perMinute)
	_ = sb

	t.Run("shared", func(t *testing.T) {
		clients, budgets := replicaClients(t, srv, 2, perMinute, burst, true)
		sandboxRequests(t, srv, http.MethodDelete)
		start := time.Now()
		got := drive(t, clients, workers, runFor)
		st := sandboxRequests(t, srv, http.MethodGet)
		elapsed := time.Since(start)
		total := got.sent[0] + got.sent[1]
		allowed := int64(burst) + int64(elapsed.Seconds()*perMinute/60) + 1
		t.Logf("%d calls in %v (budget %d), %d and %d per replica, %d and %d shed, %d reservations asked of the store; sandbox: %+v",
			total, elapsed.Round(time.Millisecond), allowed, got.sent[0], got.sent[1], got.shed[0], got.shed[1],
			budgets[0].reserves.Load()+budgets[1].reserves.Load(), st)
		if st.RateLimited != 0 || got.limited[0]+got.limited[1] != 0 {
			t.Errorf("the sandbox answered %d 429s (clients saw %v); want none", st.RateLimited, got.limited)
		}
		if int64(st.Requests) != total+got.limited[0]+got.limited[1] || int64(st.Requests) > allowed {
			t.Errorf("the sandbox saw %d calls (clients sent %d); want them all, at most %d for %v", st.Requests, total, allowed, elapsed)
		}
		if total < allowed*8/10 {
			t.Errorf("only %d calls of the %d the budget allowed: the demand was not served", total, allowed)
		}
		for i, n := range got.sent {
			if n*100/max(total, 1) < 35 {
				t.Errorf("replica %d sent %d of %d calls: starved", i, n, total)
			}
		}
		for i, c := range clients {
			if s := c.Spend(); !s.Shared || s.PerMinute != perMinute || s.LastMinute != st.Requests {
				t.Errorf("replica %d: Spend %+v, want the %d calls of both replicas", i, s, total)
			}
		}
	})

	t.Run("own limiters", func(t *testing.T) {
		clients, _ := replicaClients(t, srv, 2, perMinute, burst, false)
		sandboxRequests(t, srv, http.MethodDelete)
		got := drive(t, clients, workers, 2*time.Second)
		st := sandboxRequests(t, srv, http.MethodGet)
		t.Logf("without the shared budget: %d and %d calls, %d 429s; sandbox: %+v", got.sent[0], got.sent[1], got.limited[0]+got.limited[1], st)
		if st.RateLimited == 0 || got.limited[0]+got.limited[1] == 0 {
			t.Errorf("two replicas with the key's whole budget each drew no 429: the test could not fail")
		}
		if s := clients[0].Spend(); s.Shared {
			t.Errorf("Spend %+v claims to be shared", s)
		}
	})
}

// TestSharedBudgetBackgroundReadsTakeOnlySpareSlots: with the shared
// budget spent by the other replica, a background read is refused at once
// with a hint, an interactive one whose deadline comes first is shed, and
// one that may wait queues for its slot (at most 200 ms away) rather than
// being shed; the refusals take no slot.
func TestSharedBudgetBackgroundReadsTakeOnlySpareSlots(t *testing.T) {
	_, srv := limitedSandbox(t, 0)
	clients, budgets := replicaClients(t, srv, 2, 300, 3, true) // a slot every 200 ms
	ctx := context.Background()
	// drain spends every spare slot from the other replica.
	drain := func() int {
		n := 0
		for {
			_, ok, err := budgets[1].Reserve(ctx, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return n
			}
			n++
		}
	}
	taken := drain()
	start := time.Now()
	_, err := clients[0].GetAuthDetails(neonapi.BackgroundReads(ctx, 1))
	var shed *neonapi.ShedError
	if !errors.As(err, &shed) || shed.RetryAfter() <= 0 || shed.RetryAfter() > 200*time.Millisecond || time.Since(start) > 250*time.Millisecond {
		t.Fatalf("background read with no spare slot: %v after %v; want refused at once, retry within 200ms", err, time.Since(start))
	}
	taken += drain()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := clients[0].GetAuthDetails(short); !errors.Is(err, neonapi.ErrShed) {
		t.Fatalf("interactive read whose deadline comes before its slot: %v, want shed", err)
	}
	taken += drain()
	start = time.Now()
	if _, err := clients[0].GetAuthDetails(ctx); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > 700*time.Millisecond {
		t.Errorf("interactive read waited %v; want at most the 200ms to the next slot", waited)
	}
	if n, err := budgets[0].LastMinute(ctx); err != nil || n != taken+1 {
		t.Errorf("LastMinute = %d, %v; want the other replica's %d and this one's 1 (refusals take nothing)", n, err, taken)
	}
}

// A page's background panels each need room for their reads at once. After
// a call that took a slot at once, the client knows nothing of the next, so
// the next panel asks the store, which has room, rather than being refused
// on a guess.
func TestSharedBudgetBackgroundBatchAfterACallAtOnce(t *testing.T) {
	_, srv := limitedSandbox(t, 0)
	clients, budgets := replicaClients(t, srv, 1, 700, 40, true)
	ctx := context.Background()
	if _, err := clients[0].GetAuthDetails(ctx); err != nil {
		t.Fatal(err)
	}
	for panel := range 3 {
		before := budgets[0].reserves.Load()
		if _, err := clients[0].GetAuthDetails(neonapi.BackgroundReads(ctx, 10)); err != nil {
			t.Fatalf("panel %d of 10 reads with 30-odd slots spare: %v", panel, err)
		}
		if budgets[0].reserves.Load() == before {
			t.Fatalf("panel %d was answered without asking the store", panel)
		}
	}
}
