package sandbox

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// connectBranch opens a branch's database through getConnectionURI.
func (e *env) connectBranch(projectID, branchID, db string) *pgx.Conn {
	e.t.Helper()
	var out struct {
		URI string `json:"uri"`
	}
	e.expect("GET", "/projects/"+projectID+"/connection_uri?branch_id="+branchID+"&database_name="+db+"&role_name=neondb_owner", nil, http.StatusOK, &out)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, out.URI)
	if err != nil {
		e.t.Fatalf("connect to %s/%s: %v", projectID, branchID, err)
	}
	e.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// createBranch branches the project with body and returns the new branch id.
func (e *env) createBranch(projectID string, body any) string {
	e.t.Helper()
	var out struct {
		Branch branchJSON `json:"branch"`
	}
	e.expect("POST", "/projects/"+projectID+"/branches", body, http.StatusCreated, &out)
	return out.Branch.ID
}

// TestBranchCopiesNeonAuth branches a Better Auth branch while one user write
// is still queued: the new branch gets the rows already written, the queued
// write, the integration with its settings, and then lives on its own.
func TestBranchCopiesNeonAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, main := e.createProject("branching")
	auth := "/projects/" + p + "/branches/" + main + "/auth"
	e.expect("POST", auth, `{"auth_provider":"better_auth"}`, http.StatusCreated, nil)
	e.expect("POST", auth+"/domains", `{"domain":"https://app.example.com","auth_provider":"better_auth"}`, http.StatusCreated, nil)
	var synced, queued idJSON
	e.expect("POST", auth+"/users", `{"email":"synced@example.com"}`, http.StatusCreated, &synced)
	e.waitSync()
	e.sb.SetSync(SyncNever, 0)
	e.expect("POST", auth+"/users", `{"email":"queued@example.com"}`, http.StatusCreated, &queued)

	child := e.createBranch(p, `{"branch":{"name":"preview"}}`)
	e.sb.SetSync(SyncNormal, 0)
	e.waitSync()

	childAuth := "/projects/" + p + "/branches/" + child + "/auth"
	var in integrationJSON
	e.expect("GET", childAuth, nil, http.StatusOK, &in)
	if in.BranchID != child || in.AuthProvider != "better_auth" || in.JWKSURL == "" {
		t.Errorf("the new branch's getNeonAuth: %+v", in)
	}
	var domains struct {
		Domains []trustedDomainJSON `json:"domains"`
	}
	e.expect("GET", childAuth+"/domains", nil, http.StatusOK, &domains)
	if len(domains.Domains) != 1 || domains.Domains[0].Domain != "https://app.example.com" {
		t.Errorf("the new branch's domains: %+v", domains.Domains)
	}

	parentDB, childDB := e.connectBranch(p, main, "neondb"), e.connectBranch(p, child, "neondb")
	for _, id := range []string{synced.ID, queued.ID} {
		if n, err := count(t, childDB, `SELECT count(*) FROM neon_auth."user" WHERE id = $1`, id); n != 1 || err != nil {
			t.Errorf("user %s: %d rows on the new branch (%v), want 1", id, n, err)
		}
	}
	// Users known to the copy answer 409; new ones stay on their branch.
	e.expect("POST", childAuth+"/users", `{"email":"queued@example.com"}`, http.StatusConflict, nil)
	var own idJSON
	e.expect("POST", childAuth+"/users", `{"email":"own@example.com"}`, http.StatusCreated, &own)
	e.expect("POST", auth+"/domains", `{"domain":"https://main-only.example.com","auth_provider":"better_auth"}`, http.StatusCreated, nil)
	e.waitSync()
	if n, err := count(t, parentDB, `SELECT count(*) FROM neon_auth."user" WHERE id = $1`, own.ID); n != 0 || err != nil {
		t.Errorf("a user made on the new branch reached the parent: %d rows (%v)", n, err)
	}
	e.expect("GET", childAuth+"/domains", nil, http.StatusOK, &domains)
	if len(domains.Domains) != 1 {
		t.Errorf("a domain added to the parent reached the new branch: %+v", domains.Domains)
	}
}

func TestBranchSchemaOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, main := e.createProject("schema-only")
	auth := "/projects/" + p + "/branches/" + main + "/auth"
	e.expect("POST", auth, `{"auth_provider":"better_auth"}`, http.StatusCreated, nil)
	e.expect("POST", auth+"/users", `{"email":"a@example.com"}`, http.StatusCreated, nil)
	e.waitSync()

	child := e.createBranch(p, `{"branch":{"init_source":"schema-only"}}`)
	conn := e.connectBranch(p, child, "neondb")
	if n, err := count(t, conn, `SELECT count(*) FROM neon_auth."user"`); n != 0 || err != nil {
		t.Errorf("schema-only branch: %d users (%v), want the table without rows", n, err)
	}
	e.expect("POST", "/projects/"+p+"/branches/"+child+"/auth/users", `{"email":"a@example.com"}`, http.StatusCreated, nil)
}

// TestBranchOfStackProject copies the users_sync rows, but a project-level
// integration stays with its branch.
func TestBranchOfStackProject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, main := e.createProject("stack-branch")
	e.expect("POST", "/projects/auth/create", `{"auth_provider":"stack","project_id":"`+p+`","branch_id":"`+main+`"}`, http.StatusCreated, nil)
	e.expect("POST", "/projects/auth/user", `{"project_id":"`+p+`","auth_provider":"stack","email":"s@example.com"}`, http.StatusCreated, nil)
	e.waitSync()

	child := e.createBranch(p, `{"endpoints":[{"type":"read_write"}]}`)
	e.expect("GET", "/projects/"+p+"/branches/"+child+"/auth", nil, http.StatusNotFound, nil)
	conn := e.connectBranch(p, child, "neondb")
	if n, err := count(t, conn, `SELECT count(*) FROM neon_auth.users_sync WHERE email = 's@example.com'`); n != 1 || err != nil {
		t.Errorf("users_sync on the new branch: %d rows (%v), want the parent's one", n, err)
	}
}

func TestCreateBranchRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, _ := e.seedProject("refusals")
	tests := []struct {
		body   string
		status int
	}{
		{`{"branch":{"name":"main"}}`, http.StatusConflict},
		{`{"branch":{"parent_id":"br-missing"}}`, http.StatusNotFound},
		{`{"branch":{"parent_timestamp":"2024-01-01T00:00:00Z"}}`, http.StatusBadRequest},
		{`{"branch":{"init_source":"everything"}}`, http.StatusBadRequest},
		{`{"endpoints":[{"type":"read_write"},{"type":"read_write"}]}`, http.StatusBadRequest},
		{`{"endpoints":[{"type":"read_only","autoscaling_limit_min_cu":0.1}]}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		if res := e.request("POST", "/projects/"+p+"/branches", tt.body); res.status != tt.status {
			t.Errorf("createProjectBranch %s: status %d (%s), want %d", tt.body, res.status, res.body, tt.status)
		}
	}
	var list struct {
		Branches []branchJSON `json:"branches"`
	}
	e.expect("GET", "/projects/"+p+"/branches", nil, http.StatusOK, &list)
	if len(list.Branches) != 1 {
		t.Errorf("refused creations left branches behind: %+v", list.Branches)
	}
}
