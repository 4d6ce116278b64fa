package neonapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// testConformingSuccesses walks through the dashboard's use of the API, each
// operation answering with a success.
func testConformingSuccesses(t *testing.T, c *conformance) {
	auth := must(t, c, "getAuthDetails", func(ctx context.Context) (*neonapi.AuthDetails, error) {
		return c.client.GetAuthDetails(ctx)
	})
	if auth.AccountID == "" || auth.AuthMethod == "" {
		t.Errorf("getAuthDetails: %+v, want an account and a method", auth)
	}

	a := conformanceProject(t, c, "conformance-success-a")
	b := conformanceProject(t, c, "conformance-success-b")
	conformanceProject(t, c, "unrelated-success-c")

	// listProjects with limit, cursor and search.
	first := must(t, c, "listProjects", func(ctx context.Context) (*neonapi.ProjectsPage, error) {
		return c.client.ListProjects(ctx, neonapi.ListProjectsOptions{Limit: 2})
	})
	if len(first.Projects) != 2 || first.Cursor == "" {
		t.Fatalf("listProjects limit 2: %d projects, cursor %q; want 2 and a cursor", len(first.Projects), first.Cursor)
	}
	next := must(t, c, "listProjects", func(ctx context.Context) (*neonapi.ProjectsPage, error) {
		return c.client.ListProjects(ctx, neonapi.ListProjectsOptions{Limit: 2, Cursor: first.Cursor})
	})
	if len(next.Projects) == 0 || next.Projects[0].ID == first.Projects[0].ID || next.Projects[0].ID == first.Projects[1].ID {
		t.Errorf("listProjects after cursor %q: %+v, want the projects after the first page", first.Cursor, next.Projects)
	}
	found := must(t, c, "listProjects", func(ctx context.Context) (*neonapi.ProjectsPage, error) {
		return c.client.ListProjects(ctx, neonapi.ListProjectsOptions{Search: "success-b"})
	})
	if len(found.Projects) != 1 || found.Projects[0].ID != b.project {
		t.Errorf("listProjects search success-b: %+v, want only project %s", found.Projects, b.project)
	}
	all := must(t, c, "listProjects", func(ctx context.Context) ([]neonapi.Project, error) {
		var ps []neonapi.Project
		for p, err := range c.client.AllProjects(ctx, neonapi.ListProjectsOptions{Limit: 1}) {
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		return ps, nil
	})
	if len(all) < 3 {
		t.Errorf("AllProjects: %d projects, want at least 3", len(all))
	}

	got := must(t, c, "getProject", func(ctx context.Context) (*neonapi.Project, error) {
		return c.client.GetProject(ctx, a.project)
	})
	if got.ID != a.project || got.Name != "conformance-success-a" {
		t.Errorf("getProject: %+v, want project %s named conformance-success-a", got, a.project)
	}
	dbs := must(t, c, "listProjectBranchDatabases", func(ctx context.Context) ([]neonapi.Database, error) {
		return c.client.ListDatabases(ctx, a.project, a.branch)
	})
	if len(dbs) != 1 || dbs[0].Name != "neondb" || dbs[0].OwnerName != "neondb_owner" {
		t.Errorf("listProjectBranchDatabases: %+v, want neondb owned by neondb_owner", dbs)
	}
	roles := must(t, c, "listProjectBranchRoles", func(ctx context.Context) ([]neonapi.Role, error) {
		return c.client.ListRoles(ctx, a.project, a.branch)
	})
	if !slices.ContainsFunc(roles, func(r neonapi.Role) bool { return r.Name == "neondb_owner" }) {
		t.Errorf("listProjectBranchRoles: %+v, want neondb_owner among them", roles)
	}
	for _, pooled := range []bool{false, true} {
		uri := must(t, c, "getConnectionURI", func(ctx context.Context) (string, error) {
			return c.client.GetConnectionURI(ctx, a.project, neonapi.ConnectionURIOptions{BranchID: a.branch, DatabaseName: "neondb", RoleName: "neondb_owner", Pooled: pooled})
		})
		if !strings.HasPrefix(uri, "postgres") {
			t.Errorf("getConnectionURI pooled=%t: %q is not a postgres URI", pooled, redactURI(uri))
		}
	}

	// Project-level Neon Auth (stack) on project a.
	stack := authprovider.Stack
	createStack := func() {
		keys := must(t, c, "createNeonAuthIntegration", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
			return c.client.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{AuthProvider: stack, ProjectID: a.project, BranchID: a.branch, DatabaseName: "neondb"})
		})
		if keys.AuthProvider != stack || keys.PubClientKey == "" || keys.SecretServerKey == "" {
			t.Errorf("createNeonAuthIntegration: provider %q, keys present %t/%t", keys.AuthProvider, keys.PubClientKey != "", keys.SecretServerKey != "")
		}
	}
	createStack()
	integrations := must(t, c, "listNeonAuthIntegrations", func(ctx context.Context) ([]neonapi.Integration, error) {
		return c.client.ListIntegrations(ctx, a.project)
	})
	if len(integrations) != 1 || integrations[0].AuthProvider != stack || integrations[0].BranchID != a.branch {
		t.Errorf("listNeonAuthIntegrations: %+v, want the stack integration on %s", integrations, a.branch)
	}
	user := must(t, c, "createNeonAuthNewUser", func(ctx context.Context) (*neonapi.CreatedUser, error) {
		return c.client.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: a.project, AuthProvider: stack, Email: "ada@example.com", Name: "Ada Lovelace"})
	})
	must(t, c, "deleteNeonAuthUser", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.DeleteUser(ctx, a.project, user.ID)
	})
	must(t, c, "createNeonAuthProviderSDKKeys", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
		return c.client.CreateSDKKeys(ctx, neonapi.TransferRequest{ProjectID: a.project, AuthProvider: stack})
	})
	transfer := must(t, c, "transferNeonAuthProviderProject", func(ctx context.Context) (*neonapi.TransferResponse, error) {
		return c.client.TransferOwnership(ctx, neonapi.TransferRequest{ProjectID: a.project, AuthProvider: stack})
	})
	if transfer.URL == "" {
		t.Error("transferNeonAuthProviderProject: no URL")
	}
	// Without and then with the optional delete_data body.
	must(t, c, "deleteNeonAuthIntegration", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.DeleteIntegration(ctx, a.project, stack, false)
	})
	createStack()
	must(t, c, "deleteNeonAuthIntegration", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.DeleteIntegration(ctx, a.project, stack, true)
	})

	// Branch-level Neon Auth (better_auth) on project b.
	enable := func() {
		keys := must(t, c, "createNeonAuth", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
			return c.client.EnableBranchAuth(ctx, b.project, b.branch, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth, DatabaseName: "neondb"})
		})
		if keys.AuthProvider != authprovider.BetterAuth {
			t.Errorf("createNeonAuth: provider %q, want better_auth", keys.AuthProvider)
		}
	}
	enable()
	integration := must(t, c, "getNeonAuth", func(ctx context.Context) (*neonapi.Integration, error) {
		return c.client.GetBranchAuth(ctx, b.project, b.branch)
	})
	if integration.BranchID != b.branch || integration.DBName != "neondb" {
		t.Errorf("getNeonAuth: %+v, want branch %s database neondb", integration, b.branch)
	}
	branchUser := must(t, c, "createBranchNeonAuthNewUser", func(ctx context.Context) (*neonapi.CreatedUser, error) {
		return c.client.CreateBranchUser(ctx, b.project, b.branch, neonapi.CreateBranchUserRequest{Email: "alan@example.com", Name: "Alan Turing"})
	})
	updated := must(t, c, "updateNeonAuthUserRole", func(ctx context.Context) (*neonapi.UpdateUserRoleResponse, error) {
		return c.client.UpdateBranchUserRole(ctx, b.project, b.branch, branchUser.ID, []string{"admin"})
	})
	if updated.ID != branchUser.ID {
		t.Errorf("updateNeonAuthUserRole: id %q, want %q", updated.ID, branchUser.ID)
	}
	must(t, c, "deleteBranchNeonAuthUser", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.DeleteBranchUser(ctx, b.project, b.branch, branchUser.ID)
	})
	must(t, c, "disableNeonAuth", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.DisableBranchAuth(ctx, b.project, b.branch, false)
	})
	enable()
	must(t, c, "disableNeonAuth", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.DisableBranchAuth(ctx, b.project, b.branch, true)
	})
}
