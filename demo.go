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
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/peopleseed"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// demo is the in-process Neon API sandbox behind --demo, served on its own
// loopback port so the dashboard talks to it over real HTTP, exactly as it
// talks to Neon.
type demo struct {
	APIKey string
	APIURL string
	// SignInURL is the Better Auth base URL of launchpad's default branch,
	// where demoSignInEmail signs in with demoSignInPassword.
	SignInURL string
	sb        *sandbox.Sandbox
	srv       *http.Server
}

// The demo's projects: one with Neon Auth and users, one without (the
// Better Auth one is below).
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

// The demo project with branch-level Neon Auth (Better Auth): its default
// branch keeps Neon's default settings, which are not production-ready, and
// a preview branch made from it differs by one trusted domain, so that the
// readiness checks start red and the comparison has something to show.
const (
	demoProjectBranchAuth = "launchpad"
	demoPreviewBranch     = "preview"
	demoPreviewDomain     = "https://preview.launchpad.example.com"
)

// demoBranchUsers are the people the Better Auth project starts with.
var demoBranchUsers = []neonapi.CreateBranchUserRequest{
	{Email: "margaret@example.com", Name: "Margaret Hamilton"},
	{Email: "katherine@example.com", Name: "Katherine Johnson"},
	{Email: "dorothy@example.com", Name: "Dorothy Vaughan"},
	{Email: "mary@example.com", Name: "Mary Jackson"},
	{Email: "annie@example.com", Name: "Annie Easley"},
}

// demoBanned is the launchpad user the demo shows banned, for a week.
const demoBanned = "annie@example.com"

// The launchpad user whose password is known, so that a person can sign
// them in against the demo's sandbox (README, "Sign a demo user in") and see
// the session on their detail page. A demo's throwaway password, not a
// secret: printed by the banner and the README only.
const (
	demoSignInEmail    = "margaret@example.com"
	demoSignInPassword = "apollo-guidance-1969"
)

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
		return nil, sandboxServerProblem(cfg.DatabaseURL.Reveal(), err)
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
	if err := d.seed(ctx, cfg.DemoUsers, logger); err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

// seed creates the demo projects through the API, as a person would, then
// adds generated users to the two users tables with people in them.
func (d *demo) seed(ctx context.Context, generated int, logger *slog.Logger) error {
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
	branchAuth, err := d.seedBranchAuth(ctx, client)
	if err != nil {
		return err
	}
	if _, err := d.sb.CreateProject(ctx, demoProjectBare); err != nil {
		return fmt.Errorf("demo: create project: %w", err)
	}
	if generated == 0 {
		return nil
	}
	logger.Info("demo: generating users", "count", generated, "projects", demoProject+", "+demoProjectBranchAuth)
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return generateUsers(gctx, client, p, authprovider.Stack, generated) })
	g.Go(func() error { return generateUsers(gctx, client, branchAuth, authprovider.BetterAuth, generated) })
	if err := g.Wait(); err != nil {
		return err
	}
	logger.Info("demo: generated users", "count", generated, "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// generatedUsersSQL adds $1 people to a users table, shaped as Neon's sync
// (users_sync) and Better Auth ("user") write them: user<i>@example.com,
// signed up i minutes ago, so that the demo's named users stay newest.
var generatedUsersSQL = map[authprovider.Provider]string{
	authprovider.Stack: `INSERT INTO neon_auth.users_sync (raw_json, updated_at)
SELECT jsonb_build_object('id', gen_random_uuid()::text, 'display_name', 'User ' || i,
         'primary_email', 'user' || i || '@example.com', 'primary_email_verified', i % 3 <> 0,
         'signed_up_at_millis', t.ms - i::bigint * 60000, 'last_active_at_millis', t.ms - i::bigint * 30000,
         'client_metadata', NULL, 'server_metadata', NULL, 'client_read_only_metadata', NULL,
         'has_password', i % 2 = 0, 'profile_image_url', NULL, 'oauth_providers', '[]'::jsonb),
       now()
  FROM generate_series(1, $1::int) i, (SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms) t`,
	authprovider.BetterAuth: `INSERT INTO neon_auth."user" (name, email, "emailVerified", role, "createdAt", "updatedAt")
SELECT 'User ' || i, 'user' || i || '@example.com', i % 3 <> 0, 'user',
       now() - make_interval(mins => i), now() - make_interval(mins => i)
  FROM generate_series(1, $1::int) i`,
}

// generateUsers adds n people straight into the users table of p's default
// branch with one INSERT … SELECT: through the API a person adds them one
// at a time, which for the hundred thousand the index advisor waits for
// would take hours. ANALYZE then gives the planner, and so the users page,
// the table's size at once.
func generateUsers(ctx context.Context, client *neonapi.Client, p sandbox.CreatedProject, provider authprovider.Provider, n int) error {
	uri, err := client.GetConnectionURI(ctx, p.ID, neonapi.ConnectionURIOptions{
		BranchID: p.BranchID, DatabaseName: p.DatabaseName, RoleName: p.RoleName,
	})
	if err != nil {
		return fmt.Errorf("demo: generate users in %s: %w", p.Name, err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return fmt.Errorf("demo: generate users in %s: connect: %w", p.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, generatedUsersSQL[provider], n); err != nil {
		return fmt.Errorf("demo: generate users in %s: %w", p.Name, err)
	}
	table := "neon_auth.users_sync"
	if provider == authprovider.BetterAuth {
		table = `neon_auth."user"`
	}
	if _, err := conn.Exec(ctx, "ANALYZE "+table); err != nil {
		return fmt.Errorf("demo: analyze %s in %s: %w", table, p.Name, err)
	}
	return nil
}

// seedBranchAuth creates the Better Auth demo project through the API, as a
// person would: enable Neon Auth on the default branch, add users, then
// branch it, which copies the integration, its settings and its users. It
// returns the project, whose default branch is the one with Neon Auth.
func (d *demo) seedBranchAuth(ctx context.Context, client *neonapi.Client) (sandbox.CreatedProject, error) {
	p, err := d.sb.CreateProject(ctx, demoProjectBranchAuth)
	if err != nil {
		return p, fmt.Errorf("demo: create project: %w", err)
	}
	// As for demo-app, the keys are shown by the dashboard for integrations
	// it enables; these are dropped here, never logged.
	keys, err := client.EnableBranchAuth(ctx, p.ID, p.BranchID, neonapi.EnableBranchAuthRequest{
		AuthProvider: authprovider.BetterAuth,
		DatabaseName: p.DatabaseName,
	})
	if err != nil {
		return p, fmt.Errorf("demo: enable Better Auth: %w", err)
	}
	d.SignInURL = keys.BaseURL
	for _, u := range demoBranchUsers {
		if _, err := client.CreateBranchUser(ctx, p.ID, p.BranchID, u); err != nil {
			return p, fmt.Errorf("demo: create user: %w", err)
		}
	}
	br, err := client.CreateBranch(ctx, p.ID, neonapi.CreateBranchRequest{Name: demoPreviewBranch})
	if err != nil {
		return p, fmt.Errorf("demo: create branch: %w", err)
	}
	if err := client.AddTrustedDomain(ctx, p.ID, br.Branch.ID, neonapi.AddTrustedDomainRequest{
		Domain:       demoPreviewDomain,
		AuthProvider: authprovider.BetterAuth,
	}); err != nil {
		return p, fmt.Errorf("demo: trust the preview domain: %w", err)
	}
	// The users arrive in the branch's table as Neon's sync delivers them;
	// their sessions and memberships need them there.
	if err := d.sb.WaitForSync(ctx); err != nil {
		return p, fmt.Errorf("demo: wait for the users to arrive: %w", err)
	}
	return p, seedPeople(ctx, client, p)
}

// seedPeople gives launchpad's default branch (after it was branched, so
// only there) what Better Auth keeps beyond its users, so that the people
// console has something to show: sessions, linked accounts, two
// organizations with members and invitations, and a user banned for a week
// (whose sessions the ban ended, as a ban does).
func seedPeople(ctx context.Context, client *neonapi.Client, p sandbox.CreatedProject) error {
	uri, err := client.GetConnectionURI(ctx, p.ID, neonapi.ConnectionURIOptions{
		BranchID: p.BranchID, DatabaseName: p.DatabaseName, RoleName: p.RoleName,
	})
	if err != nil {
		return fmt.Errorf("demo: seed sessions and organizations: %w", err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return fmt.Errorf("demo: seed sessions and organizations: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := peopleseed.Seed(ctx, conn, peopleseed.Options{
		SessionsPerUser: 3, Organizations: 2, MembersPer: 3, InvitationsPer: 4, SecretMarker: "demo-secret-",
	}); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if _, err := conn.Exec(ctx, `UPDATE neon_auth.organization
   SET name = CASE slug WHEN 'org-1' THEN 'Acme Rockets' ELSE 'Globex' END,
       slug = CASE slug WHEN 'org-1' THEN 'acme' ELSE 'globex' END;
UPDATE neon_auth."user" SET banned = true, "banReason" = 'Chargeback under review', "banExpires" = now() + interval '7 days'
 WHERE email = '`+demoBanned+`';
DELETE FROM neon_auth.session WHERE "userId" = (SELECT id FROM neon_auth."user" WHERE email = '`+demoBanned+`')`); err != nil {
		return fmt.Errorf("demo: name the organizations and ban %s: %w", demoBanned, err)
	}
	// The seeded credential accounts hold stand-in hashes; one gets a real
	// one, made as Better Auth makes it, so that this user can sign in.
	hash, err := sandbox.HashPassword(demoSignInPassword)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	tag, err := conn.Exec(ctx, `UPDATE neon_auth.account SET password = $1, "updatedAt" = now()
 WHERE "providerId" = 'credential' AND "userId" = (SELECT id FROM neon_auth."user" WHERE email = $2)`, hash, demoSignInEmail)
	if err != nil || tag.RowsAffected() != 1 {
		return fmt.Errorf("demo: set %s's password (%d accounts): %w", demoSignInEmail, tag.RowsAffected(), err)
	}
	return nil
}

// shutdownTimeout bounds the demo sandbox's own shutdown, after the
// dashboard's.
const shutdownTimeout = 10 * time.Second

// Close stops the sandbox server and drops the sandbox's databases.
func (d *demo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	return errors.Join(err, d.sb.Close())
}

// printDemoBanner is what a person starting the demo reads: where to click
// first, then what they are looking at.
func printDemoBanner(w io.Writer, dashboardURL, sandboxURL, signInURL string, generated, indexRows int) {
	fmt.Fprintf(w, "Dashboard: %s\n", dashboardURL)
	fmt.Fprintf(w, "  Demo mode: a local Neon API sandbox at %s stands in for Neon.\n", sandboxURL)
	fmt.Fprintf(w, "  Projects: %s (Neon Auth with Stack Auth, %d users), %s (Better Auth on its default and %q branches, not yet production-ready) and %s (no Neon Auth yet).\n",
		demoProject, len(demoUsers), demoProjectBranchAuth, demoPreviewBranch, demoProjectBare)
	if generated > 0 {
		fmt.Fprintf(w, "  Generated users: %d more in %s and in %s's default branch; a users table of %d rows or more (USERS_INDEX_ROWS) is offered an index.\n",
			generated, demoProject, demoProjectBranchAuth, indexRows)
	}
	if signInURL != "" {
		fmt.Fprintf(w, "  Better Auth for %s's default branch: %s (sign in as %s, password %s; see the README's \"Sign a demo user in\").\n",
			demoProjectBranchAuth, signInURL, demoSignInEmail, demoSignInPassword)
	}
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
