package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// schemaExists reports whether the neon_auth schema is in the database.
func schemaExists(t *testing.T, conn *pgx.Conn) bool {
	t.Helper()
	var ok bool
	if err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'neon_auth')").Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestBetterAuthFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.createProject("better")
	branchAuth := "/projects/" + p + "/branches/" + br + "/auth"

	var keys integrationKeysJSON
	e.expect("POST", branchAuth, `{"auth_provider":"better_auth"}`, http.StatusCreated, &keys)
	if keys.AuthProvider != "better_auth" || keys.TableName != "user" || keys.SchemaName != "neon_auth" ||
		keys.BaseURL == "" || keys.AuthProviderProjectID == "" || !strings.HasPrefix(keys.SecretServerKey, "ssk_") {
		t.Fatalf("createNeonAuth answered %+v", keys)
	}
	var got integrationJSON
	e.expect("GET", branchAuth, nil, http.StatusOK, &got)
	if got.AuthProvider != "better_auth" || got.BranchID != br || got.DBName != "neondb" || got.OwnedBy != "neon" ||
		got.BaseURL != keys.BaseURL || got.AuthProviderProjectID != keys.AuthProviderProjectID {
		t.Fatalf("getNeonAuth answered %+v", got)
	}

	conn := e.connect(p)
	var columns int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.columns WHERE table_schema = 'neon_auth' AND table_name = 'user'`).Scan(&columns); err != nil || columns != 11 {
		t.Fatalf(`neon_auth."user" has %d columns (%v), want the DDL's 11`, columns, err)
	}

	var user idJSON
	e.expect("POST", branchAuth+"/users", `{"email":"ba@example.com","name":"Ba"}`, http.StatusCreated, &user)
	eventually(t, `row in neon_auth."user"`, func() (bool, error) {
		n, err := count(t, conn, `SELECT count(*) FROM neon_auth."user" WHERE id = $1 AND email = 'ba@example.com' AND name = 'Ba'`, user.ID)
		return n == 1, err
	})

	var role idJSON
	e.expect("PUT", branchAuth+"/users/"+user.ID+"/role", `{"roles":["admin"]}`, http.StatusOK, &role)
	if role.ID != user.ID {
		t.Errorf("updateNeonAuthUserRole answered id %q", role.ID)
	}
	eventually(t, "role admin", func() (bool, error) {
		n, err := count(t, conn, `SELECT count(*) FROM neon_auth."user" WHERE id = $1 AND role = 'admin'`, user.ID)
		return n == 1, err
	})

	e.expect("DELETE", branchAuth+"/users/"+user.ID, nil, http.StatusNoContent, nil)
	eventually(t, "row deleted", func() (bool, error) {
		n, err := count(t, conn, `SELECT count(*) FROM neon_auth."user" WHERE id = $1`, user.ID)
		return n == 0, err
	})
	e.expect("DELETE", branchAuth+"/users/"+user.ID, nil, http.StatusNotFound, nil)

	res := e.request("DELETE", branchAuth, `{"delete_data":true}`)
	if res.status != http.StatusOK || len(res.body) != 0 {
		t.Fatalf("disableNeonAuth: %d %s", res.status, res.body)
	}
	if schemaExists(t, conn) {
		t.Errorf("neon_auth still exists after delete_data")
	}
	e.expect("GET", branchAuth, nil, http.StatusNotFound, nil)
}

func TestDeleteUserSoftDeletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.createProject("soft")
	e.expect("POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}, http.StatusCreated, nil)
	var user idJSON
	e.expect("POST", "/projects/auth/user", map[string]any{"project_id": p, "auth_provider": "stack", "email": "gone@example.com", "name": "Gone"}, http.StatusCreated, &user)
	e.expect("DELETE", "/projects/"+p+"/auth/users/"+user.ID, nil, http.StatusNoContent, nil)

	conn := e.connect(p)
	eventually(t, "soft delete", func() (bool, error) {
		n, err := count(t, conn, `SELECT count(*) FROM neon_auth.users_sync WHERE id = $1 AND deleted_at IS NOT NULL AND updated_at >= created_at AND name = 'Gone'`, user.ID)
		return n == 1, err
	})
	e.expect("DELETE", "/projects/"+p+"/auth/users/"+user.ID, nil, http.StatusNotFound, nil)
	// The email is free again.
	e.expect("POST", "/projects/auth/user", map[string]any{"project_id": p, "auth_provider": "stack", "email": "gone@example.com"}, http.StatusCreated, nil)
}

func TestDeleteDataDropsSchema(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.createProject("drop")
	create := map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}
	e.expect("POST", "/projects/auth/create", create, http.StatusCreated, nil)
	var user idJSON
	e.expect("POST", "/projects/auth/user", map[string]any{"project_id": p, "auth_provider": "stack", "email": "kept@example.com"}, http.StatusCreated, &user)
	e.waitSync()
	conn := e.connect(p)

	// Without delete_data the table and its rows stay, and enabling again
	// picks them up.
	e.expect("DELETE", "/projects/"+p+"/auth/integration/stack", nil, http.StatusOK, nil)
	if !schemaExists(t, conn) {
		t.Fatal("neon_auth dropped without delete_data")
	}
	e.expect("POST", "/projects/auth/create", create, http.StatusCreated, nil)
	e.expect("POST", "/projects/auth/user", map[string]any{"project_id": p, "auth_provider": "stack", "email": "kept@example.com"}, http.StatusConflict, nil)
	e.expect("DELETE", "/projects/"+p+"/auth/users/"+user.ID, nil, http.StatusNoContent, nil)

	e.expect("DELETE", "/projects/"+p+"/auth/integration/stack", `{"delete_data":true}`, http.StatusOK, nil)
	if schemaExists(t, conn) {
		t.Fatal("neon_auth survives delete_data")
	}
	// The queued soft delete is dropped with the integration, not retried
	// against a missing table.
	e.waitSync()
	if schemaExists(t, conn) {
		t.Fatal("neon_auth came back")
	}
	var list struct {
		Data []integrationJSON `json:"data"`
	}
	e.expect("GET", "/projects/"+p+"/auth/integrations", nil, http.StatusOK, &list)
	if len(list.Data) != 0 {
		t.Errorf("integrations after delete: %+v", list.Data)
	}
}

func TestGenerationConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.createProject("generations")
	e.expect("POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}, http.StatusCreated, nil)
	e.expect("DELETE", "/projects/"+p+"/auth/integration/stack", nil, http.StatusOK, nil)
	// users_sync is still there: better_auth cannot share the schema.
	res := e.request("POST", "/projects/"+p+"/branches/"+br+"/auth", `{"auth_provider":"better_auth"}`)
	if res.status != http.StatusConflict || res.generalError(t).Code != codeConflict {
		t.Fatalf("better_auth over users_sync: %d %s", res.status, res.body)
	}
	e.expect("GET", "/projects/"+p+"/branches/"+br+"/auth", nil, http.StatusNotFound, nil)
}

func TestSDKKeysAreFresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.createProject("keys")
	var first, second integrationKeysJSON
	e.expect("POST", "/projects/auth/create", map[string]any{"auth_provider": "mock", "project_id": p, "branch_id": br}, http.StatusCreated, &first)
	e.expect("POST", "/projects/auth/keys", map[string]any{"project_id": p, "auth_provider": "mock"}, http.StatusCreated, &second)
	if second.AuthProviderProjectID != first.AuthProviderProjectID || second.SecretServerKey == first.SecretServerKey ||
		second.PubClientKey == first.PubClientKey || second.TableName != "users_sync" {
		t.Fatalf("keys %+v after %+v", second, first)
	}
}

func TestTransferConfirmOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.createProject("transfer")
	e.expect("POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}, http.StatusCreated, nil)
	var tr struct {
		URL string `json:"url"`
	}
	e.expect("POST", "/projects/auth/transfer_ownership", map[string]any{"project_id": p, "auth_provider": "stack"}, http.StatusOK, &tr)
	e.expect("GET", tr.URL, nil, http.StatusOK, nil)
	if res := e.request("GET", tr.URL, nil); res.status != http.StatusNotFound {
		t.Errorf("second confirmation: %d", res.status)
	}
	res := e.request("POST", "/projects/auth/transfer_ownership", map[string]any{"project_id": p, "auth_provider": "stack"})
	if res.status != http.StatusConflict {
		t.Errorf("transfer of a transferred project: %d %s", res.status, res.body)
	}
}

func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	const n = 200
	e := newEnv(t, Config{})
	p, br := e.createProject("crowd")
	e.expect("POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}, http.StatusCreated, nil)

	ids := make(chan string, n)
	errs := make(chan error, n)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	for i := range n {
		go func() {
			body := strings.NewReader(`{"project_id":"` + p + `","auth_provider":"stack","email":"u` + strconv.Itoa(i) + `@example.com"}`)
			req, _ := http.NewRequest("POST", e.base+"/projects/auth/user", body)
			req.Header.Set("Authorization", "Bearer k")
			res, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			var out idJSON
			data, err := io.ReadAll(res.Body)
			if err == nil && res.StatusCode == http.StatusCreated {
				err = json.Unmarshal(data, &out)
			}
			if err != nil || res.StatusCode != http.StatusCreated {
				errs <- fmt.Errorf("status %d: %s (%v)", res.StatusCode, data, err)
				return
			}
			ids <- out.ID
		}()
	}
	want := map[string]bool{}
	for range n {
		select {
		case id := <-ids:
			want[id] = true
		case err := <-errs:
			t.Fatal(err)
		}
	}
	if len(want) != n {
		t.Fatalf("%d distinct ids for %d users", len(want), n)
	}
	e.waitSync()
	conn := e.connect(p)
	rows, err := conn.Query(context.Background(), "SELECT id FROM neon_auth.users_sync")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d rows, want %d", len(got), n)
	}
	for _, id := range got {
		if !want[id] {
			t.Errorf("unexpected row %s", id)
		}
		delete(want, id)
	}
}
