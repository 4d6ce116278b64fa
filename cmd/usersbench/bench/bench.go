// Package bench measures the users pages of the dashboard against the
// bare SQL a person would run in psql, on tables seeded to a realistic size
// with Neon's exact DDL, under every combination of the indexes the
// dashboard's advisor offers. It creates and drops its own databases.
package bench

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
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
	// Load is how long each side of the mixed load runs (0 skips it), with
	// Clients at once of which Searchers search; browsing clients wait
	// Think between pages.
	Load               time.Duration
	Clients, Searchers int
	Think              time.Duration
	// Only, when set, runs just the cases whose table, indexes and name
	// match.
	Only *regexp.Regexp
	// Extra adds the rest of the users browser (paging backwards, filters,
	// counts, the chart, other routes), measured with no offered index and
	// with all of them; Export adds the exports and their memory to it.
	Extra, Export bool
	// Keep leaves the databases behind for inspection.
	Keep bool
	// Out receives the results; Log progress lines.
	Out, Log io.Writer
}

// Report is everything one run measured.
type Report struct {
	Config  Config
	Server  string // Postgres version
	Results []Result
	Mixed   []MixedResult
	// Notes are lines for the closing note (index builds, export memory).
	Notes []string
}

// Run seeds each table, measures every case under every combination of the
// offered indexes, and writes the results to cfg.Out (those measured so far
// when it fails).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	rep := &Report{Config: cfg}
	for _, t := range []struct {
		gen  authprovider.Provider
		rows int
	}{{authprovider.Stack, cfg.StackRows}, {authprovider.BetterAuth, cfg.BetterAuthRows}} {
		if t.rows <= 0 {
			continue
		}
		if err := runTable(ctx, cfg, rep, t.gen, t.rows); err != nil {
			// What was measured is still worth reading.
			rep.Notes = append(rep.Notes, fmt.Sprintf("The run stopped early: %v", err))
			rep.write(cfg.Out)
			return rep, err
		}
	}
	rep.write(cfg.Out)
	return rep, nil
}

func runTable(ctx context.Context, cfg Config, rep *Report, gen authprovider.Provider, rows int) error {
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
		return err
	}
	logf("%s: seeded %d rows into %s and analyzed in %s", gen, d.rows, d.name, time.Since(start).Round(time.Millisecond))
	s, err := newSuite(ctx, d)
	if err != nil {
		return err
	}
	defer s.close(context.WithoutCancel(ctx))
	if rep.Server == "" {
		_ = s.bare.QueryRow(ctx, "SHOW server_version").Scan(&rep.Server)
	}
	offers, err := offeredIndexes(ctx, s.b)
	if err != nil {
		return err
	}
	for _, o := range offers {
		logf("  the advisor offers %s: %s", o.Name, o.CreateSQL)
	}
	note := func(n string) {
		logf("  %s", n)
		rep.Notes = append(rep.Notes, gen.Table()+": "+n)
	}
	combos := combinations(offers)
	prev := combos[0]
	for _, set := range combos {
		if set.mask != prev.mask {
			if err := s.switchIndexes(ctx, prev, set, logf, note); err != nil {
				return err
			}
			if err := s.reopen(ctx); err != nil {
				return err
			}
		}
		prev = set
		if err := runCombo(ctx, cfg, rep, s, set, logf); err != nil {
			return err
		}
	}
	return nil
}

// runCombo measures one table under one combination of offered indexes.
func runCombo(ctx context.Context, cfg Config, rep *Report, s *suite, set indexSet, logf func(string, ...any)) error {
	table := s.d.gen.Table()
	logf("%s, %s:", table, set)
	run := func(cases []*Case) {
		for _, c := range cases {
			if cfg.Only != nil && !cfg.Only.MatchString(table+" "+set.String()+" "+c.Name) {
				continue
			}
			r := measure(ctx, c, cfg.Runs, cfg.Budget)
			r.Table, r.Indexes = table, set
			logf("  %-52s ours %8s ms  bare %8s ms  %7s  %-4s %s", c.Name, ms(r.Ours.Median), ms(r.Bare.Median), ratioText(r.RatioMedian()), r.Met(), c.Plan)
			if r.Err != nil {
				logf("    %v", r.Err)
			}
			rep.Results = append(rep.Results, r)
		}
	}
	run(s.lookupCases(ctx))
	run(s.browseCases(ctx))
	run(s.httpCases(ctx))
	all := set.mask == 1<<len(set.offers)-1
	if cfg.Extra && (set.mask == 0 || all) {
		run(s.extraCases(ctx))
		if cfg.Export && set.mask == 0 {
			if err := runExports(ctx, rep, s, run, logf); err != nil {
				return err
			}
		}
	}
	if cfg.Load > 0 && (cfg.Only == nil || cfg.Only.MatchString(table+" "+set.String()+" mixed load")) {
		m, err := s.mixedLoad(ctx, cfg.Clients, cfg.Searchers, cfg.Load, cfg.Think)
		if err != nil {
			return err
		}
		m.Table, m.Indexes = table, set
		d, b := m.Dashboard, m.Bare
		logf("  mixed load, %d clients (%d searching) for %s: browse p50 %s p99 %s ms (bare %s / %s), %d busy; search p50 %s p99 %s ms (bare %s / %s), %d busy; %d errors %s",
			m.Clients, m.Searchers, cfg.Load, ms(d.Browse.Median), ms(d.Browse.P99), ms(b.Browse.Median), ms(b.Browse.P99), d.Browse.Busy,
			ms(d.Search.Median), ms(d.Search.P99), ms(b.Search.Median), ms(b.Search.P99), d.Search.Busy,
			d.Errors()+b.Errors(), d.FirstErr+b.FirstErr)
		rep.Mixed = append(rep.Mixed, m)
	}
	return nil
}

// runExports times the exports against psql's \copy, and each export's
// peak memory in a process of its own.
func runExports(ctx context.Context, rep *Report, s *suite, run func([]*Case), logf func(string, ...any)) error {
	run(s.exportCases())
	for _, f := range []db.ExportFormat{db.ExportCSV, db.ExportJSONLines} {
		n, rss, wall, err := exportRSS(ctx, s.d.url, f)
		if err != nil {
			return err
		}
		note := fmt.Sprintf("%s: export %s in a separate process: %d rows in %s, peak RSS %.1f MB",
			s.d.gen.Table(), f, n, wall.Round(time.Millisecond), float64(rss)/(1<<20))
		logf("  %s", note)
		rep.Notes = append(rep.Notes, note)
	}
	return nil
}
