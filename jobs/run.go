package jobs

import (
	"context"
	"errors"
)

// Run is a job as its code sees it while it runs.
type Run struct {
	Job
	// Resumed says this replica took the job over from one that gave it
	// back or died.
	Resumed bool

	r *Runner
	a *active
}

// Report records how far the job got. The write outlives the job's
// context (a batch made is recorded even when the job is being stopped),
// but only while this replica holds the job: ErrLeaseLost otherwise, and
// the job's context is cancelled.
func (run *Run) Report(p Progress) error {
	return run.r.report(run.a, p)
}

func (r *Runner) report(a *active, p Progress) error {
	a.mu.Lock()
	a.progress = p
	lostLease := a.lost
	a.mu.Unlock()
	if lostLease {
		return ErrLeaseLost
	}
	ctx, cancel := writeCtx()
	defer cancel()
	err := r.b.progress(ctx, a.id, p)
	if errors.Is(err, ErrLeaseLost) {
		r.lose(a)
	}
	return err
}

// Tracked is a job that runs within a request (a settings copy), recorded
// and heartbeated like the others so that another replica concludes it if
// this one dies.
type Tracked struct {
	Job
	r    *Runner
	a    *active
	done bool
}

// Track records spec as running on this replica, for the caller to run
// within its request. The context returned is ctx, cancelled if another
// replica takes the job over. ErrActive when a job holds its key.
func (r *Runner) Track(ctx context.Context, spec Spec) (context.Context, *Tracked, error) {
	k, ok := r.kinds[spec.Kind]
	if !ok {
		return ctx, nil, errors.New("jobs: unknown kind " + spec.Kind)
	}
	j, err := r.enqueue(ctx, spec)
	if err != nil {
		return ctx, nil, err
	}
	jctx, cancel := context.WithCancelCause(ctx)
	a := &active{id: j.ID, kind: k, cancel: cancel, progress: j.Progress}
	r.mu.Lock()
	r.active[j.ID] = a
	r.mu.Unlock()
	return jctx, &Tracked{Job: j, r: r, a: a}, nil
}

// Report records how far the tracked job got.
func (t *Tracked) Report(p Progress) error { return t.r.report(t.a, p) }

// Finish records the tracked job's end: failed with errText when it is
// not empty, done otherwise. Only the first call counts.
func (t *Tracked) Finish(p Progress, result, errText string) error {
	if t.done {
		return nil
	}
	t.done = true
	t.r.mu.Lock()
	delete(t.r.active, t.a.id)
	t.r.mu.Unlock()
	defer t.a.cancel(nil)
	t.a.mu.Lock()
	t.a.progress = p
	lostLease := t.a.lost
	t.a.mu.Unlock()
	if lostLease {
		return ErrLeaseLost
	}
	status := Done
	if errText != "" {
		status = Failed
	}
	ctx, cancel := writeCtx()
	defer cancel()
	return t.r.b.finish(ctx, t.a.id, status, p, result, errText)
}
