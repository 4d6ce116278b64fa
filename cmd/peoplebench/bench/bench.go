// Package bench measures the people console of the dashboard (a user's
// detail panels, the sessions view, the users browser's "last active"
// column, the activity charts and revoking sessions by filter) against the
// bare SQL run through pgx on the same pool, on a Better Auth branch seeded
// with Neon's exact DDL to a realistic size. It creates and drops its own
// database.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// Config says what to measure.
type Config struct {
	// AdminURL is a server where the benchmark may create a database.
	AdminURL string
	// Users is how many users to seed; each gets three sessions.
	Users int
	// Runs caps the timed runs of each side of a case; Budget stops a case
	// early once it has run at least five times.
	Runs   int
	Budget time.Duration
	// Revoke is how many sessions the revocation case ends (fewer when the
	// branch has fewer matching its filter).
	Revoke int
	// Keep leaves the database behind for inspection.
	Keep bool
	// Out receives the results; Log progress lines.
	Out, Log io.Writer
}

// Report is everything one run measured.
type Report struct {
	Config Config
	// Database is the seeded database's URL, left behind with Keep.
	Database string
	Server   string // Postgres version
	Sessions int64
	Seeded   time.Duration
	// Load is the machine's 1-minute load average when the measuring
	// began and ended: other work shares its CPUs, and moves the tails.
	Load    [2]string
	Results []Result
	Revoke  *RevokeResult
	// Notes are lines for the closing note (index builds, set-up).
	Notes []string
}

// Run seeds a branch, measures every read case without and then with the
// advised session index, then revokes sessions by filter under the app's
// own queries, and writes the results to cfg.Out (those measured so far
// when it fails).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	rep := &Report{Config: cfg}
	err := run(ctx, cfg, rep)
	if err != nil {
		// What was measured is still worth reading.
		rep.Notes = append(rep.Notes, fmt.Sprintf("The run stopped early: %v", err))
	}
	rep.write(cfg.Out)
	return rep, err
}

func run(ctx context.Context, cfg Config, rep *Report) error {
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	note := func(format string, args ...any) {
		n := fmt.Sprintf(format, args...)
		logf("  %s", n)
		rep.Notes = append(rep.Notes, n)
	}
	logf("seeding %s users and %s sessions", thousands(int64(cfg.Users)), thousands(3*int64(cfg.Users)))
	d, err := createDatabase(ctx, cfg.AdminURL, cfg.Users, logf)
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
	rep.Sessions, rep.Seeded = d.sessions, d.seeded
	if cfg.Keep {
		rep.Database = d.url
		logf("  keeping database %s", d.name)
	}
	note("Seeding %s users and %s sessions (with accounts, organizations, members and invitations) and VACUUM ANALYZE took %s.",
		thousands(int64(d.users)), thousands(d.sessions), d.seeded.Round(time.Second))
	s, err := newSuite(ctx, cfg, d, logf)
	if err != nil {
		return err
	}
	defer s.close()
	_ = s.pool.QueryRow(ctx, "SHOW server_version").Scan(&rep.Server)

	start := time.Now()
	if err := s.b.CreateIndex(ctx); err != nil {
		return fmt.Errorf("users browse-order index: %w", err)
	}
	note("The users browse-order index the advisor offers was built first (%s), as a branch this size has it; the users pages below read through it.",
		time.Since(start).Round(time.Millisecond))
	if err := s.findRows(ctx); err != nil {
		return err
	}
	rep.Load[0] = loadAverage()
	defer func() { rep.Load[1] = loadAverage() }()
	for _, indexed := range []bool{false, true} {
		if indexed {
			start := time.Now()
			if err := s.b.CreateOfferedIndex(ctx, db.IndexForSessions); err != nil {
				return fmt.Errorf("session index: %w", err)
			}
			note("Building the advised session index (%s) through the dashboard took %s.", db.SessionsIndexSQL, time.Since(start).Round(time.Millisecond))
			s.reopen()
		}
		label := map[bool]string{false: "without", true: "with"}[indexed]
		logf("%s the session index:", label)
		for _, cases := range [][]*Case{s.detailCases(ctx), s.sessionCases(ctx, indexed), s.lastActiveCases(ctx), s.activityCases(ctx)} {
			for _, c := range cases {
				r := measure(ctx, c, cfg.Runs, cfg.Budget)
				r.Index = indexed
				logf("  %-60s ours %8s / %8s ms  bare %8s / %8s ms  %7s  %-5s %s", c.Name, ms(r.Ours.Median), ms(r.Ours.P99),
					ms(r.Bare.Median), ms(r.Bare.P99), ratioText(r.RatioMedian()), r.Met(), c.Plan)
				if r.Err != nil {
					logf("    %v", r.Err)
				}
				rep.Results = append(rep.Results, r)
			}
		}
	}
	rv, err := s.revoke(ctx, cfg.Revoke)
	if rv != nil {
		rep.Revoke = rv
		logf("revoked %s sessions in %d batches in %s; app worst %s ms (p99 %s ms) during, %s ms before",
			thousands(rv.Revoked), rv.Batches, rv.Took.Round(time.Millisecond), ms(rv.During.Max), ms(rv.During.P99), ms(rv.Before.Max))
	}
	return err
}

// suite is the seeded branch with what its cases share: the dashboard's
// pool and browser (the bare SQL runs on the same pool), and the rows the
// cases read, found once, untimed.
type suite struct {
	cfg   Config
	d     *database
	logf  func(string, ...any)
	pools *db.Pools
	pool  *pgxpool.Pool
	b     *db.UserBrowser

	// people are users the detail cases read, in random order; person is
	// the one the current pair of runs reads.
	people []string
	next   int
	person string

	// sessions view: the newest active session, the cursor ending page 99
	// and the first session of page 100, and the first session of the last
	// page.
	newestSession        string
	deepAfter, deepFirst string
	deepPage             int
	lastFirst            string
	lastPage             int
	// newestUser opens the first users page.
	newestUser string
}

func newSuite(ctx context.Context, cfg Config, d *database, logf func(string, ...any)) (*suite, error) {
	s := &suite{cfg: cfg, d: d, logf: logf, pools: db.NewPools(db.PoolOptions{})}
	var err error
	if s.pool, err = s.pools.Get(ctx, d.url); err != nil {
		s.pools.Close()
		return nil, err
	}
	s.b = db.NewUserBrowser(s.pool, authprovider.BetterAuth, db.NewCache(db.DefaultCacheTTL))
	return s, nil
}

// reopen replaces the browser and its cache: after an index comes, no
// cached answer may stand in for a read.
func (s *suite) reopen() {
	s.b = db.NewUserBrowser(s.pool, authprovider.BetterAuth, db.NewCache(db.DefaultCacheTTL))
}

func (s *suite) close() { s.pools.Close() }

// loadAverage is the machine's 1-minute load average, "?" where the system
// does not say.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
