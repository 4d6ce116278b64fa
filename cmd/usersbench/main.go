// Command usersbench times the users browser of package db against the bare
// SQL a person would run in psql, on tables seeded with Neon's exact DDL.
// It creates its own databases on the server and drops them afterwards.
//
// Usage:
//
//	go run ./cmd/usersbench [-rows 1000000] [-user-rows N] [-runs 21] [-budget 8s] [-only regexp] [-export=false]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/internal/usersbench"
)

func main() {
	usersbench.RunExportChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "usersbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("usersbench", flag.ContinueOnError)
	cfg := usersbench.Config{Out: os.Stdout, Log: os.Stderr}
	fs.StringVar(&cfg.AdminURL, "db", pgtest.URL(), "server URL where the benchmark may create databases (default: TEST_DATABASE_URL or the local server)")
	fs.IntVar(&cfg.StackRows, "rows", 1_000_000, "users to seed into neon_auth.users_sync (0 skips it)")
	userRows := fs.Int("user-rows", -1, `users to seed into neon_auth."user" (default: -rows; 0 skips it)`)
	fs.IntVar(&cfg.Runs, "runs", 21, "timed runs per side of each case, at most")
	fs.DurationVar(&cfg.Budget, "budget", 8*time.Second, "time after which a case stops, once it has 5 runs")
	only := fs.String("only", "", "run only the cases whose suite and name match this regexp")
	fs.BoolVar(&cfg.Export, "export", true, "also time full-table exports and their memory")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the seeded databases")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.BetterAuthRows = *userRows
	if cfg.BetterAuthRows < 0 {
		cfg.BetterAuthRows = cfg.StackRows
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("-only: %w", err)
		}
		cfg.Only = re
	}
	_, err := usersbench.Run(ctx, cfg)
	return err
}
