package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/neonauth-admin/dashboard/state"
)

// backend is where jobs are recorded: the state store, or this process's
// memory when there is none.
type backend interface {
	replica() string
	enqueue(ctx context.Context, s Spec, params json.RawMessage, lease time.Duration) (Job, error)
	claim(ctx context.Context, kinds []string, lease time.Duration) (Job, bool, error)
	heartbeat(ctx context.Context, id int64, lease time.Duration) error
	progress(ctx context.Context, id int64, p Progress) error
	finish(ctx context.Context, id int64, status Status, p Progress, result, errText string) error
	release(ctx context.Context, id int64, p Progress) error
	// giveUp fails a claimed job without running it, its progress kept.
	giveUp(ctx context.Context, id int64, errText string) error
	// prune deletes up to limit jobs that ended more than olderThan ago.
	prune(ctx context.Context, olderThan time.Duration, limit int) (int64, error)
	latest(ctx context.Context, key string) (Job, error)
	recent(ctx context.Context, limit int) ([]Job, error)
}

// storeBackend keeps jobs in the state store.
type storeBackend struct{ st *state.Store }

func (b storeBackend) replica() string { return b.st.Replica() }

func (b storeBackend) enqueue(ctx context.Context, s Spec, params json.RawMessage, lease time.Duration) (Job, error) {
	progress, err := json.Marshal(s.Progress)
	if err != nil {
		return Job{}, err
	}
	j, err := b.st.EnqueueJob(ctx, state.NewJob{Kind: s.Kind, Key: s.Key, Target: s.Target, Params: params, Progress: progress, CreatedBy: s.CreatedBy}, lease)
	if errors.Is(err, state.ErrJobActive) {
		return Job{}, ErrActive
	}
	return fromState(j), err
}

func (b storeBackend) claim(ctx context.Context, kinds []string, lease time.Duration) (Job, bool, error) {
	j, ok, err := b.st.ClaimJob(ctx, kinds, lease)
	return fromState(j), ok, err
}

// lost turns the store's lost lease into the runner's.
func lost(err error) error {
	if errors.Is(err, state.ErrLeaseLost) {
		return ErrLeaseLost
	}
	return err
}

func (b storeBackend) heartbeat(ctx context.Context, id int64, lease time.Duration) error {
	return lost(b.st.HeartbeatJob(ctx, id, lease))
}

func (b storeBackend) progress(ctx context.Context, id int64, p Progress) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return lost(b.st.JobProgress(ctx, id, raw))
}

func (b storeBackend) finish(ctx context.Context, id int64, status Status, p Progress, result, errText string) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return lost(b.st.FinishJob(ctx, id, state.JobStatus(status), raw, result, errText))
}

func (b storeBackend) release(ctx context.Context, id int64, p Progress) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return lost(b.st.ReleaseJob(ctx, id, raw))
}

func (b storeBackend) giveUp(ctx context.Context, id int64, errText string) error {
	return lost(b.st.GiveUpJob(ctx, id, errText))
}

func (b storeBackend) prune(ctx context.Context, olderThan time.Duration, limit int) (int64, error) {
	return b.st.PruneJobs(ctx, olderThan, limit)
}

func (b storeBackend) latest(ctx context.Context, key string) (Job, error) {
	j, err := b.st.LatestJob(ctx, key)
	if errors.Is(err, state.ErrJobNotFound) {
		return Job{}, ErrNotFound
	}
	return fromState(j), err
}

func (b storeBackend) recent(ctx context.Context, limit int) ([]Job, error) {
	list, err := b.st.RecentJobs(ctx, limit)
	out := make([]Job, len(list))
	for i, j := range list {
		out[i] = fromState(j)
	}
	return out, err
}

// memoryKeep bounds how many jobs the memory backend remembers.
const memoryKeep = 200

// memoryBackend keeps jobs in this process, for a single replica: no other
// replica can take one over, so it never has one to claim.
type memoryBackend struct {
	mu   sync.Mutex
	next int64
	jobs []Job // oldest first
}

func (m *memoryBackend) replica() string { return "single" }

func (m *memoryBackend) enqueue(_ context.Context, s Spec, params json.RawMessage, _ time.Duration) (Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.ContainsFunc(m.jobs, func(j Job) bool { return j.Key == s.Key && j.Active() }) {
		return Job{}, ErrActive
	}
	m.next++
	now := time.Now()
	j := Job{ID: m.next, Kind: s.Kind, Key: s.Key, Target: s.Target, Status: Running, Replica: m.replica(), Attempts: 1,
		Progress: s.Progress, CreatedBy: s.CreatedBy, CreatedAt: now, StartedAt: now, heartbeat: now, params: params}
	m.jobs = append(m.jobs, j)
	if len(m.jobs) > memoryKeep {
		if i := slices.IndexFunc(m.jobs, func(j Job) bool { return !j.Active() }); i >= 0 {
			m.jobs = slices.Delete(m.jobs, i, i+1)
		}
	}
	return j, nil
}

func (m *memoryBackend) claim(context.Context, []string, time.Duration) (Job, bool, error) {
	return Job{}, false, nil
}

// update changes running job id under the lock.
func (m *memoryBackend) update(id int64, change func(*Job)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.jobs, func(j Job) bool { return j.ID == id })
	if i < 0 || m.jobs[i].Status != Running {
		return ErrLeaseLost
	}
	change(&m.jobs[i])
	return nil
}

func (m *memoryBackend) heartbeat(_ context.Context, id int64, _ time.Duration) error {
	return m.update(id, func(j *Job) { j.heartbeat = time.Now() })
}

func (m *memoryBackend) progress(_ context.Context, id int64, p Progress) error {
	return m.update(id, func(j *Job) { j.Progress = p })
}

func (m *memoryBackend) finish(_ context.Context, id int64, status Status, p Progress, result, errText string) error {
	return m.update(id, func(j *Job) {
		j.Status, j.Progress, j.Result, j.Error, j.FinishedAt = status, p, result, errText, time.Now()
	})
}

func (m *memoryBackend) release(_ context.Context, id int64, p Progress) error {
	return m.update(id, func(j *Job) { j.Status, j.Progress = Queued, p })
}

// giveUp never comes: the memory backend has nothing to claim.
func (m *memoryBackend) giveUp(_ context.Context, id int64, errText string) error {
	return m.update(id, func(j *Job) { j.Status, j.Error, j.FinishedAt = Failed, errText, time.Now() })
}

// prune has nothing to do: memoryKeep already bounds what is remembered.
func (m *memoryBackend) prune(context.Context, time.Duration, int) (int64, error) { return 0, nil }

func (m *memoryBackend) latest(_ context.Context, key string) (Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.jobs) - 1; i >= 0; i-- {
		if m.jobs[i].Key == key {
			return m.jobs[i].withLeaseAge(), nil
		}
	}
	return Job{}, ErrNotFound
}

func (m *memoryBackend) recent(_ context.Context, limit int) ([]Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Job
	for i := len(m.jobs) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, m.jobs[i].withLeaseAge())
	}
	return out, nil
}

// withLeaseAge is j with its lease age as of now.
func (j Job) withLeaseAge() Job {
	if j.Status == Running {
		j.LeaseAge = time.Since(j.heartbeat)
	}
	return j
}
