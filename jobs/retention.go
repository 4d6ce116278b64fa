package jobs

import "time"

// Retention is how long a done or failed job stays listed on /jobs and in
// the progress panels before the runners delete it. A month covers the
// questions a finished job answers (did last week's revocation finish, why
// did a build fail) while the table stays small; the audit trail keeps the
// lasting record of who started what.
const Retention = 30 * 24 * time.Hour

const (
	// pruneBatch bounds the rows one pass deletes, so a pass is short
	// however many jobs have aged out.
	pruneBatch = 1000
	// pruneEvery is how often a replica prunes once it has caught up:
	// jobs age out by the day, so looking every takeover tick would only
	// repeat an empty scan.
	pruneEvery = 10 * time.Minute
)

// prune deletes a batch of jobs that ended more than Retention ago. It
// runs on the takeover loop: at once, then again on the next tick while a
// full batch was deleted, else pruneEvery later. Replicas pruning at once
// skip each other's rows.
func (r *Runner) prune() {
	r.mu.Lock()
	stop := r.closing || r.halted
	r.mu.Unlock()
	if stop || time.Now().Before(r.pruneDue) {
		return
	}
	ctx, cancel := writeCtx()
	n, err := r.b.prune(ctx, Retention, pruneBatch)
	cancel()
	if err != nil {
		r.log.Warn("job pruning failed", "err", err)
	}
	if n > 0 {
		r.log.Info("finished jobs pruned", "jobs", n, "older_than", Retention.String())
	}
	if err != nil || n < pruneBatch {
		r.pruneDue = time.Now().Add(pruneEvery)
	}
}
