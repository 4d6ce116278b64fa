package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

// Defaults of the server's time limits.
const (
	defaultRequestTimeout = 30 * time.Second
	defaultShutdownGrace  = 10 * time.Second
)

// maxLaneConns bounds each lane's connections to one database: beyond it the
// dashboard would crowd out the applications sharing a small Neon compute.
const maxLaneConns = 50

// minStatementTimeout is the shortest slow-lane statement timeout accepted:
// below it even a search on an indexed table would be stopped.
const minStatementTimeout = 100 * time.Millisecond

// serverLimits bound how long the server spends on one request and on
// shutting down, and how much of each users database it uses. Environment:
//
//	REQUEST_TIMEOUT        how long one request may take, Neon calls and their retries
//	                       included, before it is answered with an error page (default 30s)
//	SHUTDOWN_GRACE         how long a shutdown (SIGTERM, Ctrl+C) waits for running requests;
//	                       after half of it their Neon calls are cancelled and they are
//	                       answered with 503 (default 10s)
//	USERS_DB_FAST_CONNS    connections per users database for page loads, unsearched
//	                       browse pages, lookups, user detail and sync polls (default 4)
//	USERS_DB_FAST_WAIT     how long fast work waits for one of them before answering
//	                       "busy, retry" (503 with Retry-After) (default 2s)
//	USERS_DB_SLOW_CONNS    connections per users database for text searches, exact counts,
//	                       estimates, the signups chart and index advice (default 2)
//	USERS_DB_SLOW_WAIT     how long slow work and exports wait for a connection before
//	                       answering "busy, retry" (default 1s)
//	USERS_DB_SLOW_TIMEOUT  statement timeout of slow work; 0 turns it off (default 15s)
//	USERS_DB_EXPORT_CONNS  connections per users database for exports, which run without a
//	                       statement timeout, bounded by REQUEST_TIMEOUT (default 1)
//
// The waits and the statement timeout must be shorter than REQUEST_TIMEOUT;
// their defaults are capped at half of it.
type serverLimits struct {
	RequestTimeout time.Duration
	ShutdownGrace  time.Duration
	// UsersDB bounds the lanes of the pools to users databases.
	UsersDB db.PoolOptions
}

// loadServerLimits reads the limits; getenv is os.Getenv outside tests. All
// problems are reported together.
func loadServerLimits(getenv func(string) string) (serverLimits, error) {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	duration := func(name string, def, lo, hi time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			bad("%s=%q is not a duration (try 10s or 1m)", name, v)
			return def
		}
		if d < lo || d > hi {
			bad("%s %s must be between %s and %s", name, d, lo, hi)
		}
		return d
	}
	l := serverLimits{
		RequestTimeout: duration("REQUEST_TIMEOUT", defaultRequestTimeout, time.Second, 5*time.Minute),
		ShutdownGrace:  duration("SHUTDOWN_GRACE", defaultShutdownGrace, time.Second, 10*time.Minute),
	}
	l.UsersDB = loadLanes(getenv, l.RequestTimeout, duration, bad)
	if len(problems) > 0 {
		return serverLimits{}, fmt.Errorf("invalid configuration:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return l, nil
}

// loadLanes reads the USERS_DB_* lane settings. A wait or statement timeout
// as long as the request's own deadline would never fire: the request would
// end first with a vaguer "timed out", so those must be shorter, and their
// defaults give way to a short REQUEST_TIMEOUT.
func loadLanes(getenv func(string) string, requestTimeout time.Duration,
	duration func(name string, def, lo, hi time.Duration) time.Duration, bad func(string, ...any)) db.PoolOptions {
	conns := func(name string, def int32) int32 {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLaneConns {
			bad("%s=%q must be a whole number from 1 to %d", name, v, maxLaneConns)
			return def
		}
		return int32(n)
	}
	shorter := func(name string, d time.Duration) {
		if d >= requestTimeout {
			bad("%s %s must be shorter than REQUEST_TIMEOUT %s", name, d, requestTimeout)
		}
	}
	capped := func(d time.Duration) time.Duration { return min(d, requestTimeout/2) }
	fast, slow, export := db.DefaultLaneLimits(db.LaneFast), db.DefaultLaneLimits(db.LaneSlow), db.DefaultLaneLimits(db.LaneExport)
	o := db.PoolOptions{
		Fast: db.LaneLimits{
			MaxConns:    conns("USERS_DB_FAST_CONNS", fast.MaxConns),
			AcquireWait: duration("USERS_DB_FAST_WAIT", capped(fast.AcquireWait), 10*time.Millisecond, time.Minute),
		},
		Slow: db.LaneLimits{
			MaxConns:         conns("USERS_DB_SLOW_CONNS", slow.MaxConns),
			AcquireWait:      duration("USERS_DB_SLOW_WAIT", capped(slow.AcquireWait), 10*time.Millisecond, time.Minute),
			StatementTimeout: duration("USERS_DB_SLOW_TIMEOUT", capped(slow.StatementTimeout), 0, 5*time.Minute),
		},
		Export: db.LaneLimits{
			MaxConns:         conns("USERS_DB_EXPORT_CONNS", export.MaxConns),
			StatementTimeout: db.NoStatementTimeout,
		},
	}
	o.Export.AcquireWait = o.Slow.AcquireWait
	shorter("USERS_DB_FAST_WAIT", o.Fast.AcquireWait)
	shorter("USERS_DB_SLOW_WAIT", o.Slow.AcquireWait)
	shorter("USERS_DB_SLOW_TIMEOUT", o.Slow.StatementTimeout)
	switch st := o.Slow.StatementTimeout; {
	case st == 0:
		o.Slow.StatementTimeout = db.NoStatementTimeout
	case st < minStatementTimeout:
		bad("USERS_DB_SLOW_TIMEOUT %s must be 0 (off) or at least %s", st, minStatementTimeout)
	}
	return o
}
