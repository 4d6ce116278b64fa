package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/handlers"
	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/metrics"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/state"
)

// sessionMaxAge is how long the cookie carrying flash messages lives: a
// working day.
const sessionMaxAge = 8 * time.Hour

// runServe runs the dashboard until ctx is cancelled, then shuts down
// gracefully within SHUTDOWN_GRACE: running requests finish or are answered
// with 503, the demo sandbox drops its databases.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, os.Getenv, os.Environ(), stderr)
	if err != nil {
		return err
	}
	limits, err := loadServerLimits(os.Getenv)
	if err != nil {
		return err
	}
	// The address is taken first: a port in use ends the start at once,
	// before the demo creates databases or generates users.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return listenFailed(cfg.Listen, "--listen", "LISTEN_ADDR", err)
	}
	defer ln.Close() // for the returns before serving; Serve closes it too
	logger := newLogger(cfg.Demo, stderr)
	if cfg.SessionGen && !cfg.Demo {
		// A demo lives for one process anyway.
		logger.Warn("SESSION_KEYS is not set: using a random key for this process only; cookies will not survive a restart or work across replicas")
	}

	apiKey, apiURL := cfg.NeonAPIKey.Reveal(), cfg.NeonAPIURL
	var demoSignIn string
	if cfg.Demo {
		demo, err := startDemo(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer func() {
			if err := demo.Close(); err != nil {
				logger.Error("demo: shut down sandbox", "err", err)
			}
		}()
		apiKey, apiURL, demoSignIn = demo.APIKey, demo.APIURL, demo.SignInURL
	}
	store, closeStore, err := openStateStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	h, closeHandler, err := newHandler(ctx, cfg, store, limits.UsersDB, apiKey, apiURL, logger, stdout, stderr)
	if err != nil {
		return err
	}
	defer closeHandler()

	srv, cancelRequests := newHTTPServer(h.Echo(), limits, logger)
	url := "http://" + ln.Addr().String() + "/"
	if cfg.Demo {
		printDemoBanner(stdout, url, apiURL, demoSignIn, cfg.DemoUsers, cfg.IndexAdviceRows)
	} else {
		logger.Info("dashboard listening", "url", url, "neon_api", apiURL, "auth_mode", string(cfg.Auth.Mode))
		fmt.Fprintf(stdout, "Dashboard: %s\n", url)
	}
	return serveUntil(ctx, srv, ln, cancelRequests, limits.ShutdownGrace, logger)
}

// listenFailed explains why the address could not be taken, in one line
// that also says how to choose another: by the flag or the environment
// variable named. The usual cause is a second copy of the dashboard, or
// another program, on the same port.
func listenFailed(addr, flagName, envName string, err error) error {
	return &listenError{addr: addr, flagName: flagName, envName: envName, err: err}
}

// listenError is listenFailed's error; it unwraps to the network error.
type listenError struct {
	addr, flagName, envName string
	err                     error
}

func (e *listenError) Error() string {
	why := "cannot be used (" + e.err.Error() + ")"
	var errno syscall.Errno
	switch {
	case errors.Is(e.err, syscall.EADDRINUSE):
		why = "is already in use (another program, or another copy of this one, listens there)"
	case errors.As(e.err, &errno):
		// "permission denied" says it all; the rest of the network error
		// only repeats the address.
		why = "cannot be used (" + errno.Error() + ")"
	}
	other := otherListenAddr(e.addr, errors.Is(e.err, syscall.EADDRINUSE))
	return fmt.Sprintf("listen address %s %s: choose another with %s %s or %s=%s",
		e.addr, why, e.flagName, other, e.envName, other)
}

func (e *listenError) Unwrap() error { return e.err }

// otherListenAddr suggests an address to try instead of addr: the next port
// on the same host when addr's port is taken, else a loopback address on an
// unprivileged port, which any machine can bind.
func otherListenAddr(addr string, inUse bool) string {
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); inUse && err == nil && perr == nil && n > 0 && n < 65535 {
		return net.JoinHostPort(host, strconv.Itoa(n+1))
	}
	if addr == "127.0.0.1:8081" {
		return "127.0.0.1:8082"
	}
	return "127.0.0.1:8081"
}

// newHandler builds the dashboard on a Neon client for apiKey at apiURL,
// reaching users databases through pools bounded by lanes. The
// returned func closes what it opened: the job runner (giving running jobs
// back to other replicas), database pools and the audit log.
func newHandler(ctx context.Context, cfg Config, store *state.Store, lanes db.PoolOptions, apiKey, apiURL string, logger *slog.Logger, stdout, stderr io.Writer) (*handlers.Handler, func(), error) {
	metrics := metrics.New(cfg.Auth.MetricsToken)
	share := cfg.NeonShare
	if cfg.Demo {
		share = 100 // the demo's sandbox is its own: no other tool shares its key
	}
	// Replicas sharing a store spend one budget for the key and drop each
	// other's writes from their read caches (sharedneon.go).
	perMinute, burst := neonBudget(cfg.NeonRate, share)
	shared, err := newSharedNeon(ctx, store, apiKey, perMinute, burst, logger)
	if err != nil {
		return nil, nil, err
	}
	client, err := neonapi.New(apiKey, append([]neonapi.Option{
		neonapi.WithBaseURL(apiURL),
		neonapi.WithUserAgent("neon-auth-dashboard/" + version),
		neonapi.WithHTTPClient(neonHTTPClient()),
		neonapi.WithObserver(metrics),
		neonapi.WithReadCache(cfg.CacheTTL),
		neonapi.WithFreshness(cfg.CacheFreshness),
		neonapi.WithRateLimit(perMinute, burst),
	}, shared.options()...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("neon api client: %w", err)
	}

	pools := db.NewPools(lanes)
	if err := metrics.RegisterNeonSpend(func() (int, int) { s := client.Spend(); return s.LastMinute, s.PerMinute }); err != nil {
		pools.Close()
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	if err := metrics.RegisterPools(pools.Stats); err != nil {
		pools.Close()
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	audit, closeAudit, err := openAuditLog(cfg.AuditLog, stdout, stderr)
	if err != nil {
		pools.Close()
		return nil, nil, err
	}
	// Jobs (index builds, large revocations) outlive the request that
	// starts them and run on while the server drains; closing the handler
	// stops what still runs, giving it back to another replica, before the
	// pools they use close.
	var runner *jobs.Runner
	shared.start(ctx, client)
	closeAll := func() {
		shared.stop()
		if runner != nil {
			runner.Close()
		}
		closeAudit()
		pools.Close()
	}
	sec, err := identity.NewSecurity(ctx, identity.SecurityOptions{
		Auth:       cfg.Auth,
		ListenAddr: cfg.Listen,
		Logger:     logger,
		AuditLog:   audit,
		AuditStore: auditStore(store),
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	if err := registerAuditMetrics(metrics, sec); err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	stopPrune := startAuditRetention(ctx, store, cfg.AuditRetention, logger)
	closeHandler := func() { stopPrune(); closeAll() }
	userDBs := cfg.UserDBs()
	// One results cache for the process, so every request's browser shares
	// the exact counts and index checks another just paid for.
	cache := db.NewCache(db.DefaultCacheTTL)
	shared.shareResults(cache)
	userDBs.Results = cache
	svc := neonauth.New(client, pools, userDBs)
	runner = jobs.New(jobs.Options{Store: store, Lease: cfg.JobLease, Service: svc, Logger: logger})
	runner.Start()
	return &handlers.Handler{
		Auth:         svc,
		Checks:       svc,
		AuthSettings: neonauth.NewSettingsService(client),
		Sessions:     identity.NewSessionStore(cfg.SessionKeys, cfg.CookieSecure, int(sessionMaxAge/time.Second)),
		Logger:       logger,
		Security:     sec,
		Metrics:      metrics,
		Ready:        handlers.NewReadiness(handlers.NeonReadiness(svc), nil),
		SyncMetrics:  metrics,
		Budget:       svc,
		Jobs:         runner,
		Store:        stateChecker(store),
		Audit:        auditTrail(store),
		Settings: handlers.Settings{
			Demo:            cfg.Demo,
			SyncTimeout:     cfg.SyncTimeout,
			IndexAdviceRows: int64(cfg.IndexAdviceRows),
		},
	}, closeHandler, nil
}

// stateChecker is store as /readyz sees it; a nil store stays a nil
// interface.
func stateChecker(store *state.Store) handlers.StateStore {
	if store == nil {
		return nil
	}
	return store
}

// neonBudget is the rate limit for a share of Neon's per-key budget, in
// percent: that share of its rate calls a minute (700 on Neon), with
// bursts of at least 20 calls (at most Neon's own 40), so that one person
// opening a cold page (a readiness checklist reads ten settings) does not
// queue behind the sustained rate.
func neonBudget(rate, share int) (perMinute, burst int) {
	perMinute = max(rate*share/100, 1)
	burst = min(neonapi.DefaultBurst, max(perMinute/7, 20))
	return perMinute, burst
}

// newLogger logs text for a person watching the demo, JSON for log pipelines.
func newLogger(demo bool, w io.Writer) *slog.Logger {
	if demo {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// neonHTTPClient is how the Neon client reaches Neon: through the audit
// transport, so each audit line records Neon's answer to the change. The API
// never redirects; following one could only lead somewhere unexpected.
func neonHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return &http.Client{
		Transport:     identity.AuditTransport(t),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// openAuditLog opens where audit lines go. A file is opened for appending,
// readable by the dashboard's user only: the lines name people and what they
// changed.
func openAuditLog(where string, stdout, stderr io.Writer) (io.Writer, func(), error) {
	switch where {
	case "", "stderr":
		return stderr, func() {}, nil
	case "stdout":
		return stdout, func() {}, nil
	}
	f, err := os.OpenFile(where, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("AUDIT_LOG: %w", err)
	}
	return f, func() { _ = f.Close() }, nil
}

// Server timeouts besides the request's own (REQUEST_TIMEOUT).
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	idleTimeout       = 2 * time.Minute
	// errorPageAllowance is the time past a request's deadline in which its
	// error page is still written; the write timeout covers both, so a slow
	// Neon call ends in a 504 page, never in a connection closed mid-answer.
	errorPageAllowance = 10 * time.Second
)

// newHTTPServer serves h with every request bounded by limits.RequestTimeout.
// Requests' contexts descend from one base context; cancelling it with
// handlers.ErrShuttingDown as the cause cancels the Neon calls and queries of
// every running request, and their handlers answer 503.
func newHTTPServer(h http.Handler, limits serverLimits, logger *slog.Logger) (*http.Server, context.CancelCauseFunc) {
	base, cancel := context.WithCancelCause(context.Background())
	return &http.Server{
		Handler:           withRequestDeadline(h, limits.RequestTimeout),
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      limits.RequestTimeout + errorPageAllowance,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    identity.ServerMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, cancel
}

// withRequestDeadline gives each request a deadline. The Neon client fits its
// rate-limit queueing and retries inside it, and the error handler turns an
// expired one into a 504 page.
func withRequestDeadline(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// serveUntil serves on ln until ctx ends, then shuts down within grace:
// the listener closes at once, running requests get the first half of grace
// to finish as usual, and then cancelRequests cancels what they are waiting
// for, so that the second half is enough to answer them with 503.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener, cancelRequests context.CancelCauseFunc, grace time.Duration, logger *slog.Logger) error {
	defer cancelRequests(handlers.ErrShuttingDown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", grace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	drain := time.AfterFunc(grace/2, func() {
		logger.Info("shutting down: cancelling the requests still running")
		cancelRequests(handlers.ErrShuttingDown)
	})
	defer drain.Stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still running after %s: %w", grace, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
