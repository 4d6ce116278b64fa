package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// coverageSpecPath is Neon's OpenAPI document, vendored for the conformance
// tests (neonapi/testdata/README.md says where it comes from).
const coverageSpecPath = "../testdata/neon-api-v2.2026-06-09.json"

// coreTags are the spec tags of Neon's core API: what a program that manages
// projects, branches and computes calls.
var coreTags = []string{"Project", "Branch", "Endpoint", "Operation", "API Key", "Organizations", "Users"}

// servedCoreOps are the core operations the sandbox serves. The coverage test
// fails when one of them stops reaching its own route.
var servedCoreOps = []string{
	// Project
	"listProjects", "createProject", "listSharedProjects", "getProject", "updateProject",
	"deleteProject", "getConnectionURI",
	// Branch
	"listProjectBranches", "createProjectBranch", "countProjectBranches", "getProjectBranch",
	"updateProjectBranch", "deleteProjectBranch", "restoreProjectBranch",
	"setDefaultProjectBranch", "getProjectBranchSchema", "listProjectBranchEndpoints",
	"listProjectBranchDatabases", "createProjectBranchDatabase", "getProjectBranchDatabase",
	"deleteProjectBranchDatabase", "listProjectBranchRoles", "createProjectBranchRole",
	"getProjectBranchRole", "deleteProjectBranchRole", "getProjectBranchRolePassword",
	"resetProjectBranchRolePassword",
	// Endpoint
	"listProjectEndpoints", "createProjectEndpoint", "getProjectEndpoint",
	"updateProjectEndpoint", "deleteProjectEndpoint", "startProjectEndpoint",
	"suspendProjectEndpoint", "restartProjectEndpoint",
	// Operation
	"listProjectOperations", "getProjectOperation",
	// API Key
	"listApiKeys", "createApiKey", "revokeApiKey",
	// Users and Organizations
	"getAuthDetails", "getCurrentUserInfo", "getCurrentUserOrganizations",
}

// specOperation is one operation of the spec, as the coverage test needs it.
type specOperation struct {
	id, method, path string
	tags             []string
}

// loadSpecOperations reads every operation of the vendored spec.
func loadSpecOperations(t *testing.T) []specOperation {
	t.Helper()
	data, err := os.ReadFile(coverageSpecPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []specOperation
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			switch method {
			case "get", "post", "put", "patch", "delete":
			default:
				continue // path-level parameters
			}
			var op struct {
				OperationID string   `json:"operationId"`
				Tags        []string `json:"tags"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, specOperation{id: op.OperationID, method: strings.ToUpper(method), path: path, tags: op.Tags})
		}
	}
	slices.SortFunc(ops, func(a, b specOperation) int { return strings.Compare(a.path+a.method, b.path+b.method) })
	return ops
}

// pathParam matches a path template's parameters.
var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// routedTo returns the route pattern a request for op reaches, "" for the
// "no such endpoint" fallback. The parameters get plausible values, so a
// literal segment such as /branches/count that the sandbox does not route
// lands on the {branch_id} route, which is not op's.
func routedTo(s *Sandbox, op specOperation) string {
	path := pathParam.ReplaceAllStringFunc(op.path, func(p string) string {
		switch p {
		case "{key_id}":
			return "123"
		case "{operation_id}":
			return "00000000-0000-4000-8000-000000000001"
		}
		return "x" + strings.Trim(p, "{}")
	})
	req := httptest.NewRequest(op.method, apiPrefix+path, nil)
	_, pattern := s.mux.Handler(req)
	if pattern == "/" {
		return ""
	}
	return pattern
}

// TestCoreCoverage counts, per core tag, the operations the sandbox serves (a
// route of their own, not the fallback nor another operation's route) and
// logs the table; it fails when an operation listed in servedCoreOps is not
// served.
func TestCoreCoverage(t *testing.T) {
	e := newEnv(t, Config{})
	served := map[string]bool{}
	type tally struct{ served, total int }
	byTag := map[string]*tally{}
	for _, tag := range coreTags {
		byTag[tag] = &tally{}
	}
	var missing []string
	seen := map[string]bool{}
	for _, op := range loadSpecOperations(t) {
		var tags []string
		for _, tag := range op.tags {
			if byTag[tag] != nil {
				tags = append(tags, tag)
			}
		}
		if len(tags) == 0 {
			continue
		}
		seen[op.id] = true
		ok := routedTo(e.sb, op) == op.method+" "+apiPrefix+op.path
		served[op.id] = ok
		for _, tag := range tags {
			byTag[tag].total++
			if ok {
				byTag[tag].served++
			}
		}
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (%s %s)", op.id, op.method, op.path))
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-14s %6s %6s\n", "tag", "served", "total")
	for _, tag := range coreTags {
		fmt.Fprintf(&table, "%-14s %6d %6d\n", tag, byTag[tag].served, byTag[tag].total)
	}
	n := 0
	for _, ok := range served {
		if ok {
			n++
		}
	}
	fmt.Fprintf(&table, "%-14s %6d %6d (an operation with two tags counts once)\n", "all", n, len(served))
	t.Log(table.String())
	t.Logf("not served: %s", strings.Join(missing, ", "))

	for _, id := range servedCoreOps {
		switch {
		case !seen[id]:
			t.Errorf("%s is listed as served but the spec has no such core operation", id)
		case !served[id]:
			t.Errorf("%s is listed as served but does not reach its own route", id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(served)) {
		if served[id] && !slices.Contains(servedCoreOps, id) {
			t.Errorf("%s is served: list it in servedCoreOps so that it stays served", id)
		}
	}
}
