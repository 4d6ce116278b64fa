package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
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
	Provider      authprovider.Provider
}

// Deleted reports whether Neon soft-deleted the user.
func (u User) Deleted() bool { return u.DeletedAt != nil }

// userQueries are the statements of a UserDirectory. Each selects the
// table's selectList, so scanUserRow serves them and the browser.
type userQueries struct {
	latest, get, findEmail, count string
}

// directoryQueries builds the directory's statements for s's table.
func directoryQueries(s *tableSpec, count string) userQueries {
	return userQueries{
		// The keys first, then the columns of the rows kept, as the
		// browser does: the scan feeding the sort then computes no column
		// expressions.
		latest: fmt.Sprintf(`SELECT %[1]s
  FROM (SELECT id, %[2]s FROM %[3]s ORDER BY %[2]s DESC NULLS LAST, id LIMIT $1) k
  JOIN %[3]s u ON u.id = k.id
 ORDER BY k.%[2]s DESC NULLS LAST, k.id`, s.selectList(), s.created, s.table),
		get: fmt.Sprintf("SELECT %s FROM %s u WHERE u.id = $1", s.selectList(), s.table),
		// OFFSET 0 keeps the email match a subquery planned on its own, for
		// all its rows: the planner cannot then answer the ORDER BY ...
		// LIMIT 1 by walking a browse-order index on the signup time and
		// testing each row's email, which it would pick whenever it guesses
		// many rows match.
		findEmail: fmt.Sprintf(`SELECT %s
  FROM (SELECT * FROM %s WHERE %s OFFSET 0) u
 ORDER BY %s LIMIT 1`, s.selectList(), s.table, fmt.Sprintf(s.emailMatch, "$1::text"), s.emailPrefer),
		count: count,
	}
}

var queries = map[authprovider.Provider]userQueries{
	authprovider.Stack:      directoryQueries(specs[authprovider.Stack], `SELECT count(*), count(deleted_at) FROM neon_auth.users_sync`),
	authprovider.BetterAuth: directoryQueries(specs[authprovider.BetterAuth], `SELECT count(*), 0::bigint FROM neon_auth."user"`),
}

// UserDirectory reads the users of one database, in one generation's table.
type UserDirectory struct {
	pool   *pgxpool.Pool
	gen    authprovider.Provider
	target string
	q      userQueries
}

// NewUserDirectory reads users from pool's database as gen lays them out.
// With GenerationUnknown every method returns ErrSchemaMissing.
func NewUserDirectory(pool *pgxpool.Pool, gen authprovider.Provider) *UserDirectory {
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
func (d *UserDirectory) Provider() authprovider.Provider { return d.gen }

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

// Find returns the user whose id is exactly idOrEmail or whose email matches
// it. An id match wins over an email match; among users_sync rows sharing an
// email, the live one wins over deleted ones, then the newest. users_sync
// emails match ignoring case; Better Auth ones as typed or lower-cased (see
// tableSpec.emailMatch). No match gives ErrNotFound.
//
// The id and the email are looked up by separate statements, each of which
// one index answers: the primary key, then the email index (Better Auth's
// unique one; for users_sync the one the advisor offers). A single
// statement matching either would have to scan the table.
func (d *UserDirectory) Find(ctx context.Context, idOrEmail string) (User, error) {
	const op = "find user"
	if err := d.checkSchema(op); err != nil {
		return User{}, err
	}
	key := strings.TrimSpace(idOrEmail)
	if id, ok := d.idArg(key); ok {
		u, err := d.one(ctx, op, d.q.get, id)
		if !errors.Is(err, ErrNotFound) {
			return u, err
		}
	}
	// Every email address holds an @; anything else cannot match one.
	if !strings.Contains(key, "@") {
		return User{}, fmt.Errorf("db: %s on %s: %w", op, d.target, ErrNotFound)
	}
	return d.one(ctx, op, d.q.findEmail, key)
}

// idArg returns s as the bind value of an id, or false when no row can have
// it as its id: Better Auth ids are uuids, and a failed cast on the server
// would be an error rather than no match.
func (d *UserDirectory) idArg(s string) (any, bool) {
	if s == "" {
		return nil, false
	}
	if d.gen == authprovider.BetterAuth {
		u := asUUID(s)
		return u, u.Valid
	}
	return s, true
}

// Get returns the user with exactly this id, or ErrNotFound. It is cheap enough
// to poll while waiting for a new user to be synchronized.
func (d *UserDirectory) Get(ctx context.Context, id string) (User, error) {
	const op = "get user"
	if err := d.checkSchema(op); err != nil {
		return User{}, err
	}
	arg, ok := d.idArg(id)
	if !ok {
		return User{}, fmt.Errorf("db: %s on %s: %w", op, d.target, ErrNotFound)
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
	u, err := scanUserRow(d.gen, row)
	return u.User, err
}

// asUUID parses s as a uuid, or returns an invalid (SQL NULL) one.
func asUUID(s string) pgtype.UUID {
	u, err := uuid.Parse(s)
	if err != nil {
		return pgtype.UUID{}
	}
	return pgtype.UUID{Bytes: u, Valid: true}
}
