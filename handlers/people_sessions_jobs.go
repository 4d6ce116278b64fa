package handlers

import (
	"context"
	"sync"
)

// SessionRevocations runs the revocations too large for one request, one at
// a time per branch, and remembers how far each got. A revocation of many
// sessions takes a batch after another for as long as it takes, longer than
// a request may last, and cut short by a closed tab it would leave a filter
// half revoked: so it runs past the request, under the server's lifetime,
// while its progress page polls. The record is in memory: a restart forgets
// it (the sessions revoked stay revoked, and the audit log and the server's
// log say how many). Close cancels the running ones between batches and
// waits for them.
type SessionRevocations struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	jobs map[string]*RevocationState
}

// RevocationState is how far one branch's latest revocation got.
type RevocationState struct {
	Words   string // the filter in words
	Matched int64  // the count confirmed
	Revoked int64
	Running bool
	Err     error // why it stopped short, once it has
}

// NewSessionRevocations returns a runner whose revocations stop when parent
// ends or at Close.
func NewSessionRevocations(parent context.Context) *SessionRevocations {
	ctx, cancel := context.WithCancel(parent)
	return &SessionRevocations{ctx: ctx, cancel: cancel, jobs: map[string]*RevocationState{}}
}

// Start runs revoke in the background under key unless one runs there
// already, and reports whether it started. revoke reports its running total
// through progress.
func (r *SessionRevocations) Start(key, words string, matched int64, revoke func(ctx context.Context, progress func(int64)) (int64, error)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j := r.jobs[key]; (j != nil && j.Running) || r.ctx.Err() != nil {
		return false
	}
	j := &RevocationState{Words: words, Matched: matched, Running: true}
	r.jobs[key] = j
	r.wg.Go(func() {
		n, err := revoke(r.ctx, func(n int64) {
			r.mu.Lock()
			j.Revoked = n
			r.mu.Unlock()
		})
		r.mu.Lock()
		defer r.mu.Unlock()
		j.Revoked, j.Err, j.Running = n, err, false
	})
	return true
}

// State returns a copy of key's latest revocation, if any ran. A nil
// SessionRevocations has none.
func (r *SessionRevocations) State(key string) (RevocationState, bool) {
	if r == nil {
		return RevocationState{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[key]
	if !ok {
		return RevocationState{}, false
	}
	return *j, true
}

// Close cancels the running revocations and waits for them to stop.
func (r *SessionRevocations) Close() {
	if r == nil {
		return
	}
	r.cancel()
	r.wg.Wait()
}
