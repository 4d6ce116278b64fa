package neonapi

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// BackgroundReads returns a context whose requests are background work of
// up to reads requests, such as a panel that loads after its page: nobody
// waits for it, and it must never hold up a page someone does wait for.
//
// The client-side limiter lets such a request out only from spare budget,
// at once: it never queues and never takes a token a queued request is
// owed, so interactive requests always go first. The first of them to reach
// the limiter needs room for all reads at once (at most the burst); the
// rest then need a spare token each. A panel thus either gets its reads or
// is refused before the first one, rather than spending part of the budget
// on reads whose siblings are then refused, which under a steady trickle
// of such panels would spend every token on panels that never complete. A
// request refused fails at once with a *ShedError whose RetryAfter is when
// that room is expected back.
func BackgroundReads(ctx context.Context, reads int) context.Context {
	return context.WithValue(ctx, backgroundKey{}, &backgroundBatch{reads: max(reads, 1)})
}

type backgroundKey struct{}

// backgroundBatch is the requests of one BackgroundReads context.
type backgroundBatch struct {
	reads int
	// admitted is set once a limiter has let the batch's first request out.
	admitted atomic.Bool
}

func backgroundFrom(ctx context.Context) *backgroundBatch {
	b, _ := ctx.Value(backgroundKey{}).(*backgroundBatch)
	return b
}

// flightClass keeps the read cache's shared reads of one priority apart
// from the other's: an interactive caller joining a background read would be
// refused with it, and a background caller joining an interactive read would
// queue.
func flightClass(ctx context.Context) string {
	if backgroundFrom(ctx) != nil {
		return "background\x00"
	}
	return ""
}

// admit lets a background request out if the bucket has spare tokens now
// (see BackgroundReads), and refuses it with a *ShedError otherwise. A
// request queued by wait has already taken its token from the bucket, so a
// bucket that owes tokens has none spare.
func (l *limiter) admit(b *backgroundBatch) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	need := 1.0
	if !b.admitted.Load() {
		need = float64(min(b.reads, l.bucket.Burst()))
	}
	if spare := l.spare(now); spare < need {
		return &ShedError{Wait: l.refillTime(need - spare)}
	}
	if l.lost >= 1 {
		l.lost--
	} else if !l.bucket.AllowN(now, 1) {
		// Spare only with a fraction of a lost token: wait for a whole one.
		return &ShedError{Wait: l.refillTime(1 - l.bucket.TokensAt(now))}
	}
	b.admitted.Store(true)
	return nil
}

// spare is how many tokens no queued request is owed: the bucket's, and
// the lost ones (see abandon). Callers hold l.mu.
func (l *limiter) spare(now time.Time) float64 {
	tokens := l.bucket.TokensAt(now)
	// A bucket that has filled up holds nothing back any more.
	l.lost = max(min(l.lost, float64(l.bucket.Burst())-tokens), 0)
	return tokens + l.lost
}

// abandon hands back the token of a queued request whose caller left. The
// bucket takes a token back only from its latest reservation: callers of a
// flood that leave in any other order would leave their tokens owed to
// nobody, and the flood's queue would outlive it by up to maxWait. What the
// bucket does not take back is counted as lost, and claimLost queues the
// next requests for those tokens first.
func (l *limiter) abandon(r *rate.Reservation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	before := l.bucket.TokensAt(now)
	r.CancelAt(now)
	l.lost += max(1-(l.bucket.TokensAt(now)-before), 0)
}

// claimLost gives an interactive request a lost token when there is one:
// at once if it is spare, otherwise after d, when the bucket has refilled
// what the requests queued ahead are owed. A wait beyond allowed is refused
// with a *ShedError and claims nothing. Callers hold l.mu.
func (l *limiter) claimLost(now time.Time, allowed time.Duration) (d time.Duration, claimed bool, err error) {
	spare := l.spare(now)
	if l.lost < 1 {
		return 0, false, nil
	}
	d = l.refillTime(max(1-spare, 0))
	if d > allowed {
		return 0, false, &ShedError{Wait: d, Limit: max(allowed, 0)}
	}
	l.lost--
	return d, true, nil
}

// awaitLost waits d for a claimed lost token, and gives it back if ctx ends
// first.
func (l *limiter) awaitLost(ctx context.Context, d time.Duration) (time.Duration, error) {
	if err := sleep(ctx, d); err != nil {
		l.mu.Lock()
		l.lost++
		l.mu.Unlock()
		return 0, err
	}
	return d, nil
}

// refillTime is how long the bucket takes to gain n tokens.
func (l *limiter) refillTime(n float64) time.Duration {
	return time.Duration(n / float64(l.bucket.Limit()) * float64(time.Second))
}
