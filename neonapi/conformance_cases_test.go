package neonapi_test

import (
	"context"
	"slices"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// target names the objects an operation acts on.
type target struct {
	project, branch, user string
}

// opCase is one operation, called through the client and written by hand.
type opCase struct {
	op string
	// scoped marks operations addressed to a project, which answer 404 when
	// the project does not exist.
	scoped bool
	call   func(ctx context.Context, c *neonapi.Client, in target) error
	raw    func(in target) rawRequest
}

// operationCases are every operation's cases: the original ones, the core
// branch operations and the branch-level Neon Auth configuration.
func operationCases() []opCase {
	return slices.Concat(baseCases(), coreCases(), branchAuthCases())
}

// errOf drops a call's result, for cases that look only at the error.
func errOf[T any](_ T, err error) error { return err }

func baseCases() []opCase {
	stack, better := authprovider.Stack, authprovider.BetterAuth
	branchAuth := func(in target) string { return "/projects/" + in.project + "/branches/" + in.branch + "/auth" }
	return []opCase{
		{op: "getAuthDetails",
			call: func(ctx context.Context, c *neonapi.Client, _ target) error {
				_, err := c.GetAuthDetails(ctx)
				return err
			},
			raw: func(target) rawRequest { return rawRequest{"GET", "/auth", ""} }},
		{op: "listProjects",
			call: func(ctx context.Context, c *neonapi.Client, _ target) error {
				_, err := c.ListProjects(ctx, neonapi.ListProjectsOptions{Limit: 10, Search: "conformance"})
				return err
			},
			raw: func(target) rawRequest { return rawRequest{"GET", "/projects?limit=10&search=conformance", ""} }},
		{op: "createProject",
			call: func(ctx context.Context, c *neonapi.Client, _ target) error {
				_, err := c.CreateProject(ctx, neonapi.CreateProjectRequest{Name: "conformance-refused"})
				return err
			},
			raw: func(target) rawRequest {
				return rawRequest{"POST", "/projects", `{"project":{"name":"conformance-refused"}}`}
			}},
		{op: "getProject", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.GetProject(ctx, in.project)
				return err
			},
			raw: func(in target) rawRequest { return rawRequest{"GET", "/projects/" + in.project, ""} }},
		{op: "listProjectBranches", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.ListBranches(ctx, in.project)
				return err
			},
			raw: func(in target) rawRequest { return rawRequest{"GET", "/projects/" + in.project + "/branches", ""} }},
		{op: "listProjectBranchDatabases", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.ListDatabases(ctx, in.project, in.branch)
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"GET", "/projects/" + in.project + "/branches/" + in.branch + "/databases", ""}
			}},
		{op: "listProjectBranchRoles", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.ListRoles(ctx, in.project, in.branch)
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"GET", "/projects/" + in.project + "/branches/" + in.branch + "/roles", ""}
			}},
		{op: "getConnectionURI", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.GetConnectionURI(ctx, in.project, neonapi.ConnectionURIOptions{BranchID: in.branch, DatabaseName: "neondb", RoleName: "neondb_owner"})
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"GET", "/projects/" + in.project + "/connection_uri?branch_id=" + in.branch + "&database_name=neondb&role_name=neondb_owner", ""}
			}},
		{op: "createNeonAuthIntegration", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{AuthProvider: stack, ProjectID: in.project, BranchID: in.branch, DatabaseName: "neondb"})
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", "/projects/auth/create", `{"auth_provider":"stack","project_id":"` + in.project + `","branch_id":"` + in.branch + `"}`}
			}},
		{op: "listNeonAuthIntegrations", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.ListIntegrations(ctx, in.project)
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"GET", "/projects/" + in.project + "/auth/integrations", ""}
			}},
		{op: "createNeonAuthNewUser", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: in.project, AuthProvider: stack, Email: "refused@example.com", Name: "Refused"})
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + in.project + `","auth_provider":"stack","email":"refused@example.com"}`}
			}},
		{op: "deleteNeonAuthUser", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return c.DeleteUser(ctx, in.project, in.user)
			},
			raw: func(in target) rawRequest {
				return rawRequest{"DELETE", "/projects/" + in.project + "/auth/users/" + in.user, ""}
			}},
		{op: "transferNeonAuthProviderProject", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.TransferOwnership(ctx, neonapi.TransferRequest{ProjectID: in.project, AuthProvider: stack})
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", "/projects/auth/transfer_ownership", `{"project_id":"` + in.project + `","auth_provider":"stack"}`}
			}},
		{op: "deleteNeonAuthIntegration", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return c.DeleteIntegration(ctx, in.project, stack, true)
			},
			raw: func(in target) rawRequest {
				return rawRequest{"DELETE", "/projects/" + in.project + "/auth/integration/stack", `{"delete_data":true}`}
			}},
		{op: "createNeonAuthProviderSDKKeys", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.CreateSDKKeys(ctx, neonapi.TransferRequest{ProjectID: in.project, AuthProvider: stack})
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", "/projects/auth/keys", `{"project_id":"` + in.project + `","auth_provider":"stack"}`}
			}},
		{op: "getNeonAuth", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.GetBranchAuth(ctx, in.project, in.branch)
				return err
			},
			raw: func(in target) rawRequest { return rawRequest{"GET", branchAuth(in), ""} }},
		{op: "createNeonAuth", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.EnableBranchAuth(ctx, in.project, in.branch, neonapi.EnableBranchAuthRequest{AuthProvider: better})
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", branchAuth(in), `{"auth_provider":"better_auth"}`}
			}},
		{op: "disableNeonAuth", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return c.DisableBranchAuth(ctx, in.project, in.branch, false)
			},
			raw: func(in target) rawRequest { return rawRequest{"DELETE", branchAuth(in), ""} }},
		{op: "createBranchNeonAuthNewUser", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.CreateBranchUser(ctx, in.project, in.branch, neonapi.CreateBranchUserRequest{Email: "refused@example.com"})
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", branchAuth(in) + "/users", `{"email":"refused@example.com"}`}
			}},
		{op: "deleteBranchNeonAuthUser", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return c.DeleteBranchUser(ctx, in.project, in.branch, in.user)
			},
			raw: func(in target) rawRequest { return rawRequest{"DELETE", branchAuth(in) + "/users/" + in.user, ""} }},
		{op: "updateNeonAuthUserRole", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				_, err := c.UpdateBranchUserRole(ctx, in.project, in.branch, in.user, []string{"admin"})
				return err
			},
			raw: func(in target) rawRequest {
				return rawRequest{"PUT", branchAuth(in) + "/users/" + in.user + "/role", `{"roles":["admin"]}`}
			}},
	}
}
