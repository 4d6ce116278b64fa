package neonapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// testCoreSuccesses walks through the account, shared projects, branches,
// endpoints, databases, roles and the operation log, each operation answering
// with a success.
func testCoreSuccesses(t *testing.T, c *conformance) {
	me := must(t, c, "getCurrentUserInfo", func(ctx context.Context) (*neonapi.CurrentUser, error) { return c.client.GetCurrentUser(ctx) })
	auth := must(t, c, "getAuthDetails", func(ctx context.Context) (*neonapi.AuthDetails, error) { return c.client.GetAuthDetails(ctx) })
	if me.ID != auth.AccountID || me.Email == "" {
		t.Errorf("getCurrentUserInfo: %+v, want the account %s with an email", me, auth.AccountID)
	}

	shared, err := c.sb.CreateSharedProject(context.Background(), "conformance-shared")
	if err != nil {
		t.Fatal(err)
	}
	page := must(t, c, "listSharedProjects", func(ctx context.Context) (*neonapi.ProjectsPage, error) {
		return c.client.ListSharedProjects(ctx, neonapi.ListSharedProjectsOptions{Search: "conformance-shared"})
	})
	if len(page.Projects) != 1 || page.Projects[0].ID != shared.ID || page.Projects[0].OwnerID == me.ID || page.Projects[0].Permission == "" {
		t.Errorf("listSharedProjects: %+v, want only %s, owned by another account, with a permission", page.Projects, shared.ID)
	}
	own := must(t, c, "listProjects", func(ctx context.Context) (*neonapi.ProjectsPage, error) {
		return c.client.ListProjects(ctx, neonapi.ListProjectsOptions{Search: "conformance-shared"})
	})
	if len(own.Projects) != 0 {
		t.Errorf("listProjects shows the shared project: %+v", own.Projects)
	}

	a := conformanceProject(t, c, "conformance-core")
	ops := must(t, c, "listProjectOperations", func(ctx context.Context) (*neonapi.OperationsPage, error) {
		return c.client.ListOperations(ctx, a.project, neonapi.ListOperationsOptions{})
	})
	var actions []string
	for _, o := range ops.Operations {
		actions = append(actions, o.Action)
	}
	if !slices.Equal(actions, []string{"start_compute", "create_timeline"}) || ops.Operations[0].BranchID != a.branch {
		t.Errorf("listProjectOperations: %v, want start_compute then create_timeline on %s", actions, a.branch)
	}
	first := must(t, c, "listProjectOperations", func(ctx context.Context) (*neonapi.OperationsPage, error) {
		return c.client.ListOperations(ctx, a.project, neonapi.ListOperationsOptions{Limit: 1})
	})
	next := must(t, c, "listProjectOperations", func(ctx context.Context) (*neonapi.OperationsPage, error) {
		return c.client.ListOperations(ctx, a.project, neonapi.ListOperationsOptions{Limit: 1, Cursor: first.Cursor})
	})
	if len(first.Operations) != 1 || len(next.Operations) != 1 || next.Operations[0].Action != "create_timeline" {
		t.Errorf("listProjectOperations by one: %+v then %+v, want start_compute then create_timeline", first.Operations, next.Operations)
	}

	main := must(t, c, "getProjectBranch", func(ctx context.Context) (*neonapi.Branch, error) {
		return c.client.GetBranch(ctx, a.project, a.branch)
	})
	if main.ID != a.branch || !main.Default {
		t.Errorf("getProjectBranch: %+v, want the default branch %s", main, a.branch)
	}
	role := must(t, c, "createProjectBranchRole", func(ctx context.Context) (*neonapi.CreatedRole, error) {
		return c.client.CreateRole(ctx, a.project, a.branch, neonapi.CreateRoleRequest{Name: "app_owner"})
	})
	db := must(t, c, "createProjectBranchDatabase", func(ctx context.Context) (*neonapi.CreatedDatabase, error) {
		return c.client.CreateDatabase(ctx, a.project, a.branch, neonapi.CreateDatabaseRequest{Name: "appdb", OwnerName: "app_owner"})
	})
	got := must(t, c, "getProjectBranchDatabase", func(ctx context.Context) (*neonapi.Database, error) {
		return c.client.GetDatabase(ctx, a.project, a.branch, "appdb")
	})
	if role.Role.Name != "app_owner" || len(role.Operations) == 0 || db.Database.Name != "appdb" || *got != db.Database {
		t.Errorf("role %+v, database %+v, read back %+v; want app_owner owning appdb", role, db, got)
	}

	testBranchCreation(t, c, a)
}

// testBranchCreation branches a project whose default branch has Better Auth,
// a user, a trusted domain and an extra database.
func testBranchCreation(t *testing.T, c *conformance, a target) {
	must(t, c, "createNeonAuth", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
		return c.client.EnableBranchAuth(ctx, a.project, a.branch, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth})
	})
	must(t, c, "addBranchNeonAuthTrustedDomain", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.AddTrustedDomain(ctx, a.project, a.branch, neonapi.AddTrustedDomainRequest{Domain: "https://preview.example.com", AuthProvider: authprovider.BetterAuth})
	})
	child := must(t, c, "createProjectBranch", func(ctx context.Context) (*neonapi.CreatedBranch, error) {
		return c.client.CreateBranch(ctx, a.project, neonapi.CreateBranchRequest{Name: "preview", Endpoints: []neonapi.BranchEndpointOptions{{Type: neonapi.EndpointReadWrite}}})
	})
	var dbs []string
	for _, d := range child.Databases {
		dbs = append(dbs, d.Name)
	}
	if child.Branch.Name != "preview" || child.Branch.ParentID != a.branch || len(child.Endpoints) != 1 ||
		!slices.Equal(dbs, []string{"neondb", "appdb"}) || len(child.ConnectionURIs) != 2 || !child.ConnectionURIs[0].ConnectionURI.IsSet() {
		t.Errorf("createProjectBranch: %+v, want preview off %s with an endpoint, neondb and appdb, and their URIs", child, a.branch)
	}
	if s := child.ConnectionURIs[0].ConnectionURI.String(); strings.Contains(s, "postgres") {
		t.Errorf("a connection URI prints as %q", s)
	}
	eps := must(t, c, "listProjectBranchEndpoints", func(ctx context.Context) ([]neonapi.Endpoint, error) {
		return c.client.ListBranchEndpoints(ctx, a.project, child.Branch.ID)
	})
	if len(eps) != 1 || eps[0].Type != neonapi.EndpointReadWrite || eps[0].BranchID != child.Branch.ID {
		t.Errorf("listProjectBranchEndpoints: %+v, want the new read_write endpoint", eps)
	}
	inherited := must(t, c, "getNeonAuth", func(ctx context.Context) (*neonapi.Integration, error) {
		return c.client.GetBranchAuth(ctx, a.project, child.Branch.ID)
	})
	domains := must(t, c, "listBranchNeonAuthTrustedDomains", func(ctx context.Context) ([]neonapi.TrustedDomain, error) {
		return c.client.ListTrustedDomains(ctx, a.project, child.Branch.ID)
	})
	if inherited.BranchID != child.Branch.ID || inherited.AuthProvider != authprovider.BetterAuth ||
		len(domains) != 1 || domains[0].Domain != "https://preview.example.com" {
		t.Errorf("the new branch's Neon Auth: %+v with domains %+v, want better_auth inherited with the parent's domain", inherited, domains)
	}
	bare := must(t, c, "createProjectBranch", func(ctx context.Context) (*neonapi.CreatedBranch, error) {
		return c.client.CreateBranch(ctx, a.project, neonapi.CreateBranchRequest{})
	})
	none := must(t, c, "listProjectBranchEndpoints", func(ctx context.Context) ([]neonapi.Endpoint, error) {
		return c.client.ListBranchEndpoints(ctx, a.project, bare.Branch.ID)
	})
	if bare.Branch.Name == "" || len(bare.Endpoints) != 0 || len(none) != 0 || len(bare.ConnectionURIs) != 0 {
		t.Errorf("createProjectBranch without a body: %+v, endpoints %+v; want a named branch without endpoints or URIs", bare, none)
	}
}
