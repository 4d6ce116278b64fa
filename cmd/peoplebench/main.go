// Command peoplebench times the people console of the dashboard against the
// bare SQL run through pgx on the same pool: a user's detail panels, the
// sessions view at depth with and without the advised session index, the
// users browser's "last active" column, the activity charts, and revoking
// sessions by filter while an app keeps signing people in. It seeds a
// Better Auth branch with Neon's exact DDL in a database of its own on the
// server, drops it afterwards, and reports ratios as Markdown.
//
// Usage:
//
//	go run ./cmd/peoplebench [-users 1000000] [-quick] [-out FILE] [-keep] [-db URL]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"time"

	"github.com/neonauth-admin/dashboard/cmd/peoplebench/bench"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peoplebench:", err)
		os.Exit(1)
	}
}

// quickUsers is -quick's branch size.
const quickUsers = 100_000

// Bounds on -users: enough sessions for a page 100 deep, and a seed that
// fits on one machine.
const (
	minUsers = 2_000
	maxUsers = 5_000_000
)

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("peoplebench", flag.ContinueOnError)
	cfg := bench.Config{Log: os.Stderr}
	fs.StringVar(&cfg.AdminURL, "db", pgtest.URL(), "server URL on loopback where the benchmark may create a database (default: TEST_DATABASE_URL or the local server)")
	fs.IntVar(&cfg.Users, "users", 1_000_000, "users to seed into neon_auth.\"user\", with 3 sessions each")
	quick := fs.Bool("quick", false, fmt.Sprintf("a short run: %d users, fewer runs", quickUsers))
	fs.IntVar(&cfg.Runs, "runs", 201, "timed runs per side of each case, at most (cases that scan a table run 3 to 5 times)")
	fs.DurationVar(&cfg.Budget, "budget", 4*time.Second, "time after which a case stops, once it has 5 runs")
	fs.IntVar(&cfg.Revoke, "revoke", 100_000, "sessions the revocation case ends")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the seeded database")
	out := fs.String("out", "", "also write the results (Markdown) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		for name, v := range map[string]func(){
			"users":  func() { cfg.Users = quickUsers },
			"runs":   func() { cfg.Runs = 101 },
			"budget": func() { cfg.Budget = 2 * time.Second },
		} {
			if !set[name] {
				v()
			}
		}
	}
	switch {
	case cfg.Users < minUsers || cfg.Users > maxUsers:
		return fmt.Errorf("-users %d must be between %d and %d", cfg.Users, minUsers, maxUsers)
	case cfg.Runs < 1 || cfg.Runs > 1000:
		return fmt.Errorf("-runs %d must be between 1 and 1000", cfg.Runs)
	case cfg.Budget <= 0 || cfg.Budget > time.Minute:
		return fmt.Errorf("-budget %s must be between 0 and 1m", cfg.Budget)
	case cfg.Revoke < 1:
		return fmt.Errorf("-revoke %d must be at least 1", cfg.Revoke)
	}
	if err := loopback(cfg.AdminURL); err != nil {
		return err
	}
	var report bytes.Buffer
	cfg.Out = io.MultiWriter(os.Stdout, &report)
	start := time.Now()
	_, err := bench.Run(ctx, cfg)
	fmt.Fprintf(os.Stderr, "peoplebench: done in %s\n", time.Since(start).Round(time.Second))
	if *out != "" {
		if werr := os.WriteFile(*out, report.Bytes(), 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// loopback refuses a server that is not on this machine: the benchmark
// creates, fills and drops databases, and loads the server hard.
func loopback(connString string) error {
	u, err := url.Parse(connString)
	if err != nil {
		return fmt.Errorf("-db: not a postgres:// URL")
	}
	host := u.Hostname()
	if host == "" {
		host = u.Query().Get("host")
	}
	if host == "" || host == "localhost" || host[0] == '/' { // a Unix socket is local too
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-db: %s is not on loopback; the benchmark runs only against a server on this machine", host)
}
