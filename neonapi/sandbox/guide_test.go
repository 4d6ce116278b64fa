package sandbox

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The request bodies of Neon's "Manage Neon Auth using the API" guide, byte for
// byte as its curl examples send them (curl --data sends what is between the
// single quotes).
const (
	guideCreateIntegration = `{
       "auth_provider": "stack",
       "project_id": "project-id",
       "branch_id": "br-example-123",
       "database_name": "neondb",
       "role_name": "neondb_owner"
     }`
	guideCreateUser = `{
       "project_id": "project-id",
       "auth_provider": "stack",
       "email": "user@example.com",
       "password": "secure-password"
     }`
	guideTransfer = `{
       "project_id": "project-id",
       "auth_provider": "stack"
     }`
)

// guideCurl sends a request the way the guide's curl examples do, including
// their literal, single-quoted '$NEON_API_KEY' token.
func guideCurl(t *testing.T, e *env, method, url, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("authorization", "Bearer $NEON_API_KEY")
	if body != "" {
		req.Header.Set("content-type", "application/json")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func TestGuideCurlExamples(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	projectID, _ := e.createProject("guide")

	// The guide finds the branch with listProjectBranches, "default": true.
	var branches struct {
		Branches []struct {
			ID      string `json:"id"`
			Default bool   `json:"default"`
		} `json:"branches"`
	}
	e.expect("GET", "/projects/"+projectID+"/branches", nil, http.StatusOK, &branches)
	branchID := ""
	for _, b := range branches.Branches {
		if b.Default {
			branchID = b.ID
		}
	}
	if branchID == "" {
		t.Fatalf("no default branch in %+v", branches)
	}
	fill := func(body string) string {
		return strings.NewReplacer(`"project-id"`, `"`+projectID+`"`, `"br-example-123"`, `"`+branchID+`"`).Replace(body)
	}

	// 1. Create integration.
	res := guideCurl(t, e, "POST", e.base+"/projects/auth/create", fill(guideCreateIntegration))
	if res.status != http.StatusCreated {
		t.Fatalf("create integration: status %d, body %s", res.status, res.body)
	}
	var keys integrationKeysJSON
	res.json(t, &keys)
	if keys.AuthProvider != "stack" || keys.AuthProviderProjectID == "" ||
		!strings.HasPrefix(keys.PubClientKey, "pck_") || !strings.HasPrefix(keys.SecretServerKey, "ssk_") ||
		!strings.Contains(keys.JWKSURL, keys.AuthProviderProjectID) || !strings.HasSuffix(keys.JWKSURL, "/.well-known/jwks.json") ||
		keys.SchemaName != "neon_auth" || keys.TableName != "users_sync" {
		t.Fatalf("create integration answered %s", res.body)
	}
	if jwks := guideCurl(t, e, "GET", keys.JWKSURL, ""); jwks.status != http.StatusOK || !strings.Contains(string(jwks.body), `"keys"`) {
		t.Errorf("jwks_url answered %d %s", jwks.status, jwks.body)
	}

	// 2. List integrations.
	list := func() []integrationJSON {
		t.Helper()
		res := guideCurl(t, e, "GET", e.base+"/projects/"+projectID+"/auth/integrations", "")
		if res.status != http.StatusOK {
			t.Fatalf("list integrations: status %d, body %s", res.status, res.body)
		}
		var out struct {
			Data []integrationJSON `json:"data"`
		}
		res.json(t, &out)
		if out.Data == nil {
			t.Fatalf("list integrations: data is not an array: %s", res.body)
		}
		return out.Data
	}
	got := list()
	if len(got) != 1 {
		t.Fatalf("list integrations: %+v, want one", got)
	}
	in := got[0]
	if in.AuthProvider != "stack" || in.AuthProviderProjectID != keys.AuthProviderProjectID || in.BranchID != branchID ||
		in.DBName != "neondb" || in.OwnedBy != "neon" || in.JWKSURL != keys.JWKSURL || in.CreatedAt.IsZero() || in.TransferStatus != "" {
		t.Fatalf("list integrations: %+v", in)
	}

	// 3. Create a user; it reaches neon_auth.users_sync shortly after.
	res = guideCurl(t, e, "POST", e.base+"/projects/auth/user", fill(guideCreateUser))
	if res.status != http.StatusCreated {
		t.Fatalf("create user: status %d, body %s", res.status, res.body)
	}
	var user idJSON
	res.json(t, &user)
	if user.ID == "" {
		t.Fatalf("create user answered %s", res.body)
	}
	conn := e.connect(projectID)
	var email string
	var createdAt time.Time
	eventually(t, "user row in neon_auth.users_sync", func() (bool, error) {
		// The guide's own verification query.
		rows, err := conn.Query(context.Background(), "SELECT id, email, name, created_at FROM neon_auth.users_sync")
		if err != nil {
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var name *string
			if err := rows.Scan(&id, &email, &name, &createdAt); err != nil {
				return false, err
			}
			if id == user.ID {
				return true, nil
			}
		}
		return false, rows.Err()
	})
	if email != "user@example.com" || time.Since(createdAt) > time.Hour {
		t.Errorf("synced row: email %q created_at %s", email, createdAt)
	}
	// raw_json carries every key Stack Auth's sync writes.
	var hasPassword, allKeys bool
	err := conn.QueryRow(context.Background(), `SELECT (raw_json->>'has_password')::bool, raw_json ?& array['id', 'display_name',
		'primary_email', 'primary_email_verified', 'signed_up_at_millis', 'last_active_at_millis', 'client_metadata',
		'server_metadata', 'client_read_only_metadata', 'has_password', 'profile_image_url', 'oauth_providers']
		FROM neon_auth.users_sync WHERE id = $1`, user.ID).Scan(&hasPassword, &allKeys)
	if err != nil || !hasPassword || !allKeys {
		t.Errorf("raw_json: has_password %t, all keys %t (%v)", hasPassword, allKeys, err)
	}

	// 4. Transfer to your auth provider: request the URL, then open it.
	res = guideCurl(t, e, "POST", e.base+"/projects/auth/transfer_ownership", fill(guideTransfer))
	if res.status != http.StatusOK {
		t.Fatalf("transfer: status %d, body %s", res.status, res.body)
	}
	var transfer struct {
		URL string `json:"url"`
	}
	res.json(t, &transfer)
	if !strings.HasPrefix(transfer.URL, e.srv.URL+"/_sandbox/transfer/confirm?code=") {
		t.Fatalf("transfer url %q", transfer.URL)
	}
	if in := list()[0]; in.OwnedBy != "neon" || in.TransferStatus != "initiated" {
		t.Fatalf("after transfer request: owned_by %q transfer_status %q", in.OwnedBy, in.TransferStatus)
	}
	page := guideCurl(t, e, "GET", transfer.URL, "")
	if page.status != http.StatusOK || !strings.Contains(string(page.body), "Transfer complete") {
		t.Fatalf("confirm page: %d %s", page.status, page.body)
	}
	if in := list()[0]; in.OwnedBy != "user" || in.TransferStatus != "finished" {
		t.Fatalf("after confirmation: owned_by %q transfer_status %q", in.OwnedBy, in.TransferStatus)
	}

	// 5. Delete the integration.
	res = guideCurl(t, e, "DELETE", e.base+"/projects/"+projectID+"/auth/integration/stack", "")
	if res.status != http.StatusOK || len(res.body) != 0 {
		t.Fatalf("delete integration: status %d, body %q", res.status, res.body)
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("after delete: %+v, want none", got)
	}
}
