package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// errNoPostgres marks a demo start that found no Postgres server to run
// its sandbox on.
var errNoPostgres = errors.New("no Postgres server answers")

// sandboxServerProblem words why the demo's sandbox could not start on the
// server at dbURL so that the person knows what to do next: with no server
// answering, how to get one; with the credentials refused, that they were.
// Neither the URL nor pgx's error text is quoted, since either may carry the
// password; only the host, port and user are named.
func sandboxServerProblem(dbURL string, err error) error {
	host, port, user := "DATABASE_URL's server", "", ""
	if cfg, perr := pgx.ParseConfig(dbURL); perr == nil {
		host, port, user = cfg.Host, strconv.Itoa(int(cfg.Port)), cfg.User
	}
	addr := host
	if port != "" {
		addr = net.JoinHostPort(host, port)
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28"):
		// Class 28, invalid authorization: a wrong password, an unknown
		// role, or pg_hba.conf refusing this client.
		return fmt.Errorf("demo: the Postgres server at %s refused user %q (%s, SQLSTATE %s; DATABASE_URL / --database-url): fix the user or password in DATABASE_URL, or use a server that lets this user in; then run this again",
			addr, user, pgErr.Message, pgErr.Code)
	case errors.As(err, &pgErr):
		return fmt.Errorf("demo: the Postgres server at %s (DATABASE_URL / --database-url) would not start the Neon API sandbox: %s (SQLSTATE %s)", addr, pgErr.Message, pgErr.Code)
	case unreachable(err):
		return fmt.Errorf("demo: %w at %s (DATABASE_URL / --database-url): %s. %s", errNoPostgres, addr, unreachableReason(err), startPostgresHint(host, port))
	}
	return fmt.Errorf("demo: start the Neon API sandbox on the Postgres server at %s (DATABASE_URL / --database-url): %w", addr, err)
}

// unreachable reports whether err says that no Postgres server answered:
// nothing listening, no route, an unknown host, a timeout, or a peer that
// hung up before speaking Postgres.
func unreachable(err error) bool {
	var netErr net.Error
	var dnsErr *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &dnsErr) || (errors.As(err, &netErr) && netErr.Timeout())
}

// unreachableReason is a few words on how the connection failed.
func unreachableReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dnsErr):
		return "host not found"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server hung up without answering"
	}
	return "timed out"
}

// startPostgresHint says how to get a server: on this machine when the URL
// names it, else check the one named.
func startPostgresHint(host, port string) string {
	const stack = "run the whole stack with `docker compose up --build`"
	if !isLocalHost(host) {
		return "Check that the server runs and that this machine reaches it, point DATABASE_URL at another, or " + stack + "; then run this again."
	}
	if port == "" {
		port = "5432"
	}
	return "Start one: `docker run --rm -d -p " + port + ":5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15` (or `sudo apt-get install postgresql`), or " + stack + "; then run this again."
}

// isLocalHost reports whether host is this machine: a loopback name or
// address, or a Unix socket directory.
func isLocalHost(host string) bool {
	if host == "localhost" || strings.HasPrefix(host, "/") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
