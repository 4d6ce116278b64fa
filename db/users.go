package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxLatest caps Latest so a request parameter cannot dump a whole table.
const MaxLatest = 1000

// User is one row of a Neon Auth user table, whichever generation it came from.
type User struct {
	ID    string
	Email string // "" when users_sync has no primary email
	Name  string // "" when users_sync has no display name
	// CreatedAt is the zero time when a users_sync row lacks signed_up_at_millis.
	CreatedAt time.Time
	UpdatedAt *time.Time
	// DeletedAt is set on users_sync rows Neon soft-deleted; better_auth deletes
	// rows outright, so it is always nil there.
	DeletedAt     *time.Time
	EmailVerified bool
	Role          string // better_auth only
	Banned        bool   // better_auth only
	Generation    Generation
}

// Deleted reports whether Neon soft-deleted the user.
func (u User) Deleted() bool { return u.DeletedAt != nil }

// Both generations select the same nine columns, in this order, so one scan
// function serves them. users_sync is read as Neon's guide does
// (SELECT id, email, name, created_at FROM neon_auth.users_sync) plus the columns
// the dashboard shows; its generated name and email may be NULL.
const (
	stackColumns = `SELECT id, coalesce(email, ''), coalesce(name, ''), created_at, updated_at, deleted_at,
       coalesce(raw_json -> 'primary_email_verified' = 'true'::jsonb, false), ''::text, false
  FROM neon_auth.users_sync`
	betterAuthColumns = `SELECT id::text, email, name, "createdAt", "updatedAt", NULL::timestamptz,
       "emailVerified", coalesce(role, ''), coalesce(banned, false)
  FROM neon_auth."user"`
)

type userQueries struct {
	latest, find, get, count string
}

var queries = map[Generation]userQueries{
	GenerationStack: {
		latest: stackColumns + ` ORDER BY created_at DESC NULLS LAST, id LIMIT $1`,
		// users_sync has no unique email: a user deleted and signed up again has
		// two rows. Prefer an id match, then the live row, then the newest.
		find: stackColumns + ` WHERE id = $1 OR lower(email) = lower($1)
 ORDER BY (id = $1) DESC, (deleted_at IS NULL) DESC, created_at DESC NULLS LAST, id LIMIT 1`,
		get:   stackColumns + ` WHERE id = $1`,
		count: `SELECT count(*), count(deleted_at) FROM neon_auth.users_sync`,
	},
	GenerationBetterAuth: {
		latest: betterAuthColumns + ` ORDER BY "createdAt" DESC, id LIMIT $1`,
		// $1 is NULL when the input is not a uuid, which leaves the email match.
		find: betterAuthColumns + ` WHERE id = $1 OR lower(email) = lower($2)
 ORDER BY (id = $1) IS TRUE DESC, "createdAt" DESC, id LIMIT 1`,
		get:   betterAuthColumns + ` WHERE id = $1`,
		count: `SELECT count(*), 0::bigint FROM neon_auth."user"`,
	},
}

// UserDirectory reads the users of one database, in one generation's table.
type UserDirectory struct {
	pool   *pgxpool.Pool
	gen    Generation
	target string
	q      userQueries
}

// NewUserDirectory reads users from pool's database as gen lays them out.
// With GenerationUnknown every method returns ErrSchemaMissing.
func NewUserDirectory(pool *pgxpool.Pool, gen Generation) *UserDirectory {
	return &UserDirectory{pool: pool, gen: gen, target: describePool(pool), q: queries[gen]}
}

// OpenUserDirectory detects the generation of pool's database and returns a
// directory over it.
func OpenUserDirectory(ctx context.Context, pool *pgxpool.Pool) (*UserDirectory, error) {
	gen, err := Detect(ctx, pool)
	if err != nil {
		return nil, err
	}
	return NewUserDirectory(pool, gen), nil
}

// Directory is Get followed by OpenUserDirectory: the usual way to read the
// users of the database behind connString for one request.
func (p *Pools) Directory(ctx context.Context, connString string) (*UserDirectory, error) {
	pool, err := p.Get(ctx, connString)
	if err != nil {
		return nil, err
	}
	return OpenUserDirectory(ctx, pool)
}

// Generation returns the table layout the directory reads.
func (d *UserDirectory) Generation() Generation { return d.gen }

// Target returns host:port/database of the directory's database.
func (d *UserDirectory) Target() string { return d.target }

func (d *UserDirectory) checkSchema(op string) error {
	if d.q.latest == "" {
		return fmt.Errorf("db: %s on %s: %w", op, d.target, ErrSchemaMissing)
	}
	return nil
}

// Latest returns up to limit users, newest first, ties broken by id. It
// includes soft-deleted users_sync rows, with DeletedAt set, because seeing a
// deletion arrive is part of checking the sync. limit is capped at MaxLatest.
func (d *UserDirectory) Latest(ctx context.Context, limit int) ([]User, error) {
	const op = "latest users"
	if err := d.checkSchema(op); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("db: %s on %s: limit %d is not positive", op, d.target, limit)
	}
	rows, err := d.pool.Query(ctx, d.q.latest, min(limit, MaxLatest))
	if err != nil {
		return nil, wrapErr(op, d.target, err)
	}
	users, err := pgx.CollectRows(rows, d.scanUser)
	if err != nil {
		return nil, wrapErr(op, d.target, err)
	}
	return users, nil
}

// Find returns the user whose id is exactly idOrEmail or whose email matches it
// ignoring case. An id match wins over an email match; among users_sync rows
// sharing an email, the live one wins over deleted ones. No match gives ErrNotFound.
func (d *UserDirectory) Find(ctx context.Context, idOrEmail string) (User, error) {
	const op = "find user"
	if err := d.checkSchema(op); err != nil {
		return User{}, err
	}
	key := strings.TrimSpace(idOrEmail)
	if key == "" {
		return User{}, fmt.Errorf("db: %s on %s: %w", op, d.target, ErrNotFound)
	}
	args := []any{key}
	if d.gen == GenerationBetterAuth {
		args = []any{asUUID(key), key}
	}
	return d.one(ctx, op, d.q.find, args...)
}

// Get returns the user with exactly this id, or ErrNotFound. It is cheap enough
// to poll while waiting for a new user to be synchronized.
func (d *UserDirectory) Get(ctx context.Context, id string) (User, error) {
	const op = "get user"
	if err := d.checkSchema(op); err != nil {
		return User{}, err
	}
	var arg any = id
	if d.gen == GenerationBetterAuth {
		u := asUUID(id)
		if !u.Valid {
			// Better Auth ids are uuids: anything else cannot exist, and must not
			// reach the server as a failed cast.
			return User{}, fmt.Errorf("db: %s on %s: %w", op, d.target, ErrNotFound)
		}
		arg = u
	}
	return d.one(ctx, op, d.q.get, arg)
}

// Count returns how many user rows the table holds and how many of those are
// soft-deleted (always 0 for better_auth, which deletes rows outright).
func (d *UserDirectory) Count(ctx context.Context) (total, deleted int, err error) {
	const op = "count users"
	if err := d.checkSchema(op); err != nil {
		return 0, 0, err
	}
	var t, del int64
	if err := d.pool.QueryRow(ctx, d.q.count).Scan(&t, &del); err != nil {
		return 0, 0, wrapErr(op, d.target, err)
	}
	return int(t), int(del), nil
}

func (d *UserDirectory) one(ctx context.Context, op, sql string, args ...any) (User, error) {
	rows, err := d.pool.Query(ctx, sql, args...)
	if err != nil {
		return User{}, wrapErr(op, d.target, err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, d.scanUser)
	if err != nil {
		return User{}, wrapErr(op, d.target, err)
	}
	return u, nil
}

func (d *UserDirectory) scanUser(row pgx.CollectableRow) (User, error) {
	u := User{Generation: d.gen}
	var created *time.Time
	err := row.Scan(&u.ID, &u.Email, &u.Name, &created, &u.UpdatedAt, &u.DeletedAt,
		&u.EmailVerified, &u.Role, &u.Banned)
	if created != nil {
		u.CreatedAt = *created
	}
	return u, err
}

// asUUID parses s as a uuid, or returns an invalid (SQL NULL) one.
func asUUID(s string) pgtype.UUID {
	u, err := uuid.Parse(s)
	if err != nil {
		return pgtype.UUID{}
	}
	return pgtype.UUID{Bytes: u, Valid: true}
}
