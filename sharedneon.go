package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/state"
)

// changesChannel is the Postgres channel on which replicas tell each
// other of the changes they made, so that each drops what its caches hold
// of them.
const changesChannel = "dashboard_changes"

// changeNotice is what a replica tells the others: a Neon write it made,
// or a users table whose cached answers (counts, series) it forgot after
// changing it.
type changeNotice struct {
	Neon  *neonapi.Write `json:"neon,omitempty"`
	Table string         `json:"table,omitempty"`
}

// sharedNeon is what replicas sharing a state store share of the Neon
// client: one rate budget for the API key, and the writes that make each
// other's cached reads stale, Neon's and the users databases'. Without a
// store it is nil, and every method does nothing: the dashboard is a
// single replica with its own limiter and caches.
type sharedNeon struct {
	budget   *state.Budget
	notifier *state.Notifier
	logger   *slog.Logger
	// results is the users databases' results cache, once shareResults
	// was called.
	results atomic.Pointer[db.Cache]

	// listening is whether the other replicas' writes are heard now.
	listening atomic.Bool

	mu     sync.Mutex
	client *neonapi.Client // set by start; what the notifier's messages reach
	cancel context.CancelFunc
	done   chan struct{}
}

// newSharedNeon opens the shared budget of apiKey at perMinute calls a
// minute with bursts of burst, and the notifier of Neon writes.
func newSharedNeon(ctx context.Context, store *state.Store, apiKey string, perMinute, burst int, logger *slog.Logger) (*sharedNeon, error) {
	if store == nil {
		return nil, nil
	}
	budget, err := store.Budget(ctx, apiKey, perMinute, burst)
	if err != nil {
		return nil, err
	}
	s := &sharedNeon{budget: budget, logger: logger}
	s.notifier = store.Notifier(changesChannel, state.NotifierOptions{
		Handle:      s.applyRemote,
		OnListening: s.hearing,
		OnMissed:    s.missed,
		Logger:      logger,
	})
	return s, nil
}

// options are the client options that make it spend the shared budget and
// tell the other replicas of its writes.
func (s *sharedNeon) options() []neonapi.Option {
	if s == nil {
		return nil
	}
	return []neonapi.Option{
		neonapi.WithSharedBudget(s.budget, s.logger),
		neonapi.WithRemoteWrites(func(w neonapi.Write) { s.notifier.Publish(changeNotice{Neon: &w}) }),
	}
}

// shareResults makes the users databases' results cache forget what
// another replica's changes made wrong, and tell the others of its own.
func (s *sharedNeon) shareResults(cache *db.Cache) {
	if s == nil {
		return
	}
	s.results.Store(cache)
	cache.OnForget(func(prefix string) { s.notifier.Publish(changeNotice{Table: prefix}) })
}

// start listens for the other replicas' writes and applies them to
// client's read cache, until stop.
func (s *sharedNeon) start(ctx context.Context, client *neonapi.Client) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client = client
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		s.notifier.Run(runCtx)
	}()
}

// stop ends the listening started by start, if any.
func (s *sharedNeon) stop() {
	if s == nil {
		return
	}
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (s *sharedNeon) current() *neonapi.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client
}

// applyRemote drops what another replica's change made wrong.
func (s *sharedNeon) applyRemote(data json.RawMessage) {
	var n changeNotice
	if err := json.Unmarshal(data, &n); err != nil || (n.Neon == nil || n.Neon.Path == "") && n.Table == "" {
		s.logger.Warn("a change notice from another replica was ignored: it names no change")
		return
	}
	if c := s.current(); c != nil && n.Neon != nil {
		c.ApplyRemoteWrite(*n.Neon)
	}
	if r := s.results.Load(); r != nil && n.Table != "" {
		r.ForgetRemote(n.Table)
	}
}

// hearing tells the caches whether other replicas' changes reach them. The
// users databases' results cache keeps answers only briefly
// (db.DefaultCacheTTL) and trusts them that long either way; it forgets
// them all when the replica listens again, since it may have missed some.
func (s *sharedNeon) hearing(listening bool) {
	s.listening.Store(listening)
	if c := s.current(); c != nil {
		c.HearRemoteWrites(listening)
	}
	if r := s.results.Load(); r != nil && listening {
		r.ForgetRemote("")
	}
}

// missed makes the caches forget everything after another replica dropped
// a change notice (its queue was full, or the store did not take it): the
// change is unknown, and a Neon Auth setting would otherwise be served
// stale for the whole freshness window.
func (s *sharedNeon) missed() {
	s.logger.Warn("another replica dropped a change notice; forgetting every cached answer")
	if c := s.current(); c != nil {
		c.MissedRemoteWrites()
	}
	if r := s.results.Load(); r != nil {
		r.ForgetRemote("")
	}
}
