package db

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Lane is a class of work on a users database. Each lane of a database has a
// pool of its own, so work of one class never queues for connections another
// holds: a browse page that needs a millisecond does not wait behind searches
// that scan the table.
type Lane uint8

const (
	// LaneFast is the default: page loads, browse pages without a text
	// search, id and email lookups, user detail, sync polls, the header's totals.
	LaneFast Lane = iota
	// LaneSlow is work that may read the whole table: text searches, exact
	// counts, sampled estimates, the signups chart, index advice. Its
	// sessions run under a statement timeout, so the database itself stops a
	// search nobody will wait for.
	LaneSlow
	// LaneExport streams whole tables to a download. A download holds its
	// connection for as long as the browser reads, so exports get their own
	// connections rather than take the slow lane's from searches, and no
	// statement timeout: the request's deadline bounds them, and a download
	// cut short by a timer could not be taken back.
	LaneExport

	laneCount = iota
)

var laneNames = [laneCount]string{"fast", "slow", "export"}

// String names the lane for metrics and messages.
func (l Lane) String() string {
	if int(l) < len(laneNames) {
		return laneNames[l]
	}
	return fmt.Sprintf("lane(%d)", l)
}

type laneKey struct{}

// WithLane marks ctx so that Pools.Get hands out lane's pool. The mark only
// matters when the pool is picked: a UserBrowser or UserDirectory keeps the
// pool it was opened on.
func WithLane(ctx context.Context, lane Lane) context.Context {
	return context.WithValue(ctx, laneKey{}, lane)
}

// LaneFrom returns the lane ctx was marked with, LaneFast when unmarked.
func LaneFrom(ctx context.Context) Lane {
	if l, ok := ctx.Value(laneKey{}).(Lane); ok && int(l) < laneCount {
		return l
	}
	return LaneFast
}

// NoStatementTimeout as LaneLimits.StatementTimeout runs the lane's sessions
// without a statement timeout.
const NoStatementTimeout time.Duration = -1

// LaneLimits bound one lane's pool to each database. Zero fields take the
// lane's defaults (DefaultLaneLimits).
type LaneLimits struct {
	// MaxConns caps the lane's connections to one database.
	MaxConns int32
	// AcquireWait is how long a query waits for one of them while all are
	// in use before it fails with ErrBusy: a person is better served by
	// "busy, retry" than by a page that hangs until its deadline.
	AcquireWait time.Duration
	// StatementTimeout is the statement_timeout of the lane's sessions; a
	// query that runs longer fails with ErrQueryTimeout.
	// NoStatementTimeout turns it off.
	StatementTimeout time.Duration
}

// DefaultLaneLimits returns lane's defaults: fast 4 connections with a 2s
// wait; slow 2 connections, a 1s wait and a 15s statement timeout; export 1
// connection with a 1s wait. A Neon compute thus sees at most 7 connections
// per database from one dashboard.
func DefaultLaneLimits(lane Lane) LaneLimits {
	switch lane {
	case LaneSlow:
		return LaneLimits{MaxConns: 2, AcquireWait: time.Second, StatementTimeout: 15 * time.Second}
	case LaneExport:
		return LaneLimits{MaxConns: 1, AcquireWait: time.Second, StatementTimeout: NoStatementTimeout}
	}
	return LaneLimits{MaxConns: 4, AcquireWait: 2 * time.Second, StatementTimeout: NoStatementTimeout}
}

func (l LaneLimits) withDefaults(lane Lane) LaneLimits {
	def := DefaultLaneLimits(lane)
	if l.MaxConns <= 0 {
		l.MaxConns = def.MaxConns
	}
	if l.AcquireWait <= 0 {
		l.AcquireWait = def.AcquireWait
	}
	if l.StatementTimeout == 0 {
		l.StatementTimeout = def.StatementTimeout
	}
	return l
}

// ErrBusy reports that every connection of a lane stayed in use for the
// lane's whole AcquireWait: the database is reachable but the dashboard's
// share of it is taken. Errors wrapping it are *BusyError values.
var ErrBusy = errors.New("users database busy")

// ErrQueryTimeout reports a query the database cancelled (SQLSTATE 57014):
// it ran past the slow lane's statement timeout, or an operator cancelled it.
// Either way the same request would take as long again; a narrower one may not.
var ErrQueryTimeout = errors.New("query took too long")

// BusyError says which lane was full and for how long the query waited.
type BusyError struct {
	Lane Lane
	Wait time.Duration
}

// Error names the lane and the wait.
func (e *BusyError) Error() string {
	return fmt.Sprintf("%s lane: no connection free within %s", e.Lane, e.Wait)
}

// Is matches ErrBusy. It deliberately does not match
// context.DeadlineExceeded, although it stands in for it as the wait's
// context's Err: a full lane is no request running out of time, and must
// not be reported as one.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// laneTracer bounds how long a query waits for a connection of its lane and
// counts the queries waiting. pgxpool runs Acquire under the context that
// TraceAcquireStart returns: the one place where a pool's wait can be
// bounded apart from the query's own deadline. It is the pool's
// ConnConfig.Tracer, which must also be a pgx.QueryTracer.
type laneTracer struct {
	lane    Lane
	wait    time.Duration
	waiting atomic.Int32
}

// TraceQueryStart implements pgx.QueryTracer; queries are not traced.
func (t *laneTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t *laneTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceAcquireStart bounds the wait when every connection is in use. While
// the pool has an idle connection or room for a new one it leaves ctx alone:
// opening a connection to a Neon compute that is waking up takes seconds,
// and that is no sign of a busy lane.
func (t *laneTracer) TraceAcquireStart(ctx context.Context, pool *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	t.waiting.Add(1)
	if st := pool.Stat(); st.IdleConns() > 0 || st.TotalConns() < st.MaxConns() {
		return ctx
	}
	wctx, cancel := context.WithTimeoutCause(ctx, t.wait, errLaneWait)
	return &acquireContext{Context: wctx, cancel: cancel, busy: &BusyError{Lane: t.lane, Wait: t.wait}}
}

// TraceAcquireEnd implements pgxpool.AcquireTracer.
func (t *laneTracer) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireEndData) {
	t.waiting.Add(-1)
	if a, ok := ctx.(*acquireContext); ok {
		a.cancel()
	}
}

// errLaneWait is the cause of an acquire's deadline, telling it apart from
// the deadline of the request, which the same context inherits.
var errLaneWait = errors.New("lane wait exceeded")

// acquireContext is the context of one bounded wait for a connection. Its Err
// is a *BusyError when the lane's wait ran out while the request was still
// alive: pgxpool and the semaphore beneath it return the context's Err as is,
// which is how ErrBusy reaches the caller instead of a bare "deadline
// exceeded" that would read as a database that does not answer.
type acquireContext struct {
	context.Context
	cancel context.CancelFunc
	busy   *BusyError
}

// Err implements context.Context.
func (c *acquireContext) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == errLaneWait {
		return c.busy
	}
	return err
}

// classifyErr gives wrapErr the errors that need a sentinel of their own or
// must not pass for a lost connection, and reports whether it did.
// context.DeadlineExceeded satisfies net.Error (it is a timeout), so without
// this a request that ran out of time, or a full lane, would read as an
// unreachable database.
func classifyErr(op, target string, err error) (error, bool) {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, ErrBusy) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return fmt.Errorf("db: %s on %s: %w", op, target, err), true
	case errors.As(err, &pgErr) && pgErr.Code == "57014": // query_canceled
		return fmt.Errorf("db: %s on %s: %w: %w", op, target, ErrQueryTimeout, err), true
	}
	return nil, false
}
