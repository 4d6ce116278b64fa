package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/state"
)

// openStateStore opens the store replicas share (STATE_DATABASE_URL). The
// demo without one makes a database of its own on its Postgres server and
// drops it at exit, as its sandbox does with its own. Without a store the
// dashboard runs as one replica, and says so: it returns a nil store.
func openStateStore(ctx context.Context, cfg Config, logger *slog.Logger) (*state.Store, func(), error) {
	u := cfg.StateDatabaseURL.Reveal()
	drop := func() {}
	if u == "" && cfg.Demo {
		var err error
		u, drop, err = createDemoStateDB(ctx, cfg.DatabaseURL.Reveal())
		if err != nil {
			return nil, nil, err
		}
	}
	if u == "" {
		logger.Warn("STATE_DATABASE_URL is not set: the audit trail, jobs, the Neon rate budget and caches live in this process's memory; run a single replica")
		return nil, func() {}, nil
	}
	st, err := state.Open(ctx, u, state.Options{})
	if err != nil {
		drop()
		return nil, nil, err
	}
	logger.Info("state store open", "replica", st.Replica())
	presence, stopPresence := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); st.KeepPresence(presence, version) }()
	return st, func() {
		stopPresence()
		<-done
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := st.Leave(lctx); err != nil {
			logger.Warn("state store: could not record this replica's leaving", "err", err)
		}
		cancel()
		st.Close()
		drop()
	}, nil
}

// createDemoStateDB creates an empty database on the demo's server and
// returns its URL and a func that drops it.
func createDemoStateDB(ctx context.Context, serverURL string) (string, func(), error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "dashboard_state_demo_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("demo: state store: connect to DATABASE_URL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("demo: state store: create database: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	u, err := withDatabase(serverURL, name)
	if err != nil {
		drop()
		return "", nil, err
	}
	return u, drop, nil
}

// withDatabase is connString with its database replaced by name.
func withDatabase(connString, name string) (string, error) {
	u, err := url.Parse(connString)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("demo: state store: DATABASE_URL must be a postgres:// URL to derive the state database from")
	}
	u.Path = "/" + name
	return u.String(), nil
}
