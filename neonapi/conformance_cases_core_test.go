package neonapi_test

import (
	"context"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// coreCases are the account, shared project, branch, endpoint, database, role
// and operation log operations.
func coreCases() []opCase {
	branch := func(in target) string { return "/projects/" + in.project + "/branches/" + in.branch }
	return []opCase{
		{op: "getCurrentUserInfo",
			call: func(ctx context.Context, c *neonapi.Client, _ target) error { return errOf(c.GetCurrentUser(ctx)) },
			raw:  func(target) rawRequest { return rawRequest{"GET", "/users/me", ""} }},
		{op: "listSharedProjects",
			call: func(ctx context.Context, c *neonapi.Client, _ target) error {
				return errOf(c.ListSharedProjects(ctx, neonapi.ListSharedProjectsOptions{Limit: 10}))
			},
			raw: func(target) rawRequest { return rawRequest{"GET", "/projects/shared?limit=10", ""} }},
		{op: "listProjectOperations", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return errOf(c.ListOperations(ctx, in.project, neonapi.ListOperationsOptions{Limit: 5}))
			},
			raw: func(in target) rawRequest {
				return rawRequest{"GET", "/projects/" + in.project + "/operations?limit=5", ""}
			}},
		{op: "getProjectBranch", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return errOf(c.GetBranch(ctx, in.project, in.branch))
			},
			raw: func(in target) rawRequest { return rawRequest{"GET", branch(in), ""} }},
		{op: "createProjectBranch", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return errOf(c.CreateBranch(ctx, in.project, neonapi.CreateBranchRequest{Name: "conformance-refused"}))
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", "/projects/" + in.project + "/branches", `{"branch":{"name":"conformance-refused"}}`}
			}},
		{op: "listProjectBranchEndpoints", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return errOf(c.ListBranchEndpoints(ctx, in.project, in.branch))
			},
			raw: func(in target) rawRequest { return rawRequest{"GET", branch(in) + "/endpoints", ""} }},
		{op: "getProjectBranchDatabase", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return errOf(c.GetDatabase(ctx, in.project, in.branch, "neondb"))
			},
			raw: func(in target) rawRequest { return rawRequest{"GET", branch(in) + "/databases/neondb", ""} }},
		{op: "createProjectBranchDatabase", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return errOf(c.CreateDatabase(ctx, in.project, in.branch, neonapi.CreateDatabaseRequest{Name: "refused", OwnerName: "neondb_owner"}))
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", branch(in) + "/databases", `{"database":{"name":"refused","owner_name":"neondb_owner"}}`}
			}},
		{op: "createProjectBranchRole", scoped: true,
			call: func(ctx context.Context, c *neonapi.Client, in target) error {
				return errOf(c.CreateRole(ctx, in.project, in.branch, neonapi.CreateRoleRequest{Name: "refused"}))
			},
			raw: func(in target) rawRequest {
				return rawRequest{"POST", branch(in) + "/roles", `{"role":{"name":"refused"}}`}
			}},
	}
}
