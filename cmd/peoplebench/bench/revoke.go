package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/neonauth-admin/dashboard/db"
)

// appTarget is the longest any of the app's own queries may wait while a
// revocation runs.
const appTarget = 100 * time.Millisecond

// appBaseline is how long the app's queries run alone before the
// revocation, to show what they cost undisturbed.
const appBaseline = 2 * time.Second

// revokePrefix is the network whose sessions the revocation ends: a third
// of the seeded sessions come from it, narrowed by creation time to the
// number asked for.
const revokePrefix = "10.0."

// RevokeResult is the revocation case: ending sessions by filter while an
// app signs people in.
type RevokeResult struct {
	Filter string
	// From is where the filter's creation range starts (zero: open).
	From time.Time
	// Matched is what the dashboard's exact count said before; Revoked what
	// the revocation returned, in Batches batches, taking Took.
	Matched, Revoked int64
	Batches          int
	Took             time.Duration
	// Before and During are the app's queries alone and while the
	// revocation ran.
	Before, During AppStats
	Err            error
}

// Met reports whether no app query waited appTarget or more.
func (r *RevokeResult) Met() string {
	switch {
	case r.Err != nil || r.During.Errors > 0:
		return "ERROR"
	case r.During.N == 0 || r.During.Max >= appTarget:
		return "MISS"
	}
	return "ok"
}

// AppStats summarizes the latency of the app's own queries.
type AppStats struct {
	N                int
	Median, P99, Max time.Duration
	// Slowest names the query that took Max; Over counts the queries that
	// took appTarget or more.
	Slowest  string
	Over     int
	Errors   int
	FirstErr string
}

// appSession is a session the app uses: it looks it up by token and
// refreshes it, as Better Auth does on a request, and reads its user.
type appSession struct{ id, token, userID string }

// revoke ends about want sessions of revokePrefix with the dashboard's
// RevokeMatchingSessions while one app goroutine runs the app's own queries
// on a connection of its own, then checks through Postgres that exactly the
// matched sessions went.
func (s *suite) revoke(ctx context.Context, want int) (*RevokeResult, error) {
	f := db.SessionFilter{IP: revokePrefix, IncludeExpired: true}
	var from time.Time
	err := s.pool.QueryRow(ctx, `SELECT "createdAt" FROM neon_auth.session WHERE "ipAddress" LIKE $1
 ORDER BY "createdAt" DESC, id DESC OFFSET $2 LIMIT 1`, revokePrefix+"%", max(want, 1)-1).Scan(&from)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // fewer than want: all of them
	case err != nil:
		return nil, fmt.Errorf("revoke: pick the range: %w", err)
	default:
		f.CreatedFrom = from
	}
	r := &RevokeResult{Filter: fmt.Sprintf("IP starting %s, expired included", revokePrefix), From: from}
	if !from.IsZero() {
		r.Filter += ", created from " + from.Format(time.RFC3339)
	}
	if r.Matched, err = s.b.CountMatchingSessions(ctx, f); err != nil {
		return nil, fmt.Errorf("revoke: count: %w", err)
	}
	var total int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM neon_auth.session`).Scan(&total); err != nil {
		return nil, err
	}
	sample, err := s.appSessions(ctx, from)
	if err != nil {
		return nil, err
	}
	app, err := pgxpool.New(ctx, s.d.url)
	if err != nil {
		return nil, err
	}
	defer app.Close()
	// One untimed round connects the app and prepares its statements.
	runApp(ctx, app, sample, closed())
	r.Before = runApp(ctx, app, sample, time.After(appBaseline))

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { r.During = runApp(ctx, app, sample, done) })
	start := time.Now()
	r.Revoked, r.Err = s.b.RevokeMatchingSessions(ctx, f, func(int64) { r.Batches++ })
	r.Took = time.Since(start)
	close(done)
	wg.Wait()
	if r.Err != nil {
		return r, fmt.Errorf("revoke: %w", r.Err)
	}
	// What Postgres says now: nothing the filter selects is left, and the
	// table lost exactly what was revoked.
	left, err := s.b.CountMatchingSessions(ctx, f)
	if err != nil {
		return r, err
	}
	var after int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM neon_auth.session`).Scan(&after); err != nil {
		return r, err
	}
	if left != 0 || r.Revoked != r.Matched || total-after != r.Revoked {
		r.Err = fmt.Errorf("matched %d, revoked %d, %d left matching, table went from %d to %d", r.Matched, r.Revoked, left, total, after)
		return r, r.Err
	}
	return r, nil
}

// appSessions picks the sessions the app uses: half among those the
// revocation ends (so that the app and the revocation meet on the same
// rows), half elsewhere. Replaying Better Auth's lookup needs the seeded
// tokens, which stay in memory and are never printed.
func (s *suite) appSessions(ctx context.Context, from time.Time) ([]appSession, error) {
	rows, err := s.pool.Query(ctx, `(SELECT id::text, token, "userId"::text FROM neon_auth.session
  WHERE "ipAddress" LIKE $1 AND "createdAt" >= $2 ORDER BY random() LIMIT 200)
UNION ALL
(SELECT id::text, token, "userId"::text FROM neon_auth.session
  WHERE NOT ("ipAddress" LIKE $1 AND "createdAt" >= $2) ORDER BY random() LIMIT 200)`, revokePrefix+"%", from)
	if err != nil {
		return nil, fmt.Errorf("revoke: pick the app's sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (appSession, error) {
		var a appSession
		err := r.Scan(&a.id, &a.token, &a.userID)
		return a, err
	})
	if err == nil && len(out) == 0 {
		err = errors.New("no sessions")
	}
	return out, err
}

// appQueries are what Better Auth runs on a request: find the session by
// its cookie's token, refresh it, read its user.
var appQueries = []struct {
	name, sql string
	arg       func(appSession) string
}{
	{"session by token", `SELECT id, "expiresAt", "userId" FROM neon_auth.session WHERE token = $1`, func(a appSession) string { return a.token }},
	{"session refresh", `UPDATE neon_auth.session SET "updatedAt" = now() WHERE id = $1::uuid`, func(a appSession) string { return a.id }},
	{"user by id", `SELECT id, email, name, banned FROM neon_auth."user" WHERE id = $1::uuid`, func(a appSession) string { return a.userID }},
}

// runApp runs the app's queries for random sessions of sample, without
// pause, until stop fires (at least one round), timing each.
func runApp[T any](ctx context.Context, pool *pgxpool.Pool, sample []appSession, stop <-chan T) AppStats {
	var st AppStats
	var all []time.Duration
	for rounds := 0; ctx.Err() == nil; rounds++ {
		if rounds > 0 {
			select {
			case <-stop:
				return st.summed(all)
			default:
			}
		}
		a := sample[rand.IntN(len(sample))]
		for _, q := range appQueries {
			start := time.Now()
			err := runBare(ctx, pool, pgx.QueryExecModeCacheStatement, q.sql, q.arg(a))
			took := time.Since(start)
			if err != nil {
				st.Errors++
				if st.FirstErr == "" {
					st.FirstErr = q.name + ": " + err.Error()
				}
				continue
			}
			all = append(all, took)
			if took >= appTarget {
				st.Over++
			}
			if took > st.Max {
				st.Max, st.Slowest = took, q.name
			}
		}
	}
	return st.summed(all)
}

func (st AppStats) summed(all []time.Duration) AppStats {
	sum := summarize(all)
	st.N, st.Median, st.P99 = sum.N, sum.Median, sum.P99
	return st
}

// closed returns a channel that has fired: one round, then stop.
func closed() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
