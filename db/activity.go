package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BucketMonth counts per calendar month (UTC). Only the activity charts
// take it: the signups chart stays by day or week.
const BucketMonth Bucket = "month"

// ActivityPoint is one bucket of the active users chart.
type ActivityPoint struct {
	Start  time.Time // UTC start of the day, week or month
	Active int64     // distinct users with a session created or refreshed in it
}

// ActiveUsers is the active users chart of a branch: one point per bucket,
// empty buckets included.
type ActiveUsers struct {
	Points []ActivityPoint
	// From is where counting started: the start of the bucket holding the
	// range's start, so the first bucket is counted whole like the others.
	From time.Time
	// Took is how long the one statement ran when the series was computed;
	// At is when that was. A cached series keeps both.
	Took time.Duration
	At   time.Time
}

// ActiveUsers counts, per bucket from the one holding from to the one holding
// the instant before to, the distinct users who had a session created or
// refreshed in it. A session carries two instants, "createdAt" and
// "updatedAt" (which Better Auth moves when it refreshes the session): a
// user counts as active in the bucket of either. Better Auth deletes a
// session when it is revoked, signed out of or found expired, so activity
// is what the sessions still on the branch say. One GROUP BY statement
// (ActivitySQL) computes it; the series is cached per range for the cache
// TTL.
func (b *UserBrowser) ActiveUsers(ctx context.Context, from, to time.Time, bucket Bucket) (ActiveUsers, error) {
	const op = "active users chart"
	starts, err := b.activityRange(op, from, to, bucket)
	if err != nil {
		return ActiveUsers{}, err
	}
	from = starts[0]
	key := fmt.Sprintf("%s|active-users|%s|%d|%d", b.cacheKey, bucket, from.UnixMicro(), to.UnixMicro())
	v, at, err := cached(ctx, b.cache, key, func(ctx context.Context) (ActiveUsers, error) {
		return b.activeUsers(ctx, from, to, bucket, starts)
	})
	if err != nil {
		return ActiveUsers{}, wrapErr(op, b.target, err)
	}
	v.At = at
	return v, nil
}

// ActivitySQL returns the statement ActiveUsers runs and its arguments, so
// the benchmark can time it bare. Each session in or overlapping the range
// is read once and yields its two instants; DISTINCT keeps one row per
// bucket and user, which the outer GROUP BY counts.
func (b *UserBrowser) ActivitySQL(from, to time.Time, bucket Bucket) (string, []any) {
	return `SELECT d.b, count(*)
  FROM (SELECT DISTINCT date_trunc($3::text, v.t, 'UTC') AS b, s."userId"
          FROM neon_auth.session s
         CROSS JOIN LATERAL (VALUES (s."createdAt"), (s."updatedAt")) v(t)
         WHERE ((s."createdAt" >= $1::timestamptz AND s."createdAt" < $2::timestamptz)
             OR (s."updatedAt" >= $1::timestamptz AND s."updatedAt" < $2::timestamptz))
           AND v.t >= $1::timestamptz AND v.t < $2::timestamptz) d
 GROUP BY d.b`, []any{from, to, string(bucket)}
}

func (b *UserBrowser) activeUsers(ctx context.Context, from, to time.Time, bucket Bucket, starts []time.Time) (ActiveUsers, error) {
	sql, args := b.ActivitySQL(from, to, bucket)
	began := time.Now()
	a := ActiveUsers{From: from, Points: make([]ActivityPoint, len(starts))}
	for i, s := range starts {
		a.Points[i].Start = s
	}
	var start time.Time
	var n int64
	err := b.chartRows(ctx, sql, args, []any{&start, &n}, func() error {
		i, err := bucketIndex(starts, start)
		if err != nil {
			return err
		}
		a.Points[i].Active = n
		return nil
	})
	a.Took = time.Since(began)
	return a, err
}

// chartRows runs a chart's statement and calls each for every row, scanned
// into scans. JIT compilation is off for it: a GROUP BY over a large session
// table is estimated costly enough for Postgres to compile it, which takes
// seconds, longer than the statement itself.
func (b *UserBrowser) chartRows(ctx context.Context, sql string, args []any, scans []any, each func() error) error {
	return pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
		if err != nil {
			return err
		}
		_, err = pgx.ForEachRow(rows, scans, each)
		return err
	})
}

// activityRange checks a chart's range and bucket and returns the start of
// every bucket from the one holding from to the one holding the instant
// before to.
func (b *UserBrowser) activityRange(op string, from, to time.Time, bucket Bucket) ([]time.Time, error) {
	if err := b.checkSessions(op); err != nil {
		return nil, err
	}
	if bucket != BucketDay && bucket != BucketWeek && bucket != BucketMonth {
		return nil, inputErr("bucket", "must be day, week or month")
	}
	if !from.Before(to) {
		return nil, inputErr("range", "must end after it starts")
	}
	if from.Year() < 1 || to.Year() > 9999 {
		return nil, inputErr("range", "must lie between the years 1 and 9999")
	}
	var starts []time.Time
	for t := bucketStart(from, bucket); t.Before(to); t = nextBucket(t, bucket) {
		if len(starts) == MaxSignupPoints {
			return nil, inputErr("range", "spans more than %d %ss; at most %d fit in a chart", MaxSignupPoints, bucket, MaxSignupPoints)
		}
		starts = append(starts, t)
	}
	return starts, nil
}

// bucketStart is date_trunc(bucket, t, 'UTC') in Go.
func bucketStart(t time.Time, bucket Bucket) time.Time {
	if bucket == BucketMonth {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return truncate(t, bucket)
}

// nextBucket is the start of the bucket after the one starting at t.
func nextBucket(t time.Time, bucket Bucket) time.Time {
	switch bucket {
	case BucketMonth:
		return t.AddDate(0, 1, 0)
	case BucketWeek:
		return t.AddDate(0, 0, 7)
	}
	return t.AddDate(0, 0, 1)
}

// bucketIndex finds the bucket starting at start among starts, which are
// in order.
func bucketIndex(starts []time.Time, start time.Time) (int, error) {
	lo, hi := 0, len(starts)
	for lo < hi {
		mid := (lo + hi) / 2
		if starts[mid].Before(start) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(starts) || !starts[lo].Equal(start) {
		return 0, fmt.Errorf("bucket %s outside the range", start)
	}
	return lo, nil
}
