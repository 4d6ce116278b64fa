package neonapi

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// limiter queues requests so that all goroutines sharing a Client stay within
// Neon's budget together. It is a token bucket: perMinute/60 tokens a second,
// holding at most burst, which is how Neon describes its own limit.
type limiter struct {
	bucket *rate.Limiter
	// now is the limiter's clock; tests freeze it to count queued requests
	// without depending on how fast the machine is.
	now func() time.Time
}

func newLimiter(perMinute, burst int) *limiter {
	return &limiter{
		bucket: rate.NewLimiter(rate.Limit(float64(perMinute)/60), burst),
		now:    time.Now,
	}
}

// wait blocks until the next request may go out and returns how long it queued.
// It refuses up front a wait that would outlast ctx's deadline, so a caller with
// a short deadline fails fast instead of queueing in vain.
func (l *limiter) wait(ctx context.Context) (time.Duration, error) {
	if l == nil {
		return 0, nil
	}
	now := l.now()
	r := l.bucket.ReserveN(now, 1)
	if !r.OK() {
		return 0, fmt.Errorf("%w: request exceeds the local burst", ErrRateLimited)
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return 0, nil
	}
	if deadline, ok := ctx.Deadline(); ok && deadline.Sub(now) < d {
		r.CancelAt(now)
		return 0, fmt.Errorf("%w: a local wait of %s would outlast the deadline", ErrRateLimited, d.Round(time.Millisecond))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return d, nil
	case <-ctx.Done():
		r.CancelAt(l.now())
		return 0, ctx.Err()
	}
}
