package usersbench

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

// TestRunSmall runs every case on small tables: each must succeed (a case
// that errors, such as a page of the wrong size, is reported as ERROR) and
// appear in the table with both sides timed.
func TestRunSmall(t *testing.T) {
	admin := pgtest.Require(t)
	var out, log bytes.Buffer
	results, err := Run(context.Background(), Config{
		AdminURL: admin, StackRows: 1200, BetterAuthRows: 900,
		Runs: 1, Budget: time.Millisecond, Export: true, Out: &out, Log: &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	if len(results) < 50 {
		t.Errorf("%d results, want every case of both tables", len(results))
	}
	for _, r := range results {
		if r.Err != nil {
			t.Errorf("%s / %s: %v", r.Suite, r.Case.Name, r.Err)
		}
		if (r.Case.Ours != nil) != (r.Ours.N > 0) || (r.Case.Bare != nil) != (r.Bare.N > 0) {
			t.Errorf("%s / %s: ours %d runs, bare %d runs", r.Suite, r.Case.Name, r.Ours.N, r.Bare.N)
		}
	}
	table := out.String()
	for _, want := range []string{
		"| neon_auth.users_sync, no index | browse page 24, the last (after cursor) |",
		`| neon_auth."user", with index | role admin (page 1) |`,
		"export csv: peak RSS",
		"OFFSET page 18 (baseline)",
		"| neon_auth.users_sync, with index | HTTP browse page 13 (htmx, after cursor) |",
		`| neon_auth."user", no index | HTTP exact id in the search box (htmx) |`,
		"| neon_auth.users_sync, no index | HTTP export csv, all ",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if !strings.Contains(log.String(), "CREATE INDEX CONCURRENTLY IF NOT EXISTS") {
		t.Errorf("log does not show the index build:\n%s", log.String())
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
