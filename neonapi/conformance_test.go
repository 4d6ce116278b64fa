package neonapi_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/internal/specvalidate"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// TestConformance drives every operation of the client against the sandbox,
// successes and failures alike, and checks each request and response against
// Neon's OpenAPI document: the client must send only what Neon accepts, and
// the sandbox must answer only what Neon documents.
func TestConformance(t *testing.T) {
	c := newConformance(t)
	cases := operationCases()
	// Names that are valid for the spec's patterns but name nothing.
	unknown := target{project: "no-such-project-404", branch: "br-no-such-branch-404", user: "00000000-0000-4000-8000-000000000404"}

	// run is t.Run, counting the subtests that actually ran: coverage can only
	// be judged when -run selected all of them.
	planned, ran := 0, 0
	run := func(name string, f func(t *testing.T)) {
		planned++
		t.Run(name, func(t *testing.T) {
			ran++
			f(t)
		})
	}

	run("operations succeed", func(t *testing.T) { testConformingSuccesses(t, c) })
	run("core operations succeed", func(t *testing.T) { testCoreSuccesses(t, c) })
	run("branch auth operations succeed", func(t *testing.T) { testBranchAuthSuccesses(t, c) })

	fx := newFixtures(t, c)
	stackT := fx.stack

	run("unknown project answers 404", func(t *testing.T) {
		for _, tc := range cases {
			if !tc.scoped {
				continue
			}
			t.Run(tc.op, func(t *testing.T) {
				id, err := c.call(t, tc.op, func(ctx context.Context) error { return tc.call(ctx, c.once, unknown) })
				wantAPIError(t, tc.op, err, http.StatusNotFound, neonapi.ErrNotFound, id)
			})
		}
	})

	run("wrong key answers 401", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.op, func(t *testing.T) {
				id, err := c.call(t, tc.op, func(ctx context.Context) error { return tc.call(ctx, c.wrongKey, unknown) })
				wantAPIError(t, tc.op, err, http.StatusUnauthorized, neonapi.ErrUnauthorized, id)
			})
		}
	})

	run("missing bearer answers 401", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.op, func(t *testing.T) {
				if got := c.send(t, tc.op, tc.raw(unknown), false, "security requirements failed"); got != http.StatusUnauthorized {
					t.Errorf("%s without Authorization: status %d, want 401", tc.op, got)
				}
			})
		}
	})

	run("injected faults", func(t *testing.T) {
		faults := []struct {
			kind     sandbox.FaultKind
			status   int
			sentinel error
		}{
			{"429", http.StatusTooManyRequests, neonapi.ErrRateLimited},
			{"503", http.StatusServiceUnavailable, neonapi.ErrUnavailable},
			{"423", http.StatusLocked, neonapi.ErrLocked},
		}
		for _, tc := range cases {
			for _, f := range faults {
				t.Run(tc.op+"/"+string(f.kind), func(t *testing.T) {
					c.sb.InjectFault(sandbox.Fault{Kind: f.kind, Count: 1, PathContains: "/api/v2/"})
					id, err := c.call(t, tc.op, func(ctx context.Context) error { return tc.call(ctx, c.once, stackT) })
					wantAPIError(t, tc.op, err, f.status, f.sentinel, id)
				})
			}
		}
	})

	run("faults safe to retry are retried", func(t *testing.T) { testRetriedFaults(t, c, fx) })

	run("conflicts answer 409", func(t *testing.T) { testConflicts(t, c, fx) })

	run("invalid requests answer 400", func(t *testing.T) { testInvalidRequests(t, c, fx) })

	run("client reports 400 as ErrBadRequest", func(t *testing.T) { testClientBadRequest(t, c, fx) })

	run("state and values Neon refuses", func(t *testing.T) { testStateErrors(t, c, fx) })
	run("client refuses input the spec forbids", func(t *testing.T) { testClientRefuses(t, c, fx) })

	t.Run("every operation is covered", func(t *testing.T) {
		if ran < planned {
			t.Skipf("only %d of %d subtests ran; coverage is judged on a full run", ran, planned)
		}
		testCoverage(t, c)
	})
}

// fixtures are the objects the failure cases act on.
type fixtures struct {
	// stack is a project with a stack integration and a user; branch one with
	// Neon Auth (better_auth) on its default branch and a user.
	stack, branch target
}

// newFixtures creates the fixtures.
func newFixtures(t *testing.T, c *conformance) fixtures {
	stackT := conformanceProject(t, c, "conformance-errors-stack")
	branchT := conformanceProject(t, c, "conformance-errors-branch")
	must(t, c, "createNeonAuthIntegration", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
		return c.client.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{AuthProvider: authprovider.Stack, ProjectID: stackT.project, BranchID: stackT.branch, DatabaseName: "neondb"})
	})
	stackT.user = must(t, c, "createNeonAuthNewUser", func(ctx context.Context) (*neonapi.CreatedUser, error) {
		return c.client.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: stackT.project, AuthProvider: authprovider.Stack, Email: "grace@example.com"})
	}).ID
	must(t, c, "createNeonAuth", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
		return c.client.EnableBranchAuth(ctx, branchT.project, branchT.branch, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth, DatabaseName: "neondb"})
	})
	branchT.user = must(t, c, "createBranchNeonAuthNewUser", func(ctx context.Context) (*neonapi.CreatedUser, error) {
		return c.client.CreateBranchUser(ctx, branchT.project, branchT.branch, neonapi.CreateBranchUserRequest{Email: "grace@example.com"})
	}).ID
	return fixtures{stack: stackT, branch: branchT}
}

// coreOps are the operations Neon's own clients call around Neon Auth: the
// account, shared projects, branches, their endpoints, databases and roles,
// and the operation log.
var coreOps = []string{
	"getCurrentUserInfo", "listSharedProjects", "listProjectOperations",
	"getProjectBranch", "createProjectBranch", "listProjectBranchEndpoints",
	"getProjectBranchDatabase", "createProjectBranchDatabase", "createProjectBranchRole",
}

// branchAuthPrefix is where the branch-level Neon Auth operations live.
const branchAuthPrefix = "/projects/{project_id}/branches/{branch_id}/auth"

// wantBranchAuthOps is how many branch-level Auth operations the spec
// snapshot defines.
const wantBranchAuthOps = 28

// branchAuthOps returns the spec's branch-level Neon Auth operations: tagged
// Auth, at or below branchAuthPrefix.
func branchAuthOps(spec *specvalidate.Spec) []specvalidate.Operation {
	var out []specvalidate.Operation
	for _, op := range spec.Operations() {
		if slices.Contains(op.Tags, "Auth") && (op.Path == branchAuthPrefix || strings.HasPrefix(op.Path, branchAuthPrefix+"/")) {
			out = append(out, op)
		}
	}
	return out
}

// testCoverage fails for every operation that lacks a success or an error
// among the exchanges so far. The operations are those of conformanceOps,
// coreOps, every branch-level Auth operation of the spec, and every operation
// a Client method names.
func testCoverage(t *testing.T, c *conformance) {
	spec := c.spec
	required := map[string]bool{}
	for _, op := range conformanceOps {
		required[op] = true
	}
	for _, op := range coreOps {
		required[op] = true
	}
	auth := branchAuthOps(spec)
	if len(auth) != wantBranchAuthOps {
		t.Errorf("the spec has %d branch-level Auth operations, want %d: a newer spec needs its new operations covered", len(auth), wantBranchAuthOps)
	}
	for _, op := range auth {
		required[op.ID] = true
	}
	for method, op := range clientOperationIDs(t) {
		if !spec.HasOperation(op) {
			t.Errorf("Client.%s names operationId %q, which the spec does not define", method, op)
		}
		if !required[op] {
			t.Logf("Client.%s adds operation %s", method, op)
		}
		required[op] = true
	}
	succeeded, failed := map[string]int{}, map[string]int{}
	for _, ex := range c.tr.Exchanges() {
		switch {
		case ex.Status >= 200 && ex.Status < 300:
			succeeded[ex.OperationID]++
		case ex.Status >= 400:
			failed[ex.OperationID]++
		}
	}
	for _, op := range slices.Sorted(maps.Keys(required)) {
		if !spec.HasOperation(op) {
			t.Errorf("operation %s is not in the spec", op)
		}
		if succeeded[op] == 0 {
			t.Errorf("operation %s never answered with a success", op)
		}
		if failed[op] == 0 {
			t.Errorf("operation %s never answered with an error", op)
		}
	}
}
