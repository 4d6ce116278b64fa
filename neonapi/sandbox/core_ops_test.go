package sandbox

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestRequestIDHeaders checks that the request id is answered in
// X-Request-ID and, as Neon names it, X-Neon-Ret-Request-Id.
func TestRequestIDHeaders(t *testing.T) {
	e := newEnv(t, Config{})
	res := e.request("GET", "/users/me", nil, "X-Request-ID", "trace-me-1")
	if res.status != http.StatusOK || res.header.Get("X-Neon-Ret-Request-Id") != "trace-me-1" || res.header.Get("X-Request-ID") != "trace-me-1" {
		t.Errorf("status %d, X-Neon-Ret-Request-Id %q, X-Request-ID %q; want both trace-me-1", res.status, res.header.Get("X-Neon-Ret-Request-Id"), res.header.Get("X-Request-ID"))
	}
	res = e.request("GET", "/projects/no-such-project/branches/count", nil)
	id := res.header.Get("X-Neon-Ret-Request-Id")
	if res.status != http.StatusNotFound || id == "" || res.generalError(t).RequestID != id {
		t.Errorf("without an id: status %d, header %q, body %s; want a generated id in both", res.status, id, res.body)
	}
}

// TestOperationsRunForOperationTime checks that operations are scheduled,
// run and finish one after the other, each for Config.OperationTime, and
// that zero means DefaultOperationTime.
func TestOperationsRunForOperationTime(t *testing.T) {
	if d := newEnv(t, Config{}).sb.cfg.OperationTime; d != DefaultOperationTime {
		t.Errorf("Config.OperationTime 0 runs operations for %s, want %s", d, DefaultOperationTime)
	}
	const opTime = 200 * time.Millisecond
	e := newEnv(t, Config{OperationTime: opTime})
	var out struct {
		Operations []operationJSON `json:"operations"`
	}
	e.expect("POST", "/projects", map[string]any{"project": map[string]any{"name": "timed"}}, http.StatusCreated, &out)
	if len(out.Operations) != 2 || out.Operations[0].Status != "running" || out.Operations[1].Status != "scheduling" {
		t.Fatalf("createProject operations %+v, want create_timeline running, start_compute scheduling", out.Operations)
	}
	time.Sleep(2*opTime + 50*time.Millisecond)
	var list struct {
		Operations []operationJSON `json:"operations"`
	}
	e.expect("GET", "/projects/"+out.Operations[0].ProjectID+"/operations", nil, http.StatusOK, &list)
	for _, o := range list.Operations {
		if o.Status != "finished" || o.TotalDurationMS != int(opTime.Milliseconds()) {
			t.Errorf("after twice the operation time: %s %s after %d ms, want finished after %d ms", o.Action, o.Status, o.TotalDurationMS, opTime.Milliseconds())
		}
	}
}

// TestBranchDeletionRules checks what deleteProjectBranch refuses, and that
// a restore without preserve_under_name drops the databases it replaced.
func TestBranchDeletionRules(t *testing.T) {
	e := newEnv(t, Config{OperationTime: -1})
	admin := adminConn(t)
	p, main := e.createProject("rules")
	var child, grandchild struct {
		Branch branchJSON `json:"branch"`
	}
	e.expect("POST", "/projects/"+p+"/branches", map[string]any{"branch": map[string]any{"name": "child"}}, http.StatusCreated, &child)
	e.expect("POST", "/projects/"+p+"/branches", map[string]any{"branch": map[string]any{"name": "grandchild", "parent_id": child.Branch.ID, "protected": true}}, http.StatusCreated, &grandchild)

	for _, tc := range []struct{ id, why string }{{main, "default"}, {child.Branch.ID, "child branches"}, {grandchild.Branch.ID, "protected"}} {
		res := e.request("DELETE", "/projects/"+p+"/branches/"+tc.id, nil)
		if res.status != http.StatusConflict || !strings.Contains(res.generalError(t).Message, tc.why) {
			t.Errorf("deleting the %s branch: %d %s, want 409 saying so", tc.why, res.status, res.body)
		}
	}

	// A restore without preserve_under_name drops the replaced database.
	before := e.connectionURI(p, child.Branch.ID, "neondb", "neondb_owner")
	e.expect("POST", "/projects/"+p+"/branches/"+child.Branch.ID+"/restore", map[string]any{"source_branch_id": main}, http.StatusOK, nil)
	after := e.connectionURI(p, child.Branch.ID, "neondb", "neondb_owner")
	if before.Path == after.Path || exists(t, admin, databaseExists, strings.TrimPrefix(before.Path, "/")) {
		t.Errorf("after the restore the branch's database is %s, the replaced one still exists: %t", after.Path, exists(t, admin, databaseExists, strings.TrimPrefix(before.Path, "/")))
	}
	mainPW, _ := e.connectionURI(p, main, "neondb", "neondb_owner").User.Password()
	if pw, _ := after.User.Password(); pw != mainPW {
		t.Errorf("the restored branch's role does not have the source's password")
	}

	// Unprotected and childless, the branches go, deepest first.
	e.expect("PATCH", "/projects/"+p+"/branches/"+grandchild.Branch.ID, map[string]any{"branch": map[string]any{"protected": false}}, http.StatusOK, nil)
	e.expect("DELETE", "/projects/"+p+"/branches/"+grandchild.Branch.ID, nil, http.StatusOK, nil)
	e.expect("DELETE", "/projects/"+p+"/branches/"+child.Branch.ID, nil, http.StatusOK, nil)
	var count struct {
		Count int `json:"count"`
	}
	e.expect("GET", "/projects/"+p+"/branches/count", nil, http.StatusOK, &count)
	if count.Count != 1 {
		t.Errorf("%d branches left, want the default one", count.Count)
	}
}

// TestDeletedProjectIsGone checks that a deleted project leaves the
// listings and answers 404, while paging past it still works.
func TestDeletedProjectIsGone(t *testing.T) {
	e := newEnv(t, Config{OperationTime: -1})
	first, _ := e.seedProject("first")
	gone, _ := e.seedProject("gone")
	last, _ := e.seedProject("last")
	e.expect("DELETE", "/projects/"+gone, nil, http.StatusOK, nil)
	var page struct {
		Projects []projectListItemJSON `json:"projects"`
	}
	e.expect("GET", "/projects?limit=1&cursor="+url.QueryEscape(first), nil, http.StatusOK, &page)
	if len(page.Projects) != 1 || page.Projects[0].ID != last {
		t.Errorf("the page after %s: %+v, want only %s", first, page.Projects, last)
	}
	for _, path := range []string{"/projects/" + gone, "/projects/" + gone + "/branches", "/projects/" + gone + "/endpoints"} {
		if res := e.request("GET", path, nil); res.status != http.StatusNotFound {
			t.Errorf("GET %s after deleteProject: %d, want 404", path, res.status)
		}
	}
}
