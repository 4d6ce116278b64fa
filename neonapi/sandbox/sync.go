package sandbox

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// SyncMode is how the sandbox's user sync behaves.
type SyncMode string

// Sync modes: Normal writes after the configured delay, Slow after a long one
// (a lagging sync), Never holds every write until the mode changes (a broken
// sync).
const (
	SyncNormal SyncMode = "normal"
	SyncSlow   SyncMode = "slow"
	SyncNever  SyncMode = "never"
)

// DefaultSlowDelay is the delay of SyncSlow when none is given.
const DefaultSlowDelay = 10 * time.Second

// Bounds of the sync workers: writes per batch, and batches in flight across
// all databases.
const (
	maxBatch        = 256
	maxSyncInFlight = 4
)

// syncControl holds the sync mode and wakes the workers when it changes.
type syncControl struct {
	normalDelay time.Duration
	pending     atomic.Int64 // writes queued or in flight
	slots       chan struct{}

	mu      sync.Mutex
	mode    SyncMode
	delay   time.Duration
	changed chan struct{} // closed and replaced on every change
}

func (c *syncControl) init(delay time.Duration) {
	c.normalDelay = delay
	c.mode, c.delay = SyncNormal, delay
	c.changed = make(chan struct{})
	c.slots = make(chan struct{}, maxSyncInFlight)
}

func (c *syncControl) state() (SyncMode, time.Duration, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mode, c.delay, c.changed
}

// SetSync changes how created, deleted and updated users reach the database,
// as POST /_sandbox/sync does. A zero delay means the configured delay for
// SyncNormal and DefaultSlowDelay for SyncSlow; the delay applies to writes
// already queued too. Switching away from SyncNever releases the held writes.
// Unknown modes are ignored.
func (s *Sandbox) SetSync(mode SyncMode, delay time.Duration) {
	switch mode {
	case SyncNormal:
		if delay <= 0 {
			delay = s.sync.normalDelay
		}
	case SyncSlow:
		if delay <= 0 {
			delay = DefaultSlowDelay
		}
	case SyncNever:
		delay = 0
	default:
		s.log.Warn("sandbox: unknown sync mode ignored", "mode", string(mode))
		return
	}
	c := &s.sync
	c.mu.Lock()
	c.mode, c.delay = mode, delay
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// syncJob is one write to a neon_auth table, asked for at a given time.
type syncJob struct {
	in   *integration
	at   time.Time
	sql  string
	args []any
}

// syncQueue holds one database's writes in the order they were asked for.
type syncQueue struct {
	mu      sync.Mutex
	jobs    []syncJob
	started bool
	wake    chan struct{} // made once, before the worker starts
}

// enqueue queues a write for the integration's database, starting that
// database's worker on first use. Callers hold s.mu, which keeps the queue in
// the order the API answered.
func (s *Sandbox) enqueue(in *integration, sql string, args ...any) {
	s.enqueueJob(syncJob{in: in, at: time.Now(), sql: sql, args: args})
}

// enqueueJob queues j on its integration's database; see enqueue.
func (s *Sandbox) enqueueJob(j syncJob) {
	db := j.in.db.real
	q := &db.queue
	s.sync.pending.Add(1)
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	if q.wake == nil {
		q.wake = make(chan struct{}, 1)
	}
	if !q.started {
		q.started = s.goBackground(func() { s.runQueue(db) })
	}
	wake := q.wake
	q.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

// runQueue is a database's sync worker: it waits for the head write to be due,
// then applies every due write in one batch.
func (s *Sandbox) runQueue(db *realDB) {
	q := &db.queue
	for {
		q.mu.Lock()
		var head time.Time
		n := len(q.jobs)
		if n > 0 {
			head = q.jobs[0].at
		}
		q.mu.Unlock()
		if n == 0 {
			select {
			case <-q.wake:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		mode, delay, changed := s.sync.state()
		if mode == SyncNever {
			select {
			case <-changed:
				continue
			case <-s.ctx.Done():
				return
			}
		}
		if wait := time.Until(head.Add(delay)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-changed:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
			t.Stop()
			continue
		}

		now := time.Now()
		db.applyMu.Lock()
		q.mu.Lock()
		k := 0
		for k < len(q.jobs) && k < maxBatch && !q.jobs[k].at.Add(delay).After(now) {
			k++
		}
		batch := make([]syncJob, k)
		copy(batch, q.jobs[:k])
		clear(q.jobs[:k])
		q.jobs = q.jobs[k:]
		q.mu.Unlock()

		select {
		case s.sync.slots <- struct{}{}:
		case <-s.ctx.Done():
			db.applyMu.Unlock()
			return
		}
		s.apply(db, batch)
		<-s.sync.slots
		db.applyMu.Unlock()
		s.sync.pending.Add(-int64(len(batch)))
	}
}

// apply writes a batch in one round trip; when that fails it retries each
// write alone, so that one bad write does not lose the others.
func (s *Sandbox) apply(db *realDB, batch []syncJob) {
	live := batch[:0:0]
	for _, j := range batch {
		if !j.in.removed.Load() {
			live = append(live, j)
		}
	}
	if len(live) == 0 {
		return
	}
	pool, err := s.pg.pool(s.ctx, db)
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Error("sandbox sync: no database", "database", db.name, "err", err)
		}
		return
	}
	b := &pgx.Batch{}
	for _, j := range live {
		b.Queue(j.sql, j.args...)
	}
	if err := pool.SendBatch(s.ctx, b).Close(); err == nil || s.ctx.Err() != nil {
		return
	}
	for _, j := range live {
		var err error
		for attempt := range 3 {
			if j.in.removed.Load() {
				err = nil
				break
			}
			if _, err = pool.Exec(s.ctx, j.sql, j.args...); err == nil || s.ctx.Err() != nil {
				err = nil
				break
			}
			select {
			case <-s.ctx.Done():
			case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
			}
		}
		if err != nil && !j.in.removed.Load() && !errors.Is(err, context.Canceled) {
			s.log.Error("sandbox sync: write failed", "database", db.name, "err", err)
		}
	}
}
