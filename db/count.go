package db

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// LargeTable is the planner's row estimate from which Count answers with an
// estimate unless an exact count is asked for: counting a table this size
// exactly means reading all of it.
const LargeTable = 100_000

// UserCount is how many users a filter selects.
type UserCount struct {
	N int64
	// Exact is false when N is the planner's estimate, to be shown as such
	// ("about 1.2 million").
	Exact bool
	// AsOf is when N was computed. Exact counts are cached, so it can be up
	// to the cache TTL in the past.
	AsOf time.Time
}

// Count counts the users f selects. Small tables (a planner estimate below
// LargeTable rows) and id lookups are always counted exactly; on large
// tables the planner's estimate is returned unless exact is set. Exact counts
// are cached per table and filter for the cache TTL, and concurrent requests
// for the same count share one query.
func (b *UserBrowser) Count(ctx context.Context, f Filter, exact bool) (UserCount, error) {
	const op = "count users"
	if err := b.check(op); err != nil {
		return UserCount{}, err
	}
	f, err := f.normalize(b.gen)
	if err != nil {
		return UserCount{}, err
	}
	if !exact && f.ID == "" {
		total, err := b.estimateRows(ctx, Filter{})
		if err != nil {
			return UserCount{}, wrapErr(op, b.target, err)
		}
		if total >= b.largeTable {
			n := total
			if !f.empty() {
				if n, err = b.estimateRows(ctx, f); err != nil {
					return UserCount{}, wrapErr(op, b.target, err)
				}
			}
			return UserCount{N: n, AsOf: time.Now()}, nil
		}
	}
	n, at, err := cached(ctx, b.cache, b.cacheKey+"|count|"+f.key(), func(ctx context.Context) (int64, error) {
		var a sqlArgs
		var n int64
		err := b.pool.QueryRow(ctx, "SELECT count(*) FROM "+b.spec.table+b.whereClause(&a, f),
			append([]any{pgx.QueryExecModeExec}, a.args...)...).Scan(&n)
		return n, err
	})
	if err != nil {
		return UserCount{}, wrapErr(op, b.target, err)
	}
	return UserCount{N: n, Exact: true, AsOf: at}, nil
}

// whereClause returns " WHERE ..." for f, or "" for the empty filter.
func (b *UserBrowser) whereClause(a *sqlArgs, f Filter) string {
	w := b.spec.filterWhere(a, f)
	if len(w) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w, " AND ")
}

// estimateRows returns the planner's estimate of the rows f selects. For
// the empty filter that is pg_class.reltuples scaled to the table's current
// size, as the planner does, which also covers a table never analyzed.
func (b *UserBrowser) estimateRows(ctx context.Context, f Filter) (int64, error) {
	var a sqlArgs
	sql := "EXPLAIN (FORMAT JSON) SELECT 1 FROM " + b.spec.table + b.whereClause(&a, f)
	var out []byte
	if err := b.pool.QueryRow(ctx, sql, append([]any{pgx.QueryExecModeExec}, a.args...)...).Scan(&out); err != nil {
		return 0, err
	}
	var plans []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		return 0, fmt.Errorf("unexpected EXPLAIN output: %v", err)
	}
	return int64(plans[0].Plan.Rows), nil
}
