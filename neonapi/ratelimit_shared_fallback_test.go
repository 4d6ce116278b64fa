package neonapi_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/logtest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/metrics"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/state"
)

// switchableBudget is a real shared budget whose store can be made to
// fail, as a store that went down does.
type switchableBudget struct {
	*state.Budget
	down atomic.Bool
}

var errStoreDown = errors.New("state: budget: dial tcp 127.0.0.1:5432: connect: connection refused")

func (b *switchableBudget) Reserve(ctx context.Context, room int, maxWait time.Duration) (time.Duration, bool, error) {
	if b.down.Load() {
		return 0, false, errStoreDown
	}
	return b.Budget.Reserve(ctx, room, maxWait)
}

func (b *switchableBudget) LastMinute(ctx context.Context) (int, error) {
	if b.down.Load() {
		return 0, errStoreDown
	}
	return b.Budget.LastMinute(ctx)
}

// TestSharedBudgetFallsBackToTheLocalLimiter: while the store does not
// answer, calls still go out, held by the client's own limiter; the
// outage is logged once however many calls it spans, and the spend says it
// is this replica's alone. Once the store answers again after the retry
// pause, calls take from it again, which the log says.
func TestSharedBudgetFallsBackToTheLocalLimiter(t *testing.T) {
	_, srv := limitedSandbox(t, 0)
	st, err := state.Open(context.Background(), pgtest.NewDatabase(t), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	real, err := st.Budget(context.Background(), sharedKey, 600, 5)
	if err != nil {
		t.Fatal(err)
	}
	b := &switchableBudget{Budget: real}
	var logs logtest.Buffer
	m := metrics.New("")
	c, err := neonapi.New(sharedKey, neonapi.WithBaseURL(srv.URL+"/api/v2"), neonapi.WithRateLimit(600, 5),
		neonapi.WithObserver(m), neonapi.WithSharedBudget(b, slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.GetAuthDetails(ctx); err != nil {
		t.Fatal(err)
	}
	if s := c.Spend(); !s.Shared || s.LastMinute != 1 {
		t.Fatalf("store up: Spend %+v, want the shared count", s)
	}

	b.down.Store(true)
	for i := range 5 { // the local burst: no queueing, no refusal
		if _, err := c.GetAuthDetails(ctx); err != nil {
			t.Fatalf("call %d with the store down: %v", i, err)
		}
	}
	// The local bucket is spent: the next call queues ~100ms on it.
	start := time.Now()
	if _, err := c.GetAuthDetails(ctx); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("store down, local burst spent: the call went out after %v; want it held by the local limiter", waited)
	}
	time.Sleep(time.Second + 100*time.Millisecond) // past spendFresh
	if s := c.Spend(); s.Shared || s.LastMinute != 7 {
		t.Errorf("store down: Spend %+v, want this replica's own 7 calls, not marked shared", s)
	}
	if n := strings.Count(logs.String(), "does not answer"); n != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), sharedKey) {
		t.Error("the log holds the API key")
	}
	if n := fallbacks(t, m); n != 6 {
		t.Errorf("the metrics counted %v calls let out by the local limiter, want the 6 made while the store was down", n)
	}

	b.down.Store(false)
	time.Sleep(2*time.Second + 100*time.Millisecond) // past storeRetry
	if _, err := c.GetAuthDetails(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "answers again") {
		t.Errorf("the end of the outage was not logged:\n%s", logs.String())
	}
	if n, err := real.LastMinute(ctx); err != nil || n != 2 {
		t.Errorf("the store counted %d calls (%v); want the one before and the one after the outage", n, err)
	}
}

// fallbacks reads the metric counting calls the local limiter let out in
// the shared budget's stead.
func fallbacks(t *testing.T, m *metrics.Metrics) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "neonauth_dashboard_neon_api_shared_budget_fallbacks_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no shared budget fallback metric")
	return 0
}
