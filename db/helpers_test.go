package db

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// t0 is a whole second so users_sync's millisecond-derived created_at
// round-trips exactly.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newPools(t testing.TB) *Pools {
	t.Helper()
	p := NewPools(PoolOptions{})
	t.Cleanup(p.Close)
	return p
}

// fixture is a database of one generation plus a way to seed it the way Neon does.
type fixture struct {
	gen        authprovider.Provider
	connString string
	conn       *pgx.Conn
}

// seedUser describes a user independently of the generation that stores it.
type seedUser struct {
	key      string // short name; fixture.id turns it into the generation's id
	email    string
	name     string
	created  time.Time
	verified bool
	role     string // better_auth only
	deleted  bool   // users_sync only: soft delete
}

// betterAuthIDs gives the main better_auth users fixed uuids whose order
// follows their keys, so tie-breaks by id are predictable. Other keys get a
// uuid derived from the key.
var betterAuthIDs = map[string]string{
	"alice": "00000000-0000-4000-8000-00000000000a",
	"bob":   "00000000-0000-4000-8000-00000000000b",
	"carol": "00000000-0000-4000-8000-00000000000c",
	"dave":  "00000000-0000-4000-8000-00000000000d",
	"erin":  "00000000-0000-4000-8000-00000000000e",
}

func (f *fixture) id(key string) string {
	if f.gen == authprovider.BetterAuth {
		if id, ok := betterAuthIDs[key]; ok {
			return id
		}
		return uuid.NewSHA1(uuid.NameSpaceOID, []byte(key)).String()
	}
	return "user_" + key
}

func newFixture(t testing.TB, gen authprovider.Provider) *fixture {
	t.Helper()
	connString := pgtest.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	var ddl string
	switch gen {
	case authprovider.Stack:
		ddl = sandbox.StackDDL()
	case authprovider.BetterAuth:
		ddl = sandbox.BetterAuthDDL()
	}
	if ddl != "" {
		if _, err := conn.Exec(ctx, ddl); err != nil {
			t.Fatalf("load %s DDL: %v", gen, err)
		}
	}
	return &fixture{gen: gen, connString: connString, conn: conn}
}

func (f *fixture) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := f.conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// insert stores u as Neon would: users_sync rows through raw_json alone (the
// other columns are generated from it), better_auth rows directly.
func (f *fixture) insert(t testing.TB, u seedUser) {
	t.Helper()
	switch f.gen {
	case authprovider.Stack:
		raw, err := json.Marshal(map[string]any{
			"id":                     f.id(u.key),
			"display_name":           u.name,
			"primary_email":          u.email,
			"primary_email_verified": u.verified,
			"signed_up_at_millis":    u.created.UnixMilli(),
			"has_password":           true,
			"oauth_providers":        []any{},
		})
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, `INSERT INTO neon_auth.users_sync (raw_json) VALUES ($1)`, raw)
		if u.deleted {
			f.exec(t, `UPDATE neon_auth.users_sync SET deleted_at = $2, updated_at = $2 WHERE id = $1`,
				f.id(u.key), u.created.Add(time.Minute))
		}
	case authprovider.BetterAuth:
		var role *string
		if u.role != "" {
			role = &u.role
		}
		f.exec(t, `INSERT INTO neon_auth."user" (id, name, email, "emailVerified", "createdAt", "updatedAt", role)
VALUES ($1, $2, $3, $4, $5, $5, $6)`, f.id(u.key), u.name, u.email, u.verified, u.created, role)
	default:
		panic(fmt.Sprintf("insert into %q", f.gen))
	}
}

func (f *fixture) pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := newPools(t).Get(context.Background(), f.connString)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return pool
}

func (f *fixture) directory(t testing.TB) *UserDirectory {
	t.Helper()
	d, err := OpenUserDirectory(context.Background(), f.pool(t))
	if err != nil {
		t.Fatalf("OpenUserDirectory: %v", err)
	}
	if d.Provider() != f.gen {
		t.Fatalf("detected %q, want %q", d.Provider(), f.gen)
	}
	return d
}
