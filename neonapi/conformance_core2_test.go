package neonapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// core2Ops are the core operations the typed client does not call: each
// must answer at least one success and one error, every exchange valid for
// the spec.
var core2Ops = []string{
	"updateProject", "deleteProject", "countProjectBranches", "updateProjectBranch",
	"deleteProjectBranch", "restoreProjectBranch", "setDefaultProjectBranch",
	"getProjectBranchSchema", "getProjectBranchRole", "deleteProjectBranchRole",
	"getProjectBranchRolePassword", "resetProjectBranchRolePassword",
	"deleteProjectBranchDatabase", "listProjectEndpoints", "createProjectEndpoint",
	"getProjectEndpoint", "updateProjectEndpoint", "deleteProjectEndpoint",
	"startProjectEndpoint", "suspendProjectEndpoint", "restartProjectEndpoint",
	"getProjectOperation", "listApiKeys", "createApiKey", "revokeApiKey",
	"getCurrentUserOrganizations",
}

// rawCaller sends hand-written requests through the conformance transport
// and checks their status.
type rawCaller struct {
	t *testing.T
	c *conformance
}

// expect sends the request with the sandbox's key, checks the status and
// decodes a success into out (when not nil).
func (r rawCaller) expect(op, method, path, body string, status int, out any) []byte {
	r.t.Helper()
	got, data := r.c.sendRead(r.t, op, rawRequest{method, path, body}, true, "")
	if got != status {
		r.t.Fatalf("%s %s %s: status %d, want %d; body %s", op, method, path, got, status, data)
	}
	if status >= 400 {
		var e struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(data, &e); err != nil || e.Message == "" {
			r.t.Errorf("%s: error answer %s has no message", op, data)
		}
	} else if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			r.t.Fatalf("%s: decode %s: %v", op, data, err)
		}
	}
	return data
}

// withKey sends a GET with another bearer token and returns the status.
func (r rawCaller) withKey(op, path, key string) int {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.c.base+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-ID", r.c.requestID(op))
	mark := r.c.tr.Len()
	resp, err := r.c.raw.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.c.checkExchanges(r.t, op, mark)
	return resp.StatusCode
}

type branchAnswer struct {
	Branch struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Default bool   `json:"default"`
	} `json:"branch"`
	Operations []neonapi.Operation `json:"operations"`
	Endpoints  []endpointAnswer    `json:"endpoints"`
}

type endpointAnswer struct {
	ID           string `json:"id"`
	BranchID     string `json:"branch_id"`
	Type         string `json:"type"`
	CurrentState string `json:"current_state"`
	Disabled     bool   `json:"disabled"`
	Suspend      int64  `json:"suspend_timeout_seconds"`
}

type endpointOps struct {
	Endpoint   endpointAnswer      `json:"endpoint"`
	Operations []neonapi.Operation `json:"operations"`
}

// TestConformanceCoreOperations drives the core operations beyond those the
// client calls (projects, branches, roles, databases, endpoints, the
// operation log, API keys and organizations) with real effects checked on
// the backing server, and checks that each answered a success and an error
// that the spec documents.
func TestConformanceCoreOperations(t *testing.T) {
	c := newConformance(t)
	r := rawCaller{t, c}
	fx := conformanceProject(t, c, "core2")
	p, main := "/projects/"+fx.project, "/projects/"+fx.project+"/branches/"+fx.branch

	// Projects.
	var renamed struct {
		Project struct {
			Name string `json:"name"`
		} `json:"project"`
	}
	r.expect("updateProject", "PATCH", p, `{"project":{"name":"core2-renamed"}}`, 200, &renamed)
	if renamed.Project.Name != "core2-renamed" {
		t.Errorf("updateProject answered name %q", renamed.Project.Name)
	}
	r.expect("updateProject", "PATCH", "/projects/no-such-project-404", `{"project":{"name":"x"}}`, 404, nil)

	// Branches.
	var dev branchAnswer
	r.expect("createProjectBranch", "POST", p+"/branches", `{"branch":{"name":"dev"},"endpoints":[{"type":"read_write"}]}`, 201, &dev)
	devPath := p + "/branches/" + dev.Branch.ID
	var count struct {
		Count int `json:"count"`
	}
	r.expect("countProjectBranches", "GET", p+"/branches/count", "", 200, &count)
	if count.Count != 2 {
		t.Errorf("countProjectBranches: %d, want 2", count.Count)
	}
	r.expect("countProjectBranches", "GET", p+"/branches/count?search=nothing-matches", "", 200, &count)
	if count.Count != 0 {
		t.Errorf("countProjectBranches with a search matching nothing: %d", count.Count)
	}
	r.expect("countProjectBranches", "GET", "/projects/no-such-project-404/branches/count", "", 404, nil)

	var upd branchAnswer
	r.expect("updateProjectBranch", "PATCH", devPath, `{"branch":{"name":"dev2"}}`, 200, &upd)
	if upd.Branch.Name != "dev2" {
		t.Errorf("updateProjectBranch: name %q, want dev2", upd.Branch.Name)
	}
	r.expect("updateProjectBranch", "PATCH", devPath, `{"branch":{"name":"main"}}`, 409, nil)

	var def branchAnswer
	r.expect("setDefaultProjectBranch", "POST", devPath+"/set_as_default", "", 200, &def)
	mainNow := must(t, c, "getProjectBranch", func(ctx context.Context) (*neonapi.Branch, error) {
		return c.client.GetBranch(ctx, fx.project, fx.branch)
	})
	if !def.Branch.Default || mainNow.Default {
		t.Errorf("after setDefaultProjectBranch dev2 default %t, main default %t", def.Branch.Default, mainNow.Default)
	}
	r.expect("deleteProjectBranch", "DELETE", devPath, "", 409, nil) // the default now
	r.expect("setDefaultProjectBranch", "POST", main+"/set_as_default", "", 200, nil)
	r.expect("setDefaultProjectBranch", "POST", p+"/branches/br-no-such-branch-404/set_as_default", "", 404, nil)

	testCoreRoles(t, r, fx, main)
	testCoreSchemaAndRestore(t, r, c, fx, dev.Branch.ID)
	testCoreEndpoints(t, r, p, fx.branch, dev.Endpoints[0].ID)
	testCoreKeysAndOrganizations(t, r, c)

	// Deleting a branch drops its databases; deleting the project drops them all.
	var tmp branchAnswer
	r.expect("createProjectBranch", "POST", p+"/branches", `{"branch":{"name":"tmp"}}`, 201, &tmp)
	var deleted branchAnswer
	r.expect("deleteProjectBranch", "DELETE", p+"/branches/"+tmp.Branch.ID, "", 200, &deleted)
	if len(deleted.Operations) == 0 || deleted.Operations[len(deleted.Operations)-1].Action != "delete_timeline" {
		t.Errorf("deleteProjectBranch operations %+v, want delete_timeline", deleted.Operations)
	}
	r.expect("deleteProjectBranch", "DELETE", p+"/branches/"+tmp.Branch.ID, "", 404, nil)

	uri := must(t, c, "getConnectionURI", func(ctx context.Context) (string, error) {
		return c.client.GetConnectionURI(ctx, fx.project, neonapi.ConnectionURIOptions{BranchID: fx.branch, DatabaseName: "neondb", RoleName: "neondb_owner"})
	})
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	r.expect("deleteProject", "DELETE", p, "", 200, nil)
	r.expect("deleteProject", "DELETE", p, "", 404, nil)
	admin, err := pgx.Connect(context.Background(), pgtest.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var dbs, roles int
	if err := admin.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM pg_database WHERE datname = $1), (SELECT count(*) FROM pg_roles WHERE rolname = $2)",
		strings.TrimPrefix(u.Path, "/"), u.User.Username()).Scan(&dbs, &roles); err != nil || dbs+roles != 0 {
		t.Errorf("after deleteProject the server still has %d of its databases and %d of its roles (%v)", dbs, roles, err)
	}

	for _, op := range core2Ops {
		ok, failed := false, false
		for _, ex := range c.tr.Exchanges() {
			if ex.OperationID == op {
				ok = ok || (ex.Status >= 200 && ex.Status < 300)
				failed = failed || ex.Status >= 400
			}
		}
		if !ok || !failed {
			t.Errorf("%s answered a success: %t, an error: %t; want both", op, ok, failed)
		}
	}
}

// testCoreRoles covers a branch's roles and databases: reading one role,
// revealing and resetting its password, deleting roles and databases.
func testCoreRoles(t *testing.T, r rawCaller, fx target, main string) {
	var role struct {
		Role struct {
			Name     string `json:"name"`
			Password string `json:"password"`
		} `json:"role"`
	}
	r.expect("getProjectBranchRole", "GET", main+"/roles/neondb_owner", "", 200, &role)
	if role.Role.Name != "neondb_owner" || role.Role.Password != "" {
		t.Errorf("getProjectBranchRole: %q with password %t, want neondb_owner without", role.Role.Name, role.Role.Password != "")
	}
	r.expect("getProjectBranchRole", "GET", main+"/roles/nobody", "", 404, nil)

	var pw struct {
		Password string `json:"password"`
	}
	r.expect("getProjectBranchRolePassword", "GET", main+"/roles/neondb_owner/reveal_password", "", 200, &pw)
	r.expect("getProjectBranchRolePassword", "GET", main+"/roles/nobody/reveal_password", "", 404, nil)
	var reset struct {
		Role struct {
			Password string `json:"password"`
		} `json:"role"`
		Operations []neonapi.Operation `json:"operations"`
	}
	r.expect("resetProjectBranchRolePassword", "POST", main+"/roles/neondb_owner/reset_password", "", 200, &reset)
	if reset.Role.Password == "" || reset.Role.Password == pw.Password || len(reset.Operations) != 1 {
		t.Errorf("resetProjectBranchRolePassword: new password %t, operations %d; want a new one and one operation", reset.Role.Password != pw.Password, len(reset.Operations))
	}
	r.expect("getProjectBranchRolePassword", "GET", main+"/roles/neondb_owner/reveal_password", "", 200, &pw)
	if pw.Password != reset.Role.Password {
		t.Errorf("reveal_password after a reset does not tell the new password")
	}
	r.expect("resetProjectBranchRolePassword", "POST", main+"/roles/nobody/reset_password", "", 404, nil)

	r.expect("createProjectBranchRole", "POST", main+"/roles", `{"role":{"name":"app"}}`, 201, nil)
	r.expect("deleteProjectBranchRole", "DELETE", main+"/roles/app", "", 200, nil)
	r.expect("deleteProjectBranchRole", "DELETE", main+"/roles/neondb_owner", "", 409, nil) // owns neondb

	r.expect("createProjectBranchDatabase", "POST", main+"/databases", `{"database":{"name":"scratch","owner_name":"neondb_owner"}}`, 201, nil)
	var db struct {
		Database struct {
			Name string `json:"name"`
		} `json:"database"`
	}
	r.expect("deleteProjectBranchDatabase", "DELETE", main+"/databases/scratch", "", 200, &db)
	if db.Database.Name != "scratch" {
		t.Errorf("deleteProjectBranchDatabase answered %q", db.Database.Name)
	}
	r.expect("deleteProjectBranchDatabase", "DELETE", main+"/databases/scratch", "", 404, nil)
	r.expect("listProjectBranchDatabases", "GET", main+"/databases", "", 200, nil)
}

// testCoreSchemaAndRestore makes a table on the default branch, reads it
// back with getProjectBranchSchema, and restores dev from the default
// branch, which brings the table and its row, keeping dev's former state
// under another name.
func testCoreSchemaAndRestore(t *testing.T, r rawCaller, c *conformance, fx target, devID string) {
	ctx := context.Background()
	uri := must(t, c, "getConnectionURI", func(ctx context.Context) (string, error) {
		return c.client.GetConnectionURI(ctx, fx.project, neonapi.ConnectionURIOptions{BranchID: fx.branch, DatabaseName: "neondb", RoleName: "neondb_owner"})
	})
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL); INSERT INTO widgets VALUES (1, 'sprocket')")
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	main := "/projects/" + fx.project + "/branches/" + fx.branch
	var schema struct {
		SQL string `json:"sql"`
	}
	r.expect("getProjectBranchSchema", "GET", main+"/schema?db_name=neondb", "", 200, &schema)
	if !strings.Contains(schema.SQL, "CREATE TABLE public.widgets") || !strings.Contains(schema.SQL, "name text NOT NULL") {
		t.Errorf("getProjectBranchSchema does not show the widgets table:\n%s", schema.SQL)
	}
	r.expect("getProjectBranchSchema", "GET", main+"/schema?db_name=nosuchdb", "", 404, nil)

	dev := "/projects/" + fx.project + "/branches/" + devID
	r.expect("restoreProjectBranch", "POST", dev+"/restore", `{"source_branch_id":"`+devID+`"}`, 400, nil)
	r.expect("restoreProjectBranch", "POST", dev+"/restore", `{"source_branch_id":"br-no-such-branch-404"}`, 404, nil)
	var restored branchAnswer
	r.expect("restoreProjectBranch", "POST", dev+"/restore", `{"source_branch_id":"`+fx.branch+`","preserve_under_name":"dev-before-restore"}`, 200, &restored)
	if restored.Branch.ID != devID || len(restored.Operations) == 0 {
		t.Errorf("restoreProjectBranch: %+v, want dev with its operations", restored)
	}
	devURI := must(t, c, "getConnectionURI", func(ctx context.Context) (string, error) {
		return c.client.GetConnectionURI(ctx, fx.project, neonapi.ConnectionURIOptions{BranchID: devID, DatabaseName: "neondb", RoleName: "neondb_owner"})
	})
	conn, err = pgx.Connect(ctx, devURI)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var name string
	if err := conn.QueryRow(ctx, "SELECT name FROM widgets WHERE id = 1").Scan(&name); err != nil || name != "sprocket" {
		t.Errorf("dev after the restore: widget %q (%v), want the default branch's sprocket", name, err)
	}
	branches := must(t, c, "listProjectBranches", func(ctx context.Context) ([]neonapi.Branch, error) {
		return c.client.ListBranches(ctx, fx.project)
	})
	if !slices.ContainsFunc(branches, func(b neonapi.Branch) bool { return b.Name == "dev-before-restore" && b.ParentID == devID }) {
		t.Errorf("no dev-before-restore branch keeps dev's former state: %+v", branches)
	}
}

// testCoreEndpoints walks an endpoint through its states and checks that
// its operations run, then finish, as getProjectOperation tells.
func testCoreEndpoints(t *testing.T, r rawCaller, p, mainID, devEndpoint string) {
	var list struct {
		Endpoints []endpointAnswer `json:"endpoints"`
	}
	r.expect("listProjectEndpoints", "GET", p+"/endpoints", "", 200, &list)
	if len(list.Endpoints) != 2 || !slices.ContainsFunc(list.Endpoints, func(e endpointAnswer) bool { return e.ID == devEndpoint }) {
		t.Errorf("listProjectEndpoints: %+v, want the default branch's and dev's", list.Endpoints)
	}
	r.expect("listProjectEndpoints", "GET", "/projects/no-such-project-404/endpoints", "", 404, nil)

	var ro endpointOps
	r.expect("createProjectEndpoint", "POST", p+"/endpoints", `{"endpoint":{"branch_id":"`+mainID+`","type":"read_only"}}`, 201, &ro)
	if ro.Endpoint.Type != "read_only" || ro.Endpoint.CurrentState != "active" || len(ro.Operations) != 1 || ro.Operations[0].Action != "start_compute" {
		t.Errorf("createProjectEndpoint: %+v, want an active read_only endpoint and start_compute", ro)
	}
	r.expect("createProjectEndpoint", "POST", p+"/endpoints", `{"endpoint":{"branch_id":"`+mainID+`","type":"read_write"}}`, 409, nil)
	ep := p + "/endpoints/" + ro.Endpoint.ID

	var got struct {
		Endpoint endpointAnswer `json:"endpoint"`
	}
	r.expect("getProjectEndpoint", "GET", ep, "", 200, &got)
	r.expect("getProjectEndpoint", "GET", p+"/endpoints/ep-no-such-endpoint-404", "", 404, nil)

	var changed endpointOps
	r.expect("updateProjectEndpoint", "PATCH", ep, `{"endpoint":{"suspend_timeout_seconds":600}}`, 200, &changed)
	if changed.Endpoint.Suspend != 600 {
		t.Errorf("updateProjectEndpoint: suspend timeout %d, want 600", changed.Endpoint.Suspend)
	}
	r.expect("updateProjectEndpoint", "PATCH", p+"/endpoints/ep-no-such-endpoint-404", `{"endpoint":{"suspend_timeout_seconds":600}}`, 404, nil)

	r.expect("suspendProjectEndpoint", "POST", ep+"/suspend", "", 200, &changed)
	if changed.Endpoint.CurrentState != "idle" {
		t.Errorf("suspendProjectEndpoint: state %q, want idle", changed.Endpoint.CurrentState)
	}
	r.expect("startProjectEndpoint", "POST", ep+"/start", "", 200, &changed)
	if changed.Endpoint.CurrentState != "active" {
		t.Errorf("startProjectEndpoint: state %q, want active", changed.Endpoint.CurrentState)
	}
	r.expect("restartProjectEndpoint", "POST", ep+"/restart", "", 200, &changed)
	if len(changed.Operations) != 2 || changed.Operations[0].Action != "suspend_compute" || changed.Operations[1].Action != "start_compute" ||
		changed.Operations[0].Status != "running" || changed.Operations[1].Status != "scheduling" {
		t.Errorf("restartProjectEndpoint operations %+v, want suspend_compute running then start_compute scheduled", changed.Operations)
	}
	testOperationFinishes(t, r, p, changed.Operations[1].ID)

	r.expect("updateProjectEndpoint", "PATCH", ep, `{"endpoint":{"disabled":true}}`, 200, &changed)
	if !changed.Endpoint.Disabled || changed.Endpoint.CurrentState != "idle" {
		t.Errorf("disabling: %+v, want a disabled idle endpoint", changed.Endpoint)
	}
	r.expect("startProjectEndpoint", "POST", ep+"/start", "", 409, nil)
	r.expect("suspendProjectEndpoint", "POST", p+"/endpoints/ep-no-such-endpoint-404/suspend", "", 404, nil)
	r.expect("restartProjectEndpoint", "POST", p+"/endpoints/ep-no-such-endpoint-404/restart", "", 404, nil)
	r.expect("deleteProjectEndpoint", "DELETE", ep, "", 200, nil)
	r.expect("deleteProjectEndpoint", "DELETE", ep, "", 404, nil)
}

// testOperationFinishes polls getProjectOperation until the operation has
// run: scheduling or running first, finished within a few seconds.
func testOperationFinishes(t *testing.T, r rawCaller, p, id string) {
	var op struct {
		Operation neonapi.Operation `json:"operation"`
	}
	r.expect("getProjectOperation", "GET", p+"/operations/"+id, "", 200, &op)
	if op.Operation.Status == "finished" {
		t.Errorf("the operation finished at once; the sandbox's operation time is not applied")
	}
	deadline := time.Now().Add(5 * time.Second)
	for op.Operation.Status != "finished" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		r.expect("getProjectOperation", "GET", p+"/operations/"+id, "", 200, &op)
	}
	if op.Operation.Status != "finished" || op.Operation.TotalDurationMS < 100 {
		t.Errorf("getProjectOperation: %+v, want finished after running for the operation time", op.Operation)
	}
	r.expect("getProjectOperation", "GET", p+"/operations/00000000-0000-4000-8000-000000000404", "", 404, nil)
}

// testCoreKeysAndOrganizations creates an API key, uses it, revokes it, and
// lists the account's organizations.
func testCoreKeysAndOrganizations(t *testing.T, r rawCaller, c *conformance) {
	var key struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	r.expect("createApiKey", "POST", "/api_keys", `{"key_name":"ci"}`, 200, &key)
	if got := r.withKey("getCurrentUserInfo", "/users/me", key.Key); got != 200 {
		t.Errorf("a created key is refused: %d", got)
	}
	var keys []struct {
		ID         int64   `json:"id"`
		Name       string  `json:"name"`
		LastUsedAt *string `json:"last_used_at"`
	}
	r.expect("listApiKeys", "GET", "/api_keys", "", 200, &keys)
	if len(keys) != 1 || keys[0].ID != key.ID || keys[0].Name != "ci" || keys[0].LastUsedAt == nil {
		t.Errorf("listApiKeys: %+v, want the ci key, used", keys)
	}
	var revoked struct {
		Revoked bool `json:"revoked"`
	}
	r.expect("revokeApiKey", "DELETE", "/api_keys/"+jsonInt(key.ID), "", 200, &revoked)
	if !revoked.Revoked {
		t.Errorf("revokeApiKey did not answer revoked")
	}
	if got := r.withKey("getCurrentUserInfo", "/users/me", key.Key); got != 401 {
		t.Errorf("a revoked key answers %d, want 401", got)
	}
	r.expect("revokeApiKey", "DELETE", "/api_keys/"+jsonInt(key.ID), "", 404, nil)
	if got := c.send(t, "listApiKeys", rawRequest{"GET", "/api_keys", ""}, false, "security requirements failed"); got != 401 {
		t.Errorf("listApiKeys without a key: %d, want 401", got)
	}
	if got := c.send(t, "createApiKey", rawRequest{"POST", "/api_keys", `{"key_name":"x"}`}, false, "security requirements failed"); got != 401 {
		t.Errorf("createApiKey without a key: %d, want 401", got)
	}

	r.expect("createProject", "POST", "/projects", `{"project":{"name":"core2-org","org_id":"org-sandbox-1"}}`, 201, nil)
	var orgs struct {
		Organizations []struct {
			ID string `json:"id"`
		} `json:"organizations"`
	}
	r.expect("getCurrentUserOrganizations", "GET", "/users/me/organizations", "", 200, &orgs)
	if len(orgs.Organizations) != 1 || orgs.Organizations[0].ID != "org-sandbox-1" {
		t.Errorf("getCurrentUserOrganizations: %+v, want org-sandbox-1", orgs.Organizations)
	}
	if got := r.withKey("getCurrentUserOrganizations", "/users/me/organizations", "napi_not_the_sandbox_key"); got != 401 {
		t.Errorf("getCurrentUserOrganizations with a wrong key: %d, want 401", got)
	}
}

// jsonInt formats an id for a path.
func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
