package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// chartTarget is what a chart's first computation must achieve: about the
// bare GROUP BY's cost. cachedTarget is what its second call must.
var (
	chartTarget  = &Target{MaxRatio: 1.3}
	cachedTarget = &Target{MaxP99: time.Millisecond}
)

// chartRange is one range a chart is drawn over.
type chartRange struct {
	name   string
	days   int
	bucket db.Bucket
}

var chartRanges = []chartRange{{"last 30 days by day", 30, db.BucketDay}, {"last 12 months by week", 365, db.BucketWeek}}

// activityCases time the active users chart computed with the cache cold
// (a browser with a cache of its own each run) against the bare GROUP BY
// (ActivitySQL), the chart's second call answered from the cache, and the
// sign-ins chart the same way.
func (s *suite) activityCases(ctx context.Context) []*Case {
	to := time.Now().UTC()
	cold := func() *db.UserBrowser {
		return db.NewUserBrowser(s.pool, authprovider.BetterAuth, db.NewCache(db.DefaultCacheTTL))
	}
	var cases []*Case
	for _, r := range chartRanges {
		from := to.AddDate(0, 0, -r.days)
		active := func(ctx context.Context, b *db.UserBrowser) (db.ActiveUsers, error) {
			a, err := b.ActiveUsers(ctx, from, to, r.bucket)
			if err == nil && sumActive(a) == 0 {
				err = fmt.Errorf("no active users from %s to %s", from, to)
			}
			return a, err
		}
		// The chart starts counting at the start of the bucket holding
		// from: the bare statement counts the same range.
		a, err := active(ctx, cold())
		if err != nil {
			cases = append(cases, &Case{Name: "active users, " + r.name, Ours: func(context.Context) error { return err }})
			continue
		}
		sql, args := s.b.ActivitySQL(a.From, to, r.bucket)
		cases = append(cases,
			&Case{Name: "active users chart, " + r.name + ", cache cold (ActiveUsers)", Runs: scanRuns, Target: chartTarget,
				Ours: func(ctx context.Context) error { _, err := active(ctx, cold()); return err },
				Bare: s.bare(pgx.QueryExecModeExec, sql, args...), Plan: s.planOf(ctx, sql, args...)},
			&Case{Name: "active users chart, " + r.name + ", second call (cached)", Target: cachedTarget,
				Ours: func(ctx context.Context) error { _, err := active(ctx, s.b); return err }})
	}
	from := to.AddDate(0, 0, -30)
	signIns, err := cold().SignIns(ctx, from, to, db.BucketDay)
	if err != nil {
		return append(cases, &Case{Name: "sign-ins chart", Ours: func(context.Context) error { return err }})
	}
	sql, args := s.b.SignInsSQL(signIns.From, to, db.BucketDay)
	return append(cases, &Case{Name: "sign-ins chart, last 30 days by day, cache cold (SignIns)", Runs: scanRuns, Target: chartTarget,
		Ours: func(ctx context.Context) error {
			_, err := cold().SignIns(ctx, from, to, db.BucketDay)
			return err
		},
		Bare: s.bare(pgx.QueryExecModeExec, sql, args...), Plan: s.planOf(ctx, sql, args...)})
}

func sumActive(a db.ActiveUsers) int64 {
	var n int64
	for _, p := range a.Points {
		n += p.Active
	}
	return n
}
