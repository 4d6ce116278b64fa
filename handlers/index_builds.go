package handlers

import (
	"context"
	"sync"
)

// IndexBuilds runs index builds past the request that asked for one: a
// CREATE INDEX CONCURRENTLY on a large table takes minutes, and cancelling
// it half way leaves an INVALID index behind. Builds run under the server's
// lifetime context; Close cancels them and waits, so shutdown does not leave
// goroutines writing to closed pools.
type IndexBuilds struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool
	failed  map[string]error // the last build's error, per key, until the next starts
}

// NewIndexBuilds returns a runner whose builds end when parent does or at Close.
func NewIndexBuilds(parent context.Context) *IndexBuilds {
	ctx, cancel := context.WithCancel(parent)
	return &IndexBuilds{ctx: ctx, cancel: cancel, running: map[string]bool{}, failed: map[string]error{}}
}

// Start runs build in the background under key unless one is running under
// it already, and reports whether it started one. A nil IndexBuilds (handler
// tests that do not set one) runs the build within the call instead.
func (b *IndexBuilds) Start(key string, build func(context.Context) error) bool {
	if b == nil {
		_ = build(context.Background())
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running[key] || b.ctx.Err() != nil {
		return false
	}
	b.running[key] = true
	delete(b.failed, key)
	b.wg.Go(func() {
		err := build(b.ctx)
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.running, key)
		if err != nil {
			b.failed[key] = err
		}
	})
	return true
}

// State reports whether a build runs under key and how the last one failed,
// if it did.
func (b *IndexBuilds) State(key string) (running bool, failed error) {
	if b == nil {
		return false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running[key], b.failed[key]
}

// Close cancels the running builds and waits for them to end.
func (b *IndexBuilds) Close() {
	if b == nil {
		return
	}
	b.cancel()
	b.wg.Wait()
}
