package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

// TestPruneJobs: two replicas pruning at once delete every job that ended
// before the retention exactly once, at most a batch per pass, and leave
// jobs that ended since, and queued or running ones however old.
func TestPruneJobs(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openStore(t, url), openStore(t, url)
	ctx := context.Background()
	const old, batch = 2500, 1000
	const retention = 30 * 24 * time.Hour
	if _, err := a.Pool().Exec(ctx, `INSERT INTO dashboard_state.jobs (kind, key, status, created_at, started_at, finished_at)
SELECT 'index.build', 'old:' || i, CASE WHEN i % 2 = 0 THEN 'done' ELSE 'failed' END,
       now() - interval '40 days', now() - interval '40 days', now() - interval '31 days'
  FROM generate_series(1, $1::int) i`, old); err != nil {
		t.Fatal(err)
	}
	// Ended within the retention, though started long before: kept.
	recent, err := a.EnqueueJob(ctx, newJob(1), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.FinishJob(ctx, recent.ID, state.JobDone, nil, "built", ""); err != nil {
		t.Fatal(err)
	}
	// Queued and running for longer than the retention: never pruned.
	running, err := a.EnqueueJob(ctx, newJob(2), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := a.EnqueueJob(ctx, newJob(3), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseJob(ctx, queued.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Pool().Exec(ctx, `UPDATE dashboard_state.jobs SET created_at = now() - interval '60 days',
 started_at = now() - interval '60 days' WHERE id = ANY($1)`, []int64{recent.ID, running.ID, queued.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Pool().Exec(ctx, `UPDATE dashboard_state.jobs SET finished_at = now() - interval '29 days' WHERE id = $1`, recent.ID); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var passes []int64
	var wg sync.WaitGroup
	for _, s := range []*state.Store{a, b, a, b} {
		wg.Go(func() {
			for {
				n, err := s.PruneJobs(ctx, retention, batch)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				passes = append(passes, n)
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	var total int64
	for _, n := range passes {
		if n > batch {
			t.Errorf("one pass deleted %d jobs, more than its batch of %d", n, batch)
		}
		total += n
	}
	if total != old {
		t.Errorf("passes %v deleted %d jobs in all, want the %d that ended over 30 days ago", passes, total, old)
	}
	list, err := b.RecentJobs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var left []int64
	for _, j := range list {
		left = append(left, j.ID)
	}
	slices.Sort(left)
	if want := []int64{recent.ID, running.ID, queued.ID}; !slices.Equal(left, want) {
		t.Errorf("jobs left %v, want %v (recent done, running, queued)", left, want)
	}
	if n, err := a.PruneJobs(ctx, retention, batch); n != 0 || err != nil {
		t.Errorf("a pass with nothing aged out deleted %d (err %v)", n, err)
	}
}

// TestGiveUpJob: a replica that claimed a job may fail it instead of
// running it; the progress stays as it was, the attempt the claim counted
// is not counted, and a replica that does not hold it cannot.
func TestGiveUpJob(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openStore(t, url), openStore(t, url)
	ctx := context.Background()
	j, err := a.EnqueueJob(ctx, newJob(1), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.JobProgress(ctx, j.ID, json.RawMessage(`{"done":7,"total":10}`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	claimed, ok, err := b.ClaimJob(ctx, []string{"index.build"}, time.Minute)
	if err != nil || !ok || claimed.ID != j.ID || claimed.Attempts != 2 {
		t.Fatalf("claim: %+v %v %v", claimed, ok, err)
	}
	if err := a.GiveUpJob(ctx, j.ID, "given up"); !errors.Is(err, state.ErrLeaseLost) {
		t.Fatalf("give-up by the replica that lost the job: err %v, want ErrLeaseLost", err)
	}
	if err := b.GiveUpJob(ctx, j.ID, "given up after 1 attempts"); err != nil {
		t.Fatal(err)
	}
	row, err := a.GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != state.JobFailed || row.Attempts != 1 || row.Error != "given up after 1 attempts" || string(row.Progress) != `{"done": 7, "total": 10}` ||
		!row.LeaseUntil.IsZero() || row.FinishedAt.IsZero() || row.Replica != b.Replica() {
		t.Errorf("given up: %+v", row)
	}
	if _, err := a.EnqueueJob(ctx, newJob(1), time.Minute); err != nil {
		t.Errorf("a new job on a given-up job's key: %v", err)
	}
}
