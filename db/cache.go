package db

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/singleflight"
)

// DefaultCacheTTL is how long a Cache keeps an answer unless told otherwise:
// long enough that a page refresh or a second tab does not count a million
// rows again, short enough that the numbers do not look stale.
const DefaultCacheTTL = 30 * time.Second

// loadTimeout bounds a shared load. A load runs detached from the request
// that started it, so that one caller giving up does not fail the others
// waiting on the same answer.
const loadTimeout = 2 * time.Minute

// maxCacheEntries bounds the cache: searches make keys, and expired entries
// are swept when the map grows past this.
const maxCacheEntries = 1024

// Cache keeps expensive answers (exact counts, chart series, whether an
// index serves the browse order) for a short time, and makes concurrent
// requests for the same answer share one query. One Cache serves every
// database; keys carry the role and target. It is safe for concurrent use.
type Cache struct {
	ttl time.Duration
	now func() time.Time // tests move it instead of sleeping

	mu      sync.Mutex
	entries map[string]cacheEntry
	group   singleflight.Group
	// onForget, when set, hears of each table ForgetTable forgets, by its
	// key prefix (see OnForget).
	onForget func(prefix string)
}

type cacheEntry struct {
	value   any
	at      time.Time
	expires time.Time
}

// NewCache returns an empty cache whose answers live for ttl (DefaultCacheTTL
// when ttl is not positive).
func NewCache(ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Cache{ttl: ttl, now: time.Now, entries: make(map[string]cacheEntry)}
}

// cached returns the answer stored under key, or loads, stores and returns
// it, along with the time it was computed. Concurrent callers with the same
// key share one load; each stops waiting when its own ctx ends.
func cached[T any](ctx context.Context, c *Cache, key string, load func(context.Context) (T, error)) (T, time.Time, error) {
	var zero T
	if v, at, ok := c.lookup(key); ok {
		return v.(T), at, nil
	}
	ch := c.group.DoChan(key, func() (any, error) {
		if v, at, ok := c.lookup(key); ok { // stored while this call queued
			return cacheEntry{value: v, at: at}, nil
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		v, err := load(lctx)
		if err != nil {
			return nil, err
		}
		e := cacheEntry{value: v, at: c.now()}
		c.store(key, e)
		return e, nil
	})
	select {
	case <-ctx.Done():
		return zero, time.Time{}, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return zero, time.Time{}, r.Err
		}
		e := r.Val.(cacheEntry)
		return e.value.(T), e.at, nil
	}
}

func (c *Cache) lookup(key string) (any, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.now().Before(e.expires) {
		return nil, time.Time{}, false
	}
	return e.value, e.at, true
}

func (c *Cache) store(key string, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e.expires = e.at.Add(c.ttl)
	if len(c.entries) >= maxCacheEntries {
		for k, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			clear(c.entries)
		}
	}
	c.entries[key] = e
}

// forget drops every answer whose key starts with prefix, after a change
// that makes them wrong (an index built or dropped).
func (c *Cache) forget(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if strings.HasPrefix(k, prefix) {
			delete(c.entries, k)
		}
	}
}

// ForgetTable drops every answer kept about the users table behind
// connString (counts, signup series, index advice) after a change to it that
// this dashboard made or saw land: the page that shows the new row must not
// show a total from before it. It does not connect to the database.
func (c *Cache) ForgetTable(connString string) {
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		return
	}
	// The prefix of UserBrowser.cacheKey, whatever the generation.
	prefix := cfg.User + "@" + describeConfig(cfg) + "|"
	c.forget(prefix)
	c.mu.Lock()
	tell := c.onForget
	c.mu.Unlock()
	if tell != nil {
		tell(prefix)
	}
}

// OnForget makes f hear of each table ForgetTable forgets, so that other
// replicas' caches can forget it too (ForgetRemote). What f gets names the
// table's database and role (role@host:port/database|), never a password.
// f runs on the request path and must return quickly.
func (c *Cache) OnForget(f func(prefix string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onForget = f
}

// ForgetRemote drops what the cache keeps about a table another replica
// forgot (prefix is what its OnForget heard), or everything when prefix is
// "", for a replica that may have missed some. It tells OnForget nothing.
func (c *Cache) ForgetRemote(prefix string) {
	if prefix != "" && !strings.HasSuffix(prefix, "|") {
		return // not a table's prefix: forgetting by it could drop others
	}
	c.forget(prefix)
}
