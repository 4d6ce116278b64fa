package db

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// LargeTable is the row count from which Count answers with an estimate
// unless an exact count is asked for: counting a table this size exactly
// means reading all of it.
const LargeTable = 100_000

// UserCount is how many users a filter selects.
type UserCount struct {
	N int64
	// Exact is false when N is an estimate, to be shown as such ("about
	// 1.2 million").
	Exact bool
	// Unknown is true when no estimate sure to be within 2× of the truth
	// could be made without counting: the filter matched too few rows of a
	// sample of the table (or too unevenly spread) to scale up. N is then 0
	// and Exact false; a count with exact set answers.
	Unknown bool
	// AsOf is when N was computed. Exact counts are cached, so it can be up
	// to the cache TTL in the past.
	AsOf time.Time
}

// Count counts the users f selects. Small tables (below LargeTable rows, or
// never analyzed and small on disk), id lookups and email lookups an index
// serves are always counted exactly. On large tables, unless exact is set,
// the count is estimated (see estimate), or reported Unknown when no sound
// estimate can be made cheaply. Exact counts are cached per table and filter
// for the cache TTL, and concurrent requests for the same count share one
// query.
func (b *UserBrowser) Count(ctx context.Context, f Filter, exact bool) (UserCount, error) {
	const op = "count users"
	if err := b.check(op); err != nil {
		return UserCount{}, err
	}
	f, err := f.normalize(b.gen)
	if err != nil {
		return UserCount{}, err
	}
	var n UserCount
	if exact {
		n, err = b.countExactly(ctx, f)
	} else {
		n, err = b.count(ctx, f)
	}
	if err != nil {
		return UserCount{}, wrapErr(op, b.target, err)
	}
	return n, nil
}

// tableRows is how many rows the table holds, as Count without a filter
// says.
func (b *UserBrowser) tableRows(ctx context.Context) (UserCount, error) {
	return b.count(ctx, Filter{})
}

// count estimates the rows f selects when that is sound, and counts them
// exactly otherwise.
func (b *UserBrowser) count(ctx context.Context, f Filter) (UserCount, error) {
	if f.ID == "" {
		n, ok, err := b.estimate(ctx, f)
		if err != nil || ok {
			return n, err
		}
	}
	return b.countExactly(ctx, f)
}

func (b *UserBrowser) countExactly(ctx context.Context, f Filter) (UserCount, error) {
	n, at, err := cached(ctx, b.cache, b.cacheKey+"|count|"+f.key(), func(ctx context.Context) (int64, error) {
		var a sqlArgs
		var n int64
		err := b.pool.QueryRow(ctx, "SELECT count(*) FROM "+b.spec.table+b.whereClause(&a, f),
			append([]any{pgx.QueryExecModeExec}, a.args...)...).Scan(&n)
		return n, err
	})
	return UserCount{N: n, Exact: true, AsOf: at}, err
}

// estimate returns an estimate of the rows f selects, or false when they
// should be counted instead: the table is small, or f is an email lookup an
// index serves.
//
// The table's size is pg_class.reltuples scaled to its current size on
// disk, as the planner does, once VACUUM or ANALYZE has set it. A filter
// testing only a column ANALYZE keeps statistics on (see
// tableSpec.statsColumn) is estimated by the planner from them: they come
// from a random sample of 30,000 rows. The planner has nothing for the
// other predicates (substrings, json, roles, columns never analyzed) and
// guesses a fixed fraction, off by 100× and more; those are estimated from
// a sample of the table's blocks instead (see sampleCount), or Unknown.
func (b *UserBrowser) estimate(ctx context.Context, f Filter) (UserCount, bool, error) {
	now := time.Now()
	if f.Email != "" {
		use, err := b.indexUse(ctx)
		if err != nil || use.email {
			return UserCount{}, false, err
		}
	}
	size, err := b.tableSize(ctx)
	if err != nil {
		return UserCount{}, false, err
	}
	if size.reliable {
		if size.rows < b.largeTable {
			return UserCount{}, false, nil
		}
		if f.empty() {
			return UserCount{N: size.rows, AsOf: now}, true, nil
		}
		stats, err := b.hasStats(ctx, f)
		if err != nil {
			return UserCount{}, false, err
		}
		if stats {
			n, err := b.estimateRows(ctx, f)
			return UserCount{N: n, AsOf: now}, err == nil, err
		}
	} else if size.blocks <= sampleBlocks {
		// Never analyzed, and small enough that a sample would read it all.
		return UserCount{}, false, nil
	}
	// Kept as exact counts are: the same filter's count panel, page after
	// page, reads it once.
	s, at, err := cached(ctx, b.cache, b.cacheKey+"|count|sample|"+f.key(), func(ctx context.Context) (sample, error) {
		return b.sampleCount(ctx, f, size)
	})
	if err != nil {
		return UserCount{}, false, err
	}
	total := float64(size.rows)
	if !size.reliable {
		var ok bool
		if total, ok = s.rows(); !ok || total < float64(b.largeTable) {
			return UserCount{}, false, nil
		}
	}
	n, ok := s.matches()
	if !ok {
		return UserCount{Unknown: true, AsOf: at}, true, nil
	}
	// A filter matching nearly every row can scale up to more rows than
	// the table holds.
	return UserCount{N: int64(math.Round(min(n, total))), AsOf: at}, true, nil
}

// tableSize is what the catalog says about the table's size.
type tableSize struct {
	// reliable reports that VACUUM or ANALYZE has measured the table, so
	// that rows is the planner's estimate from that measurement. Before,
	// the planner guesses from column widths, and assumes 10 pages for a
	// smaller table: "about 450 rows" for 3.
	reliable bool
	rows     int64
	density  float64 // rows per block, when reliable
	blocks   int64   // the table's size on disk now
}

func (b *UserBrowser) tableSize(ctx context.Context) (tableSize, error) {
	var reltuples float64
	var relpages int32
	var s tableSize
	// ::regclass fails as an undefined table when the table is gone.
	err := b.pool.QueryRow(ctx, `SELECT c.reltuples, c.relpages, pg_relation_size(c.oid) / current_setting('block_size')::bigint
  FROM pg_class c WHERE c.oid = $1::text::regclass`, b.spec.table).Scan(&reltuples, &relpages, &s.blocks)
	if err != nil {
		return tableSize{}, err
	}
	s.reliable = reltuples >= 0 && relpages > 0
	if s.reliable {
		s.density = reltuples / float64(relpages)
		s.rows = int64(math.Round(s.density * float64(s.blocks)))
	}
	return s, nil
}

// hasStats reports whether f tests only a column that ANALYZE has
// statistics on.
func (b *UserBrowser) hasStats(ctx context.Context, f Filter) (bool, error) {
	col := b.spec.statsColumn[f.Status]
	if col == "" || f != (Filter{Status: f.Status}) {
		return false, nil
	}
	var ok bool
	err := b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stats
 WHERE schemaname = 'neon_auth' AND tablename = $1 AND attname = $2)`, b.spec.relname, col).Scan(&ok)
	return ok, err
}

// whereClause returns " WHERE ..." for f, or "" for the empty filter.
func (b *UserBrowser) whereClause(a *sqlArgs, f Filter) string {
	w := b.spec.filterWhere(a, f)
	if len(w) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w, " AND ")
}

// estimateRows returns the planner's estimate of the rows f selects.
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

// Sample sizes. sampleRows is as many rows as ANALYZE reads, a few
// milliseconds of filtering; sampleBlocks is what is read when the table's
// density is unknown.
const (
	sampleRows   = 30_000
	sampleBlocks = 1_000
)

// Acceptance of a sampled estimate: at least minSampleMatches matching
// rows, and a standard error at most maxSampleError of the estimate. An
// estimate E with standard error SE is within 2× of the truth T unless it
// errs by more than T/2 below or T above; with SE <= E/6 that takes an
// error of about three standard errors, which happens in well under 1% of
// samples. Forty matches keep the standard error itself from being a guess.
const (
	minSampleMatches = 40
	maxSampleError   = 1.0 / 6
)

// sample is what a block sample of the table saw: the sampling fraction q,
// and sums over the sampled blocks of each block's rows n and matching rows
// m, and of their squares.
type sample struct {
	q            float64
	n, m, n2, m2 float64
}

// sampleCount counts rows and f's matches in a block sample of the table
// (TABLESAMPLE SYSTEM, in which every block is read with probability q,
// independently), grouped by block.
//
// Blocks, not rows, are the sampled units: a block sample reads only the
// sampled blocks, where a row sample (BERNOULLI) reads them all. Rows of
// one block tend to be alike (users who signed up together), so the error
// is worked out from the spread of the per-block counts, not as if the
// rows had been drawn one by one: matches clustered in a few blocks give a
// large error, and an Unknown count, rather than a confident wrong one.
// The sample is REPEATABLE, so the same table gives the same estimate from
// one page load to the next.
func (b *UserBrowser) sampleCount(ctx context.Context, f Filter, size tableSize) (sample, error) {
	want := float64(sampleBlocks)
	if size.reliable && size.density > 0 {
		want = sampleRows / size.density
	}
	s := sample{q: min(1, want/float64(max(size.blocks, 1)))}
	var a sqlArgs
	cond := "true"
	if w := b.spec.filterWhere(&a, f); len(w) > 0 {
		cond = strings.Join(w, " AND ")
	}
	sql := fmt.Sprintf(`SELECT coalesce(sum(n), 0)::float8, coalesce(sum(m), 0)::float8,
       coalesce(sum(n * n), 0)::float8, coalesce(sum(m * m), 0)::float8
  FROM (SELECT count(*) AS n, count(*) FILTER (WHERE %s) AS m
          FROM %s TABLESAMPLE SYSTEM (%s) REPEATABLE (0)
         GROUP BY (ctid::text::point)[0]) s`, cond, b.spec.table, strconv.FormatFloat(100*s.q, 'f', 6, 64))
	err := b.pool.QueryRow(ctx, sql, append([]any{pgx.QueryExecModeExec}, a.args...)...).
		Scan(&s.n, &s.m, &s.n2, &s.m2)
	return s, err
}

// rows estimates the table's rows, and reports whether the estimate is
// sound.
func (s sample) rows() (float64, bool) { return s.scale(s.n, s.n2) }

// matches estimates the rows the filter selects, and reports whether the
// estimate is sound.
func (s sample) matches() (float64, bool) { return s.scale(s.m, s.m2) }

// scale turns a sampled total into the Horvitz-Thompson estimate total/q,
// whose variance (1-q)/q² Σ x² over the sampled blocks estimates without
// bias, and checks it against the acceptance limits.
func (s sample) scale(total, squares float64) (float64, bool) {
	if s.q >= 1 {
		return total, true // every block was read: a count
	}
	if total < minSampleMatches {
		return 0, false
	}
	relErr := math.Sqrt((1-s.q)*squares) / total
	return total / s.q, relErr <= maxSampleError
}
