// Package state is the dashboard's own store in Postgres (STATE_DATABASE_URL):
// what every replica of the dashboard must share rather than keep in its own
// memory. Its schema, dashboard_state, is created and migrated at start; two
// replicas starting at once take turns (see migrate).
//
// Without a store the dashboard runs as a single replica and keeps this
// state in memory.
package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Schema is the schema holding every table of the store.
const Schema = "dashboard_state"

// Store is an open state store: a pool on the state database, whose schema
// is migrated, and the name of this replica.
type Store struct {
	pool    *pgxpool.Pool
	replica string
	url     string
}

// Options tunes Open.
type Options struct {
	// MaxConns bounds the pool (default 8).
	MaxConns int32
	// Replica names this process in the store (jobs it leases, rows it
	// writes); default host-pid-random.
	Replica string
	// ReadOnly opens the store as it is, without migrating it: a command
	// that only reads (audit verify) must not change the schema of the
	// store it inspects, which a newer binary's migrations would.
	ReadOnly bool
}

// Open connects to the state database at url and migrates its schema.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("state: STATE_DATABASE_URL is not a valid Postgres connection string")
	}
	cfg.MaxConns = 8
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "neon-auth-dashboard-state"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("state: connect: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("state: connect to STATE_DATABASE_URL: %w", err)
	}
	if !opts.ReadOnly {
		if err := migrate(ctx, pool, url); err != nil {
			pool.Close()
			return nil, err
		}
	}
	s := &Store{pool: pool, replica: opts.Replica, url: url}
	if s.replica == "" {
		s.replica = newReplicaName()
	}
	return s, nil
}

// newReplicaName names this process: its host, its pid and a random part,
// since a restarted container may reuse both.
func newReplicaName() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "dashboard"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Pool is the store's connection pool, for the packages that keep their
// tables in it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Replica names this process in the store.
func (s *Store) Replica() string { return s.replica }

// ConnString is the store's connection string, for a dedicated connection
// (LISTEN needs one of its own). It holds a password: never log it.
func (s *Store) ConnString() string { return s.url }

// Ping checks the store answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }
