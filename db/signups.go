package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// Bucket is the width of one point of the signups chart.
type Bucket string

const (
	// BucketDay counts per UTC day.
	BucketDay Bucket = "day"
	// BucketWeek counts per ISO week (Monday to Sunday, UTC).
	BucketWeek Bucket = "week"
)

// MaxSignupPoints bounds a chart: about 2.7 years by day, 19 by week.
const MaxSignupPoints = 1000

// SignupPoint is one bucket of the signups chart.
type SignupPoint struct {
	Start     time.Time // UTC start of the day or week
	Signups   int64
	Deletions int64 // users_sync soft deletes; always 0 for better_auth
}

// Signups returns one point per bucket from the bucket holding from to the
// one holding the instant before to, empty buckets included, counting
// signups by created_at and (users_sync) deletions by deleted_at. One GROUP
// BY statement computes it; the series is cached per range for the cache
// TTL.
func (b *UserBrowser) Signups(ctx context.Context, from, to time.Time, bucket Bucket) ([]SignupPoint, error) {
	const op = "signups chart"
	if err := b.check(op); err != nil {
		return nil, err
	}
	if bucket != BucketDay && bucket != BucketWeek {
		return nil, inputErr("bucket", "must be day or week")
	}
	if !from.Before(to) {
		return nil, inputErr("range", "must end after it starts")
	}
	if from.Year() < 1 || to.Year() > 9999 {
		return nil, inputErr("range", "must lie between the years 1 and 9999")
	}
	first, last := truncate(from, bucket), truncate(to.Add(-time.Microsecond), bucket)
	n := int(last.Sub(first)/step(bucket)) + 1
	if n > MaxSignupPoints {
		return nil, inputErr("range", "spans %d %ss; at most %d fit in a chart", n, bucket, MaxSignupPoints)
	}
	key := fmt.Sprintf("%s|signups|%s|%d|%d", b.cacheKey, bucket, from.UnixMicro(), to.UnixMicro())
	pts, _, err := cached(ctx, b.cache, key, func(ctx context.Context) ([]SignupPoint, error) {
		return b.signups(ctx, from, to, bucket, first, n)
	})
	if err != nil {
		return nil, wrapErr(op, b.target, err)
	}
	return pts, nil
}

// SignupsSQL returns the statement Signups runs and its arguments, so the
// benchmark can time it bare.
func (b *UserBrowser) SignupsSQL(from, to time.Time, bucket Bucket) (string, []any) {
	c := b.spec.created
	sql := fmt.Sprintf(`SELECT b, count(*) FILTER (WHERE kind = 0), count(*) FILTER (WHERE kind = 1)
  FROM (SELECT date_trunc($3::text, %s, 'UTC') AS b, 0 AS kind FROM %s
         WHERE %s >= $1::timestamptz AND %s < $2::timestamptz`, c, b.spec.table, c, c)
	if b.gen == authprovider.Stack {
		sql += `
        UNION ALL
        SELECT date_trunc($3::text, deleted_at, 'UTC'), 1 FROM neon_auth.users_sync
         WHERE deleted_at >= $1::timestamptz AND deleted_at < $2::timestamptz`
	}
	return sql + `) e
 GROUP BY b`, []any{from, to, string(bucket)}
}

func (b *UserBrowser) signups(ctx context.Context, from, to time.Time, bucket Bucket, first time.Time, n int) ([]SignupPoint, error) {
	sql, args := b.SignupsSQL(from, to, bucket)
	rows, err := b.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, err
	}
	pts := make([]SignupPoint, n)
	for i := range pts {
		pts[i].Start = first.Add(time.Duration(i) * step(bucket))
	}
	var start time.Time
	var s, d int64
	_, err = pgx.ForEachRow(rows, []any{&start, &s, &d}, func() error {
		i := int(start.Sub(first) / step(bucket))
		if i < 0 || i >= n {
			return fmt.Errorf("bucket %s outside the range", start)
		}
		pts[i].Signups, pts[i].Deletions = s, d
		return nil
	})
	return pts, err
}

func step(bucket Bucket) time.Duration {
	if bucket == BucketWeek {
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// truncate is date_trunc(bucket, t, 'UTC') in Go.
func truncate(t time.Time, bucket Bucket) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if bucket == BucketWeek {
		back := (int(day.Weekday()) + 6) % 7 // days since Monday
		day = day.AddDate(0, 0, -back)
	}
	return day
}
