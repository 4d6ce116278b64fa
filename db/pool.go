package db

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolOptions bounds the pools Pools creates. Zero fields take the defaults
// noted on each.
type PoolOptions struct {
	// Fast, Slow and Export bound each lane's pool (see DefaultLaneLimits):
	// the dashboard runs a handful of read queries at a time and must not
	// exhaust a small Neon compute.
	Fast, Slow, Export LaneLimits
	// MaxConnIdleTime closes a connection idle this long (default 1 minute), so
	// an idle dashboard does not keep a Neon compute from suspending.
	MaxConnIdleTime time.Duration
	// ConnectTimeout bounds each connection attempt (default 5s) unless the
	// connection string sets connect_timeout itself.
	ConnectTimeout time.Duration
	// PoolIdleTimeout closes and forgets a whole pool unused this long
	// (default 10 minutes); connection strings change when passwords are reset
	// or branches come and go, and their pools must not pile up.
	PoolIdleTimeout time.Duration
	// SweepInterval is how often the janitor looks for idle pools (default 1 minute).
	SweepInterval time.Duration
}

func (o PoolOptions) withDefaults() PoolOptions {
	o.Fast = o.Fast.withDefaults(LaneFast)
	o.Slow = o.Slow.withDefaults(LaneSlow)
	o.Export = o.Export.withDefaults(LaneExport)
	if o.MaxConnIdleTime <= 0 {
		o.MaxConnIdleTime = time.Minute
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.PoolIdleTimeout <= 0 {
		o.PoolIdleTimeout = 10 * time.Minute
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Minute
	}
	return o
}

// lane returns the limits of lane.
func (o PoolOptions) lane(lane Lane) LaneLimits {
	switch lane {
	case LaneSlow:
		return o.Slow
	case LaneExport:
		return o.Export
	}
	return o.Fast
}

// applicationName labels the dashboard's sessions in pg_stat_activity.
const applicationName = "neonauth-dashboard"

// Pools hands out one bounded pgxpool.Pool per connection string and lane,
// and closes pools nobody has used for PoolOptions.PoolIdleTimeout. Callers
// should call Get for each unit of work rather than keep a pool for longer
// than that timeout.
type Pools struct {
	opts PoolOptions
	now  func() time.Time // the janitor's clock; tests fix it to sweep without sleeping

	mu     sync.Mutex
	pools  map[poolKey]*poolEntry
	closed bool

	stop chan struct{}
	done chan struct{}
}

// poolKey identifies a connection string by its hash, so that printing Pools
// with %+v cannot reveal the passwords the strings carry, and the lane.
type poolKey struct {
	conn [sha256.Size]byte
	lane Lane
}

func keyOf(connString string, lane Lane) poolKey {
	return poolKey{conn: sha256.Sum256([]byte(connString)), lane: lane}
}

type poolEntry struct {
	pool     *pgxpool.Pool
	target   string
	lane     Lane
	tracer   *laneTracer
	lastUsed atomic.Int64 // unix nanoseconds of the last Get or connection acquire
}

func (e *poolEntry) touch(t time.Time) { e.lastUsed.Store(t.UnixNano()) }

// NewPools starts an empty set of pools and its janitor; Close stops both.
func NewPools(opts PoolOptions) *Pools {
	return newPoolsWithClock(opts, time.Now)
}

func newPoolsWithClock(opts PoolOptions, now func() time.Time) *Pools {
	p := &Pools{
		opts:  opts.withDefaults(),
		now:   now,
		pools: make(map[poolKey]*poolEntry),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go p.janitor()
	return p
}

// Get returns the pool for connString in the lane ctx is marked with
// (WithLane; LaneFast unmarked), creating it on first use. Creating a pool
// does not connect: connection failures surface from the first query, which
// Detect and UserDirectory report as ErrUnreachable. A query that finds the
// lane's connections all in use for the lane's AcquireWait fails with ErrBusy.
func (p *Pools) Get(ctx context.Context, connString string) (*pgxpool.Pool, error) {
	lane := LaneFrom(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("db: open %s: %w", Describe(connString), ErrClosed)
	}
	key := keyOf(connString, lane)
	if e, ok := p.pools[key]; ok {
		e.touch(p.now())
		return e.pool, nil
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgx's parse error may quote the connection string: never wrap it.
		return nil, fmt.Errorf("db: open %s: %w", Describe(connString), ErrBadConnString)
	}
	limits := p.opts.lane(lane)
	e := &poolEntry{target: describeConfig(&cfg.ConnConfig.Config), lane: lane, tracer: &laneTracer{lane: lane, wait: limits.AcquireWait}}
	cfg.MaxConns = limits.MaxConns
	cfg.MinConns, cfg.MinIdleConns = 0, 0
	cfg.MaxConnIdleTime = p.opts.MaxConnIdleTime
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = p.opts.ConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = applicationName
	}
	if limits.StatementTimeout > 0 {
		// A session default, sent with the startup message: no round trip
		// per query, and it holds for every statement the lane runs.
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(limits.StatementTimeout.Milliseconds(), 10)
	}
	cfg.ConnConfig.Tracer = e.tracer
	// PrepareConn runs synchronously on every acquire, which makes it the
	// cheapest place to notice that a pool is still in use.
	cfg.PrepareConn = func(context.Context, *pgx.Conn) (bool, error) {
		e.touch(p.now())
		return true, nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrapErr("open pool", e.target, err)
	}
	e.pool = pool
	e.touch(p.now())
	p.pools[key] = e
	return pool, nil
}

// Close stops the janitor and closes every pool, waiting for connections in
// use to be returned. Get fails with ErrClosed afterwards.
func (p *Pools) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	entries := p.pools
	p.pools = nil
	p.mu.Unlock()

	close(p.stop)
	<-p.done
	for _, e := range entries {
		e.pool.Close()
	}
}

func (p *Pools) janitor() {
	defer close(p.done)
	t := time.NewTicker(p.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.sweep(p.now())
		}
	}
}

// sweep closes and forgets the pools that have no connection in use and have
// not been used since PoolIdleTimeout before now. It returns how many it closed.
func (p *Pools) sweep(now time.Time) int {
	cutoff := now.Add(-p.opts.PoolIdleTimeout).UnixNano()
	var idle []*poolEntry
	p.mu.Lock()
	for key, e := range p.pools {
		if e.lastUsed.Load() <= cutoff && e.pool.Stat().AcquiredConns() == 0 {
			idle = append(idle, e)
			delete(p.pools, key)
		}
	}
	p.mu.Unlock()
	// Closing outside the lock: pgxpool.Close waits for connections to close.
	for _, e := range idle {
		e.pool.Close()
	}
	return len(idle)
}

// PoolStat is a snapshot of the pools to one target in one lane, for metrics.
type PoolStat struct {
	// Target is host:port/database, never credentials.
	Target string
	// Lane is the lane's name: fast, slow or export.
	Lane     string
	Acquired int32
	Idle     int32
	Total    int32
	Max      int32
	// Waiting counts the queries asking for a connection right now; more
	// than a few for long means the lane is too small for its load.
	Waiting int32
}

// Stats returns one entry per target and lane, ordered by target then lane.
// Pools that reach the same database with different roles are summed, so
// the target and lane can label a metric without two series colliding.
func (p *Pools) Stats() []PoolStat {
	type group struct {
		target string
		lane   Lane
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	byGroup := make(map[group]*PoolStat, len(p.pools))
	for _, e := range p.pools {
		st := e.pool.Stat()
		g := group{e.target, e.lane}
		s, ok := byGroup[g]
		if !ok {
			s = &PoolStat{Target: e.target, Lane: e.lane.String()}
			byGroup[g] = s
		}
		s.Acquired += st.AcquiredConns()
		s.Idle += st.IdleConns()
		s.Total += st.TotalConns()
		s.Max += st.MaxConns()
		s.Waiting += e.tracer.waiting.Load()
	}
	out := make([]PoolStat, 0, len(byGroup))
	for _, s := range byGroup {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b PoolStat) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Lane, b.Lane))
	})
	return out
}

// Describe returns "host:port/database" for connString, without user or
// password, for display and error messages.
func Describe(connString string) string {
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		return "(invalid connection string)"
	}
	return describeConfig(cfg)
}

func describeConfig(cfg *pgconn.Config) string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
}

// describePool is describeConfig for a pool built elsewhere.
func describePool(pool *pgxpool.Pool) string {
	return describeConfig(&pool.Config().ConnConfig.Config)
}
