package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/handlers"
	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/metrics"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// shutdownTimeout bounds the demo sandbox's own shutdown, after the
// dashboard's.
const shutdownTimeout = 10 * time.Second

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
	logger := newLogger(cfg.Demo, stderr)
	if cfg.SessionGen && !cfg.Demo {
		// A demo lives for one process anyway.
		logger.Warn("SESSION_KEYS is not set: using a random key for this process only; cookies will not survive a restart or work across replicas")
	}

	apiKey, apiURL := cfg.NeonAPIKey.Reveal(), cfg.NeonAPIURL
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
		apiKey, apiURL = demo.APIKey, demo.APIURL
	}
	h, closeHandler, err := newHandler(ctx, cfg, limits.UsersDB, apiKey, apiURL, logger, stdout, stderr)
	if err != nil {
		return err
	}
	defer closeHandler()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv, cancelRequests := newHTTPServer(h.Echo(), limits, logger)
	url := "http://" + ln.Addr().String() + "/"
	if cfg.Demo {
		printDemoBanner(stdout, url, apiURL)
	} else {
		logger.Info("dashboard listening", "url", url, "neon_api", apiURL, "auth_mode", string(cfg.Auth.Mode))
		fmt.Fprintf(stdout, "Dashboard: %s\n", url)
	}
	return serveUntil(ctx, srv, ln, cancelRequests, limits.ShutdownGrace, logger)
}

// newHandler builds the dashboard on a Neon client for apiKey at apiURL,
// reaching users databases through pools bounded by lanes. The
// returned func closes what it opened: index builds, database pools and the
// audit log.
func newHandler(ctx context.Context, cfg Config, lanes db.PoolOptions, apiKey, apiURL string, logger *slog.Logger, stdout, stderr io.Writer) (*handlers.Handler, func(), error) {
	metrics := metrics.New(cfg.Auth.MetricsToken)
	client, err := neonapi.New(apiKey,
		neonapi.WithBaseURL(apiURL),
		neonapi.WithUserAgent("neon-auth-dashboard/"+version),
		neonapi.WithHTTPClient(neonHTTPClient()),
		neonapi.WithObserver(metrics),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("neon api client: %w", err)
	}
	var api handlers.NeonAPI = client
	if cfg.CacheTTL > 0 {
		api = neonapi.NewCache(client, cfg.CacheTTL)
	}

	pools := db.NewPools(lanes)
	if err := metrics.RegisterPools(pools.Stats); err != nil {
		pools.Close()
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	audit, closeAudit, err := openAuditLog(cfg.AuditLog, stdout, stderr)
	if err != nil {
		pools.Close()
		return nil, nil, err
	}
	// Index builds outlive the request that starts them and run on while
	// the server drains; closing the handler cancels what still runs, before
	// the pools they use close.
	builds := handlers.NewIndexBuilds(context.WithoutCancel(ctx))
	closeAll := func() {
		builds.Close()
		closeAudit()
		pools.Close()
	}
	sec, err := identity.NewSecurity(ctx, identity.SecurityOptions{
		Auth:       cfg.Auth,
		ListenAddr: cfg.Listen,
		Logger:     logger,
		AuditLog:   audit,
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	userDBs := cfg.UserDBs()
	// One results cache for the process, so every request's browser shares
	// the exact counts and index checks another just paid for.
	cache := db.NewCache(db.DefaultCacheTTL)
	userDBs.Results = cache
	svc := neonauth.New(api, pools, userDBs)
	return &handlers.Handler{
		Neon:         api,
		Auth:         svc,
		Checks:       svc,
		AuthSettings: neonauth.NewSettingsService(api),
		Sessions:     identity.NewSessionStore(cfg.SessionKeys, cfg.CookieSecure, int(sessionMaxAge/time.Second)),
		Logger:       logger,
		Security:     sec,
		Metrics:      metrics,
		Ready:        handlers.NewReadiness(handlers.NeonReadiness(client), nil),
		SyncMetrics:  metrics,
		IndexBuilds:  builds,
		Settings: handlers.Settings{
			Demo:            cfg.Demo,
			SyncTimeout:     cfg.SyncTimeout,
			IndexAdviceRows: int64(cfg.IndexAdviceRows),
		},
	}, closeAll, nil
}

// newLogger logs text for a person watching the demo, JSON for log pipelines.
func newLogger(demo bool, w io.Writer) *slog.Logger {
	if demo {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// printDemoBanner is what a person starting the demo reads: where to click
// first, then what they are looking at.
func printDemoBanner(w io.Writer, dashboardURL, sandboxURL string) {
	fmt.Fprintf(w, "Dashboard: %s\n", dashboardURL)
	fmt.Fprintf(w, "  Demo mode: a local Neon API sandbox at %s stands in for Neon.\n", sandboxURL)
	fmt.Fprintf(w, "  Projects: %s (Neon Auth with Stack Auth, %d users), %s (Better Auth on its default and %q branches, not yet production-ready) and %s (no Neon Auth yet).\n",
		demoProject, len(demoUsers), demoProjectBranchAuth, demoPreviewBranch, demoProjectBare)
	fmt.Fprintln(w, "  Press Ctrl+C to stop; the demo's databases are dropped on the way out.")
}

// minLevel drops records below a level, whatever the wrapped handler lets
// through.
type minLevel struct {
	slog.Handler
	min slog.Level
}

// Enabled implements slog.Handler.
func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// WithAttrs implements slog.Handler.
func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

// WithGroup implements slog.Handler.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
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

// demo is the in-process Neon API sandbox behind --demo, served on its own
// loopback port so the dashboard talks to it over real HTTP, exactly as it
// talks to Neon.
type demo struct {
	APIKey string
	APIURL string
	sb     *sandbox.Sandbox
	srv    *http.Server
}

// The demo's projects: one with Neon Auth and users, one without (the
// Better Auth one is in cmd_serve_demo.go).
const (
	demoProject     = "demo-app"
	demoProjectBare = "storefront"
)

// demoUsers are the people the demo project starts with.
var demoUsers = []neonapi.CreateUserRequest{
	{Email: "ada@example.com", Name: "Ada Lovelace"},
	{Email: "grace@example.com", Name: "Grace Hopper"},
	{Email: "linus@example.com", Name: "Linus Torvalds"},
}

// startDemo starts the sandbox on 127.0.0.1:0 and seeds "demo-app" with Neon
// Auth (stack) and a few users, "launchpad" with Better Auth on two branches,
// plus "storefront" without Neon Auth.
func startDemo(ctx context.Context, cfg Config, logger *slog.Logger) (*demo, error) {
	delay := cfg.SyncDelay
	if delay == 0 {
		delay = -1 // the sandbox reads 0 as its default; the flag's 0 means at once
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	d := &demo{APIKey: "demo-" + hex.EncodeToString(key)}
	// The sandbox logs every request at INFO; in the demo's console that
	// drowns the dashboard's own lines, so only its warnings and errors show.
	sbLogger := slog.New(minLevel{logger.Handler(), slog.LevelWarn}).With("component", "sandbox")
	sb, err := sandbox.New(ctx, sandbox.Config{
		DatabaseURL: cfg.DatabaseURL.Reveal(),
		APIKey:      d.APIKey,
		SyncDelay:   delay,
		Logger:      sbLogger,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: start the Neon API sandbox (is Postgres running at DATABASE_URL?): %w", err)
	}
	d.sb = sb
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = sb.Close()
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	d.APIURL = "http://" + ln.Addr().String() + "/api/v2"
	d.srv = &http.Server{
		Handler:           sb.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      2 * time.Minute, // covers the sandbox's injected hangs
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(sbLogger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("demo: sandbox server", "err", err)
		}
	}()
	if err := d.seed(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

// seed creates the demo projects through the API, as a person would.
func (d *demo) seed(ctx context.Context) error {
	client, err := neonapi.New(d.APIKey, neonapi.WithBaseURL(d.APIURL))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	p, err := d.sb.CreateProject(ctx, demoProject)
	if err != nil {
		return fmt.Errorf("demo: create project: %w", err)
	}
	// The keys are not needed: the demo's point is the dashboard showing them
	// for a new integration. The secret is dropped here, never logged.
	if _, err := client.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{
		AuthProvider: authprovider.Stack,
		ProjectID:    p.ID,
		BranchID:     p.BranchID,
		DatabaseName: p.DatabaseName,
		RoleName:     p.RoleName,
	}); err != nil {
		return fmt.Errorf("demo: enable Neon Auth: %w", err)
	}
	for _, u := range demoUsers {
		u.ProjectID, u.AuthProvider = p.ID, authprovider.Stack
		if _, err := client.CreateUser(ctx, u); err != nil {
			return fmt.Errorf("demo: create user: %w", err)
		}
	}
	if err := d.seedBranchAuth(ctx, client); err != nil {
		return err
	}
	if _, err := d.sb.CreateProject(ctx, demoProjectBare); err != nil {
		return fmt.Errorf("demo: create project: %w", err)
	}
	return nil
}

// Close stops the sandbox server and drops the sandbox's databases.
func (d *demo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	return errors.Join(err, d.sb.Close())
}
