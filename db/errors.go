// Package db reads the neon_auth tables of a Neon database with pgx, to show
// which users Neon Auth has synchronized there. It keeps one small pool per
// connection string, detects which generation of Neon Auth a database carries,
// and never lets a connection string or password reach an error message.
package db

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrNotFound reports that no user matches the id or email asked for.
	ErrNotFound = errors.New("user not found")
	// ErrSchemaMissing reports that the database has neither neon_auth.users_sync
	// nor neon_auth."user": Neon Auth was never enabled there, or its data was
	// deleted with the integration.
	ErrSchemaMissing = errors.New("no neon_auth user table in this database")
	// ErrUnreachable reports that no connection to the database could be made or
	// kept, as opposed to a query the server rejected.
	ErrUnreachable = errors.New("database unreachable")
	// ErrBadConnString reports a connection string pgx cannot parse. The message
	// deliberately carries no detail: pgx's own text may quote the string.
	ErrBadConnString = errors.New("invalid connection string")
	// ErrClosed reports use of Pools after Close.
	ErrClosed = errors.New("database pools closed")
)

// wrapErr turns an error from pgx into one that is safe to show: it names the
// operation and the target (host:port/database), keeps the sentinels callers
// test with errors.Is, and drops the pgconn.ConnectError layer, whose message
// names the user and whose Config field holds the password.
func wrapErr(op, target string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("db: %s on %s: %w", op, target, ErrNotFound)
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		cause := connectErr.Unwrap()
		if cause == nil {
			return fmt.Errorf("db: %s on %s: %w", op, target, ErrUnreachable)
		}
		return fmt.Errorf("db: %s on %s: %w: %w", op, target, ErrUnreachable, cause)
	}
	if werr, ok := classifyErr(op, target, err); ok {
		return werr
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "42P01" || pgErr.Code == "3F000":
			// undefined_table / invalid_schema_name: the table went away after
			// detection, typically because the integration was deleted with its data.
			return fmt.Errorf("db: %s on %s: %w: %w", op, target, ErrSchemaMissing, err)
		case lostConnection(pgErr.Code):
			return fmt.Errorf("db: %s on %s: %w: %w", op, target, ErrUnreachable, err)
		}
		return fmt.Errorf("db: %s on %s: %w", op, target, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("db: %s on %s: %w: %w", op, target, ErrUnreachable, err)
	}
	return fmt.Errorf("db: %s on %s: %w", op, target, err)
}

// lostConnection reports SQLSTATEs the server sends when it drops or refuses a
// session: class 08 (connection exception) and the shutdown and start-up codes
// a Neon compute emits while it suspends or wakes.
func lostConnection(code string) bool {
	if strings.HasPrefix(code, "08") {
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
		return true
	}
	return false
}
