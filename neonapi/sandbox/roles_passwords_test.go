package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// scramMatches reports whether password matches a SCRAM-SHA-256 verifier as
// Postgres keeps it in pg_authid: the check the server makes at login,
// whatever pg_hba.conf says (the test server trusts 127.0.0.1, so a login
// cannot prove a password wrong).
func scramMatches(t *testing.T, verifier, password string) bool {
	t.Helper()
	// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
	mech, rest, _ := strings.Cut(verifier, "$")
	params, keys, _ := strings.Cut(rest, "$")
	iterText, saltText, _ := strings.Cut(params, ":")
	storedText, _, _ := strings.Cut(keys, ":")
	iter, err := strconv.Atoi(iterText)
	salt, err2 := base64.StdEncoding.DecodeString(saltText)
	stored, err3 := base64.StdEncoding.DecodeString(storedText)
	if mech != "SCRAM-SHA-256" || err != nil || err2 != nil || err3 != nil {
		t.Fatalf("not a SCRAM-SHA-256 verifier: %.20q...", verifier)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, salted)
	h.Write([]byte("Client Key"))
	sum := sha256.Sum256(h.Sum(nil))
	return hmac.Equal(sum[:], stored)
}

// adminConn connects to the backing server as the sandbox does.
func adminConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pgtest.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// verifierOf reads a role's password verifier from pg_authid ("" for none).
func verifierOf(t *testing.T, admin *pgx.Conn, role string) string {
	t.Helper()
	var v *string
	err := admin.QueryRow(context.Background(), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&v)
	if err != nil {
		t.Fatalf("read the verifier of %s: %v", role, err)
	}
	if v == nil {
		return ""
	}
	return *v
}

// exists counts the roles or databases named so on the backing server.
func exists(t *testing.T, admin *pgx.Conn, sql, name string) bool {
	t.Helper()
	var n int
	if err := admin.QueryRow(context.Background(), sql, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

const (
	roleExists     = "SELECT count(*) FROM pg_roles WHERE rolname = $1"
	databaseExists = "SELECT count(*) FROM pg_database WHERE datname = $1"
)

// connectionURI asks getConnectionURI for a database and role of a branch.
func (e *env) connectionURI(projectID, branchID, db, role string) *url.URL {
	e.t.Helper()
	var out struct {
		URI string `json:"uri"`
	}
	e.expect("GET", "/projects/"+projectID+"/connection_uri?branch_id="+branchID+"&database_name="+db+"&role_name="+role, nil, http.StatusOK, &out)
	u, err := url.Parse(out.URI)
	if err != nil {
		e.t.Fatalf("connection URI does not parse: %v", err)
	}
	return u
}

// TestConnectionURIWorksAsIs checks that getConnectionURI answers a URI that
// psql and pgx take as is, logging in as the branch's own role with the
// password reveal_password tells, and that the listings name the same role.
func TestConnectionURIWorksAsIs(t *testing.T) {
	e := newEnv(t, Config{})
	admin := adminConn(t)
	p, br := e.createProject("uri")
	u := e.connectionURI(p, br, "neondb", "neondb_owner")

	user := u.User.Username()
	pw, hasPW := u.User.Password()
	realDB := strings.TrimPrefix(u.Path, "/")
	if !strings.HasPrefix(user, "nsb_") || !strings.HasSuffix(user, "_neondb_owner") || !hasPW || !strings.HasPrefix(pw, "npg_") {
		t.Fatalf("URI user %q (password set %t), want nsb_<sandbox>_r<n>_neondb_owner with an npg_ password", user, hasPW)
	}
	if !strings.HasSuffix(realDB, "_neondb") {
		t.Errorf("URI database %q, want the branch's real neondb", realDB)
	}

	// psql takes the URI as is.
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatal("psql is not installed")
	}
	out, err := exec.Command(psql, u.String(), "-Atc", "select current_user, current_database()").CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v: %s", err, strings.ReplaceAll(string(out), pw, "[REDACTED]"))
	}
	if got, want := strings.TrimSpace(string(out)), user+"|"+realDB; got != want {
		t.Errorf("psql answered %q, want %q", got, want)
	}
	// So does pgx, and the role can work with what Neon Auth provisions.
	conn, err := pgx.Connect(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var cu, cd string
	if err := conn.QueryRow(context.Background(), "select current_user, current_database()").Scan(&cu, &cd); err != nil || cu != user || cd != realDB {
		t.Errorf("pgx: %q %q (%v), want %q %q", cu, cd, err, user, realDB)
	}
	var super bool
	if err := conn.QueryRow(context.Background(), "select rolsuper from pg_roles where rolname = current_user").Scan(&super); err != nil || super {
		t.Errorf("the branch role is superuser: %t (%v)", super, err)
	}

	// The server keeps a verifier for the revealed password.
	var revealed struct {
		Password string `json:"password"`
	}
	e.expect("GET", "/projects/"+p+"/branches/"+br+"/roles/neondb_owner/reveal_password", nil, http.StatusOK, &revealed)
	if revealed.Password != pw {
		t.Errorf("reveal_password does not tell the URI's password")
	}
	if v := verifierOf(t, admin, user); !scramMatches(t, v, pw) || scramMatches(t, v, pw+"x") {
		t.Errorf("pg_authid's verifier of %s does not match exactly the revealed password", user)
	}

	// The listings name the role as Neon does, without its password.
	var role struct {
		Role roleJSON `json:"role"`
	}
	e.expect("GET", "/projects/"+p+"/branches/"+br+"/roles/neondb_owner", nil, http.StatusOK, &role)
	if role.Role.Name != "neondb_owner" || role.Role.Password != "" || role.Role.BranchID != br {
		t.Errorf("getProjectBranchRole: %+v, want neondb_owner of %s without a password", role.Role, br)
	}
}

// TestResetPasswordRetiresTheOld checks that reset_password is an operation
// answering a new password, that the server's verifier then matches only
// the new one, and that the URIs answered from then on carry it.
func TestResetPasswordRetiresTheOld(t *testing.T) {
	e := newEnv(t, Config{OperationTime: 50 * time.Millisecond})
	admin := adminConn(t)
	p, br := e.createProject("reset")
	u := e.connectionURI(p, br, "neondb", "neondb_owner")
	oldPW, _ := u.User.Password()

	var out struct {
		Role       roleJSON        `json:"role"`
		Operations []operationJSON `json:"operations"`
	}
	e.expect("POST", "/projects/"+p+"/branches/"+br+"/roles/neondb_owner/reset_password", nil, http.StatusOK, &out)
	if out.Role.Password == "" || out.Role.Password == oldPW || len(out.Operations) != 1 || out.Operations[0].Action != "apply_config" || out.Operations[0].Status != "running" {
		t.Fatalf("reset_password: role %q (new password %t), operations %+v; want a new password and a running apply_config", out.Role.Name, out.Role.Password != oldPW, out.Operations)
	}
	v := verifierOf(t, admin, u.User.Username())
	if !scramMatches(t, v, out.Role.Password) || scramMatches(t, v, oldPW) {
		t.Errorf("after the reset the verifier matches new %t, old %t; want only the new", scramMatches(t, v, out.Role.Password), scramMatches(t, v, oldPW))
	}
	if pw, _ := e.connectionURI(p, br, "neondb", "neondb_owner").User.Password(); pw != out.Role.Password {
		t.Errorf("getConnectionURI after the reset does not carry the new password")
	}
	eventually(t, "the reset operation finishes", func() (bool, error) {
		var op struct {
			Operation operationJSON `json:"operation"`
		}
		e.expect("GET", "/projects/"+p+"/operations/"+out.Operations[0].ID, nil, http.StatusOK, &op)
		return op.Operation.Status == "finished" && op.Operation.TotalDurationMS >= 50, nil
	})
}

// TestRolesLiveAndDieWithTheirBranch checks that a branch copies its
// parent's role passwords into roles of its own, that deleting a role or a
// branch drops the real roles and databases, and that a database owner
// cannot be deleted.
func TestRolesLiveAndDieWithTheirBranch(t *testing.T) {
	e := newEnv(t, Config{OperationTime: -1})
	admin := adminConn(t)
	p, br := e.createProject("lifecycle")
	parentURI := e.connectionURI(p, br, "neondb", "neondb_owner")
	parentPW, _ := parentURI.User.Password()

	var child struct {
		Branch         branchJSON              `json:"branch"`
		ConnectionURIs []connectionDetailsJSON `json:"connection_uris"`
	}
	e.expect("POST", "/projects/"+p+"/branches", map[string]any{"branch": map[string]any{"name": "dev"}, "endpoints": []any{map[string]any{"type": "read_write"}}}, http.StatusCreated, &child)
	cu, err := url.Parse(child.ConnectionURIs[0].ConnectionURI)
	if err != nil {
		t.Fatal(err)
	}
	childPW, _ := cu.User.Password()
	if cu.User.Username() == parentURI.User.Username() || childPW != parentPW || child.ConnectionURIs[0].ConnectionParameters.Role != cu.User.Username() {
		t.Errorf("the branch's role is %q with the parent's password %t; want a role of its own with the same password", cu.User.Username(), childPW == parentPW)
	}
	conn, err := pgx.Connect(context.Background(), cu.String())
	if err != nil {
		t.Fatalf("connect to the new branch: %v", err)
	}
	conn.Close(context.Background())

	// A role owning a database stays; another goes with its real role.
	if res := e.request("DELETE", "/projects/"+p+"/branches/"+br+"/roles/neondb_owner", nil); res.status != http.StatusConflict {
		t.Errorf("deleting the owner of neondb: %d %s, want 409", res.status, res.body)
	}
	var created struct {
		Role roleJSON `json:"role"`
	}
	e.expect("POST", "/projects/"+p+"/branches/"+br+"/roles", map[string]any{"role": map[string]any{"name": "reader"}}, http.StatusCreated, &created)
	reader := e.connectionURI(p, br, "neondb", "reader").User.Username()
	if created.Role.Password == "" || !exists(t, admin, roleExists, reader) {
		t.Fatalf("createProjectBranchRole answered no password, or %s was not made", reader)
	}
	e.expect("DELETE", "/projects/"+p+"/branches/"+br+"/roles/reader", nil, http.StatusOK, nil)
	if exists(t, admin, roleExists, reader) {
		t.Errorf("deleting the role left %s on the server", reader)
	}
	if res := e.request("GET", "/projects/"+p+"/branches/"+br+"/roles/reader/reveal_password", nil); res.status != http.StatusNotFound {
		t.Errorf("reveal_password of a deleted role: %d, want 404", res.status)
	}

	// Deleting the branch drops its database and role.
	childDB := strings.TrimPrefix(cu.Path, "/")
	e.expect("DELETE", "/projects/"+p+"/branches/"+child.Branch.ID, nil, http.StatusOK, nil)
	if exists(t, admin, databaseExists, childDB) || exists(t, admin, roleExists, cu.User.Username()) {
		t.Errorf("deleting the branch left its database or role on the server")
	}
	// The parent is untouched.
	if !exists(t, admin, roleExists, parentURI.User.Username()) {
		t.Errorf("deleting the branch dropped the parent's role")
	}
}

// TestCloseDropsRoles checks that closing the sandbox drops the real roles
// it made.
func TestCloseDropsRoles(t *testing.T) {
	sb, err := New(context.Background(), Config{DatabaseURL: pgtest.Require(t)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := sb.CreateProject(context.Background(), "closing")
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
	admin := adminConn(t)
	if !exists(t, admin, roleExists, rr.name) {
		t.Fatalf("role %s was not made", rr.name)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if exists(t, admin, roleExists, rr.name) {
		t.Errorf("Close left role %s on the server", rr.name)
	}
}
