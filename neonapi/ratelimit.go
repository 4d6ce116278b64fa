package neonapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxQueueWait bounds how long a request may queue for the client-side
// rate limiter. Beyond it the request is shed at once: under a flood of
// callers an unbounded queue grows without limit, every caller waits for the
// whole queue ahead of it, and the queue outlives the flood by minutes.
const DefaultMaxQueueWait = 500 * time.Millisecond

// ErrShed marks a request the client refused to send because the rate budget
// could not take it in time: its wait would outlast its deadline or
// DefaultMaxQueueWait. Nothing reached Neon. A *ShedError matches it, and also
// ErrRateLimited, since shedding is the local limiter at work.
var ErrShed = errors.New("neonapi: request shed by the client-side rate limiter")

// ShedError is a request refused by the client-side rate limiter before it was
// sent.
type ShedError struct {
	// Wait is the queue time the request would have needed; it is a fair
	// Retry-After hint for whoever asked.
	Wait time.Duration
	// Limit is what it was allowed: the deadline's remaining time or the
	// queue's bound, whichever was shorter.
	Limit time.Duration
}

// Error says how long the request would have queued and what it was allowed.
func (e *ShedError) Error() string {
	return fmt.Sprintf("neonapi: rate limited locally: a wait of %s exceeds the %s allowed",
		e.Wait.Round(time.Millisecond), e.Limit.Round(time.Millisecond))
}

// Is matches ErrShed and ErrRateLimited.
func (e *ShedError) Is(target error) bool { return target == ErrShed || target == ErrRateLimited }

// RetryAfter is when the request would have gone out, at the soonest.
func (e *ShedError) RetryAfter() time.Duration { return e.Wait }

// limiter queues requests so that all goroutines sharing a Client stay within
// Neon's budget together. It is a token bucket: perMinute/60 tokens a second,
// holding at most burst, which is how Neon describes its own limit.
type limiter struct {
	bucket *rate.Limiter
	// mu makes taking a reservation and handing back a shed one a single
	// step. A reservation taken by someone else in between would keep the
	// bucket from restoring the shed token: under a flood each shed request
	// would then cost a token all the same, and the debt would outlive the
	// flood by as long as it lasted.
	mu sync.Mutex
	// maxWait bounds the queue: a request that would wait longer is shed.
	maxWait time.Duration
	// lost counts tokens the bucket holds back for queued requests whose
	// callers left (see abandon). Guarded by mu.
	lost float64
	// now is the limiter's clock; tests freeze it to count queued requests
	// without depending on how fast the machine is.
	now func() time.Time
	// shared, when set, is the budget calls are taken from while its store
	// answers (WithSharedBudget); the bucket is the fallback.
	shared *sharedLimiter
}

func newLimiter(perMinute, burst int) *limiter {
	return &limiter{
		bucket:  rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst),
		maxWait: DefaultMaxQueueWait,
		now:     time.Now,
	}
}

// wait blocks until the next request may go out and returns how long it queued.
// A wait longer than ctx's remaining time or the queue's bound is refused up
// front with a *ShedError, and its reservation is returned to the bucket, so a
// shed request costs later ones nothing. Background requests never queue
// (see BackgroundReads).
func (l *limiter) wait(ctx context.Context) (time.Duration, error) {
	if l == nil {
		return 0, nil
	}
	if l.shared != nil {
		if d, ok, err := l.shared.wait(ctx, l); ok {
			return d, err
		}
	}
	if b := backgroundFrom(ctx); b != nil {
		return 0, l.admit(b)
	}
	allowed := l.maxWait
	l.mu.Lock()
	now := l.now()
	if deadline, ok := ctx.Deadline(); ok {
		allowed = min(allowed, deadline.Sub(now))
	}
	if d, claimed, err := l.claimLost(now, allowed); claimed || err != nil {
		l.mu.Unlock()
		if err != nil {
			return 0, err
		}
		return l.awaitLost(ctx, d)
	}
	r := l.bucket.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if !r.OK() || d > allowed {
		r.CancelAt(now)
		l.mu.Unlock()
		return 0, &ShedError{Wait: d, Limit: max(allowed, 0)}
	}
	l.mu.Unlock()
	if d <= 0 {
		return 0, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return d, nil
	case <-ctx.Done():
		l.abandon(r)
		return 0, ctx.Err()
	}
}
