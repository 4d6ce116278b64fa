package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

func newJob(i int) state.NewJob {
	return state.NewJob{Kind: "index.build", Key: fmt.Sprintf("index.build:p/%d", i), Target: "p", CreatedBy: "ada@example.com",
		Params: json.RawMessage(`{"n":` + fmt.Sprint(i) + `}`)}
}

// TestJobClaimIsExclusive: two replicas claiming at once, eight claimers
// each, take every abandoned job exactly once.
func TestJobClaimIsExclusive(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openStore(t, url), openStore(t, url)
	ctx := context.Background()
	const n = 40
	for i := range n {
		if _, err := a.EnqueueJob(ctx, newJob(i), time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond) // every lease runs out: a "died"
	var mu sync.Mutex
	claimed := map[int64][]string{}
	var wg sync.WaitGroup
	for _, s := range []*state.Store{a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b} {
		wg.Go(func() {
			for {
				j, ok, err := s.ClaimJob(ctx, []string{"index.build"}, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				claimed[j.ID] = append(claimed[j.ID], s.Replica())
				mu.Unlock()
				if j.Attempts != 2 || j.Replica != s.Replica() || j.Status != state.JobRunning {
					t.Errorf("claimed job %d: attempts %d, replica %q, status %s", j.ID, j.Attempts, j.Replica, j.Status)
				}
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		t.Fatalf("%d jobs claimed, want %d", len(claimed), n)
	}
	byReplica := map[string]int{}
	for id, who := range claimed {
		if len(who) != 1 {
			t.Errorf("job %d claimed %d times: %v", id, len(who), who)
		}
		byReplica[who[0]]++
	}
	if byReplica[a.Replica()] == 0 || byReplica[b.Replica()] == 0 {
		t.Logf("claims by replica: %v (one replica took them all)", byReplica)
	}
	// Nothing is left to claim: every job is running under a live lease.
	if _, ok, err := b.ClaimJob(ctx, []string{"index.build"}, time.Minute); ok || err != nil {
		t.Errorf("a job held under a live lease was claimed again (err %v)", err)
	}
}

// TestJobLeaseLostToTakeover: once another replica takes a job over, the
// first one's heartbeat, progress and finish are refused and change
// nothing.
func TestJobLeaseLostToTakeover(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openStore(t, url), openStore(t, url)
	ctx := context.Background()
	j, err := a.EnqueueJob(ctx, newJob(1), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EnqueueJob(ctx, newJob(1), time.Minute); !errors.Is(err, state.ErrJobActive) {
		t.Fatalf("a second job with a running key: err %v, want ErrJobActive", err)
	}
	if err := a.HeartbeatJob(ctx, j.ID, 300*time.Millisecond); err != nil {
		t.Fatalf("heartbeat of a held job: %v", err)
	}
	if err := b.HeartbeatJob(ctx, j.ID, time.Minute); !errors.Is(err, state.ErrLeaseLost) {
		t.Fatalf("another replica's heartbeat: err %v, want ErrLeaseLost", err)
	}
	if _, ok, _ := b.ClaimJob(ctx, []string{"index.build"}, time.Minute); ok {
		t.Fatal("a job under a live lease was claimed")
	}
	time.Sleep(400 * time.Millisecond)
	got, ok, err := b.ClaimJob(ctx, []string{"index.build"}, time.Minute)
	if err != nil || !ok || got.ID != j.ID {
		t.Fatalf("claim after the lease ran out: %v %v %v", got.ID, ok, err)
	}
	for name, err := range map[string]error{
		"heartbeat": a.HeartbeatJob(ctx, j.ID, time.Minute),
		"progress":  a.JobProgress(ctx, j.ID, json.RawMessage(`{"done":99}`)),
		"finish":    a.FinishJob(ctx, j.ID, state.JobDone, nil, "done by a", ""),
		"release":   a.ReleaseJob(ctx, j.ID, nil),
	} {
		if !errors.Is(err, state.ErrLeaseLost) {
			t.Errorf("%s by the replica that lost the lease: err %v, want ErrLeaseLost", name, err)
		}
	}
	if err := b.JobProgress(ctx, j.ID, json.RawMessage(`{"done":5,"total":10}`)); err != nil {
		t.Fatal(err)
	}
	row, err := a.GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Replica != b.Replica() || row.Status != state.JobRunning || row.Attempts != 2 || row.Result != "" || string(row.Progress) != `{"done": 5, "total": 10}` {
		t.Errorf("after the takeover: %+v", row)
	}
	// Given back, it is queued with no lease and claimable at once.
	if err := b.ReleaseJob(ctx, j.ID, json.RawMessage(`{"done":6,"total":10}`)); err != nil {
		t.Fatal(err)
	}
	got, ok, err = a.ClaimJob(ctx, []string{"index.build"}, time.Minute)
	if err != nil || !ok || got.ID != j.ID || got.Attempts != 3 {
		t.Fatalf("claim of a released job: %+v %v %v", got, ok, err)
	}
	if err := a.FinishJob(ctx, j.ID, state.JobFailed, json.RawMessage(`{"done":6}`), "", "stopped"); err != nil {
		t.Fatal(err)
	}
	// A finished job frees its key.
	if _, err := b.EnqueueJob(ctx, newJob(1), time.Minute); err != nil {
		t.Errorf("a new job on a finished job's key: %v", err)
	}
	latest, err := a.LatestJob(ctx, newJob(1).Key)
	if err != nil || latest.ID == j.ID || latest.Replica != b.Replica() {
		t.Errorf("latest job of the key: %+v %v", latest, err)
	}
	list, err := a.RecentJobs(ctx, 10)
	if err != nil || len(list) != 2 || !slices.IsSortedFunc(list, func(x, y state.Job) int { return int(y.ID - x.ID) }) {
		t.Errorf("recent jobs: %d, %v", len(list), err)
	}
	if list[1].Status != state.JobFailed || list[1].Error != "stopped" || list[1].FinishedAt.IsZero() || !list[1].LeaseUntil.IsZero() {
		t.Errorf("the failed job as listed: %+v", list[1])
	}
}
