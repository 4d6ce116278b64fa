package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// faultFlags collects repeated --fault values.
type faultFlags []sandbox.Fault

func (f *faultFlags) String() string { return fmt.Sprint(len(*f), " faults") }

func (f *faultFlags) Set(v string) error {
	fault, err := sandbox.ParseFault(v)
	if err != nil {
		return err
	}
	*f = append(*f, fault)
	return nil
}

// defaultSandboxDatabaseURL is the local server the sandbox uses when neither
// --database-url nor DATABASE_URL names one.
const defaultSandboxDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// sandboxOptions is the sandbox command's configuration, from its flags and
// the environment.
type sandboxOptions struct {
	listen, dbURL, apiKey string
	delay                 time.Duration
	mode                  sandbox.SyncMode
	seed                  bool
	faults                faultFlags
	rateLimit             int
	opTime                time.Duration
}

// runSandbox serves the Neon API sandbox until ctx ends, then drops the
// databases it created.
//
// Environment (flags override it):
//
//	SANDBOX_LISTEN      --listen        address to serve on (default 127.0.0.1:4010)
//	DATABASE_URL        --database-url  admin URL of the backing Postgres server
//	SANDBOX_API_KEY     --api-key       the only bearer token accepted (default: any non-empty one)
//	SANDBOX_SYNC_DELAY  --sync-delay    how long a user takes to reach its database (default 500ms)
//	                    --sync          normal, slow or never
//	                    --fault         KIND[:COUNT[:PATH_CONTAINS]], repeatable (e.g. 503:3)
//	SANDBOX_SEED        --seed          create a demo project at start
//	SANDBOX_RATE_LIMIT  --rate-limit    calls a minute per API key, as Neon's limit (default 700; 0 = off)
//	                    --operation-time how long each operation reports running (default 300ms; 0 = finished at once)
//
// The rate limit defaults to Neon's own 700 calls a minute per key, with
// bursts of 40, so that a program that would collect 429s from Neon
// collects them here first; the dashboard's own limiter keeps it under.
// Load tests and scripts that mean to exceed it pass --rate-limit 0.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseSandboxFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	sb, err := sandbox.New(ctx, sandbox.Config{DatabaseURL: opts.dbURL, APIKey: opts.apiKey, SyncDelay: opts.delay, Logger: log, RateLimitPerMinute: opts.rateLimit, OperationTime: sandboxOperationTime(opts.opTime)})
	if err != nil {
		return err
	}
	defer func() {
		if err := sb.Close(); err != nil {
			log.Error("sandbox: drop databases", "err", err)
		}
	}()
	if opts.mode != sandbox.SyncNormal {
		sb.SetSync(opts.mode, 0)
	}
	for _, f := range opts.faults {
		sb.InjectFault(f)
	}
	ln, err := net.Listen("tcp", opts.listen)
	if err != nil {
		return listenFailed(opts.listen, "--listen", "SANDBOX_LISTEN", err)
	}
	if opts.seed {
		p, err := sb.CreateProject(ctx, "sandbox-demo")
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("sandbox: seed: %w", err)
		}
		fmt.Fprintf(stdout, "demo project %s (branch %s, database %s, role %s)\n", p.ID, p.BranchID, p.DatabaseName, p.RoleName)
	}
	fmt.Fprintln(stdout, "http://"+ln.Addr().String()+"/api/v2")
	return serveUntilDone(ctx, ln, sb.Handler())
}

// sandboxOperationTime maps --operation-time to sandbox.Config, where zero
// means the default and a negative time means at once.
func sandboxOperationTime(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// defaultSandboxRateLimit is Neon's limit per API key, calls a minute.
const defaultSandboxRateLimit = 700

// sandboxEnv reads the environment's defaults for the sandbox's flags.
func sandboxEnv() (delay time.Duration, seed bool, rateLimit int, err error) {
	delay = sandbox.DefaultSyncDelay
	rateLimit = defaultSandboxRateLimit
	if v := os.Getenv("SANDBOX_RATE_LIMIT"); v != "" {
		if rateLimit, err = strconv.Atoi(v); err != nil || rateLimit < 0 {
			return 0, false, 0, fmt.Errorf("SANDBOX_RATE_LIMIT must be a whole number of calls a minute (0 = off), not %q", v)
		}
	}
	if v := os.Getenv("SANDBOX_SYNC_DELAY"); v != "" {
		if delay, err = time.ParseDuration(v); err != nil {
			return 0, false, 0, fmt.Errorf("SANDBOX_SYNC_DELAY: %w", err)
		}
	}
	if v := os.Getenv("SANDBOX_SEED"); v != "" {
		if seed, err = strconv.ParseBool(v); err != nil {
			return 0, false, 0, fmt.Errorf("SANDBOX_SEED must be true or false, not %q", v)
		}
	}
	return delay, seed, rateLimit, nil
}

// parseSandboxFlags reads the sandbox command's flags over the environment's
// defaults and checks them.
func parseSandboxFlags(args []string, stderr io.Writer) (sandboxOptions, error) {
	var o sandboxOptions
	delayDefault, seedDefault, rateDefault, err := sandboxEnv()
	if err != nil {
		return o, err
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", cmp.Or(os.Getenv("SANDBOX_LISTEN"), "127.0.0.1:4010"), "address to serve on (SANDBOX_LISTEN)")
	fs.StringVar(&o.dbURL, "database-url", "", "admin URL of the backing Postgres server (DATABASE_URL; default "+defaultSandboxDatabaseURL+")")
	fs.StringVar(&o.apiKey, "api-key", "", "the only bearer token accepted; any non-empty one when unset (SANDBOX_API_KEY)")
	fs.DurationVar(&o.delay, "sync-delay", delayDefault, "how long a created user takes to reach its database (SANDBOX_SYNC_DELAY)")
	mode := fs.String("sync", "normal", "sync mode: normal, slow or never")
	fs.BoolVar(&o.seed, "seed", seedDefault, "create a demo project at start (SANDBOX_SEED)")
	fs.IntVar(&o.rateLimit, "rate-limit", rateDefault, "calls a minute per API key, with Neon's bursts of 40; 0 turns the limit off (SANDBOX_RATE_LIMIT)")
	fs.DurationVar(&o.opTime, "operation-time", sandbox.DefaultOperationTime, "how long each operation (create_branch, start_compute, ...) reports running; 0 finishes them at once")
	fs.Var(&o.faults, "fault", "inject a fault: KIND[:COUNT[:PATH_CONTAINS]], KIND one of 429, 503, 423, hang, drop, malformed (repeatable)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	// Secrets from the environment are read after parsing, so that -h never
	// prints the key or the database password as a flag default.
	o.apiKey = cmp.Or(o.apiKey, os.Getenv("SANDBOX_API_KEY"))
	o.dbURL = cmp.Or(o.dbURL, os.Getenv("DATABASE_URL"), defaultSandboxDatabaseURL)
	if fs.NArg() > 0 {
		return o, fmt.Errorf("sandbox: unexpected arguments %q", fs.Args())
	}
	if o.opTime < 0 {
		return o, fmt.Errorf("sandbox: --operation-time must not be negative, not %s", o.opTime)
	}
	if o.rateLimit < 0 {
		return o, fmt.Errorf("sandbox: --rate-limit must not be negative (0 turns the limit off), not %d", o.rateLimit)
	}
	o.mode = sandbox.SyncMode(*mode)
	if o.mode != sandbox.SyncNormal && o.mode != sandbox.SyncSlow && o.mode != sandbox.SyncNever {
		return o, fmt.Errorf("sandbox: --sync must be normal, slow or never, not %q", *mode)
	}
	if o.delay == 0 {
		o.delay = -1 // the flag's zero means "at once", not the default
	}
	return o, nil
}

// serveUntilDone serves h on ln until ctx ends, then shuts down.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Requests still hanging on an injected fault: cut them off.
		_ = srv.Close()
	}
	return nil
}
