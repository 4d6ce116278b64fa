package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/neonauth-admin/dashboard/state"
)

// DefaultLease is how long a replica holds a job without a heartbeat
// (JOB_LEASE).
const DefaultLease = 30 * time.Second

// Bounds on the runner's own writes, which must not hang a shutdown.
const (
	writeTimeout = 5 * time.Second
	// closeWait bounds how long Close waits for running jobs to stop.
	closeWait = 15 * time.Second
	// claimsPerTick bounds the jobs one look takes over, so one replica
	// coming back does not take every job at once.
	claimsPerTick = 4
)

// MaxAttempts bounds how many times a job that resumes is started. A job
// whose every replica stopped while running it may be what stops them (a
// crash, memory running out), so rather than being taken over for ever, it
// fails once that many attempts ended that way, keeping its progress.
const MaxAttempts = 5

// Options configure New.
type Options struct {
	// Store is the state store; nil keeps jobs in memory.
	Store *state.Store
	// Lease is JOB_LEASE (DefaultLease when zero).
	Lease time.Duration
	// Service opens what index builds and revocations work on.
	Service Opener
	Logger  *slog.Logger
}

// Runner runs and records jobs. Every replica runs one.
type Runner struct {
	b      backend
	shared bool // jobs live in the store, where another replica may take them
	lease  time.Duration
	kinds  map[string]kind
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // running jobs
	loops  sync.WaitGroup

	// starting is held (read) from a job's record to its launch, so that
	// Close never waits while a job is being added.
	starting sync.RWMutex

	mu      sync.Mutex
	active  map[int64]*active
	closing bool
	halted  bool
	once    sync.Once

	// pruneDue is when the takeover loop next prunes finished jobs; only
	// that loop touches it.
	pruneDue time.Time
}

// active is a job this replica runs.
type active struct {
	id     int64
	kind   kind
	cancel context.CancelCauseFunc
	// background jobs run in the runner; tracked ones within a request.
	background bool

	mu       sync.Mutex
	progress Progress
	lost     bool
}

// New returns a runner; Start sets its loops going.
func New(opts Options) *Runner {
	r := &Runner{lease: opts.Lease, log: opts.Logger, active: map[int64]*active{}}
	if r.lease <= 0 {
		r.lease = DefaultLease
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if opts.Store != nil {
		r.b, r.shared = storeBackend{opts.Store}, true
	} else {
		r.b = &memoryBackend{}
	}
	r.kinds = kinds(opts.Service)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// Replica names this process among the replicas ("single" without a store).
func (r *Runner) Replica() string { return r.b.replica() }

// Lease is how long a job is held without a heartbeat.
func (r *Runner) Lease() time.Duration { return r.lease }

// Start sets the heartbeats and the takeover of abandoned jobs going, and
// at once takes over the jobs given back or left by a replica that died.
func (r *Runner) Start() {
	r.loops.Go(func() { r.every(r.lease/3, r.heartbeats) })
	if r.shared {
		r.loops.Go(func() {
			r.takeOver()
			r.prune()
			r.every(r.lease/2, func() {
				r.takeOver()
				r.prune()
			})
		})
	}
}

// every calls f every d until the runner stops.
func (r *Runner) every(d time.Duration, f func()) {
	t := time.NewTicker(max(d, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

func writeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), writeTimeout)
}

// heartbeats extends the lease of every job this replica runs; a job whose
// lease another replica took is stopped.
func (r *Runner) heartbeats() {
	r.mu.Lock()
	list := make([]*active, 0, len(r.active))
	for _, a := range r.active {
		list = append(list, a)
	}
	r.mu.Unlock()
	for _, a := range list {
		ctx, cancel := writeCtx()
		err := r.b.heartbeat(ctx, a.id, r.lease)
		cancel()
		switch {
		case errors.Is(err, ErrLeaseLost):
			r.lose(a)
		case err != nil:
			// The store may be back before the lease runs out; if not,
			// the next heartbeat finds the job taken over.
			r.log.Warn("job heartbeat failed", "job", a.id, "kind", a.kind.name, "err", err)
		}
	}
}

// lose stops a job this replica no longer holds, without touching its row.
func (r *Runner) lose(a *active) {
	a.mu.Lock()
	a.lost = true
	a.mu.Unlock()
	a.cancel(ErrLeaseLost)
	r.log.Warn("job lease lost: another replica took it over", "job", a.id, "kind", a.kind.name)
}

// takeOver claims the jobs whose replica gave them back or died: those
// that can resume run here, the others are concluded as failed.
func (r *Runner) takeOver() {
	names := make([]string, 0, len(r.kinds))
	for name := range r.kinds {
		names = append(names, name)
	}
	slices.Sort(names)
	for range claimsPerTick {
		r.mu.Lock()
		stop := r.closing || r.halted
		r.mu.Unlock()
		if stop {
			return
		}
		ctx, cancel := writeCtx()
		j, ok, err := r.b.claim(ctx, names, r.lease)
		cancel()
		if err != nil {
			r.log.Warn("job claim failed", "err", err)
			return
		}
		if !ok {
			return
		}
		if r.runsHere(j.ID) {
			// This replica's own job, whose lease ran out while its
			// heartbeats did not reach the store: it is still running
			// here, and the claim renewed its lease. Running it again, or
			// concluding a live copy, would do the work twice.
			continue
		}
		k := r.kinds[j.Kind]
		if k.run == nil {
			r.abandon(j, k)
			continue
		}
		if j.Attempts > MaxAttempts {
			r.giveUp(j)
			continue
		}
		r.log.Info("job taken over", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts)
		if !r.launchClaimed(j, k) {
			return
		}
	}
}

// runsHere reports whether job id is running in this replica.
func (r *Runner) runsHere(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.active[id]
	return ok
}

// launchClaimed runs a job taken over unless the runner is stopping, in
// which case it gives the job back.
func (r *Runner) launchClaimed(j Job, k kind) bool {
	r.starting.RLock()
	defer r.starting.RUnlock()
	r.mu.Lock()
	closing, halted := r.closing, r.halted
	r.mu.Unlock()
	if halted {
		return false
	}
	if closing {
		ctx, cancel := writeCtx()
		defer cancel()
		_ = r.b.release(ctx, j.ID, j.Progress)
		return false
	}
	r.launch(j, k, true)
	return true
}

// abandon concludes as failed a job that cannot resume.
func (r *Runner) abandon(j Job, k kind) {
	p, result, msg := k.abandon(j.Progress)
	status := Done
	if msg != "" {
		status = Failed
	}
	ctx, cancel := writeCtx()
	defer cancel()
	if err := r.b.finish(ctx, j.ID, status, p, result, msg); err != nil {
		r.log.Warn("job conclusion failed", "job", j.ID, "kind", j.Kind, "err", err)
		return
	}
	r.log.Warn("job concluded: its replica stopped while it ran", "job", j.ID, "kind", j.Kind, "status", string(status))
}

// giveUp fails a job taken over once too often instead of starting it
// again, keeping the progress its replicas made.
func (r *Runner) giveUp(j Job) {
	ran := j.Attempts - 1
	msg := fmt.Sprintf("given up after %d attempts: each replica running it stopped before it ended, so it is not started again.", ran)
	ctx, cancel := writeCtx()
	defer cancel()
	if err := r.b.giveUp(ctx, j.ID, msg); err != nil {
		r.log.Warn("job give-up failed", "job", j.ID, "kind", j.Kind, "err", err)
		return
	}
	r.log.Warn("job given up: every replica running it stopped", "job", j.ID, "kind", j.Kind, "attempts", ran)
}

// StartJob records spec as running on this replica and runs it in the
// background. ErrActive when a job holds its key.
func (r *Runner) StartJob(ctx context.Context, spec Spec) (Job, error) {
	k, ok := r.kinds[spec.Kind]
	if !ok || k.run == nil {
		return Job{}, errors.New("jobs: " + spec.Kind + " does not run in the background")
	}
	r.starting.RLock()
	defer r.starting.RUnlock()
	j, err := r.enqueue(ctx, spec)
	if err != nil {
		return Job{}, err
	}
	r.launch(j, k, false)
	return j, nil
}

func (r *Runner) enqueue(ctx context.Context, spec Spec) (Job, error) {
	r.mu.Lock()
	closed := r.closing || r.halted
	r.mu.Unlock()
	if closed {
		return Job{}, ErrClosed
	}
	params, err := json.Marshal(spec.Params)
	if err != nil {
		return Job{}, err
	}
	return r.b.enqueue(ctx, spec, params, r.lease)
}

// launch runs j here in the background.
func (r *Runner) launch(j Job, k kind, resumed bool) {
	ctx, cancel := context.WithCancelCause(r.ctx)
	a := &active{id: j.ID, kind: k, cancel: cancel, background: true, progress: j.Progress}
	r.mu.Lock()
	r.active[j.ID] = a
	r.mu.Unlock()
	r.wg.Go(func() {
		defer cancel(nil)
		run := &Run{Job: j, Resumed: resumed, r: r, a: a}
		result, err := k.run(ctx, run)
		r.conclude(a, result, err, context.Cause(ctx))
	})
}

// conclude records how a background job ended: done, failed, given back
// when the runner is closing and the job can resume, or left alone when
// the runner halted or another replica holds it.
func (r *Runner) conclude(a *active, result string, err, cause error) {
	r.mu.Lock()
	delete(r.active, a.id)
	halted := r.halted
	r.mu.Unlock()
	a.mu.Lock()
	p, lostLease := a.progress, a.lost
	a.mu.Unlock()
	if halted || lostLease {
		return
	}
	ctx, cancel := writeCtx()
	defer cancel()
	var werr error
	switch {
	case err == nil:
		r.log.Info("job done", "job", a.id, "kind", a.kind.name, "result", result)
		werr = r.b.finish(ctx, a.id, Done, p, result, "")
	case errors.Is(cause, errShutdown) && r.shared:
		werr = r.b.release(ctx, a.id, p)
		r.log.Info("job given back for another replica", "job", a.id, "kind", a.kind.name)
	default:
		r.log.Warn("job failed", "job", a.id, "kind", a.kind.name, "err", err)
		werr = r.b.finish(ctx, a.id, Failed, p, "", a.kind.describe(err))
	}
	if werr != nil {
		r.log.Warn("job record failed", "job", a.id, "kind", a.kind.name, "err", werr)
	}
}

// Latest returns the newest job under key; ErrNotFound when none ran.
func (r *Runner) Latest(ctx context.Context, key string) (Job, error) { return r.b.latest(ctx, key) }

// Recent lists up to limit jobs of every replica, newest first.
func (r *Runner) Recent(ctx context.Context, limit int) ([]Job, error) { return r.b.recent(ctx, limit) }

// Close shuts the runner down: running jobs that can resume stop and are
// given back at once (queued) for another replica, without waiting for
// their lease to run out; the others end failed. It waits for them at most
// closeWait, so a shutdown never hangs on a job.
func (r *Runner) Close() {
	r.stop(false)
}

// Halt stops the runner as a crash would: its jobs stop and their rows are
// left as they are, held by this replica until their lease runs out. A
// progress already made is still recorded. For tests, and for a process
// that has lost its store.
func (r *Runner) Halt() {
	r.stop(true)
}

func (r *Runner) stop(halt bool) {
	r.once.Do(func() {
		r.starting.Lock()
		r.mu.Lock()
		r.closing, r.halted = true, halt
		r.starting.Unlock()
		for _, a := range r.active {
			if a.background {
				a.cancel(errShutdown)
			}
		}
		r.mu.Unlock()
		done := make(chan struct{})
		go func() { r.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(closeWait):
			r.log.Warn("jobs still running at shutdown", "waited", closeWait.String())
		}
		r.cancel()
		r.loops.Wait()
	})
}
