package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// seedStart is the first signup of the seeded users; they spread evenly over
// the following seedSpan, in insertion order, as a sync fills the table.
var (
	seedStart = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	seedSpan  = 3 * 365 * 24 * time.Hour
)

// undatedRows is how many users_sync rows lack signed_up_at_millis, so the
// last pages cross from dated to undated rows.
const undatedRows = 10

// seedStackSQL fills users_sync through raw_json, the only way Neon writes
// it: documents shaped like Stack Auth's, 1 in 20 soft-deleted, then a few
// undated rows. %[1]d is the row count, %[2]d the milliseconds between
// signups, %[3]d the first signup in Unix milliseconds, %[4]d the undated
// rows.
const seedStackSQL = `INSERT INTO neon_auth.users_sync (raw_json, updated_at, deleted_at)
SELECT jsonb_build_object(
         'id', gen_random_uuid()::text,
         'display_name', CASE WHEN i %% 50 = 0 THEN NULL ELSE 'User ' || i END,
         'primary_email', CASE WHEN i %% 97 = 0 THEN NULL ELSE 'user' || i || '@example.com' END,
         'primary_email_verified', i %% 3 <> 0,
         'signed_up_at_millis', %[3]d + i::bigint * %[2]d + (i %% 7) * 1000,
         'last_active_at_millis', %[3]d + i::bigint * %[2]d + 86400000,
         'client_metadata', NULL, 'server_metadata', NULL, 'client_read_only_metadata', NULL,
         'has_password', i %% 2 = 0, 'profile_image_url', NULL, 'oauth_providers', '[]'::jsonb),
       to_timestamp((%[3]d + i::bigint * %[2]d) / 1000.0) + interval '1 day',
       CASE WHEN i %% 20 = 0 THEN to_timestamp((%[3]d + i::bigint * %[2]d) / 1000.0) + interval '30 days' END
  FROM generate_series(1, %[1]d) i;
INSERT INTO neon_auth.users_sync (raw_json)
SELECT jsonb_build_object('id', gen_random_uuid()::text, 'primary_email', 'undated' || i || '@example.com')
  FROM generate_series(1, %[4]d) i`

// seedBetterAuthSQL fills neon_auth."user" as Better Auth writes it: 1 in
// 100 admins, 1 in 200 banned.
const seedBetterAuthSQL = `INSERT INTO neon_auth."user"
       (id, name, email, "emailVerified", "createdAt", "updatedAt", role, banned, "banReason")
SELECT gen_random_uuid(), 'User ' || i, 'user' || i || '@example.com', i %% 3 <> 0,
       to_timestamp((%[3]d + i::bigint * %[2]d + (i %% 7) * 1000) / 1000.0),
       to_timestamp((%[3]d + i::bigint * %[2]d) / 1000.0) + interval '1 day',
       CASE WHEN i %% 100 = 0 THEN 'admin' ELSE 'user' END,
       CASE WHEN i %% 200 = 0 THEN true END, CASE WHEN i %% 200 = 0 THEN 'spam' END
  FROM generate_series(1, %[1]d) i`

// database is one throw-away database holding one generation's table.
type database struct {
	name, url string
	gen       authprovider.Provider
	rows      int // rows in the table
	seeded    int // rows of the generate_series (rows without undated ones)
}

// createDatabase makes a database with Neon's exact DDL for gen, seeds rows
// users and runs VACUUM ANALYZE, as a long-lived table would be.
func createDatabase(ctx context.Context, adminURL string, gen authprovider.Provider, rows int) (*database, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := fmt.Sprintf("usersbench_%s_%s", gen, hex.EncodeToString(b))
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
	d := &database{name: name, url: u.String(), gen: gen, rows: rows, seeded: rows}
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return d, err
	}
	defer conn.Close(ctx)
	step := seedSpan.Milliseconds() / int64(max(rows, 1))
	ddl, seed := sandbox.StackDDL(), fmt.Sprintf(seedStackSQL, rows, step, seedStart.UnixMilli(), undatedRows)
	d.rows = rows + undatedRows
	if gen == authprovider.BetterAuth {
		ddl, seed = sandbox.BetterAuthDDL(), fmt.Sprintf(seedBetterAuthSQL, rows, step, seedStart.UnixMilli())
		d.rows = rows
	}
	for _, sql := range []string{ddl, seed, "VACUUM ANALYZE"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return d, fmt.Errorf("seed %s: %w", gen, err)
		}
	}
	return d, nil
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
