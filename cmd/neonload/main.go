// Command neonload replays "twenty admins on a fifty-branch organization"
// against the dashboard and reports what the dashboard spends of the Neon API
// budget: Neon calls a minute (counted exactly by a proxy in front of the
// API), per page view and as a share of Neon's 700 a minute per API key, the
// operations that spend them, page latency per kind of page, the errors and
// 429s the admins saw, and the dashboard's "rate limit" warnings.
//
// It builds the dashboard from -src, starts its Neon API sandbox on the local
// Postgres, seeds -projects projects with Better Auth on -branches branches
// each (the default branch included), starts the dashboard against the
// sandbox through the counting proxy, and lets -admins admins click around
// with a random pause between clicks, for -warmup and then for -measure,
// which is the window the report covers:
//
//	go run ./cmd/neonload
//	go run ./cmd/neonload -quick
//	go run ./cmd/neonload -src ../checkout-before -env NEON_BUDGET_SHARE=0.5 -json
//
// Every click loads a page as a browser would: the page, then the htmx
// fragments it loads by itself (each branch row's readiness badge on the
// project page, the users table on a users page, ...). Page views and badge
// fetches are counted apart.
//
// It only ever talks to loopback addresses, and stops and cleans up by
// itself, on Ctrl+C too: the dashboard and the sandbox get SIGTERM, and the
// sandbox drops the databases it made.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first signal stops the run and cleans up; restoring the
		// default lets a second one end a cleanup that takes too long.
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "neonload:", err)
		}
		os.Exit(1)
	}
}

// run is main without the process around it: progress goes to stderr, the
// report to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "neonload: "+format+"\n", a...) }
	dir, err := os.MkdirTemp("", "neonload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	if o.src == "" {
		if o.src, err = moduleRoot(ctx); err != nil {
			return err
		}
	}
	if o.src, err = filepath.Abs(o.src); err != nil {
		return err
	}
	logf("building the dashboard from %s", o.src)
	bin, err := build(ctx, o.src, dir, stderr)
	if err != nil {
		return err
	}
	key := randomKey()
	sb, err := startSandbox(ctx, bin, key, o.dbURL)
	if err != nil {
		return err
	}
	defer sb.stop(logf)
	px, err := startCounter(sb.base)
	if err != nil {
		return err
	}
	defer px.close()

	logf("seeding %d projects × %d branches with Better Auth (not counted)", o.projects, o.branches)
	projects, err := seed(ctx, sb.base+apiPrefix, key, o)
	if err != nil {
		return fmt.Errorf("seed: %w (sandbox said: %s)", err, sb.tail.String())
	}
	dash, err := startDashboard(ctx, bin, key, px.url+apiPrefix, o)
	if err != nil {
		return err
	}
	defer dash.stop(logf)

	logf("%d admins: %s warm-up, then %s measured", o.admins, o.warmup, o.measure)
	win, samples := runAdmins(ctx, dash.url, projects, o)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	rep := buildReport(o, describeBuild(bin, o.src), win, samples, px.snapshot(), dash.rateLimitLines())
	if o.json {
		return writeJSON(stdout, rep)
	}
	writeText(stdout, rep)
	return nil
}
