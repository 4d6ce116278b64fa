package main

import (
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
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	delayDefault := sandbox.DefaultSyncDelay
	if v := os.Getenv("SANDBOX_SYNC_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("SANDBOX_SYNC_DELAY: %w", err)
		}
		delayDefault = d
	}
	seedDefault := false
	if v := os.Getenv("SANDBOX_SEED"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("SANDBOX_SEED must be true or false, not %q", v)
		}
		seedDefault = b
	}

	listen := fs.String("listen", env("SANDBOX_LISTEN", "127.0.0.1:4010"), "address to serve on (SANDBOX_LISTEN)")
	dbURL := fs.String("database-url", "", "admin URL of the backing Postgres server (DATABASE_URL; default "+defaultSandboxDatabaseURL+")")
	apiKey := fs.String("api-key", "", "the only bearer token accepted; any non-empty one when unset (SANDBOX_API_KEY)")
	delay := fs.Duration("sync-delay", delayDefault, "how long a created user takes to reach its database (SANDBOX_SYNC_DELAY)")
	mode := fs.String("sync", "normal", "sync mode: normal, slow or never")
	seed := fs.Bool("seed", seedDefault, "create a demo project at start (SANDBOX_SEED)")
	var faults faultFlags
	fs.Var(&faults, "fault", "inject a fault: KIND[:COUNT[:PATH_CONTAINS]], KIND one of 429, 503, 423, hang, drop, malformed (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Secrets from the environment are read after parsing, so that -h never
	// prints the key or the database password as a flag default.
	if *apiKey == "" {
		*apiKey = os.Getenv("SANDBOX_API_KEY")
	}
	if *dbURL == "" {
		*dbURL = env("DATABASE_URL", defaultSandboxDatabaseURL)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sandbox: unexpected arguments %q", fs.Args())
	}
	syncMode := sandbox.SyncMode(*mode)
	if syncMode != sandbox.SyncNormal && syncMode != sandbox.SyncSlow && syncMode != sandbox.SyncNever {
		return fmt.Errorf("sandbox: --sync must be normal, slow or never, not %q", *mode)
	}
	if *delay == 0 {
		*delay = -1 // the flag's zero means "at once", not the default
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	sb, err := sandbox.New(ctx, sandbox.Config{DatabaseURL: *dbURL, APIKey: *apiKey, SyncDelay: *delay, Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := sb.Close(); err != nil {
			log.Error("sandbox: drop databases", "err", err)
		}
	}()
	if syncMode != sandbox.SyncNormal {
		sb.SetSync(syncMode, 0)
	}
	for _, f := range faults {
		sb.InjectFault(f)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("sandbox: listen: %w", err)
	}
	base := "http://" + ln.Addr().String() + "/api/v2"
	if *seed {
		p, err := sb.CreateProject(ctx, "sandbox-demo")
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("sandbox: seed: %w", err)
		}
		fmt.Fprintf(stdout, "demo project %s (branch %s, database %s, role %s)\n", p.ID, p.BranchID, p.DatabaseName, p.RoleName)
	}
	fmt.Fprintln(stdout, base)

	srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
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
