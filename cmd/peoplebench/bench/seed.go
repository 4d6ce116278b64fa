package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/peopleseed"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// seedSpan is how far back the seeded users signed up: evenly, in
// insertion order, up to a day before the run, so that the activity charts'
// recent ranges hold sessions as a live branch's do.
const seedSpan = 3 * 365 * 24 * time.Hour

// seedUsersSQL fills neon_auth."user" as Better Auth writes it: 1 in 100
// admins, 1 in 200 banned. %[1]d is the row count, %[2]d the milliseconds
// between signups, %[3]d the first signup in Unix milliseconds.
const seedUsersSQL = `INSERT INTO neon_auth."user"
       (id, name, email, "emailVerified", "createdAt", "updatedAt", role, banned, "banReason")
SELECT gen_random_uuid(), 'User ' || i, 'user' || i || '@example.com', i %% 3 <> 0,
       to_timestamp((%[3]d + i::bigint * %[2]d + (i %% 7) * 1000) / 1000.0),
       to_timestamp((%[3]d + i::bigint * %[2]d) / 1000.0) + interval '1 hour',
       CASE WHEN i %% 100 = 0 THEN 'admin' ELSE 'user' END,
       CASE WHEN i %% 200 = 0 THEN true END, CASE WHEN i %% 200 = 0 THEN 'spam' END
  FROM generate_series(1, %[1]d) i`

// seedOptions is what peopleseed adds for users: three sessions each (one
// in ten expired), an organization per 100 users with 10 members and 3
// invitations each, so that one user in ten belongs to one.
func seedOptions(users int, now time.Time) peopleseed.Options {
	return peopleseed.Options{SessionsPerUser: 3, Organizations: max(users/100, 1), MembersPer: 10, InvitationsPer: 3, Now: now}
}

// database is one throw-away database holding a Better Auth branch's
// tables.
type database struct {
	name, url string
	users     int
	sessions  int64
	// seeded is how long inserting, seeding and VACUUM ANALYZE took.
	seeded time.Duration
}

// createDatabase makes a database with Neon's exact Better Auth DDL, inserts
// users in one INSERT ... SELECT generate_series, fills their sessions,
// accounts and organizations with peopleseed, and runs VACUUM ANALYZE, as a
// long-lived branch would be.
func createDatabase(ctx context.Context, adminURL string, users int, logf func(string, ...any)) (*database, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "peoplebench_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	d := &database{name: name, url: u.String(), users: users}
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return d, err
	}
	defer conn.Close(ctx)
	start := time.Now()
	now := start.UTC().Truncate(time.Second)
	first := now.Add(-seedSpan - 24*time.Hour)
	step := seedSpan.Milliseconds() / int64(max(users, 1))
	for _, s := range []struct{ what, sql string }{
		{"schema", sandbox.BetterAuthDDL()},
		{"users", fmt.Sprintf(seedUsersSQL, users, step, first.UnixMilli())},
	} {
		if _, err := conn.Exec(ctx, s.sql); err != nil {
			return d, fmt.Errorf("seed %s: %w", s.what, err)
		}
	}
	logf("  %s users inserted in %s", thousands(int64(users)), time.Since(start).Round(time.Millisecond))
	if err := peopleseed.Seed(ctx, conn, seedOptions(users, now)); err != nil {
		return d, err
	}
	logf("  sessions, accounts and organizations seeded at %s", time.Since(start).Round(time.Millisecond))
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return d, fmt.Errorf("vacuum: %w", err)
	}
	d.seeded = time.Since(start)
	err = conn.QueryRow(ctx, "SELECT count(*) FROM neon_auth.session").Scan(&d.sessions)
	return d, err
}

func (d *database) drop(ctx context.Context, adminURL string) error {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)")
	return err
}
