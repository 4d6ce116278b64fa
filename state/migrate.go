package state

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockID is the advisory lock replicas take while they migrate;
// any fixed number no other program uses will do ("dashbrd" in ASCII).
const migrationLockID = 0x64617368627264

// migrate brings the store's schema up to date with goose. Replicas
// starting together take turns: the schema is created under a transaction
// advisory lock, and goose holds a session advisory lock while it applies
// migrations, so the second replica finds them applied.
func migrate(ctx context.Context, pool *pgxpool.Pool, url string) error {
	if err := createSchema(ctx, pool); err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return errors.New("state: STATE_DATABASE_URL is not a valid Postgres connection string")
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	db.SetMaxOpenConns(2)
	return migrateDB(ctx, db)
}

func createSchema(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
		return fmt.Errorf("state: migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+Schema); err != nil {
		return fmt.Errorf("state: migrate: create schema %s: %w", Schema, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	return nil
}

func migrateDB(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID + 1))
	if err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithTableName(Schema+".goose_db_version"),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("state: migrate: %w", err)
	}
	return nil
}
