package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// testSyncDelay keeps the asynchronous writes visible but quick.
const testSyncDelay = 20 * time.Millisecond

// env is a sandbox served over real HTTP.
type env struct {
	t    testing.TB
	sb   *Sandbox
	srv  *httptest.Server
	base string // .../api/v2
	key  string // bearer token sent by do
}

// newEnv starts a sandbox on the test server; cfg.DatabaseURL and a short
// SyncDelay are filled in when unset.
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = pgtest.Require(t)
	}
	if cfg.SyncDelay == 0 {
		cfg.SyncDelay = testSyncDelay
	}
	sb, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close) // runs before sb.Close
	key := cfg.APIKey
	if key == "" {
		key = "test-key"
	}
	return &env{t: t, sb: sb, srv: srv, base: srv.URL + "/api/v2", key: key}
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v, failing the test when it is not JSON.
func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// generalError decodes a GeneralError body.
func (r response) generalError(t testing.TB) errorBody {
	t.Helper()
	var e errorBody
	r.json(t, &e)
	return e
}

// request sends a request with the env's bearer token. body is sent as is
// when it is a string, JSON-encoded otherwise; headers are name, value pairs.
func (e *env) request(method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// expect sends a request, checks the status and decodes the body into out
// (when not nil).
func (e *env) expect(method, path string, body any, status int, out any) response {
	e.t.Helper()
	res := e.request(method, path, body)
	if res.status != status {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, res.status, status, res.body)
	}
	if out != nil {
		res.json(e.t, out)
	}
	return res
}

// createProject makes a project over the API and returns its id and default
// branch id.
func (e *env) createProject(name string) (projectID, branchID string) {
	e.t.Helper()
	var out struct {
		Project struct {
			ID string `json:"id"`
		} `json:"project"`
		Branch struct {
			ID string `json:"id"`
		} `json:"branch"`
	}
	e.expect("POST", "/projects", map[string]any{"project": map[string]any{"name": name}}, http.StatusCreated, &out)
	return out.Project.ID, out.Branch.ID
}

// seedProject makes a project with Sandbox.CreateProject, whose database
// is only created when first used: cheaper for tests that never connect.
func (e *env) seedProject(name string) (projectID, branchID string) {
	e.t.Helper()
	p, err := e.sb.CreateProject(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.ID, p.BranchID
}

// connect opens the project's default database through getConnectionURI.
func (e *env) connect(projectID string) *pgx.Conn {
	e.t.Helper()
	var out struct {
		URI string `json:"uri"`
	}
	e.expect("GET", "/projects/"+projectID+"/connection_uri?database_name=neondb&role_name=neondb_owner", nil, http.StatusOK, &out)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, out.URI)
	if err != nil {
		e.t.Fatalf("connect to %s: %v", projectID, err)
	}
	e.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// eventually polls check until it reports done, failing after a generous
// deadline; check's error is the reason shown then.
func eventually(t testing.TB, what string, check func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		done, err := check()
		if done {
			return
		}
		last = err
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: never happened (last: %v)", what, last)
}

// count runs a counting query.
func count(t testing.TB, conn *pgx.Conn, sql string, args ...any) (int, error) {
	t.Helper()
	var n int
	err := conn.QueryRow(context.Background(), sql, args...).Scan(&n)
	return n, err
}

// waitSync waits until every queued write reached its database.
func (e *env) waitSync() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.sb.WaitForSync(ctx); err != nil {
		e.t.Fatal(err)
	}
}
