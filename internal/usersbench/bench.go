// Package usersbench measures the users browser of package db against the
// bare SQL a person would run in psql, on tables seeded to a realistic size
// with Neon's exact DDL. It creates and drops its own databases.
package usersbench

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

// Config says what to measure.
type Config struct {
	// AdminURL is a server where the benchmark may create databases.
	AdminURL string
	// StackRows and BetterAuthRows are the users to seed in each table; a
	// table with zero rows is skipped.
	StackRows, BetterAuthRows int
	// Runs caps the timed runs of each side of a case; Budget stops a case
	// early once it has run at least five times.
	Runs   int
	Budget time.Duration
	// Only, when set, runs just the cases whose suite and name match.
	Only *regexp.Regexp
	// Export also times the exports and their memory (slow on big tables).
	Export bool
	// Keep leaves the databases behind for inspection.
	Keep bool
	// Out receives the results table; Log progress lines.
	Out, Log io.Writer
}

// Run seeds each table, measures every case without and then with the
// offered index, and writes the results table to cfg.Out.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	var all []Result
	for _, t := range []struct {
		gen  db.Generation
		rows int
	}{{db.GenerationStack, cfg.StackRows}, {db.GenerationBetterAuth, cfg.BetterAuthRows}} {
		if t.rows <= 0 {
			continue
		}
		results, err := runTable(ctx, cfg, t.gen, t.rows)
		all = append(all, results...)
		if err != nil {
			return all, err
		}
	}
	printHeader(cfg.Out)
	for _, r := range all {
		printResult(cfg.Out, r)
	}
	return all, nil
}

func runTable(ctx context.Context, cfg Config, gen db.Generation, rows int) ([]Result, error) {
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	start := time.Now()
	d, err := createDatabase(ctx, cfg.AdminURL, gen, rows)
	if d != nil && !cfg.Keep {
		defer func() {
			if err := d.drop(context.WithoutCancel(ctx), cfg.AdminURL); err != nil {
				logf("drop %s: %v", d.name, err)
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	logf("%s: seeded %d rows into %s and analyzed in %s", gen, d.rows, d.name, time.Since(start).Round(time.Millisecond))

	pools := db.NewPools(db.PoolOptions{})
	defer pools.Close()
	pool, err := pools.Get(ctx, d.url)
	if err != nil {
		return nil, err
	}
	s, err := newSuite(ctx, d, pool, db.NewCache(0))
	if err != nil {
		return nil, err
	}
	defer s.close(context.WithoutCancel(ctx))

	var results []Result
	run := func(suite string, cases []*Case) {
		for _, c := range cases {
			if cfg.Only != nil && !cfg.Only.MatchString(suite+" "+c.Name) {
				continue
			}
			r := measure(ctx, suite, c, cfg.Runs, cfg.Budget)
			logf("  %-24s %-46s ours %8s ms  bare %8s ms  %s %s", suite, c.Name, ms(r.Ours.Median), ms(r.Bare.Median), ratioText(r.RatioMedian()), r.Met())
			if r.Err != nil {
				logf("    %v", r.Err)
			}
			results = append(results, r)
		}
	}
	table := gen.Table()
	plain := table + ", no index"
	run(plain, slices.Concat(s.browseCases(false), s.filterCases(false), s.countCases()))
	if cfg.Export {
		run(plain, s.exportCases())
		for _, f := range []db.ExportFormat{db.ExportCSV, db.ExportJSONLines} {
			n, rss, wall, err := exportRSS(ctx, d.url, f)
			if err != nil {
				return results, err
			}
			logf("  export %s in a separate process: %d rows in %s, peak RSS %.1f MB", f, n, wall.Round(time.Millisecond), float64(rss)/(1<<20))
			results = append(results, Result{Suite: plain, Case: &Case{Name: fmt.Sprintf("export %s: peak RSS %.1f MB of the exporting process", f, float64(rss)/(1<<20))}})
		}
	}
	srv := s.server(pools)
	run(plain, s.httpCases(srv))
	srv.Close()
	if err := buildIndex(ctx, s, logf); err != nil {
		return results, err
	}
	// A new server: the first one's results cache still says "no index".
	srv = s.server(pools)
	defer srv.Close()
	run(table+", with index", slices.Concat(s.browseCases(true), s.filterCases(true), s.httpCases(srv)))
	return results, nil
}

// buildIndex creates the offered index through the dashboard's own code and
// reports the estimate next to the result.
func buildIndex(ctx context.Context, s *suite, logf func(string, ...any)) error {
	before, err := s.b.AdviseIndex(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := s.b.CreateIndex(ctx); err != nil {
		return err
	}
	took := time.Since(start)
	after, err := s.b.AdviseIndex(ctx)
	if err != nil {
		return err
	}
	logf("  %s in %s: estimated %.1f MB, built %.1f MB (%s)", before.CreateSQL, took.Round(time.Millisecond),
		float64(before.EstimatedBytes)/(1<<20), float64(after.ServingBytes)/(1<<20), before.EstimateBasis)
	return nil
}
