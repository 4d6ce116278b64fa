package neonapi

import (
	"errors"
	"time"
)

// Write is a write a client made, as much of it as a read cache needs to
// drop what it changed: the request path, and the project its body names
// as project_id (the operations below /projects/auth name it only there).
// It holds no body and no secret, so it may travel to other replicas.
type Write struct {
	Path    string `json:"path"`
	Project string `json:"project,omitempty"`
}

// WithRemoteWrites makes the read cache work alongside other clients' caches
// (other replicas of the dashboard): publish hears of each write this
// client makes, after its read cache dropped what it changed, so that it can
// tell the others (it must return quickly: it runs on the request path), and
// ApplyRemoteWrite applies theirs.
//
// The freshness window (WithFreshness) keeps a branch's Neon Auth settings
// for as long as nobody changes them through the dashboard, which holds
// only while this client hears of every other client's writes. So until
// HearRemoteWrites(true), and whenever it was last told false, the cache
// serves no Neon Auth answer it holds (those reads go to Neon, as with
// ReadLive), keeps every other answer for its TTL at most, and serves none
// stale while it is refreshed. Changes made elsewhere than the dashboard
// show within the TTL, as they always do. It takes effect only with
// WithReadCache.
func WithRemoteWrites(publish func(Write)) Option {
	return func(c *config) error {
		if publish == nil {
			return errors.New("remote writes: publish must not be nil")
		}
		c.publishWrite = publish
		return nil
	}
}

// ApplyRemoteWrite drops from the read cache what another client's write w
// may have changed, as the client's own writes do. Without a read cache it
// does nothing.
func (c *Client) ApplyRemoteWrite(w Write) {
	if c.cache != nil {
		c.cache.apply(w)
	}
}

// HearRemoteWrites tells the read cache whether other clients' writes reach
// it now (see WithRemoteWrites). When they reach it again after a time they
// did not, it forgets every answer it holds: it may have missed some.
func (c *Client) HearRemoteWrites(heard bool) {
	if c.cache == nil || !c.cache.remote {
		return
	}
	rc := c.cache
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if heard && !rc.heard {
		rc.epoch++
		clear(rc.entries)
	}
	rc.heard = heard
}

// MissedRemoteWrites tells the read cache that some other client's write
// did not reach it (its notice was dropped on the way): it forgets every
// answer it holds, as on hearing them again after a time it did not.
func (c *Client) MissedRemoteWrites() {
	if c.cache == nil || !c.cache.remote {
		return
	}
	rc := c.cache
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.epoch++
	clear(rc.entries)
}

// gen is the generation of a project's entries: its invalidations plus the
// times the whole cache was forgotten. Both only grow, so an answer read
// while either moved is never kept, and no read joins a flight that
// started before. rc.mu is held.
func (rc *readCache) gen(project string) uint64 { return rc.gens[project] + rc.epoch }

// trusted returns e with the freshness the cache may give it now: all of
// it while other clients' writes are heard (or there are none), and
// otherwise (see WithRemoteWrites) none for a Neon Auth answer and at most
// the TTL, without a stale window, for the others. rc.mu is held.
func (rc *readCache) trusted(k cacheKey, e cacheEntry) cacheEntry {
	if !rc.remote || rc.heard {
		return e
	}
	if authRead(k.request) {
		e.fresh, e.stale = e.fetched, e.fetched
		return e
	}
	e.fresh = minTime(e.fresh, e.fetched.Add(rc.ttl))
	e.stale = e.fresh
	return e
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
