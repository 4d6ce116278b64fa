package neonapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/neonauth-admin/dashboard/neonapi"
)

const testKey = "napi_test_key_0123456789abcdef"

// seen is one request as the test server received it.
type seen struct {
	Method string
	Path   string // escaped, as sent
	Query  string
	Header http.Header
	Body   []byte
}

// recorder keeps every request a test server receives.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rec *recorder) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}
}

func (rec *recorder) all() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

// fastRetries keeps retry tests quick: pauses of a few milliseconds at most.
var fastRetries = neonapi.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// newTestClient serves h on a test server and returns a client for it, with the
// rate limiter off and fast retries; opts come last and override those.
func newTestClient(t *testing.T, h http.HandlerFunc, opts ...neonapi.Option) (*neonapi.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(h))
	t.Cleanup(srv.Close)
	all := append([]neonapi.Option{
		neonapi.WithBaseURL(srv.URL + "/api/v2"),
		neonapi.WithoutRateLimit(),
		neonapi.WithRetryPolicy(fastRetries),
	}, opts...)
	c, err := neonapi.New(testKey, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name string
		key  string
		opts []neonapi.Option
	}{
		{"empty key", "", nil},
		{"key with newline", "abc\nX-Evil: 1", nil},
		{"key with space", "abc def", nil},
		{"relative base URL", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("/api/v2")}},
		{"ftp base URL", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("ftp://example.com/api")}},
		{"unparsable base URL", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("http://[::1")}},
		{"base URL with query", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("https://example.com/api?x=1")}},
		{"base URL with credentials", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("https://u:url-pass-1@example.com/api")}},
		{"ftp base URL with credentials", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("ftp://u:url-pass-1@example.com/api")}},
		{"unparsable base URL with credentials", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("http://u:url-pass-1@[::1")}},
		{"nil HTTP client", "key-9f8e7d", []neonapi.Option{neonapi.WithHTTPClient(nil)}},
		{"empty user agent", "key-9f8e7d", []neonapi.Option{neonapi.WithUserAgent("")}},
		{"user agent with newline", "key-9f8e7d", []neonapi.Option{neonapi.WithUserAgent("a\r\nb")}},
		{"zero attempts", "key-9f8e7d", []neonapi.Option{neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 0, BaseDelay: 1, MaxDelay: 1})}},
		{"zero base delay", "key-9f8e7d", []neonapi.Option{neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 2, MaxDelay: 1})}},
		{"max below base", "key-9f8e7d", []neonapi.Option{neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 2, BaseDelay: 2, MaxDelay: 1})}},
		{"negative attempt timeout", "key-9f8e7d", []neonapi.Option{neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 2, BaseDelay: 1, MaxDelay: 1, AttemptTimeout: -1})}},
		{"zero rate", "key-9f8e7d", []neonapi.Option{neonapi.WithRateLimit(0, 40)}},
		{"negative burst", "key-9f8e7d", []neonapi.Option{neonapi.WithRateLimit(700, -1)}},
		{"nil observer", "key-9f8e7d", []neonapi.Option{neonapi.WithObserver(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := neonapi.New(tt.key, tt.opts...)
			if err == nil {
				t.Fatalf("New succeeded with %s: %v", tt.name, c)
			}
			if tt.key != "" && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q repeats the key", err)
			}
			if strings.Contains(err.Error(), "url-pass-1") {
				t.Errorf("error %q repeats the base URL's password", err)
			}
		})
	}

	valid := []neonapi.Option{
		neonapi.WithBaseURL("http://127.0.0.1:8081/api/v2/"),
		neonapi.WithHTTPClient(&http.Client{Timeout: time.Minute}),
		neonapi.WithUserAgent("probe/1.0"),
		neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 1, BaseDelay: 1, MaxDelay: 1}),
		neonapi.WithRateLimit(60, 1),
		neonapi.WithObserver(&countingObserver{}),
	}
	if _, err := neonapi.New("key-9f8e7d", valid...); err != nil {
		t.Fatalf("New with valid options: %v", err)
	}
}

func TestRequestHeaders(t *testing.T) {
	c, rec := newTestClient(t, reply(200, `{"account_id":"acc-1","auth_method":"api_key_user"}`))
	ctx := context.Background()
	for range 2 {
		if _, err := c.GetAuthDetails(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetAuthDetails(neonapi.WithRequestID(ctx, "dash-req-42")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"evil\r\nX-Injected: 1", strings.Repeat("x", 129)} {
		if _, err := c.GetAuthDetails(neonapi.WithRequestID(ctx, bad)); err != nil {
			t.Fatal(err)
		}
	}

	reqs := rec.all()
	if len(reqs) != 5 {
		t.Fatalf("server saw %d requests, want 5", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("request %d: Authorization = %q", i, got)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("request %d: Accept = %q", i, got)
		}
		if got := r.Header.Get("User-Agent"); !strings.HasPrefix(got, "neon-auth-dashboard/") {
			t.Errorf("request %d: User-Agent = %q", i, got)
		}
		if r.Method != http.MethodGet || r.Path != "/api/v2/auth" {
			t.Errorf("request %d: %s %s, want GET /api/v2/auth", i, r.Method, r.Path)
		}
		if got := r.Header.Get("Content-Type"); got != "" {
			t.Errorf("request %d: Content-Type %q on a request without body", i, got)
		}
	}
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.Header.Get("X-Request-ID")
	}
	for _, i := range []int{0, 1, 3, 4} {
		if _, err := uuid.Parse(ids[i]); err != nil {
			t.Errorf("request %d: X-Request-ID %q is not a UUID", i, ids[i])
		}
	}
	if ids[0] == ids[1] {
		t.Errorf("two calls shared X-Request-ID %q", ids[0])
	}
	if ids[2] != "dash-req-42" {
		t.Errorf("X-Request-ID = %q, want the context's dash-req-42", ids[2])
	}
	if got := neonapi.RequestIDFrom(neonapi.WithRequestID(ctx, "abc")); got != "abc" {
		t.Errorf("RequestIDFrom = %q, want abc", got)
	}
	if got := neonapi.RequestIDFrom(ctx); got != "" {
		t.Errorf("RequestIDFrom(empty ctx) = %q", got)
	}
}

func TestCustomUserAgent(t *testing.T) {
	c, rec := newTestClient(t, reply(200, `{"account_id":"a","auth_method":"oauth"}`), neonapi.WithUserAgent("neon-auth-dashboard/1.2.3"))
	if _, err := c.GetAuthDetails(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.all()[0].Header.Get("User-Agent"); got != "neon-auth-dashboard/1.2.3" {
		t.Errorf("User-Agent = %q", got)
	}
}

const ts = "2024-03-19T12:00:00Z"

var tsTime = time.Date(2024, 3, 19, 12, 0, 0, 0, time.UTC)

// TestOperations checks every method's request (method, escaped path, query,
// JSON body) and how it decodes Neon's answer.
func TestOperations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func(c *neonapi.Client) (any, error)
		method string
		path   string // below /api/v2
		query  string
		body   string // "" means no body at all
		status int
		resp   string
		want   any
	}{
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
			status: 200, resp: `{"project":{"id":"a/b c?d","name":"n","region_id":"r","pg_version":16,"created_at":"` + ts + `","updated_at":"` + ts + `"}}`,
			want: &neonapi.Project{ID: "a/b c?d", Name: "n", RegionID: "r", PgVersion: 16, CreatedAt: tsTime, UpdatedAt: tsTime},
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
				return c.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{AuthProvider: neonapi.AuthProviderStack, ProjectID: "p-1", BranchID: "br-1", DatabaseName: "neondb", RoleName: "neondb_owner"})
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
	}
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

// projectsServer serves listProjects from pages keyed by the cursor they answer.
func projectsServer(pages map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			reply(500, `{"code":"","message":"unexpected cursor"}`)(w, r)
			return
		}
		reply(200, body)(w, r)
	}
}

func projectsJSON(cursor string, ids ...string) string {
	var ps []string
	for _, id := range ids {
		ps = append(ps, `{"id":"`+id+`","name":"`+id+`","region_id":"r","pg_version":17,"created_at":"`+ts+`","updated_at":"`+ts+`"}`)
	}
	return `{"projects":[` + strings.Join(ps, ",") + `],"pagination":{"cursor":"` + cursor + `"}}`
}

func TestAllProjects(t *testing.T) {
	tests := []struct {
		name      string
		limit     int
		pages     map[string]string
		wantIDs   []string
		wantCalls int
		wantErr   bool
	}{
		{
			name:  "cursor on the last page, then an empty page",
			limit: 2,
			pages: map[string]string{
				"":  projectsJSON("b", "a", "b"),
				"b": projectsJSON("d", "c", "d"),
				"d": projectsJSON("d"),
			},
			wantIDs: []string{"a", "b", "c", "d"}, wantCalls: 3,
		},
		{
			name:  "short page ends without another request",
			limit: 2,
			pages: map[string]string{
				"":  projectsJSON("b", "a", "b"),
				"b": projectsJSON("c", "c"),
			},
			wantIDs: []string{"a", "b", "c"}, wantCalls: 2,
		},
		{
			name:  "unchanged cursor ends",
			limit: 1,
			pages: map[string]string{
				"":  projectsJSON("x", "a"),
				"x": projectsJSON("x", "b"),
			},
			wantIDs: []string{"a", "b"}, wantCalls: 2,
		},
		{
			name:  "cursor cycle ends",
			limit: 1,
			pages: map[string]string{
				"":  projectsJSON("x", "a"),
				"x": projectsJSON("y", "b"),
				"y": projectsJSON("x", "c"),
			},
			wantIDs: []string{"a", "b", "c"}, wantCalls: 3,
		},
		{
			name:  "no pagination object",
			limit: 1,
			pages: map[string]string{
				"": `{"projects":[{"id":"a"}]}`,
			},
			wantIDs: []string{"a"}, wantCalls: 1,
		},
		{
			name:  "error mid-way is yielded last",
			limit: 1,
			pages: map[string]string{
				"": projectsJSON("gone", "a"),
			},
			wantIDs: []string{"a"}, wantCalls: 2, wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newTestClient(t, projectsServer(tt.pages), neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 1, BaseDelay: 1, MaxDelay: 1}))
			var ids []string
			var gotErr error
			for p, err := range c.AllProjects(context.Background(), neonapi.ListProjectsOptions{Limit: tt.limit}) {
				if err != nil {
					gotErr = err
					continue
				}
				if gotErr != nil {
					t.Fatalf("project %q yielded after error %v", p.ID, gotErr)
				}
				ids = append(ids, p.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
			if n := rec.count(); n != tt.wantCalls {
				t.Errorf("requests = %d, want %d", n, tt.wantCalls)
			}
			if (gotErr != nil) != tt.wantErr {
				t.Errorf("err = %v, wantErr %v", gotErr, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(gotErr, neonapi.ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", gotErr)
			}
		})
	}
}

func TestAllProjectsStopsWhenTheLoopBreaks(t *testing.T) {
	c, rec := newTestClient(t, projectsServer(map[string]string{
		"":  projectsJSON("b", "a", "b"),
		"b": projectsJSON("d", "c", "d"),
	}))
	for p, err := range c.AllProjects(context.Background(), neonapi.ListProjectsOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if p.ID == "a" {
			break
		}
	}
	if n := rec.count(); n != 1 {
		t.Errorf("requests = %d, want 1 after breaking on the first project", n)
	}
}

func TestAllProjectsDefaultLimit(t *testing.T) {
	c, rec := newTestClient(t, projectsServer(map[string]string{"": projectsJSON("a", "a")}))
	for _, err := range c.AllProjects(context.Background(), neonapi.ListProjectsOptions{Search: "x"}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if q := rec.all()[0].Query; q != "limit=100&search=x" {
		t.Errorf("query = %q, want limit=100&search=x", q)
	}
}

func TestListBranchesFollowsCursor(t *testing.T) {
	branches := func(from, to int) string {
		var bs []string
		for i := from; i < to; i++ {
			bs = append(bs, `{"id":"br-`+strconv.Itoa(i)+`","name":"b`+strconv.Itoa(i)+`"}`)
		}
		return strings.Join(bs, ",")
	}
	pages := map[string]string{
		"":   `{"branches":[` + branches(0, 100) + `],"pagination":{"next":"n1","sort_by":"updated_at","sort_order":"desc"}}`,
		"n1": `{"branches":[` + branches(99, 103) + `],"pagination":{"next":"n2"}}`,
	}
	c, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			http.Error(w, "unexpected cursor", 500)
			return
		}
		reply(200, body)(w, r)
	})
	got, err := c.ListBranches(context.Background(), "p-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 103 {
		t.Fatalf("got %d branches, want 103 (the repeated br-99 once)", len(got))
	}
	for i, b := range got {
		if want := "br-" + strconv.Itoa(i); b.ID != want {
			t.Fatalf("branch %d = %s, want %s", i, b.ID, want)
		}
	}
	reqs := rec.all()
	if len(reqs) != 2 || reqs[1].Query != "cursor=n1&limit=100" {
		t.Errorf("requests = %+v, want two, the second with cursor=n1&limit=100", reqs)
	}
}

// countingObserver records what the client reports.
type countingObserver struct {
	mu      sync.Mutex
	calls   []string // "op status"
	retries map[string]int
	waits   []time.Duration
	onRetry func()
}

func (o *countingObserver) ObserveCall(op string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s %d", op, status))
}

func (o *countingObserver) ObserveRetry(op string) {
	o.mu.Lock()
	if o.retries == nil {
		o.retries = map[string]int{}
	}
	o.retries[op]++
	f := o.onRetry
	o.mu.Unlock()
	if f != nil {
		f()
	}
}

func (o *countingObserver) ObserveRateLimitWait(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits = append(o.waits, d)
}

func (o *countingObserver) snapshot() (calls []string, retries map[string]int, waits []time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := map[string]int{}
	for k, v := range o.retries {
		r[k] = v
	}
	return append([]string(nil), o.calls...), r, append([]time.Duration(nil), o.waits...)
}

func TestObserverSeesOperations(t *testing.T) {
	var n int
	var mu sync.Mutex
	obs := &countingObserver{}
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		switch {
		case first:
			reply(503, `{"code":"","message":"busy"}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/integrations"):
			reply(200, `{"data":[]}`)(w, r)
		default:
			reply(404, `{"code":"","message":"no such project"}`)(w, r)
		}
	}, neonapi.WithObserver(obs))
	if _, err := c.ListIntegrations(context.Background(), "p-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProject(context.Background(), "p-2"); !errors.Is(err, neonapi.ErrNotFound) {
		t.Fatalf("GetProject err = %v, want ErrNotFound", err)
	}
	calls, retries, waits := obs.snapshot()
	if want := []string{"listNeonAuthIntegrations 200", "getProject 404"}; !reflect.DeepEqual(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
	if want := map[string]int{"listNeonAuthIntegrations": 1}; !reflect.DeepEqual(retries, want) {
		t.Errorf("retries = %v, want %v", retries, want)
	}
	if len(waits) != 0 {
		t.Errorf("rate limit waits %v with the limiter off", waits)
	}
}

func TestClientNeverPrintsKey(t *testing.T) {
	c, err := neonapi.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	holder := struct {
		Client *neonapi.Client
		inner  *neonapi.Client
	}{c, c}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, &holder))
	}
	outputs = append(outputs, fmt.Sprint(c), fmt.Sprintln(c), c.String(), c.GoString())

	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("client", "c", c, "h", holder)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("client", "c", c, "h", holder)
	outputs = append(outputs, logs.String())

	hexKey := fmt.Sprintf("%x", testKey)
	for _, out := range outputs {
		if strings.Contains(out, testKey) || strings.Contains(strings.ToLower(out), hexKey) {
			t.Errorf("output reveals the key: %s", out)
		}
	}
	if got := fmt.Sprintf("%v", c); !strings.Contains(got, "[REDACTED]") || !strings.Contains(got, "console.neon.tech") {
		t.Errorf("%%v = %q, want the base URL and a redaction marker", got)
	}
}

func TestIntegrationKeysNeverPrintSecret(t *testing.T) {
	const secret = "ssk_0123456789abcdef"
	keys := neonapi.IntegrationKeys{AuthProvider: neonapi.AuthProviderStack, PubClientKey: "pck_visible", SecretServerKey: secret}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs = append(outputs, fmt.Sprintf(verb, keys), fmt.Sprintf(verb, &keys))
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("enabled", "keys", keys)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("enabled", "keys", &keys)
	outputs = append(outputs, logs.String())
	for _, out := range outputs {
		if strings.Contains(out, secret) || !strings.Contains(out, "pck_visible") {
			t.Errorf("output %q reveals the secret or hides the public key", out)
		}
	}
	if keys.SecretServerKey != secret {
		t.Error("printing changed the keys")
	}
}
