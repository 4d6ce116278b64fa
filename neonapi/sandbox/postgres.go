package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// backend is the Postgres server behind the sandbox: it creates the real
// databases, keeps one small pool per database, and drops them all on close.
type backend struct {
	admin    *pgxpool.Pool
	adminURL *url.URL
	// prefix makes this sandbox's database names unique on a shared server.
	prefix string

	// createMu serialises CREATE DATABASE: concurrent copies of template1 from
	// one process only contend for the same lock on the server.
	createMu sync.Mutex

	mu      sync.Mutex
	created []*realDB
	closed  bool

	roles roleSet
}

// errClosed answers work asked of a closed sandbox.
var errClosed = &apiError{http.StatusServiceUnavailable, codeUnavailable, "the sandbox is shutting down"}

func (pg *backend) isClosed() bool {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return pg.closed
}

// realDB is one real database standing for a sandbox branch database.
type realDB struct {
	name string // on the backing server

	mu      sync.Mutex // guards creation and pool
	created bool
	dropped bool // by deleting its branch, database or project
	pool    *pgxpool.Pool

	queue syncQueue
	// applyMu is held while a batch of the queue is taken and written, so
	// that a new branch can copy the table and the writes still queued as
	// one consistent state.
	applyMu sync.Mutex
}

// isCreated reports whether the real database exists yet.
func (db *realDB) isCreated() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.created
}

func newBackend(ctx context.Context, adminURL string) (*backend, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, errors.New("sandbox: Config.DatabaseURL must be a postgres:// URL")
	}
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		return nil, fmt.Errorf("sandbox: parse database URL: %w", redactErr(err))
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sandbox: connect to backing server: %w", redactErr(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sandbox: connect to backing server %s: %w", u.Redacted(), err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &backend{admin: pool, adminURL: u, prefix: hex.EncodeToString(b)}, nil
}

// redactErr drops the text of connection-string parse errors, which may quote
// the password.
func redactErr(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid connection string")
	}
	return err
}

// newRealDB names (but does not create) the real database for a branch
// database; seq keeps names unique within the sandbox.
func (pg *backend) newRealDB(seq int64, neonName string) *realDB {
	var clean strings.Builder
	for _, r := range strings.ToLower(neonName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			clean.WriteRune(r)
		}
	}
	name := fmt.Sprintf("nsb_%s_%d_%s", pg.prefix, seq, clean.String())
	if len(name) > 63 {
		name = name[:63]
	}
	return &realDB{name: strings.TrimRight(name, "_")}
}

// url returns a connection URI for the real database, with the backing
// server's credentials and parameters.
func (pg *backend) url(db *realDB) string {
	u := *pg.adminURL
	u.Path = "/" + db.name
	u.RawPath = ""
	return u.String()
}

// ensure creates the real database unless it exists already.
func (pg *backend) ensure(ctx context.Context, db *realDB) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.created {
		return nil
	}
	if db.dropped {
		return errDropped
	}
	pg.createMu.Lock()
	defer pg.createMu.Unlock()
	if pg.isClosed() {
		return errClosed
	}
	stmt := "CREATE DATABASE " + pgx.Identifier{db.name}.Sanitize()
	var err error
	for attempt := range 5 {
		if _, err = pg.admin.Exec(ctx, stmt); err == nil {
			break
		}
		// 55006: template1 is in use by another session (another process
		// creating a database); it clears in a moment.
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("sandbox: create database: %w", err)
	}
	db.created = true
	pg.mu.Lock()
	pg.created = append(pg.created, db)
	pg.mu.Unlock()
	return nil
}

// pool returns the real database's pool, creating the database and the pool
// when needed.
func (pg *backend) pool(ctx context.Context, db *realDB) (*pgxpool.Pool, error) {
	if err := pg.ensure(ctx, db); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.pool != nil {
		return db.pool, nil
	}
	if pg.isClosed() {
		return nil, errClosed
	}
	if db.dropped {
		return nil, errDropped
	}
	cfg, err := pgxpool.ParseConfig(pg.url(db))
	if err != nil {
		return nil, fmt.Errorf("sandbox: pool config: %w", redactErr(err))
	}
	cfg.MaxConns = 3
	cfg.MaxConnIdleTime = time.Minute
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open pool: %w", redactErr(err))
	}
	db.pool = p
	return p, nil
}

// close closes every pool and drops every database the sandbox created.
func (pg *backend) close(ctx context.Context) error {
	// Holding createMu waits for a database being created, which then
	// appears in the list.
	pg.createMu.Lock()
	pg.mu.Lock()
	pg.closed = true
	dbs := pg.created
	pg.created = nil
	pg.mu.Unlock()
	pg.createMu.Unlock()
	var errs []error
	for _, db := range dbs {
		db.mu.Lock()
		if db.pool != nil {
			db.pool.Close()
			db.pool = nil
		}
		db.mu.Unlock()
		if _, err := pg.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db.name}.Sanitize()+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("sandbox: drop database %s: %w", db.name, err))
		}
	}
	if err := pg.dropRoles(ctx); err != nil {
		errs = append(errs, err)
	}
	pg.admin.Close()
	return errors.Join(errs...)
}

// errOtherGeneration reports a database whose neon_auth schema holds the other
// generation's table.
var errOtherGeneration = errors.New("the database's neon_auth schema belongs to the other Neon Auth generation")

// provision creates the provider's neon_auth table with Neon's exact DDL, or
// reuses the table when it exists, and returns the users already in it.
func provision(ctx context.Context, pool *pgxpool.Pool, provider string) ([]authUser, error) {
	var schema, stack, better bool
	err := pool.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'neon_auth'),
		to_regclass('neon_auth.users_sync') IS NOT NULL,
		to_regclass('neon_auth."user"') IS NOT NULL`).Scan(&schema, &stack, &better)
	if err != nil {
		return nil, fmt.Errorf("sandbox: inspect neon_auth: %w", err)
	}
	ddl, have, other := StackDDL(), stack, better
	if provider == providerBetterAuth {
		ddl, have, other = BetterAuthDDL(), better, stack
	}
	switch {
	case other:
		return nil, errOtherGeneration
	case have:
		return loadUsers(ctx, pool, provider)
	case schema:
		ddl = strings.Replace(ddl, "CREATE SCHEMA neon_auth;", "", 1)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, ddl)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: provision neon_auth: %w", err)
	}
	return nil, nil
}

// loadUsers reads the users of an existing neon_auth table, so that a re-enabled
// integration knows them.
func loadUsers(ctx context.Context, pool *pgxpool.Pool, provider string) ([]authUser, error) {
	q := `SELECT id, coalesce(email, ''), deleted_at IS NOT NULL FROM neon_auth.users_sync`
	if provider == providerBetterAuth {
		q = `SELECT id::text, email, false FROM neon_auth."user"`
	}
	rows, err := pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sandbox: load users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (authUser, error) {
		var u authUser
		err := r.Scan(&u.id, &u.email, &u.deleted)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: load users: %w", err)
	}
	return users, nil
}

// dropNeonAuth removes the neon_auth schema and everything in it.
func dropNeonAuth(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS neon_auth CASCADE"); err != nil {
		return fmt.Errorf("sandbox: drop neon_auth: %w", err)
	}
	return nil
}
