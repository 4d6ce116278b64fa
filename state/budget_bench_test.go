package state_test

import (
	"context"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

// BenchmarkBudgetReserve sets what a shared-budget reservation costs
// beside the cheapest round trip on the same pool, a bare SELECT 1, and
// reports the ratio. The budget is generous enough that every slot is
// taken, so each reservation also counts its spend.
//
//	go test ./state -run '^$' -bench BudgetReserve -benchtime 2000x
func BenchmarkBudgetReserve(b *testing.B) {
	ctx := context.Background()
	st, err := state.Open(ctx, pgtest.NewDatabase(b), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	budget, err := st.Budget(ctx, "napi_bench", 60_000_000, 1000)
	if err != nil {
		b.Fatal(err)
	}
	var reserve, selectOne time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := st.Pool().Exec(ctx, `SELECT 1`); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, _, err := budget.Reserve(ctx, 1, 0); err != nil {
			b.Fatal(err)
		}
		reserve += time.Since(mid)
		selectOne += mid.Sub(start)
	}
	b.ReportMetric(float64(reserve.Nanoseconds())/float64(b.N), "reserve-ns/op")
	b.ReportMetric(float64(selectOne.Nanoseconds())/float64(b.N), "select1-ns/op")
	b.ReportMetric(float64(reserve)/float64(selectOne), "ratio")
}
