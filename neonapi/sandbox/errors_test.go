package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

func TestErrorAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.createProject("errors")
	e.expect("POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}, http.StatusCreated, nil)
	e.expect("POST", "/projects/auth/user", map[string]any{"project_id": p, "auth_provider": "stack", "email": "taken@example.com"}, http.StatusCreated, nil)
	bare, bareBranch := e.seedProject("no-auth")

	user := func(fields map[string]any) map[string]any {
		body := map[string]any{"project_id": p, "auth_provider": "stack", "email": "new@example.com"}
		for k, v := range fields {
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
		}
		return body
	}
	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		status  int
		code    string
		message string // a part of the message
	}{
		{"no token", "GET", "/projects", nil, []string{"Authorization", ""}, 401, codeUnauthorized, "authentication required"},
		{"empty bearer", "GET", "/projects", nil, []string{"Authorization", "Bearer "}, 401, codeUnauthorized, "authentication required"},
		{"basic auth", "GET", "/projects", nil, []string{"Authorization", "Basic dXNlcjpwdw=="}, 401, codeUnauthorized, "authentication required"},

		{"malformed JSON", "POST", "/projects/auth/user", `{"project_id": "x",`, nil, 400, codeBadRequest, "not valid JSON"},
		{"body not an object", "POST", "/projects/auth/user", `["a"]`, nil, 400, codeBadRequest, "JSON object"},
		{"two JSON values", "POST", "/projects/auth/user", `{} {}`, nil, 400, codeBadRequest, "single JSON object"},
		{"empty body", "POST", "/projects/auth/user", "", nil, 400, codeBadRequest, "body is required"},
		{"wrong field type", "POST", "/projects/auth/user", user(map[string]any{"email": 42}), nil, 400, codeBadRequest, "email must be a JSON string"},
		{"missing project_id", "POST", "/projects/auth/user", user(map[string]any{"project_id": nil}), nil, 400, codeBadRequest, "project_id is required"},
		{"missing email", "POST", "/projects/auth/user", user(map[string]any{"email": nil}), nil, 400, codeBadRequest, "email is required"},
		{"bad email", "POST", "/projects/auth/user", user(map[string]any{"email": "not-an-email"}), nil, 400, codeBadRequest, "not a valid email"},
		{"email with display name", "POST", "/projects/auth/user", user(map[string]any{"email": "Ann <ann@example.com>"}), nil, 400, codeBadRequest, "not a valid email"},
		{"email too long", "POST", "/projects/auth/user", user(map[string]any{"email": strings.Repeat("a", 250) + "@example.com"}), nil, 400, codeBadRequest, "1 to 256 characters"},
		{"empty name", "POST", "/projects/auth/user", user(map[string]any{"name": ""}), nil, 400, codeBadRequest, "name must be 1 to 255"},
		{"name too long", "POST", "/projects/auth/user", user(map[string]any{"name": strings.Repeat("n", 256)}), nil, 400, codeBadRequest, "name must be 1 to 255"},
		{"unknown provider", "POST", "/projects/auth/user", user(map[string]any{"auth_provider": "auth0"}), nil, 400, codeBadRequest, "auth_provider must be one of"},
		{"project id pattern", "POST", "/projects/auth/user", user(map[string]any{"project_id": "Not_Valid"}), nil, 400, codeBadRequest, "project_id must match"},
		{"integration missing branch", "POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p}, nil, 400, codeBadRequest, "branch_id is required"},
		{"better_auth on project endpoint", "POST", "/projects/auth/create", map[string]any{"auth_provider": "better_auth", "project_id": p, "branch_id": br}, nil, 400, codeBadRequest, "per branch"},
		{"limit 0", "GET", "/projects?limit=0", nil, nil, 400, codeBadRequest, "limit must be an integer from 1 to 400"},
		{"limit 401", "GET", "/projects?limit=401", nil, nil, 400, codeBadRequest, "limit must be an integer from 1 to 400"},
		{"limit not a number", "GET", "/projects?limit=ten", nil, nil, 400, codeBadRequest, "limit must be an integer"},
		{"unknown cursor", "GET", "/projects?cursor=gone-gone-000000", nil, nil, 400, codeBadRequest, "cursor"},
		{"path id pattern", "GET", "/projects/UPPER_CASE", nil, nil, 400, codeBadRequest, "project_id must match"},
		{"provider path enum", "DELETE", "/projects/" + p + "/auth/integration/okta", nil, nil, 400, codeBadRequest, "auth_provider must be one of"},
		{"delete_data not boolean", "DELETE", "/projects/" + p + "/auth/integration/stack", `{"delete_data":"yes"}`, nil, 400, codeBadRequest, "delete_data must be a JSON boolean"},
		{"connection uri without database", "GET", "/projects/" + p + "/connection_uri?role_name=neondb_owner", nil, nil, 400, codeBadRequest, "database_name is required"},
		{"pooled not boolean", "GET", "/projects/" + p + "/connection_uri?database_name=neondb&role_name=neondb_owner&pooled=maybe", nil, nil, 400, codeBadRequest, "pooled must be true or false"},
		{"createProject without project", "POST", "/projects", `{}`, nil, 400, codeBadRequest, "project is required"},
		{"createProject pg_version", "POST", "/projects", `{"project":{"pg_version":13}}`, nil, 400, codeBadRequest, "pg_version must be from 14 to 18"},
		{"createProject region", "POST", "/projects", `{"project":{"region_id":"mars-1"}}`, nil, 400, codeBadRequest, "region_id"},
		{"empty roles", "PUT", "/projects/" + p + "/branches/" + br + "/auth/users/x/role", `{"roles":[]}`, nil, 400, codeBadRequest, "at least one role"},
		{"roles on stack", "PUT", "/projects/" + p + "/branches/" + br + "/auth/users/x/role", `{"roles":["admin"]}`, nil, 400, codeBadRequest, "better_auth"},
		{"sync mode", "POST", "http://SRV/_sandbox/sync", `{"mode":"fast"}`, nil, 400, codeBadRequest, "mode must be"},
		{"fault kind", "POST", "http://SRV/_sandbox/faults", `{"kind":"500"}`, nil, 400, codeBadRequest, "unknown fault kind"},

		{"unknown project", "GET", "/projects/no-such-project-000000", nil, nil, 404, codeNotFound, "project no-such-project-000000 not found"},
		{"unknown branch", "GET", "/projects/" + p + "/branches/br-none-none-00000000/databases", nil, nil, 404, codeNotFound, "branch br-none-none-00000000 not found"},
		{"unknown branch roles", "GET", "/projects/" + p + "/branches/br-none-none-00000000/roles", nil, nil, 404, codeNotFound, "not found"},
		{"integration on unknown project", "POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": "none-none-000000", "branch_id": br}, nil, 404, codeNotFound, "project none-none-000000 not found"},
		{"integration on unknown branch", "POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": bare, "branch_id": "br-x"}, nil, 404, codeNotFound, "branch br-x not found"},
		{"integration on unknown database", "POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": bare, "branch_id": bareBranch, "database_name": "nope"}, nil, 404, codeNotFound, "database nope not found"},
		{"user without integration", "POST", "/projects/auth/user", user(map[string]any{"project_id": bare}), nil, 404, codeNotFound, "no Neon Auth integration"},
		{"user of other provider", "POST", "/projects/auth/user", user(map[string]any{"auth_provider": "mock"}), nil, 404, codeNotFound, "no Neon Auth integration with mock"},
		{"delete unknown user", "DELETE", "/projects/" + p + "/auth/users/nobody", nil, nil, 404, codeNotFound, "user nobody not found"},
		{"delete unknown integration", "DELETE", "/projects/" + bare + "/auth/integration/stack", nil, nil, 404, codeNotFound, "no Neon Auth integration"},
		{"transfer without integration", "POST", "/projects/auth/transfer_ownership", map[string]any{"project_id": bare, "auth_provider": "stack"}, nil, 404, codeNotFound, "no Neon Auth integration"},
		{"keys without integration", "POST", "/projects/auth/keys", map[string]any{"project_id": bare, "auth_provider": "stack"}, nil, 404, codeNotFound, "no Neon Auth integration"},
		{"branch auth not enabled", "GET", "/projects/" + bare + "/branches/" + bareBranch + "/auth", nil, nil, 404, codeNotFound, "not enabled"},
		{"branch user without auth", "POST", "/projects/" + bare + "/branches/" + bareBranch + "/auth/users", `{"email":"a@example.com"}`, nil, 404, codeNotFound, "not enabled"},
		{"delete unknown branch user", "DELETE", "/projects/" + p + "/branches/" + br + "/auth/users/nobody", nil, nil, 404, codeNotFound, "user nobody not found"},
		{"unknown database in uri", "GET", "/projects/" + p + "/connection_uri?database_name=other&role_name=neondb_owner", nil, nil, 404, codeNotFound, "database other not found"},
		{"unknown role in uri", "GET", "/projects/" + p + "/connection_uri?database_name=neondb&role_name=alice", nil, nil, 404, codeNotFound, "role alice not found"},
		{"unknown endpoint", "GET", "/projects/" + p + "/jwks", nil, nil, 404, codeNotFound, "no such endpoint"},

		{"second integration", "POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}, nil, 409, codeConflict, "already has a Neon Auth integration with stack"},
		{"branch already enabled", "POST", "/projects/" + p + "/branches/" + br + "/auth", `{"auth_provider":"better_auth"}`, nil, 409, codeConflict, "already enabled on branch"},
		{"duplicate email", "POST", "/projects/auth/user", user(map[string]any{"email": "taken@example.com"}), nil, 409, codeConflict, "already exists"},
		{"duplicate email other case", "POST", "/projects/auth/user", user(map[string]any{"email": "Taken@Example.com"}), nil, 409, codeConflict, "already exists"},

		{"method not allowed", "PATCH", "/projects", `{}`, nil, 405, "METHOD_NOT_ALLOWED", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqID := "req-" + strings.ReplaceAll(tt.name, " ", "-")
			path := strings.Replace(tt.path, "http://SRV", e.srv.URL, 1)
			res := e.request(tt.method, path, tt.body, append([]string{"X-Request-ID", reqID}, tt.headers...)...)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			got := res.generalError(t)
			if got.Code != tt.code || !strings.Contains(got.Message, tt.message) {
				t.Errorf("error %+v, want code %s and a message with %q", got, tt.code, tt.message)
			}
			if got.RequestID != reqID || res.header.Get("X-Request-ID") != reqID {
				t.Errorf("request_id %q, header %q; want %q", got.RequestID, res.header.Get("X-Request-ID"), reqID)
			}
		})
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{APIKey: "the-one-key"})
	res := e.request("GET", "/auth", nil, "Authorization", "Bearer another-key")
	if res.status != http.StatusUnauthorized {
		t.Fatalf("wrong key: status %d", res.status)
	}
	if got := res.generalError(t); got.Code != codeUnauthorized || got.Message != "invalid API key" || got.RequestID == "" || got.RequestID != res.header.Get("X-Request-ID") {
		t.Errorf("wrong key: %+v (header %q)", got, res.header.Get("X-Request-ID"))
	}
	if strings.Contains(string(res.body), "another-key") {
		t.Errorf("the error echoes the token: %s", res.body)
	}
	// Control endpoints need the key too once one is configured.
	if res := e.request("GET", e.srv.URL+"/_sandbox/faults", nil, "Authorization", ""); res.status != http.StatusUnauthorized {
		t.Errorf("control endpoint without key: status %d", res.status)
	}
	var details struct {
		AccountID  string `json:"account_id"`
		AuthMethod string `json:"auth_method"`
	}
	e.expect("GET", "/auth", nil, http.StatusOK, &details)
	if details.AccountID == "" || details.AuthMethod != "api_key_user" {
		t.Errorf("getAuthDetails: %+v", details)
	}
}

func TestRequestIDGenerated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	res := e.request("GET", "/projects/none-none-000000", nil)
	got := res.generalError(t)
	if res.status != http.StatusNotFound || got.RequestID == "" || got.RequestID != res.header.Get("X-Request-ID") {
		t.Fatalf("status %d, request_id %q, header %q", res.status, got.RequestID, res.header.Get("X-Request-ID"))
	}
	if ok := e.request("GET", "/projects", nil); ok.header.Get("X-Request-ID") == "" {
		t.Errorf("a success has no X-Request-ID header")
	}
}

func TestPrintsHideSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{APIKey: "super-secret-key", DatabaseURL: strings.Replace(pgtest.Require(t), "postgres@", "postgres:pw-secret@", 1)})
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", e.sb, e.sb, e.sb, e.sb), fmt.Sprintf("%v %+v %#v", e.sb.cfg, e.sb.cfg, e.sb.cfg)} {
		if strings.Contains(s, "super-secret-key") || strings.Contains(s, "pw-secret") {
			t.Errorf("print leaks a secret: %s", s)
		}
	}
}
