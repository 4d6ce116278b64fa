package neonapi

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SharedBudget is a rate budget for one API key that several clients (the
// replicas of the dashboard) take their calls from together, so that they
// spend Neon's budget once between them rather than once each.
// *state.Budget is one.
type SharedBudget interface {
	// Reserve takes one slot if the budget holds room slots within
	// maxWait (a maxWait of 0: spare now). Taken, wait is how long to sleep
	// before sending; refused, nothing is taken and wait is when the room
	// is expected.
	Reserve(ctx context.Context, room int, maxWait time.Duration) (wait time.Duration, taken bool, err error)
	// Release hands back a slot whose call was never sent.
	Release(ctx context.Context) error
	// LastMinute counts the slots every sharer took in the last minute.
	LastMinute(ctx context.Context) (int, error)
}

// SharedBudgetObserver is an Observer that also counts the calls let out
// by the local limiter because the shared budget did not answer.
type SharedBudgetObserver interface {
	ObserveSharedBudgetFallback()
}

// WithSharedBudget makes the client take each call from b, a budget shared
// with other clients, instead of its own limiter; the rate and burst of
// WithRateLimit should be b's. Interactive calls wait for their slot up to
// the same bound as with the local limiter (DefaultMaxQueueWait, or less
// before a deadline) and are shed beyond it; background reads
// (BackgroundReads) take only a slot that is spare at once.
//
// When b does not answer (the store is down or slow), the client falls
// back to its local limiter until b answers again, logging the outage once
// on log: refusing every call because the store of a shared budget is down
// would turn a store outage into a dashboard outage, and the local limiter
// still bounds each replica to the share it was given. While it lasts the
// replicas may together spend up to their number times the share; Neon's
// 429s, which the transport waits out, are the backstop. Without the local
// limiter (WithoutRateLimit) the option does nothing.
func WithSharedBudget(b SharedBudget, log *slog.Logger) Option {
	return func(c *config) error {
		if b == nil {
			return errors.New("shared budget must not be nil")
		}
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		c.shared, c.sharedLog = b, log
		return nil
	}
}

// Budget store timeouts. A reservation is a single statement on one row,
// well under a millisecond on a healthy store; a store that takes longer
// than storeTimeout is treated as down rather than let hold every call.
const (
	storeTimeout = 250 * time.Millisecond
	// storeRetry is how long the client uses the local limiter after the
	// store failed before it asks the store again.
	storeRetry = 2 * time.Second
	// spendFresh is how long the shared spend is reused: the footer of
	// every page and each metrics scrape ask for it.
	spendFresh = time.Second
)

// sharedLimiter takes a client's calls from a SharedBudget.
type sharedLimiter struct {
	budget   SharedBudget
	log      *slog.Logger
	observer Observer

	mu sync.Mutex
	// downUntil is when to ask the store again after it failed; zero while
	// it answers.
	downUntil time.Time
	down      bool
	// fallbacks counts the calls the local limiter let out in its stead.
	fallbacks atomic.Int64
	// nextFree is, as of the store's last answer, when a slot is next
	// free to go at once. Other clients only move it later (but for a
	// slot handed back), so a call that could not get a slot by then in
	// time is shed here, without asking the store: under a flood of
	// callers the store is asked about the calls that may go, not about
	// every one that is refused. Guarded by mu.
	nextFree time.Time

	spendMu sync.Mutex
	spendAt time.Time
	spend   int
	spendOK bool
}

func newSharedLimiter(b SharedBudget, log *slog.Logger, o Observer) *sharedLimiter {
	return &sharedLimiter{budget: b, log: log, observer: o}
}

// wait takes ctx's call from the shared budget, as limiter.wait does from
// the local bucket. ok is false when the store did not answer, and the
// caller must use the local limiter.
func (s *sharedLimiter) wait(ctx context.Context, l *limiter) (d time.Duration, ok bool, err error) {
	if !s.usable() {
		s.fellBack()
		return 0, false, nil
	}
	now := l.now()
	room, maxWait := 1, l.maxWait
	b := backgroundFrom(ctx)
	if b != nil {
		maxWait = 0
		if !b.admitted.Load() {
			room = min(b.reads, l.bucket.Burst())
		}
	} else if deadline, has := ctx.Deadline(); has {
		maxWait = min(maxWait, deadline.Sub(now))
	}
	if maxWait < 0 {
		return 0, true, &ShedError{Wait: 0, Limit: 0}
	}
	interval := l.refillTime(1)
	if known := s.knownWait(now, room, interval); known > maxWait {
		return 0, true, &ShedError{Wait: known, Limit: maxWait}
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	wait, taken, err := s.budget.Reserve(sctx, room, maxWait)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return 0, true, ctx.Err()
		}
		s.failed(err)
		s.fellBack()
		return 0, false, nil
	}
	s.answered()
	if taken {
		// A wait of 0 may hide spare slots: it says nothing of the next.
		next := now
		if wait > 0 {
			next = now.Add(wait + interval)
		}
		s.learn(next)
	} else {
		s.learn(now.Add(wait - time.Duration(room-1)*interval))
		return 0, true, &ShedError{Wait: wait, Limit: maxWait}
	}
	if b != nil {
		b.admitted.Store(true)
	}
	if wait <= 0 {
		return 0, true, nil
	}
	if err := sleep(ctx, wait); err != nil {
		// The caller left: the slot goes back to every replica. Detached,
		// since ctx has ended, and bounded, since nobody waits for it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		if s.budget.Release(rctx) == nil {
			s.learn(time.Time{})
		}
		cancel()
		return 0, true, err
	}
	return wait, true, nil
}

// knownWait is the least a call needing room slots must wait, from what
// the store last said (see nextFree).
func (s *sharedLimiter) knownWait(now time.Time, room int, interval time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.nextFree.After(now) {
		// Nothing known: a slot may be free now, and the room after it
		// too. Only the store can tell.
		return 0
	}
	return s.nextFree.Sub(now) + time.Duration(room-1)*interval
}

// learn records when the store says a slot is next free.
func (s *sharedLimiter) learn(next time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextFree = next
}

// usable reports whether to ask the store: it answered last time, or it
// failed long enough ago to try again.
func (s *sharedLimiter) usable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down || !time.Now().Before(s.downUntil)
}

// failed records that the store did not answer, logging the first failure
// of an outage.
func (s *sharedLimiter) failed(err error) {
	s.mu.Lock()
	first := !s.down
	s.down, s.downUntil = true, time.Now().Add(storeRetry)
	s.mu.Unlock()
	if first {
		s.log.Warn("the shared Neon rate budget does not answer: this replica falls back to its own limiter until it does", "err", err)
	}
}

// answered records that the store answered, logging the end of an outage.
func (s *sharedLimiter) answered() {
	s.mu.Lock()
	was := s.down
	s.down = false
	s.mu.Unlock()
	if was {
		s.log.Info("the shared Neon rate budget answers again", "calls_let_out_by_the_local_limiter", s.fallbacks.Load())
	}
}

// fellBack counts a call the local limiter takes instead.
func (s *sharedLimiter) fellBack() {
	s.fallbacks.Add(1)
	if o, ok := s.observer.(SharedBudgetObserver); ok {
		o.ObserveSharedBudgetFallback()
	}
}

// lastMinute is every sharer's spend of the last minute, reused for
// spendFresh; ok is false when the store does not answer.
func (s *sharedLimiter) lastMinute() (int, bool) {
	s.spendMu.Lock()
	defer s.spendMu.Unlock()
	if time.Since(s.spendAt) < spendFresh {
		return s.spend, s.spendOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	n, err := s.budget.LastMinute(ctx)
	s.spendAt, s.spend, s.spendOK = time.Now(), n, err == nil
	return n, err == nil
}
