package neonapi

import (
	"context"
	"sync"
	"time"
)

// Freshness says whether the reads of one request (a page) were answered
// from stale entries of the read cache: past their freshness, served while a
// refresh runs in the background. A page shows it as "as of 14:02,
// refreshing". It is safe for concurrent use.
type Freshness struct {
	mu    sync.Mutex
	asOf  time.Time
	stale bool
}

type freshnessKey struct{}

// TrackFreshness returns a context whose reads report to the returned
// Freshness.
func TrackFreshness(ctx context.Context) (context.Context, *Freshness) {
	f := &Freshness{}
	return context.WithValue(ctx, freshnessKey{}, f), f
}

// FreshnessFrom returns the Freshness ctx's reads report to, or nil.
func FreshnessFrom(ctx context.Context) *Freshness {
	f, _ := ctx.Value(freshnessKey{}).(*Freshness)
	return f
}

// AsOf returns when Neon gave the oldest stale answer the request was
// served, and false when every answer was fresh.
func (f *Freshness) AsOf() (time.Time, bool) {
	if f == nil {
		return time.Time{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asOf, f.stale
}

// noteStale records that ctx's request was served an answer Neon gave at
// fetched.
func noteStale(ctx context.Context, fetched time.Time) {
	f := FreshnessFrom(ctx)
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stale || fetched.Before(f.asOf) {
		f.asOf, f.stale = fetched, true
	}
}
