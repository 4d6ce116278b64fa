package sandbox

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// TestCopyDatabaseStopsWhenPsqlFails checks that a copy whose load fails
// early answers psql's error at once: pg_dump, with more to write than a
// pipe holds, must not be left blocked on a pipe nobody reads.
func TestCopyDatabaseStopsWhenPsqlFails(t *testing.T) {
	ctx := context.Background()
	sb, err := New(ctx, Config{DatabaseURL: pgtest.Require(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	src, dst := sb.pg.newRealDB(900001, "copysrc"), sb.pg.newRealDB(900002, "copydst")
	for _, db := range []*realDB{src, dst} {
		if err := sb.pg.ensure(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	srcPool, err := sb.pg.pool(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	// About 1 MB of rows: far more than a pipe's buffer.
	if _, err := srcPool.Exec(ctx, `CREATE TABLE t (v text); INSERT INTO t SELECT repeat('x', 1000) FROM generate_series(1, 1000)`); err != nil {
		t.Fatal(err)
	}
	dstPool, err := sb.pg.pool(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	// The load stops at CREATE TABLE, before any row is read.
	if _, err := dstPool.Exec(ctx, `CREATE TABLE t (v text)`); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	err = sb.pg.copyDatabase(cctx, src, dst)
	if err == nil {
		t.Fatal("copy into a database that already has the table succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("copy took %s to fail: pg_dump was left blocked", d)
	}
	if !strings.HasPrefix(err.Error(), "sandbox: psql:") || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("error = %q, want psql's: relation already exists", err)
	}
}

// TestServerPasswordParameterStaysOut checks that a backing-server URL
// carrying its password as a query parameter lends it to neither a role's
// connection URI nor pg_dump's command line.
func TestServerPasswordParameterStaysOut(t *testing.T) {
	const secret = "srvsecret123"
	u, err := url.Parse(pgtest.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("password", secret)
	u.RawQuery = q.Encode()
	sb, err := New(context.Background(), Config{DatabaseURL: u.String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	p, err := sb.CreateProject(context.Background(), "params")
	if err != nil {
		t.Fatal(err)
	}
	sb.mu.RLock()
	b := sb.projects[p.ID].branches[0]
	rr, db := b.roles[0].real, b.databases[0].real
	sb.mu.RUnlock()
	roleURI := sb.pg.roleURL(db, rr)
	if strings.Contains(roleURI, secret) {
		t.Error("role URI carries the server's password")
	}
	if !strings.Contains(roleURI, rr.name+":"+rr.secret()+"@") {
		t.Errorf("role URI does not log in as %s with its own password", rr.name)
	}
	dumpURI, env := sb.pg.pgDumpURL(db)
	if strings.Contains(dumpURI, secret) {
		t.Error("pg_dump's command line carries the password")
	}
	if !slices.Contains(env, "PGPASSWORD="+secret) {
		t.Error("pg_dump's environment lacks the server's password")
	}
}

// TestFailedDropsAreRetriedOnClose checks that a role or database whose drop
// failed is still dropped by Close: a role left behind keeps its password
// and its membership in the server's user.
func TestFailedDropsAreRetriedOnClose(t *testing.T) {
	sb, err := New(context.Background(), Config{DatabaseURL: pgtest.Require(t)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := sb.CreateProject(context.Background(), "retry")
	if err != nil {
		t.Fatal(err)
	}
	sb.mu.RLock()
	b := sb.projects[p.ID].branches[0]
	rr, db := b.roles[0].real, b.databases[0].real
	sb.mu.RUnlock()
	if err := sb.pg.ensure(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if err := sb.pg.ensureRole(context.Background(), rr); err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sb.pg.dropDB(gone, db); err == nil {
		t.Fatal("dropDB with an ended context succeeded")
	}
	if err := sb.pg.dropRole(gone, rr, nil); err == nil {
		t.Fatal("dropRole with an ended context succeeded")
	}
	admin := adminConn(t)
	if !exists(t, admin, roleExists, rr.name) || !exists(t, admin, databaseExists, db.name) {
		t.Fatal("the failed drops removed the role or database after all")
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if exists(t, admin, roleExists, rr.name) {
		t.Errorf("Close left role %s, whose drop had failed", rr.name)
	}
	if exists(t, admin, databaseExists, db.name) {
		t.Errorf("Close left database %s, whose drop had failed", db.name)
	}
}
