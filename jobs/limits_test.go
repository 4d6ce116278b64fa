package jobs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/state"
)

// abandonRevocation records on st a revocation of the bot sessions whose
// replica died after attempts attempts, with progress p: its lease has
// run out.
func abandonRevocation(t *testing.T, st *state.Store, attempts int, p string) int64 {
	t.Helper()
	ctx := context.Background()
	spec := jobs.Revocation(ref, neonauth.SessionFilter{UserAgent: "bot"}, "bots", 300, "ada@example.com", time.Now())
	params, err := json.Marshal(spec.Params)
	if err != nil {
		t.Fatal(err)
	}
	j, err := st.EnqueueJob(ctx, state.NewJob{Kind: spec.Kind, Key: spec.Key, Target: spec.Target, Params: params,
		Progress: json.RawMessage(p), CreatedBy: spec.CreatedBy}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE dashboard_state.jobs SET attempts = $2, lease_until = now() - interval '1 second' WHERE id = $1`, j.ID, attempts); err != nil {
		t.Fatal(err)
	}
	return j.ID
}

// TestTakeoverGivesUpAfterMaxAttempts: a revocation whose replica stopped
// on each of its MaxAttempts attempts is failed rather than taken over
// again, its progress kept and nothing more revoked; one attempt fewer and
// it resumes as usual.
func TestTakeoverGivesUpAfterMaxAttempts(t *testing.T) {
	u := newUsersDB(t)
	u.seedSessions(t, 300, "Bot/1.0")
	stateURL := pgtest.NewDatabase(t)
	a := newReplica(t, stateURL, "replica-a", nil)
	b := newReplica(t, stateURL, "replica-b", newOpener(t, u.url, 0))
	ctx := context.Background()

	id := abandonRevocation(t, a.store, jobs.MaxAttempts, `{"done": 40, "total": 300, "words": "bots"}`)
	b.runner.Start()
	j := waitJob(t, b.runner, jobs.RevocationKey(ref), "the revocation given up", 10*time.Second, func(j jobs.Job) bool { return !j.Active() })
	if j.ID != id || j.Status != jobs.Failed || j.Replica != "replica-b" || j.Attempts != jobs.MaxAttempts {
		t.Fatalf("the revocation ended %s on %s after %d attempts, want failed on replica-b after %d", j.Status, j.Replica, j.Attempts, jobs.MaxAttempts)
	}
	if !strings.Contains(j.Error, "given up after 5 attempts") || !strings.Contains(j.Error, "each replica running it stopped") {
		t.Errorf("error %q", j.Error)
	}
	if j.Progress.Done != 40 || j.Progress.Total != 300 || j.Progress.Words != "bots" || j.Result != "" {
		t.Errorf("progress %+v, result %q; want the 40 of 300 recorded before", j.Progress, j.Result)
	}
	row, err := a.store.GetJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !row.LeaseUntil.IsZero() || row.FinishedAt.IsZero() {
		t.Errorf("given-up row: lease until %v, finished at %v", row.LeaseUntil, row.FinishedAt)
	}
	if n := u.count(t, `SELECT count(*) FROM neon_auth.session`); n != 300 {
		t.Errorf("%d of 300 sessions left: the given-up revocation ran", n)
	}

	// Below the cap, a revocation taken over resumes and ends done.
	id = abandonRevocation(t, a.store, jobs.MaxAttempts-1, `{"done": 0, "total": 300, "words": "bots"}`)
	j = waitJob(t, b.runner, jobs.RevocationKey(ref), "the revocation resumed", 10*time.Second, func(j jobs.Job) bool { return j.ID == id && !j.Active() })
	if j.Status != jobs.Done || j.Replica != "replica-b" || j.Attempts != jobs.MaxAttempts || j.Result != "revoked 300 of 300" || j.Error != "" {
		t.Fatalf("below the cap: %s on %s after %d attempts, result %q, error %q", j.Status, j.Replica, j.Attempts, j.Result, j.Error)
	}
	if n := u.count(t, `SELECT count(*) FROM neon_auth.session`); n != 0 {
		t.Errorf("%d sessions left after the resumed revocation", n)
	}
}

// TestRunnersPruneFinishedJobs: the replicas' takeover loops delete the
// jobs that ended more than Retention ago, a batch per pass, and keep the
// jobs that ended since and those still queued.
func TestRunnersPruneFinishedJobs(t *testing.T) {
	stateURL := pgtest.NewDatabase(t)
	a := newReplica(t, stateURL, "replica-a", nil)
	b := newReplica(t, stateURL, "replica-b", nil)
	ctx := context.Background()
	pool := a.store.Pool()
	if _, err := pool.Exec(ctx, `INSERT INTO dashboard_state.jobs (kind, key, status, created_at, finished_at)
SELECT 'sessions.revoke', 'old:' || i, CASE WHEN i % 3 = 0 THEN 'failed' ELSE 'done' END, $1::timestamptz - interval '1 day', $1::timestamptz
  FROM generate_series(1, 2200) i`, time.Now().Add(-jobs.Retention-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Ended an hour within the retention; queued (no runner here builds
	// indexes) since long before it.
	if _, err := pool.Exec(ctx, `INSERT INTO dashboard_state.jobs (kind, key, status, created_at, finished_at) VALUES
 ('settings.copy', 'kept:recent', 'done', now() - interval '60 days', $1::timestamptz),
 ('index.build', 'kept:queued', 'queued', now() - interval '60 days', NULL)`, time.Now().Add(-jobs.Retention+time.Hour)); err != nil {
		t.Fatal(err)
	}
	count := func(where string) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM dashboard_state.jobs WHERE `+where).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a.runner.Start()
	b.runner.Start()
	deadline := time.Now().Add(10 * time.Second)
	for count(`key LIKE 'old:%'`) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2200 aged-out jobs left after 10s", count(`key LIKE 'old:%'`))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := count(`key IN ('kept:recent', 'kept:queued')`); n != 2 {
		t.Errorf("%d of the 2 jobs to keep are left", n)
	}
	if n := count(`true`); n != 2 {
		t.Errorf("%d jobs left, want the 2 kept", n)
	}
	list, err := b.runner.Recent(ctx, 10)
	if err != nil || len(list) != 2 || list[0].Key != "kept:queued" || list[0].Status != jobs.Queued || list[1].Status != jobs.Done {
		t.Errorf("recent jobs after pruning: %+v %v", list, err)
	}
}
