package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// realRole is the real Postgres role standing for one role of one branch.
// Roles are cluster-wide, so each branch role gets its own name on the
// backing server, nsb_<sandbox>_r<n>_<name>: the name the connection URI
// logs in with. It is created on first use, like the databases.
type realRole struct {
	name string // on the backing server

	mu       sync.Mutex // guards password, created and dropped
	password string     // "" for a no_login role
	created  bool
	dropped  bool
}

// secret returns the role's current password.
func (rr *realRole) secret() string {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.password
}

// roleSet is the backend's record of the roles it created, dropped on close.
type roleSet struct {
	seq atomic.Int64

	mu      sync.Mutex
	admin   string // the backing server's user, whose privileges roles share
	created []*realRole
}

// newPassword returns a password like Neon's (npg_ and 12 letters or digits),
// safe in a URI without escaping.
func newPassword() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "npg_" + string(b)
}

// scramIterations is Postgres's default for SCRAM-SHA-256 verifiers.
const scramIterations = 4096

// scramVerifier computes the SCRAM-SHA-256 verifier Postgres keeps for a
// password. The sandbox sends the verifier, never the password, so the
// password stays out of the server's statement log.
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, b64(salt), b64(stored[:]), b64(mac(salted, "Server Key"))), nil
}

// newRealRole names (but does not create) the real role for a branch role.
func (pg *backend) newRealRole(neonName, password string) *realRole {
	var clean strings.Builder
	for _, r := range strings.ToLower(neonName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			clean.WriteRune(r)
		}
	}
	name := fmt.Sprintf("nsb_%s_r%d_%s", pg.prefix, pg.roles.seq.Add(1), clean.String())
	if len(name) > 63 {
		name = name[:63]
	}
	return &realRole{name: strings.TrimRight(name, "_"), password: password}
}

// adminRole returns the backing server's user name.
func (pg *backend) adminRole(ctx context.Context) (string, error) {
	pg.roles.mu.Lock()
	defer pg.roles.mu.Unlock()
	if pg.roles.admin == "" {
		if err := pg.admin.QueryRow(ctx, "SELECT current_user").Scan(&pg.roles.admin); err != nil {
			return "", fmt.Errorf("sandbox: read the server's user: %w", err)
		}
	}
	return pg.roles.admin, nil
}

// ensureRole creates the real role unless it exists. A login role gets its
// password and membership in the backing server's user, without that user's
// attributes (superuser, createdb): it can then do in its branch's databases
// what the sandbox itself can, owner's rights on neon_auth's tables
// included, which the dashboard's index builds need.
func (pg *backend) ensureRole(ctx context.Context, rr *realRole) error {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.created {
		return nil
	}
	if rr.dropped || pg.isClosed() {
		return errClosed
	}
	admin, err := pg.adminRole(ctx)
	if err != nil {
		return err
	}
	name := pgx.Identifier{rr.name}.Sanitize()
	stmt := "CREATE ROLE " + name + " NOLOGIN"
	if rr.password != "" {
		v, err := scramVerifier(rr.password)
		if err != nil {
			return err
		}
		stmt = "CREATE ROLE " + name + " LOGIN PASSWORD " + quoteLiteral(v)
	}
	err = pg.roleDDL(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "GRANT "+pgx.Identifier{admin}.Sanitize()+" TO "+name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sandbox: create role: %w", err)
	}
	rr.created = true
	pg.roles.mu.Lock()
	pg.roles.created = append(pg.roles.created, rr)
	pg.roles.mu.Unlock()
	return nil
}

// setPassword gives the role a new password; once it returns, the old one
// no longer logs in.
func (pg *backend) setPassword(ctx context.Context, rr *realRole, password string) error {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.created {
		v, err := scramVerifier(password)
		if err != nil {
			return err
		}
		if _, err := pg.admin.Exec(ctx, "ALTER ROLE "+pgx.Identifier{rr.name}.Sanitize()+" PASSWORD "+quoteLiteral(v)); err != nil {
			return fmt.Errorf("sandbox: reset password: %w", err)
		}
	}
	rr.password = password
	return nil
}

// dropRole drops the real role. Objects it owns in the databases dbs go to
// the sandbox's user first; its privileges there are revoked.
func (pg *backend) dropRole(ctx context.Context, rr *realRole, dbs []*realDB) error {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.dropped {
		return nil
	}
	rr.dropped = true
	if !rr.created {
		return nil
	}
	pg.roles.mu.Lock()
	for i, c := range pg.roles.created {
		if c == rr {
			pg.roles.created = append(pg.roles.created[:i], pg.roles.created[i+1:]...)
			break
		}
	}
	pg.roles.mu.Unlock()
	if err := pg.dropRealRole(ctx, rr.name, dbs); err != nil {
		// Still standing, with its password: Close tries again.
		pg.roles.mu.Lock()
		pg.roles.created = append(pg.roles.created, rr)
		pg.roles.mu.Unlock()
		return err
	}
	return nil
}

// dropRealRole is dropRole's statements.
func (pg *backend) dropRealRole(ctx context.Context, name string, dbs []*realDB) error {
	admin, err := pg.adminRole(ctx)
	if err != nil {
		return err
	}
	id := pgx.Identifier{name}.Sanitize()
	for _, db := range dbs {
		if !db.isCreated() {
			continue
		}
		pool, err := pg.pool(ctx, db)
		if err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, "REASSIGN OWNED BY "+id+" TO "+pgx.Identifier{admin}.Sanitize()+"; DROP OWNED BY "+id); err != nil {
			return fmt.Errorf("sandbox: drop role: %w", err)
		}
	}
	err = pg.roleDDL(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DROP ROLE IF EXISTS "+id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sandbox: drop role: %w", err)
	}
	return nil
}

// roleLockKey is the advisory lock every sandbox on a server takes, on its
// admin database, around the statements that create or drop roles.
const roleLockKey = 0x6e73625f726f6c65 // "nsb_role"

// roleDDL runs fn in a transaction of the admin connection that holds
// roleLockKey. Roles live in the server's shared catalogs, so the sandboxes
// of many test processes on one server create and drop them at once; taking
// turns keeps their catalog updates from colliding ("tuple concurrently
// updated"), and a collision or deadlock that still happens is tried again.
func (pg *backend) roleDDL(ctx context.Context, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = pgx.BeginFunc(ctx, pg.admin, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(roleLockKey)); err != nil {
				return err
			}
			return fn(tx)
		})
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || !retryableCatalogError(pgErr) {
			return err
		}
	}
	return err
}

// retryableCatalogError reports whether a role statement failed only
// because another session changed the same catalog rows at the same time.
func retryableCatalogError(e *pgconn.PgError) bool {
	switch e.Code {
	case "40001", "40P01": // serialization failure, deadlock
		return true
	case "XX000":
		return strings.Contains(e.Message, "concurrently")
	}
	return false
}

// dropRoles drops every role still standing, on close: their databases are
// gone by then, so nothing depends on them but what they made elsewhere.
func (pg *backend) dropRoles(ctx context.Context) error {
	pg.roles.mu.Lock()
	roles := pg.roles.created
	pg.roles.created = nil
	pg.roles.mu.Unlock()
	var errs []error
	for _, rr := range roles {
		rr.mu.Lock()
		rr.dropped = true
		rr.mu.Unlock()
		err := pg.roleDDL(ctx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{rr.name}.Sanitize())
			return err
		})
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "2BP01" { // owns objects in another database
			_, err = pg.admin.Exec(ctx, "DROP OWNED BY "+pgx.Identifier{rr.name}.Sanitize()+"; DROP ROLE "+pgx.Identifier{rr.name}.Sanitize())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sandbox: drop role %s: %w", rr.name, err))
		}
	}
	return errors.Join(errs...)
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// roleURL returns a connection URI to the real database as the real role,
// with the backing server's host and parameters.
func (pg *backend) roleURL(db *realDB, rr *realRole) string {
	u := *pg.adminURL
	u.User = url.UserPassword(rr.name, rr.secret())
	u.Path = "/" + db.name
	u.RawPath = ""
	// The server's own credentials, when its URL carries them as
	// parameters, must not reach the role's URI (nor override its user).
	q, _ := withoutCredentials(u.RawQuery)
	u.RawQuery = q
	return u.String()
}

// withoutCredentials removes the parameters of a connection URI's query
// that name a user or carry a secret, and returns the password among them.
func withoutCredentials(rawQuery string) (string, string) {
	if rawQuery == "" {
		return "", ""
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", "" // unreadable: keep none of it rather than a secret
	}
	pw := q.Get("password")
	for _, k := range []string{"user", "password", "sslpassword"} {
		q.Del(k)
	}
	return q.Encode(), pw
}
