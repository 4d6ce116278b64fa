// Package pgtest gives tests their own throw-away databases on a real Postgres
// server. The server comes from TEST_DATABASE_URL, defaulting to the local one.
// Without a reachable server tests skip with a hint, unless CI is set, in which
// case they fail: CI must never pass by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// URL returns the administrative connection string tests use.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	probeOnce sync.Once
	probeErr  error
)

// Require returns the administrative URL, or skips (fails under CI) the test when
// the server cannot be reached.
func Require(t testing.TB) string {
	t.Helper()
	probeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, URL())
		if err != nil {
			probeErr = err
			return
		}
		probeErr = conn.Ping(ctx)
		conn.Close(ctx)
	})
	if probeErr != nil {
		msg := fmt.Sprintf("postgres at %s unreachable (%v); start it with `pg_ctlcluster --skip-systemctl-redirect 15 main start` or set TEST_DATABASE_URL", redact(URL()), probeErr)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return URL()
}

// NewDatabase creates an empty database for the test, drops it when the test
// ends, and returns a connection string for it.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := Require(t)
	name := "test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { DropDatabase(t, name) })
	return WithDatabase(admin, name)
}

// DropDatabase drops a database, ending its sessions first.
func DropDatabase(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Errorf("pgtest: connect to drop %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
	}
}

// NewRole creates a login role on the server, grants it each of privileges
// ("SELECT ON neon_auth.users_sync") in the database of connString, and
// returns its name and connString as that role. The role owns nothing, so
// tests can see what the dashboard does for someone who may read a table but
// not change it. Its grants are revoked and the role dropped when the test
// ends, before the database of connString if that was made by NewDatabase.
func NewRole(t testing.TB, connString string, privileges ...string) (role, roleConnString string) {
	t.Helper()
	u, err := url.Parse(connString)
	if err != nil {
		t.Fatalf("pgtest: parse connection string: %v", err)
	}
	role = fmt.Sprintf("reader_%d", time.Now().UnixNano())
	exec := func(conn, sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, conn)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, sql)
		return err
	}
	if err := exec(connString, "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Fatalf("pgtest: create role: %v", err)
	}
	t.Cleanup(func() {
		// The test database, and the grants in it, may be dropped after this
		// cleanup runs: revoke them first so the role can go.
		if err := exec(connString, "DROP OWNED BY "+role); err != nil {
			t.Errorf("pgtest: drop what %s owns: %v", role, err)
		}
		if err := exec(URL(), "DROP ROLE "+role); err != nil {
			t.Errorf("pgtest: drop role %s: %v", role, err)
		}
	})
	for _, p := range privileges {
		if err := exec(connString, "GRANT "+p+" TO "+role); err != nil {
			t.Fatalf("pgtest: grant %s: %v", p, err)
		}
	}
	u.User = url.User(role)
	return role, u.String()
}

// WithDatabase returns connString pointing at database name instead.
func WithDatabase(connString, name string) string {
	u, err := url.Parse(connString)
	if err != nil {
		return connString
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(connString string) string {
	u, err := url.Parse(connString)
	if err != nil {
		return "(unparsable TEST_DATABASE_URL)"
	}
	return u.Redacted()
}

// DeadServerURL is a connection string, with password, to a local port that
// hangs up on every connection: a database that is down. The test holds the
// port until it ends, so no other process can take it over, as could happen
// to a port merely closed.
func DeadServerURL(t testing.TB, password string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	return "postgres://someone:" + url.QueryEscape(password) + "@127.0.0.1:" + strconv.Itoa(port) + "/appdb?sslmode=disable&connect_timeout=2"
}
