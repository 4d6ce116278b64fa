package neonapi_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/internal/specvalidate"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// conformanceSpecPath is Neon's OpenAPI document; testdata/README.md says
// where it comes from.
const conformanceSpecPath = "testdata/neon-api-v2.2026-06-09.json"

// conformanceKey is the only bearer token the sandbox under test accepts, so
// that a wrong key is refused as Neon refuses it.
const conformanceKey = "napi_conformance_0123456789abcdef"

// conformanceOps are the operations the client implements. Methods added to
// the client later are found from their doc comments (clientOperationIDs), so
// this list only guards against losing one.
var conformanceOps = []string{
	"createNeonAuthIntegration", "listNeonAuthIntegrations", "createNeonAuthNewUser",
	"deleteNeonAuthUser", "transferNeonAuthProviderProject", "deleteNeonAuthIntegration",
	"createNeonAuthProviderSDKKeys", "getNeonAuth", "createNeonAuth", "disableNeonAuth",
	"createBranchNeonAuthNewUser", "deleteBranchNeonAuthUser", "updateNeonAuthUserRole",
	"getAuthDetails", "listProjects", "getProject", "createProject", "listProjectBranches",
	"listProjectBranchDatabases", "listProjectBranchRoles", "getConnectionURI",
}

// conformance is the client and the sandbox, with every byte between them
// checked against the spec.
type conformance struct {
	sb   *sandbox.Sandbox
	spec *specvalidate.Spec
	base string // the API root, ".../api/v2"
	tr   *specvalidate.Transport
	ops  *operationLog
	// client retries like the production client (with short pauses); once
	// never retries, so an injected fault reaches the caller; wrongKey holds a
	// key the sandbox refuses; raw sends hand-written requests.
	client, once, wrongKey *neonapi.Client
	raw                    *http.Client

	mu  sync.Mutex
	seq int
}

func newConformance(t *testing.T) *conformance {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Config{
		DatabaseURL: pgtest.Require(t),
		APIKey:      conformanceKey,
		SyncDelay:   5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("closing the sandbox: %v", err)
		}
	})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)

	c := &conformance{sb: sb, base: srv.URL + "/api/v2", ops: &operationLog{}}
	spec, err := specvalidate.Load(conformanceSpecPath, c.base)
	if err != nil {
		t.Fatal(err)
	}
	c.spec = spec
	c.tr = specvalidate.NewTransport(spec, srv.Client().Transport)
	c.raw = &http.Client{Transport: c.tr}

	newClient := func(key string, p neonapi.RetryPolicy) *neonapi.Client {
		cl, err := neonapi.New(key,
			neonapi.WithBaseURL(c.base),
			neonapi.WithHTTPClient(&http.Client{Transport: c.tr}),
			neonapi.WithRetryPolicy(p),
			neonapi.WithoutRateLimit(),
			neonapi.WithObserver(c.ops),
		)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	retries := neonapi.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, AttemptTimeout: 10 * time.Second}
	single := retries
	single.MaxAttempts = 1
	c.client = newClient(conformanceKey, retries)
	c.once = newClient(conformanceKey, single)
	c.wrongKey = newClient("napi_not_the_sandbox_key", single)
	return c
}

// requestID returns a fresh X-Request-ID; errors must echo it as request_id.
func (c *conformance) requestID(op string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return fmt.Sprintf("conformance-%s-%d", op, c.seq)
}

// call runs fn, which must call only operation op, with a fresh request id.
// It fails the test for every exchange that departs from the spec, for a
// request routed to another operation, and for a call the client reported to
// its observer under another name.
func (c *conformance) call(t *testing.T, op string, fn func(ctx context.Context) error) (string, error) {
	t.Helper()
	id := c.requestID(op)
	mark, opsMark := c.tr.Len(), c.ops.len()
	err := fn(neonapi.WithRequestID(context.Background(), id))
	c.checkExchanges(t, op, mark)
	reported := c.ops.since(opsMark)
	if len(reported) == 0 {
		t.Errorf("%s: the client reported no call to its observer", op)
	}
	for _, got := range reported {
		if got != op {
			t.Errorf("%s: the client reported the call as %q", op, got)
		}
	}
	return id, err
}

// checkExchanges fails t for the exchanges after mark that departed from the
// spec or did not route to op.
func (c *conformance) checkExchanges(t *testing.T, op string, mark int) {
	t.Helper()
	exs := c.tr.Since(mark)
	if len(exs) == 0 {
		t.Errorf("%s: no request was sent", op)
	}
	for _, ex := range exs {
		if ex.OperationID != op {
			t.Errorf("%s: sent %s, which is a different operation", op, ex)
		}
		for _, p := range ex.Problems {
			t.Errorf("%s: %s: %s", op, ex, p)
		}
	}
}

// rawRequest is a hand-written request, for what the typed client cannot send.
type rawRequest struct {
	method, path, body string // path is below the API root, query included
}

// send sends r once and returns the status. Unless auth is false the request
// carries the sandbox's key. why, when set, is the one way the request is meant
// to break the spec (part of the validator's message); the test fails if it
// breaks the spec in any other way too, so each case tests what it says.
func (c *conformance) send(t *testing.T, op string, r rawRequest, auth bool, why string) int {
	t.Helper()
	ctx := context.Background()
	if why != "" {
		ctx = specvalidate.ExpectInvalidRequest(ctx)
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+conformanceKey)
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Request-ID", c.requestID(op))
	mark := c.tr.Len()
	resp, err := c.raw.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.checkExchanges(t, op, mark)
	for _, ex := range c.tr.Since(mark) {
		if why != "" && (len(ex.RequestErrors) != 1 || !strings.Contains(ex.RequestErrors[0], why)) {
			t.Errorf("%s: the request breaks the spec as %q, want only %q", ex, ex.RequestErrors, why)
		}
	}
	return resp.StatusCode
}

// wantAPIError checks that err is the *APIError for status, matching sentinel
// and carrying the request id that was sent.
func wantAPIError(t *testing.T, op string, err error, status int, sentinel error, sentID string) {
	t.Helper()
	var apiErr *neonapi.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: error %v, want an *APIError with status %d", op, err, status)
		return
	}
	if apiErr.StatusCode != status || !errors.Is(err, sentinel) {
		t.Errorf("%s: error %v (status %d), want status %d matching %v", op, err, apiErr.StatusCode, status, sentinel)
	}
	if apiErr.RequestID != sentID {
		t.Errorf("%s: APIError.RequestID = %q, want the X-Request-ID sent, %q", op, apiErr.RequestID, sentID)
	}
	if apiErr.Message == "" {
		t.Errorf("%s: APIError has no message", op)
	}
}

// operationLog is an Observer recording the operation of every finished call.
type operationLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *operationLog) ObserveCall(op string, _ int, _ time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, op)
}

func (l *operationLog) ObserveRetry(string)                {}
func (l *operationLog) ObserveRateLimitWait(time.Duration) {}

func (l *operationLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ops)
}

func (l *operationLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ops[n:])
}

// must is call for operations that are expected to succeed.
func must[T any](t *testing.T, c *conformance, op string, fn func(ctx context.Context) (T, error)) T {
	t.Helper()
	var v T
	_, err := c.call(t, op, func(ctx context.Context) error {
		var err error
		v, err = fn(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return v
}

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

func operationCases() []opCase {
	stack, better := neonapi.AuthProviderStack, neonapi.AuthProviderBetterAuth
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

// TestConformance drives every operation of the client against the sandbox,
// successes and failures alike, and checks each request and response against
// Neon's OpenAPI document: the client must send only what Neon accepts, and
// the sandbox must answer only what Neon documents.
func TestConformance(t *testing.T) {
	c := newConformance(t)
	cases := operationCases()
	// Names that are valid for the spec's patterns but name nothing.
	unknown := target{project: "no-such-project-404", branch: "br-no-such-branch-404", user: "00000000-0000-4000-8000-000000000404"}

	// run is t.Run, counting the subtests that actually ran: coverage can only
	// be judged when -run selected all of them.
	planned, ran := 0, 0
	run := func(name string, f func(t *testing.T)) {
		planned++
		t.Run(name, func(t *testing.T) {
			ran++
			f(t)
		})
	}

	run("operations succeed", func(t *testing.T) { testConformingSuccesses(t, c) })

	// Objects for the failure cases: a project with a stack integration and a
	// user, and one with Neon Auth on its default branch and a user.
	stackT := conformanceProject(t, c, "conformance-errors-stack")
	branchT := conformanceProject(t, c, "conformance-errors-branch")
	must(t, c, "createNeonAuthIntegration", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
		return c.client.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{AuthProvider: neonapi.AuthProviderStack, ProjectID: stackT.project, BranchID: stackT.branch, DatabaseName: "neondb"})
	})
	stackT.user = must(t, c, "createNeonAuthNewUser", func(ctx context.Context) (*neonapi.CreatedUser, error) {
		return c.client.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: stackT.project, AuthProvider: neonapi.AuthProviderStack, Email: "grace@example.com"})
	}).ID
	must(t, c, "createNeonAuth", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
		return c.client.EnableBranchAuth(ctx, branchT.project, branchT.branch, neonapi.EnableBranchAuthRequest{AuthProvider: neonapi.AuthProviderBetterAuth, DatabaseName: "neondb"})
	})
	branchT.user = must(t, c, "createBranchNeonAuthNewUser", func(ctx context.Context) (*neonapi.CreatedUser, error) {
		return c.client.CreateBranchUser(ctx, branchT.project, branchT.branch, neonapi.CreateBranchUserRequest{Email: "grace@example.com"})
	}).ID

	run("unknown project answers 404", func(t *testing.T) {
		for _, tc := range cases {
			if !tc.scoped {
				continue
			}
			t.Run(tc.op, func(t *testing.T) {
				id, err := c.call(t, tc.op, func(ctx context.Context) error { return tc.call(ctx, c.once, unknown) })
				wantAPIError(t, tc.op, err, http.StatusNotFound, neonapi.ErrNotFound, id)
			})
		}
	})

	run("wrong key answers 401", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.op, func(t *testing.T) {
				id, err := c.call(t, tc.op, func(ctx context.Context) error { return tc.call(ctx, c.wrongKey, unknown) })
				wantAPIError(t, tc.op, err, http.StatusUnauthorized, neonapi.ErrUnauthorized, id)
			})
		}
	})

	run("missing bearer answers 401", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.op, func(t *testing.T) {
				if got := c.send(t, tc.op, tc.raw(unknown), false, "security requirements failed"); got != http.StatusUnauthorized {
					t.Errorf("%s without Authorization: status %d, want 401", tc.op, got)
				}
			})
		}
	})

	run("injected faults", func(t *testing.T) {
		faults := []struct {
			kind     sandbox.FaultKind
			status   int
			sentinel error
		}{
			{"429", http.StatusTooManyRequests, neonapi.ErrRateLimited},
			{"503", http.StatusServiceUnavailable, neonapi.ErrUnavailable},
			{"423", http.StatusLocked, neonapi.ErrLocked},
		}
		for _, tc := range cases {
			for _, f := range faults {
				t.Run(tc.op+"/"+string(f.kind), func(t *testing.T) {
					c.sb.InjectFault(sandbox.Fault{Kind: f.kind, Count: 1, PathContains: "/api/v2/"})
					id, err := c.call(t, tc.op, func(ctx context.Context) error { return tc.call(ctx, c.once, stackT) })
					wantAPIError(t, tc.op, err, f.status, f.sentinel, id)
				})
			}
		}
	})

	run("faults safe to retry are retried", func(t *testing.T) {
		// 503 and 423 mean the request was not acted on, so even a POST or PUT
		// is repeated.
		tests := []struct {
			kind sandbox.FaultKind
			op   string
			call func(ctx context.Context) error
		}{
			{"503", "createBranchNeonAuthNewUser", func(ctx context.Context) error {
				_, err := c.client.CreateBranchUser(ctx, branchT.project, branchT.branch, neonapi.CreateBranchUserRequest{Email: "retried@example.com"})
				return err
			}},
			{"423", "updateNeonAuthUserRole", func(ctx context.Context) error {
				_, err := c.client.UpdateBranchUserRole(ctx, branchT.project, branchT.branch, branchT.user, []string{"member"})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.op+"/"+string(tt.kind), func(t *testing.T) {
				c.sb.InjectFault(sandbox.Fault{Kind: tt.kind, Count: 1, PathContains: "/api/v2/"})
				mark := c.tr.Len()
				if _, err := c.call(t, tt.op, tt.call); err != nil {
					t.Fatalf("%s after one %s: %v", tt.op, tt.kind, err)
				}
				var statuses []int
				for _, ex := range c.tr.Since(mark) {
					statuses = append(statuses, ex.Status)
				}
				if len(statuses) != 2 || fmt.Sprint(statuses[0]) != string(tt.kind) || statuses[1] >= 300 {
					t.Errorf("%s: statuses %v, want the %s and then a success", tt.op, statuses, tt.kind)
				}
			})
		}
	})

	run("conflicts answer 409", func(t *testing.T) {
		tests := []struct {
			op   string
			call func(ctx context.Context) error
		}{
			{"createNeonAuthIntegration", func(ctx context.Context) error {
				_, err := c.once.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{AuthProvider: neonapi.AuthProviderStack, ProjectID: stackT.project, BranchID: stackT.branch})
				return err
			}},
			{"createNeonAuth", func(ctx context.Context) error {
				_, err := c.once.EnableBranchAuth(ctx, branchT.project, branchT.branch, neonapi.EnableBranchAuthRequest{AuthProvider: neonapi.AuthProviderBetterAuth})
				return err
			}},
			{"createNeonAuthNewUser", func(ctx context.Context) error {
				_, err := c.once.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: stackT.project, AuthProvider: neonapi.AuthProviderStack, Email: "grace@example.com"})
				return err
			}},
			{"createBranchNeonAuthNewUser", func(ctx context.Context) error {
				_, err := c.once.CreateBranchUser(ctx, branchT.project, branchT.branch, neonapi.CreateBranchUserRequest{Email: "grace@example.com"})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.op, func(t *testing.T) {
				id, err := c.call(t, tt.op, tt.call)
				wantAPIError(t, tt.op, err, http.StatusConflict, neonapi.ErrConflict, id)
			})
		}
	})

	run("invalid requests answer 400", func(t *testing.T) {
		// The typed client cannot send these, so they are written by hand;
		// each breaks the spec in one way only, on objects that exist.
		p, b := stackT.project, stackT.branch
		bp, bb, bu := branchT.project, branchT.branch, branchT.user
		branchAuth := "/projects/" + bp + "/branches/" + bb + "/auth"
		tests := []struct {
			name, op string
			req      rawRequest
			why      string // how the spec's validator words the violation
		}{
			{"limit below minimum", "listProjects", rawRequest{"GET", "/projects?limit=0", ""}, `parameter "limit" in query`},
			{"limit above maximum", "listProjects", rawRequest{"GET", "/projects?limit=401", ""}, `parameter "limit" in query`},
			{"project missing", "createProject", rawRequest{"POST", "/projects", `{}`}, `property "project" is missing`},
			{"pg_version not an integer", "createProject", rawRequest{"POST", "/projects", `{"project":{"name":"x","pg_version":"fifteen"}}`}, "/project/pg_version"},
			{"project id breaks pattern", "getProject", rawRequest{"GET", "/projects/Not_A_Project", ""}, `parameter "project_id" in path`},
			{"branch limit below minimum", "listProjectBranches", rawRequest{"GET", "/projects/" + p + "/branches?limit=0", ""}, `parameter "limit" in query`},
			{"branch id breaks pattern", "listProjectBranchDatabases", rawRequest{"GET", "/projects/" + p + "/branches/BR_1/databases", ""}, `parameter "branch_id" in path`},
			{"branch id breaks pattern", "listProjectBranchRoles", rawRequest{"GET", "/projects/" + p + "/branches/BR_1/roles", ""}, `parameter "branch_id" in path`},
			{"database_name missing", "getConnectionURI", rawRequest{"GET", "/projects/" + p + "/connection_uri?role_name=neondb_owner", ""}, `parameter "database_name" in query`},
			{"branch_id missing", "createNeonAuthIntegration", rawRequest{"POST", "/projects/auth/create", `{"auth_provider":"stack","project_id":"` + p + `"}`}, `property "branch_id" is missing`},
			{"unknown provider", "createNeonAuthIntegration", rawRequest{"POST", "/projects/auth/create", `{"auth_provider":"github","project_id":"` + p + `","branch_id":"` + b + `"}`}, "/auth_provider"},
			{"project id breaks pattern", "listNeonAuthIntegrations", rawRequest{"GET", "/projects/Not_A_Project/auth/integrations", ""}, `parameter "project_id" in path`},
			{"email not an email", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + p + `","auth_provider":"stack","email":"not-an-email"}`}, "/email"},
			{"empty name", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + p + `","auth_provider":"stack","email":"e@example.com","name":""}`}, "/name"},
			{"email too long", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + p + `","auth_provider":"stack","email":"` + strings.Repeat("e", 250) + `@example.com"}`}, "/email"},
			{"body not an object", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `[]`}, "request body has an error"},
			{"email missing", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + p + `","auth_provider":"stack"}`}, `property "email" is missing`},
			{"project id breaks pattern", "deleteNeonAuthUser", rawRequest{"DELETE", "/projects/Not_A_Project/auth/users/" + stackT.user, ""}, `parameter "project_id" in path`},
			{"auth_provider missing", "transferNeonAuthProviderProject", rawRequest{"POST", "/projects/auth/transfer_ownership", `{"project_id":"` + p + `"}`}, `property "auth_provider" is missing`},
			{"delete_data not a boolean", "deleteNeonAuthIntegration", rawRequest{"DELETE", "/projects/" + p + "/auth/integration/stack", `{"delete_data":"yes"}`}, "/delete_data"},
			{"unknown provider in path", "deleteNeonAuthIntegration", rawRequest{"DELETE", "/projects/" + p + "/auth/integration/github", ""}, `parameter "auth_provider" in path`},
			{"project id breaks pattern", "createNeonAuthProviderSDKKeys", rawRequest{"POST", "/projects/auth/keys", `{"project_id":"Not_A_Project","auth_provider":"stack"}`}, "/project_id"},
			{"branch id breaks pattern", "getNeonAuth", rawRequest{"GET", "/projects/" + bp + "/branches/BR_1/auth", ""}, `parameter "branch_id" in path`},
			{"auth_provider missing", "createNeonAuth", rawRequest{"POST", branchAuth, `{}`}, `property "auth_provider" is missing`},
			{"unknown provider", "createNeonAuth", rawRequest{"POST", branchAuth, `{"auth_provider":"github"}`}, "/auth_provider"},
			{"delete_data not a boolean", "disableNeonAuth", rawRequest{"DELETE", branchAuth, `{"delete_data":1}`}, "/delete_data"},
			{"email missing", "createBranchNeonAuthNewUser", rawRequest{"POST", branchAuth + "/users", `{"name":"No Email"}`}, `property "email" is missing`},
			{"email not an email", "createBranchNeonAuthNewUser", rawRequest{"POST", branchAuth + "/users", `{"email":"not-an-email"}`}, "/email"},
			{"branch id breaks pattern", "deleteBranchNeonAuthUser", rawRequest{"DELETE", "/projects/" + bp + "/branches/BR_1/auth/users/" + bu, ""}, `parameter "branch_id" in path`},
			{"no roles", "updateNeonAuthUserRole", rawRequest{"PUT", branchAuth + "/users/" + bu + "/role", `{"roles":[]}`}, "/roles"},
			{"role not a string", "updateNeonAuthUserRole", rawRequest{"PUT", branchAuth + "/users/" + bu + "/role", `{"roles":[1]}`}, "/roles/0"},
			{"project id too long", "transferNeonAuthProviderProject", rawRequest{"POST", "/projects/auth/transfer_ownership", `{"project_id":"` + strings.Repeat("p", 61) + `","auth_provider":"stack"}`}, "/project_id"},
			{"empty name", "createBranchNeonAuthNewUser", rawRequest{"POST", branchAuth + "/users", `{"email":"e@example.com","name":""}`}, "/name"},
			{"limit not a number", "listProjects", rawRequest{"GET", "/projects?limit=ten", ""}, `parameter "limit" in query`},
			{"pooled not a boolean", "getConnectionURI", rawRequest{"GET", "/projects/" + p + "/connection_uri?database_name=neondb&role_name=neondb_owner&pooled=maybe", ""}, `parameter "pooled" in query`},
			{"roles missing", "updateNeonAuthUserRole", rawRequest{"PUT", branchAuth + "/users/" + bu + "/role", `{}`}, `property "roles" is missing`},
		}
		for _, tt := range tests {
			t.Run(tt.op+"/"+tt.name, func(t *testing.T) {
				if got := c.send(t, tt.op, tt.req, true, tt.why); got != http.StatusBadRequest {
					t.Errorf("%s %s (%s): status %d, want 400", tt.req.method, tt.req.path, tt.name, got)
				}
			})
		}
	})

	run("client reports 400 as ErrBadRequest", func(t *testing.T) {
		// The client leaves the checking of values such as email addresses to
		// Neon; what it must do is report the refusal faithfully.
		tests := []struct {
			op   string
			call func(ctx context.Context) error
		}{
			{"createNeonAuthNewUser", func(ctx context.Context) error {
				_, err := c.once.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: stackT.project, AuthProvider: neonapi.AuthProviderStack, Email: "not-an-email"})
				return err
			}},
			{"createBranchNeonAuthNewUser", func(ctx context.Context) error {
				_, err := c.once.CreateBranchUser(ctx, branchT.project, branchT.branch, neonapi.CreateBranchUserRequest{Email: "not-an-email"})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.op, func(t *testing.T) {
				id, err := c.call(t, tt.op, func(ctx context.Context) error {
					return tt.call(specvalidate.ExpectInvalidRequest(ctx))
				})
				wantAPIError(t, tt.op, err, http.StatusBadRequest, neonapi.ErrBadRequest, id)
			})
		}
	})

	run("client refuses input the spec forbids", func(t *testing.T) {
		// Sending these would break the spec; the client must stop them.
		mark := c.tr.Len()
		ctx := context.Background()
		if _, err := c.client.UpdateBranchUserRole(ctx, branchT.project, branchT.branch, branchT.user, nil); !errors.Is(err, neonapi.ErrInvalidArgument) {
			t.Errorf("UpdateBranchUserRole without roles: error %v, want ErrInvalidArgument", err)
		}
		if _, err := c.client.ListProjects(ctx, neonapi.ListProjectsOptions{Limit: 401}); !errors.Is(err, neonapi.ErrInvalidArgument) {
			t.Errorf("ListProjects with limit 401: error %v, want ErrInvalidArgument", err)
		}
		if _, err := c.client.GetProject(ctx, ""); !errors.Is(err, neonapi.ErrInvalidArgument) {
			t.Errorf("GetProject without id: error %v, want ErrInvalidArgument", err)
		}
		for _, ex := range c.tr.Since(mark) {
			t.Errorf("sent %s although the input was refused", ex)
		}
	})

	t.Run("every operation is covered", func(t *testing.T) {
		if ran < planned {
			t.Skipf("only %d of %d subtests ran; coverage is judged on a full run", ran, planned)
		}
		spec := c.spec
		required := map[string]bool{}
		for _, op := range conformanceOps {
			required[op] = true
		}
		for method, op := range clientOperationIDs(t) {
			if !spec.HasOperation(op) {
				t.Errorf("Client.%s names operationId %q, which the spec does not define", method, op)
			}
			if !required[op] {
				t.Logf("Client.%s adds operation %s", method, op)
			}
			required[op] = true
		}
		succeeded, failed := map[string]int{}, map[string]int{}
		for _, ex := range c.tr.Exchanges() {
			switch {
			case ex.Status >= 200 && ex.Status < 300:
				succeeded[ex.OperationID]++
			case ex.Status >= 400:
				failed[ex.OperationID]++
			}
		}
		for _, op := range slices.Sorted(maps.Keys(required)) {
			if !spec.HasOperation(op) {
				t.Errorf("operation %s is not in the spec", op)
			}
			if succeeded[op] == 0 {
				t.Errorf("operation %s never answered with a success", op)
			}
			if failed[op] == 0 {
				t.Errorf("operation %s never answered with an error", op)
			}
		}
	})
}

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
	stack := neonapi.AuthProviderStack
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
			return c.client.EnableBranchAuth(ctx, b.project, b.branch, neonapi.EnableBranchAuthRequest{AuthProvider: neonapi.AuthProviderBetterAuth, DatabaseName: "neondb"})
		})
		if keys.AuthProvider != neonapi.AuthProviderBetterAuth {
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

// conformanceProject creates a project and returns it with its default branch.
func conformanceProject(t *testing.T, c *conformance, name string) target {
	t.Helper()
	created := must(t, c, "createProject", func(ctx context.Context) (*neonapi.CreatedProject, error) {
		return c.client.CreateProject(ctx, neonapi.CreateProjectRequest{Name: name})
	})
	if created.Project.Name != name || !created.Branch.Default {
		t.Errorf("createProject: project %q, branch default %t; want %q on a default branch", created.Project.Name, created.Branch.Default, name)
	}
	branches := must(t, c, "listProjectBranches", func(ctx context.Context) ([]neonapi.Branch, error) {
		return c.client.ListBranches(ctx, created.Project.ID)
	})
	i := slices.IndexFunc(branches, func(b neonapi.Branch) bool { return b.Default })
	if i < 0 {
		t.Fatalf("listProjectBranches: %+v has no default branch", branches)
	}
	if branches[i].ID != created.Branch.ID {
		t.Errorf("listProjectBranches: default branch %s, createProject said %s", branches[i].ID, created.Branch.ID)
	}
	return target{project: created.Project.ID, branch: branches[i].ID}
}

// redactURI hides the password of a connection URI in test output.
func redactURI(uri string) string {
	return regexp.MustCompile(`:[^:@/]*@`).ReplaceAllString(uri, ":[REDACTED]@")
}

// clientOperationIDs reads the package source and returns, for each exported
// method of *Client, the operationId its doc comment names. A method naming
// none fails the test unless it is one of the formatting methods, so that an
// API method cannot be added without being covered here.
func clientOperationIDs(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	notOperations := map[string]bool{"String": true, "GoString": true, "Format": true}
	opRE := regexp.MustCompile(`operationId\s+(\w+)`)
	fset := token.NewFileSet()
	ops := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() || !isClientReceiver(fn.Recv) {
				continue
			}
			m := opRE.FindStringSubmatch(fn.Doc.Text())
			switch {
			case m != nil:
				ops[fn.Name.Name] = m[1]
			case !notOperations[fn.Name.Name]:
				t.Errorf("Client.%s names no operationId in its doc comment", fn.Name.Name)
			}
		}
	}
	if len(ops) == 0 {
		t.Fatal("found no Client methods naming an operationId")
	}
	return ops
}

func isClientReceiver(recv *ast.FieldList) bool {
	if len(recv.List) != 1 {
		return false
	}
	typ := recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.Name == "Client"
}
