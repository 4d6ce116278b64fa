// Command usersbench times the users pages of the dashboard against the
// bare SQL a person would run in psql, on tables seeded with Neon's exact
// DDL, under every combination of the indexes the dashboard's advisor
// offers, and under a mixed load of browsing and searching clients. It
// creates its own databases on the server and drops them afterwards, and
// sends HTTP only to a server of its own on loopback.
//
// Usage:
//
//	go run ./cmd/usersbench [-rows 1000000] [-quick] [-load 20s] [-out FILE] [-extra] [-only regexp]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"time"

	"github.com/neonauth-admin/dashboard/cmd/usersbench/bench"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

func main() {
	bench.RunExportChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "usersbench:", err)
		os.Exit(1)
	}
}

// quickRows is -quick's table size.
const quickRows = 100_000

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("usersbench", flag.ContinueOnError)
	cfg := bench.Config{Log: os.Stderr}
	fs.StringVar(&cfg.AdminURL, "db", pgtest.URL(), "server URL where the benchmark may create databases (default: TEST_DATABASE_URL or the local server)")
	fs.IntVar(&cfg.StackRows, "rows", 1_000_000, "users to seed into neon_auth.users_sync (0 skips it)")
	userRows := fs.Int("user-rows", -1, `users to seed into neon_auth."user" (default: -rows; 0 skips it)`)
	quick := fs.Bool("quick", false, fmt.Sprintf("a short run: %d rows, a 5s mixed load, fewer runs", quickRows))
	fs.IntVar(&cfg.Runs, "runs", 21, "timed runs per side of each case, at most")
	fs.DurationVar(&cfg.Budget, "budget", 4*time.Second, "time after which a case stops, once it has 5 runs")
	fs.DurationVar(&cfg.Load, "load", 20*time.Second, "how long each side of the mixed load runs (0 skips it)")
	fs.IntVar(&cfg.Clients, "clients", 20, "concurrent clients of the mixed load")
	fs.IntVar(&cfg.Searchers, "searchers", 5, "clients of the mixed load that search without pause; the others browse")
	fs.DurationVar(&cfg.Think, "think", 200*time.Millisecond, "pause of a browsing client of the mixed load between pages (0: none)")
	only := fs.String("only", "", "run only the cases whose table, indexes and name match this regexp")
	fs.BoolVar(&cfg.Extra, "extra", false, "also time the rest of the users browser (filters, counts, chart, other routes) with no and with all offered indexes")
	fs.BoolVar(&cfg.Export, "export", true, "with -extra: also time full-table exports and their memory")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the seeded databases")
	out := fs.String("out", "", "also write the results (Markdown) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		for name, v := range map[string]func(){
			"rows":   func() { cfg.StackRows = quickRows },
			"load":   func() { cfg.Load = 5 * time.Second },
			"runs":   func() { cfg.Runs = 11 },
			"budget": func() { cfg.Budget = 2 * time.Second },
		} {
			if !set[name] {
				v()
			}
		}
	}
	cfg.BetterAuthRows = *userRows
	if cfg.BetterAuthRows < 0 {
		cfg.BetterAuthRows = cfg.StackRows
	}
	switch {
	case cfg.Clients < 1 || cfg.Clients > 200:
		return fmt.Errorf("-clients %d must be between 1 and 200", cfg.Clients)
	case cfg.Searchers < 0 || cfg.Searchers > cfg.Clients:
		return fmt.Errorf("-searchers %d must be between 0 and -clients", cfg.Searchers)
	case cfg.Load < 0 || cfg.Load > 5*time.Minute:
		return fmt.Errorf("-load %s must be between 0 and 5m", cfg.Load)
	case cfg.Think < 0 || cfg.Think > time.Minute:
		return fmt.Errorf("-think %s must be between 0 and 1m", cfg.Think)
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("-only: %w", err)
		}
		cfg.Only = re
	}
	var report bytes.Buffer
	cfg.Out = io.MultiWriter(os.Stdout, &report)
	start := time.Now()
	_, err := bench.Run(ctx, cfg)
	fmt.Fprintf(os.Stderr, "usersbench: done in %s\n", time.Since(start).Round(time.Second))
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, report.Bytes(), 0o644)
	}
	return nil
}
