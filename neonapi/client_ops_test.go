package neonapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

const ts = "2024-03-19T12:00:00Z"

var tsTime = time.Date(2024, 3, 19, 12, 0, 0, 0, time.UTC)

// TestOperations checks every method's request (method, escaped path, query,
// JSON body) and how it decodes Neon's answer.
func TestOperations(t *testing.T) {
	ctx := context.Background()
	runOpTests(t, []opTest{
		{
			name:   "getAuthDetails",
			call:   func(c *neonapi.Client) (any, error) { return c.GetAuthDetails(ctx) },
			method: "GET", path: "/auth",
			status: 200, resp: `{"account_id":"acc-1","auth_method":"api_key_org","auth_data":"org-9"}`,
			want: &neonapi.AuthDetails{AccountID: "acc-1", AuthMethod: "api_key_org", AuthData: "org-9"},
		},
		{
			name: "listProjects",
			call: func(c *neonapi.Client) (any, error) {
				return c.ListProjects(ctx, neonapi.ListProjectsOptions{Cursor: "c 1", Limit: 5, Search: "a&b=c", OrgID: "org-1"})
			},
			method: "GET", path: "/projects", query: "cursor=c+1&limit=5&org_id=org-1&search=a%26b%3Dc",
			status: 200, resp: `{"projects":[{"id":"p-1","name":"one","region_id":"aws-us-east-2","pg_version":17,"created_at":"` + ts + `","updated_at":"` + ts + `"}],"pagination":{"cursor":"p-1"}}`,
			want: &neonapi.ProjectsPage{Projects: []neonapi.Project{{ID: "p-1", Name: "one", RegionID: "aws-us-east-2", PgVersion: 17, CreatedAt: tsTime, UpdatedAt: tsTime}}, Cursor: "p-1"},
		},
		{
			name:   "getProject escapes the id",
			call:   func(c *neonapi.Client) (any, error) { return c.GetProject(ctx, "a/b c?d") },
			method: "GET", path: "/projects/a%2Fb%20c%3Fd",
			status: 200, resp: `{"project":{"id":"p-1","name":"n","region_id":"r","pg_version":16,"created_at":"` + ts + `","updated_at":"` + ts + `"}}`,
			want: &neonapi.Project{ID: "p-1", Name: "n", RegionID: "r", PgVersion: 16, CreatedAt: tsTime, UpdatedAt: tsTime},
		},
		{
			name: "createProject wraps the body in project",
			call: func(c *neonapi.Client) (any, error) {
				p, err := c.CreateProject(ctx, neonapi.CreateProjectRequest{Name: "demo", RegionID: "aws-eu-central-1"})
				if err != nil {
					return nil, err
				}
				return []string{p.Project.ID, p.Branch.ID, p.Databases[0].Name, p.Roles[0].Name, p.ConnectionURIs[0].ConnectionURI}, nil
			},
			method: "POST", path: "/projects", body: `{"project":{"name":"demo","region_id":"aws-eu-central-1"}}`,
			status: 201, resp: `{"project":{"id":"p-2"},"branch":{"id":"br-1","default":true},"databases":[{"id":1,"name":"neondb"}],"roles":[{"name":"neondb_owner"}],"connection_uris":[{"connection_uri":"postgresql://x"}],"operations":[],"endpoints":[]}`,
			want: []string{"p-2", "br-1", "neondb", "neondb_owner", "postgresql://x"},
		},
		{
			name:   "listProjectBranches",
			call:   func(c *neonapi.Client) (any, error) { return c.ListBranches(ctx, "p-1") },
			method: "GET", path: "/projects/p-1/branches", query: "limit=100",
			status: 200, resp: `{"branches":[{"id":"br-1","project_id":"p-1","name":"main","current_state":"ready","default":true,"created_at":"` + ts + `","updated_at":"` + ts + `"}],"annotations":{},"pagination":{"next":"br-1"}}`,
			want: []neonapi.Branch{{ID: "br-1", ProjectID: "p-1", Name: "main", CurrentState: "ready", Default: true, CreatedAt: tsTime, UpdatedAt: tsTime}},
		},
		{
			name:   "listProjectBranchDatabases",
			call:   func(c *neonapi.Client) (any, error) { return c.ListDatabases(ctx, "p-1", "br-1") },
			method: "GET", path: "/projects/p-1/branches/br-1/databases",
			status: 200, resp: `{"databases":[{"id":7,"branch_id":"br-1","name":"neondb","owner_name":"neondb_owner","created_at":"` + ts + `","updated_at":"` + ts + `"}]}`,
			want: []neonapi.Database{{ID: 7, BranchID: "br-1", Name: "neondb", OwnerName: "neondb_owner", CreatedAt: tsTime, UpdatedAt: tsTime}},
		},
		{
			name:   "listProjectBranchRoles",
			call:   func(c *neonapi.Client) (any, error) { return c.ListRoles(ctx, "p-1", "br-1") },
			method: "GET", path: "/projects/p-1/branches/br-1/roles",
			status: 200, resp: `{"roles":[{"branch_id":"br-1","name":"neondb_owner","protected":false,"created_at":"` + ts + `","updated_at":"` + ts + `"}]}`,
			want: []neonapi.Role{{BranchID: "br-1", Name: "neondb_owner", CreatedAt: tsTime, UpdatedAt: tsTime}},
		},
		{
			name: "getConnectionURI",
			call: func(c *neonapi.Client) (any, error) {
				return c.GetConnectionURI(ctx, "p-1", neonapi.ConnectionURIOptions{BranchID: "br-1", DatabaseName: "my db", RoleName: "neondb_owner", Pooled: true})
			},
			method: "GET", path: "/projects/p-1/connection_uri", query: "branch_id=br-1&database_name=my+db&pooled=true&role_name=neondb_owner",
			status: 200, resp: `{"uri":"postgresql://neondb_owner:pw@host/my%20db"}`,
			want: "postgresql://neondb_owner:pw@host/my%20db",
		},
		{
			name: "createNeonAuthIntegration",
			call: func(c *neonapi.Client) (any, error) {
				return c.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{AuthProvider: authprovider.Stack, ProjectID: "p-1", BranchID: "br-1", DatabaseName: "neondb", RoleName: "neondb_owner"})
			},
			method: "POST", path: "/projects/auth/create",
			body:   `{"auth_provider":"stack","project_id":"p-1","branch_id":"br-1","database_name":"neondb","role_name":"neondb_owner"}`,
			status: 201, resp: `{"auth_provider":"stack","auth_provider_project_id":"ap-1","pub_client_key":"pck_1","secret_server_key":"ssk_1","jwks_url":"https://j","schema_name":"neon_auth","table_name":"users_sync"}`,
			want: &neonapi.IntegrationKeys{AuthProvider: "stack", AuthProviderProjectID: "ap-1", PubClientKey: "pck_1", SecretServerKey: "ssk_1", JWKSURL: "https://j", SchemaName: "neon_auth", TableName: "users_sync"},
		},
		{
			name:   "listNeonAuthIntegrations",
			call:   func(c *neonapi.Client) (any, error) { return c.ListIntegrations(ctx, "p-1") },
			method: "GET", path: "/projects/p-1/auth/integrations",
			status: 200, resp: `{"data":[{"auth_provider":"stack","auth_provider_project_id":"ap-1","branch_id":"br-1","db_name":"neondb","created_at":"` + ts + `","owned_by":"neon","jwks_url":"https://j"}]}`,
			want: []neonapi.Integration{{AuthProvider: "stack", AuthProviderProjectID: "ap-1", BranchID: "br-1", DBName: "neondb", CreatedAt: tsTime, OwnedBy: "neon", JWKSURL: "https://j"}},
		},
		{
			name: "createNeonAuthNewUser",
			call: func(c *neonapi.Client) (any, error) {
				return c.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: "p-1", AuthProvider: "stack", Email: "a@example.com", Name: "A"})
			},
			method: "POST", path: "/projects/auth/user", body: `{"project_id":"p-1","auth_provider":"stack","email":"a@example.com","name":"A"}`,
			status: 201, resp: `{"id":"u-1"}`,
			want: &neonapi.CreatedUser{ID: "u-1"},
		},
		{
			name:   "deleteNeonAuthUser",
			call:   func(c *neonapi.Client) (any, error) { return nil, c.DeleteUser(ctx, "p-1", "u/1") },
			method: "DELETE", path: "/projects/p-1/auth/users/u%2F1",
			status: 204,
		},
		{
			name: "transferNeonAuthProviderProject",
			call: func(c *neonapi.Client) (any, error) {
				return c.TransferOwnership(ctx, neonapi.TransferRequest{ProjectID: "p-1", AuthProvider: "stack"})
			},
			method: "POST", path: "/projects/auth/transfer_ownership", body: `{"project_id":"p-1","auth_provider":"stack"}`,
			status: 200, resp: `{"url":"https://app.stack-auth.com/confirm?code=1"}`,
			want: &neonapi.TransferResponse{URL: "https://app.stack-auth.com/confirm?code=1"},
		},
		{
			name:   "deleteNeonAuthIntegration keeps data",
			call:   func(c *neonapi.Client) (any, error) { return nil, c.DeleteIntegration(ctx, "p-1", "stack", false) },
			method: "DELETE", path: "/projects/p-1/auth/integration/stack",
			status: 200, resp: `{}`,
		},
		{
			name:   "deleteNeonAuthIntegration deletes data",
			call:   func(c *neonapi.Client) (any, error) { return nil, c.DeleteIntegration(ctx, "p-1", "stack", true) },
			method: "DELETE", path: "/projects/p-1/auth/integration/stack", body: `{"delete_data":true}`,
			status: 200,
		},
		{
			name: "createNeonAuthProviderSDKKeys",
			call: func(c *neonapi.Client) (any, error) {
				return c.CreateSDKKeys(ctx, neonapi.TransferRequest{ProjectID: "p-1", AuthProvider: "stack"})
			},
			method: "POST", path: "/projects/auth/keys", body: `{"project_id":"p-1","auth_provider":"stack"}`,
			status: 201, resp: `{"auth_provider":"stack","auth_provider_project_id":"ap-1","pub_client_key":"pck_2","secret_server_key":"ssk_2","jwks_url":"https://j","schema_name":"neon_auth","table_name":"users_sync"}`,
			want: &neonapi.IntegrationKeys{AuthProvider: "stack", AuthProviderProjectID: "ap-1", PubClientKey: "pck_2", SecretServerKey: "ssk_2", JWKSURL: "https://j", SchemaName: "neon_auth", TableName: "users_sync"},
		},
		{
			name:   "getNeonAuth",
			call:   func(c *neonapi.Client) (any, error) { return c.GetBranchAuth(ctx, "p-1", "br-1") },
			method: "GET", path: "/projects/p-1/branches/br-1/auth",
			status: 200, resp: `{"auth_provider":"better_auth","auth_provider_project_id":"ap-2","branch_id":"br-1","db_name":"neondb","created_at":"` + ts + `","owned_by":"neon","jwks_url":"https://j","base_url":"https://auth"}`,
			want: &neonapi.Integration{AuthProvider: "better_auth", AuthProviderProjectID: "ap-2", BranchID: "br-1", DBName: "neondb", CreatedAt: tsTime, OwnedBy: "neon", JWKSURL: "https://j", BaseURL: "https://auth"},
		},
		{
			name: "createNeonAuth",
			call: func(c *neonapi.Client) (any, error) {
				return c.EnableBranchAuth(ctx, "p-1", "br-1", neonapi.EnableBranchAuthRequest{AuthProvider: "better_auth", DatabaseName: "neondb"})
			},
			method: "POST", path: "/projects/p-1/branches/br-1/auth", body: `{"auth_provider":"better_auth","database_name":"neondb"}`,
			status: 201, resp: `{"auth_provider":"better_auth","auth_provider_project_id":"ap-2","pub_client_key":"","secret_server_key":"","jwks_url":"https://j","schema_name":"neon_auth","table_name":"user","base_url":"https://auth"}`,
			want: &neonapi.IntegrationKeys{AuthProvider: "better_auth", AuthProviderProjectID: "ap-2", JWKSURL: "https://j", SchemaName: "neon_auth", TableName: "user", BaseURL: "https://auth"},
		},
		{
			name:   "disableNeonAuth keeps data",
			call:   func(c *neonapi.Client) (any, error) { return nil, c.DisableBranchAuth(ctx, "p-1", "br-1", false) },
			method: "DELETE", path: "/projects/p-1/branches/br-1/auth",
			status: 200,
		},
		{
			name:   "disableNeonAuth deletes data",
			call:   func(c *neonapi.Client) (any, error) { return nil, c.DisableBranchAuth(ctx, "p-1", "br-1", true) },
			method: "DELETE", path: "/projects/p-1/branches/br-1/auth", body: `{"delete_data":true}`,
			status: 200,
		},
		{
			name: "createBranchNeonAuthNewUser",
			call: func(c *neonapi.Client) (any, error) {
				return c.CreateBranchUser(ctx, "p-1", "br-1", neonapi.CreateBranchUserRequest{Email: "b@example.com"})
			},
			method: "POST", path: "/projects/p-1/branches/br-1/auth/users", body: `{"email":"b@example.com"}`,
			status: 201, resp: `{"id":"u-2"}`,
			want: &neonapi.CreatedUser{ID: "u-2"},
		},
		{
			name:   "deleteBranchNeonAuthUser",
			call:   func(c *neonapi.Client) (any, error) { return nil, c.DeleteBranchUser(ctx, "p-1", "br-1", "u-2") },
			method: "DELETE", path: "/projects/p-1/branches/br-1/auth/users/u-2",
			status: 204,
		},
		{
			name: "updateNeonAuthUserRole",
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateBranchUserRole(ctx, "p-1", "br-1", "u-2", []string{"admin"})
			},
			method: "PUT", path: "/projects/p-1/branches/br-1/auth/users/u-2/role", body: `{"roles":["admin"]}`,
			status: 200, resp: `{"id":"u-2"}`,
			want: &neonapi.UpdateUserRoleResponse{ID: "u-2"},
		},
	})
}

// opTest is one call of a method against a canned answer.
type opTest struct {
	name   string
	call   func(c *neonapi.Client) (any, error)
	method string
	path   string // below /api/v2
	query  string
	body   string // "" means no body at all
	status int
	resp   string
	want   any
}

// runOpTests checks each call's request and decoded answer.
func runOpTests(t *testing.T, tests []opTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newTestClient(t, reply(tt.status, tt.resp))
			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result = %+v\nwant     %+v", got, tt.want)
			}
			reqs := rec.all()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.method || r.Path != "/api/v2"+tt.path {
				t.Errorf("request = %s %s, want %s /api/v2%s", r.Method, r.Path, tt.method, tt.path)
			}
			if r.Query != tt.query {
				t.Errorf("query = %q, want %q", r.Query, tt.query)
			}
			if tt.body == "" {
				if len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
					t.Errorf("unexpected body %q (Content-Type %q)", r.Body, r.Header.Get("Content-Type"))
				}
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var gotBody, wantBody any
			if err := json.Unmarshal(r.Body, &gotBody); err != nil {
				t.Fatalf("request body %q: %v", r.Body, err)
			}
			if err := json.Unmarshal([]byte(tt.body), &wantBody); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotBody, wantBody) {
				t.Errorf("body = %s, want %s", r.Body, tt.body)
			}
		})
	}
}

func TestInvalidArgumentsSendNothing(t *testing.T) {
	ctx := context.Background()
	c, rec := newTestClient(t, reply(200, `{}`))
	calls := map[string]func() error{
		"GetProject":    func() error { _, err := c.GetProject(ctx, ""); return err },
		"ListBranches":  func() error { _, err := c.ListBranches(ctx, ""); return err },
		"ListDatabases": func() error { _, err := c.ListDatabases(ctx, "p", ""); return err },
		"ListRoles":     func() error { _, err := c.ListRoles(ctx, "", "b"); return err },
		"GetConnectionURI": func() error {
			_, err := c.GetConnectionURI(ctx, "p", neonapi.ConnectionURIOptions{DatabaseName: "d"})
			return err
		},
		"ListProjects": func() error { _, err := c.ListProjects(ctx, neonapi.ListProjectsOptions{Limit: 401}); return err },
		"CreateIntegration": func() error {
			_, err := c.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{ProjectID: "p"})
			return err
		},
		"ListIntegrations": func() error { _, err := c.ListIntegrations(ctx, ""); return err },
		"CreateUser": func() error {
			_, err := c.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: "p", AuthProvider: "stack"})
			return err
		},
		"DeleteUser":        func() error { return c.DeleteUser(ctx, "p", "") },
		"TransferOwnership": func() error { _, err := c.TransferOwnership(ctx, neonapi.TransferRequest{}); return err },
		"DeleteIntegration": func() error { return c.DeleteIntegration(ctx, "p", "", true) },
		"CreateSDKKeys": func() error {
			_, err := c.CreateSDKKeys(ctx, neonapi.TransferRequest{AuthProvider: "stack"})
			return err
		},
		"GetBranchAuth": func() error { _, err := c.GetBranchAuth(ctx, "p", ""); return err },
		"EnableBranchAuth": func() error {
			_, err := c.EnableBranchAuth(ctx, "p", "b", neonapi.EnableBranchAuthRequest{})
			return err
		},
		"DisableBranchAuth": func() error { return c.DisableBranchAuth(ctx, "", "b", false) },
		"CreateBranchUser": func() error {
			_, err := c.CreateBranchUser(ctx, "p", "b", neonapi.CreateBranchUserRequest{})
			return err
		},
		"DeleteBranchUser":     func() error { return c.DeleteBranchUser(ctx, "p", "b", "") },
		"UpdateBranchUserRole": func() error { _, err := c.UpdateBranchUserRole(ctx, "p", "b", "u", nil); return err },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, neonapi.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
		if errors.Is(err, neonapi.ErrUnavailable) {
			t.Errorf("%s: a local validation error must not read as Neon unavailable", name)
		}
	}
	if n := rec.count(); n != 0 {
		t.Errorf("server saw %d requests for invalid calls, want 0", n)
	}
}
