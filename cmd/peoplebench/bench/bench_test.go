package bench

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// TestRunSmall runs the whole harness on a small branch: every case with
// and without the session index must succeed with both sides timed (a case
// whose page is the wrong size or opens with the wrong row is an ERROR), and
// the revocation must have ended exactly the sessions its filter selects,
// which the test checks in the kept database itself.
func TestRunSmall(t *testing.T) {
	admin := pgtest.Require(t)
	var out, log bytes.Buffer
	rep, err := Run(context.Background(), Config{
		AdminURL: admin, Users: 2000, Runs: 1, Budget: time.Millisecond, Revoke: 500, Keep: true, Out: &out, Log: &log,
	})
	if rep != nil && rep.Database != "" {
		u, _ := url.Parse(rep.Database)
		t.Cleanup(func() { pgtest.DropDatabase(t, strings.TrimPrefix(u.Path, "/")) })
	}
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	phases := map[bool]int{}
	for _, r := range rep.Results {
		phases[r.Index]++
		if r.Err != nil {
			t.Errorf("%s (index %v): %v", r.Case.Name, r.Index, r.Err)
		}
		if r.Ours.N == 0 || (r.Case.Bare != nil) != (r.Bare.N > 0) {
			t.Errorf("%s (index %v): ours %d runs, bare %d runs", r.Case.Name, r.Index, r.Ours.N, r.Bare.N)
		}
	}
	if phases[false] == 0 || phases[false] != phases[true] {
		t.Errorf("cases without / with the session index: %d / %d, want the same cases both ways", phases[false], phases[true])
	}
	rv := rep.Revoke
	if rv == nil || rv.Revoked != 500 || rv.Matched != 500 || rv.Batches < 1 || rv.During.N == 0 || rv.Before.N == 0 || rv.During.Errors+rv.Before.Errors > 0 {
		t.Fatalf("revocation: %+v", rv)
	}

	ctx := t.Context()
	conn, err := pgx.Connect(ctx, rep.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for query, want := range map[string]int64{
		`SELECT count(*) FROM neon_auth.session`:                                                       6000 - 500,
		`SELECT count(*) FROM neon_auth.session WHERE "ipAddress" LIKE '10.0.%' AND "createdAt" >= $1`: 0,
		`SELECT count(*) FROM neon_auth.session WHERE "ipAddress" LIKE '10.0.%' AND "createdAt" < $1`:  2000 - 500,
		`SELECT count(*) FROM pg_indexes WHERE indexname = '` + db.SessionsIndex + `'`:                 1,
	} {
		var n int64
		args := []any{}
		if strings.Contains(query, "$1") {
			args = append(args, rv.From)
		}
		if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if n != want {
			t.Errorf("%s = %d, want %d", query, n, want)
		}
	}

	report := out.String()
	for _, want := range []string{
		"| none | user detail: every panel of a random user | Bitmap Index Scan session_userId_idx |",
		"| none | sessions view: page 100 (cursor) | Seq Scan |",
		"| session_createdAt_id_idx | sessions view: page 100 (cursor) | Index Scan session_createdAt_id_idx |",
		"| session_createdAt_id_idx | sessions view: last page (108) |",
		"users page 1 (Browse, with last active) vs bare without the column",
		"active users chart, last 30 days by day, cache cold (ActiveUsers)",
		"active users chart, last 12 months by week, second call (cached)",
		"| IP starting 10.0., expired included, created from ",
		"**Closing note.**",
		"Seeding 2,000 users and 6,000 sessions",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
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
}
