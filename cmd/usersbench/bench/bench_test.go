package bench

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

func TestMain(m *testing.M) {
	RunExportChild() // the benchmark re-runs this binary to measure an export
	os.Exit(m.Run())
}

// TestRunSmall runs the whole harness on small tables: every case under
// every combination of offered indexes must succeed (a case that errors,
// such as a page of the wrong size, is reported as ERROR) with both sides
// timed, and the mixed load must get answers from the dashboard.
func TestRunSmall(t *testing.T) {
	admin := pgtest.Require(t)
	var out, log bytes.Buffer
	rep, err := Run(context.Background(), Config{
		AdminURL: admin, StackRows: 6000, BetterAuthRows: 5500,
		Runs: 1, Budget: time.Millisecond, Load: 500 * time.Millisecond, Clients: 4, Searchers: 1, Think: 20 * time.Millisecond,
		Extra: true, Export: true, Out: &out, Log: &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	combos := map[string]int{}
	for _, r := range rep.Results {
		combos[r.Table] = max(combos[r.Table], len(combinations(r.Indexes.offers)))
		if r.Err != nil {
			t.Errorf("%s, %s / %s: %v", r.Table, r.Indexes, r.Case.Name, r.Err)
		}
		if (r.Case.Ours != nil) != (r.Ours.N > 0) || (r.Case.Bare != nil) != (r.Bare.N > 0) {
			t.Errorf("%s, %s / %s: ours %d runs, bare %d runs", r.Table, r.Indexes, r.Case.Name, r.Ours.N, r.Bare.N)
		}
	}
	if len(combos) != 2 || combos["neon_auth.users_sync"] < 2 || combos[`neon_auth."user"`] < 2 {
		t.Errorf("combinations of indexes per table = %v, want both tables with and without each offered index", combos)
	}
	if want := combos["neon_auth.users_sync"] + combos[`neon_auth."user"`]; len(rep.Mixed) != want {
		t.Errorf("%d mixed loads, want one per combination (%d)", len(rep.Mixed), want)
	}
	for _, m := range rep.Mixed {
		if m.Dashboard.Browse.N == 0 || m.Bare.Browse.N == 0 || m.Bare.Search.N == 0 {
			t.Errorf("%s, %s mixed load: dashboard %+v, bare %+v", m.Table, m.Indexes, m.Dashboard, m.Bare)
		}
		if m.Dashboard.Errors() > 0 || m.Bare.Errors() > 0 {
			t.Errorf("%s, %s mixed load: %d errors, bare %d: %s%s", m.Table, m.Indexes, m.Dashboard.Errors(), m.Bare.Errors(), m.Dashboard.FirstErr, m.Bare.FirstErr)
		}
	}
	table := out.String()
	for _, want := range []string{
		"| neon_auth.users_sync | no offered index | check box by email (UserDirectory.Find) | Seq Scan |",
		"| neon_auth.users_sync | (created_at DESC, id DESC) | browse page 100 of 121 | Index Scan users_sync_created_at_id_idx |",
		`| neon_auth."user" | no offered index | check box by email (UserDirectory.Find) | Index Scan user_email_key |`,
		`| neon_auth."user" | ("createdAt" DESC, id DESC) | browse last page (110) |`,
		`| neon_auth."user" | no offered index | HTTP check box by id |`,
		"| neon_auth.users_sync | no offered index | HTTP browse page 100 (htmx) |",
		"| neon_auth.users_sync | no offered index | latest users (first page, UserDirectory.Latest) |",
		`| neon_auth."user" | no offered index | role admin (page 1) |`,
		"OFFSET page 120 (baseline)",
		"| neon_auth.users_sync | no offered index | HTTP export csv, all ",
		"export csv in a separate process",
		"| browse n | browse p50 ms |",
		"**Closing note.**",
		"CREATE INDEX CONCURRENTLY IF NOT EXISTS",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("report lacks %q:\n%s", want, table)
		}
	}
}

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if s := summarize(d); s.N != 100 || s.Median != 51*time.Millisecond || s.P99 != 99*time.Millisecond {
		t.Errorf("summarize(1..100 ms) = %+v", s)
	}
	if s := summarize(d[:3]); s.P99 != 100*time.Millisecond || s.Median != 99*time.Millisecond {
		t.Errorf("summarize(100, 99, 98 ms) = %+v", s)
	}
}

func TestCombinationsStepOneIndexAtATime(t *testing.T) {
	offers := []offer{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	seen := map[uint]bool{}
	cs := combinations(offers)
	for i, c := range cs {
		seen[c.mask] = true
		if i > 0 {
			if diff := c.mask ^ cs[i-1].mask; diff&(diff-1) != 0 {
				t.Errorf("step %d: %03b to %03b changes more than one index", i, cs[i-1].mask, c.mask)
			}
		}
	}
	if len(seen) != 8 || cs[0].mask != 0 {
		t.Errorf("combinations = %v, want all 8 subsets starting with none", cs)
	}
}
