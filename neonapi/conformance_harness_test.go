package neonapi_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
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
	status, _ := c.sendRead(t, op, r, auth, why)
	return status
}

// sendRead is send, also returning the response body.
func (c *conformance) sendRead(t *testing.T, op string, r rawRequest, auth bool, why string) (int, []byte) {
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
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", r.method, r.path, err)
	}
	c.checkExchanges(t, op, mark)
	for _, ex := range c.tr.Since(mark) {
		if why != "" && (len(ex.RequestErrors) != 1 || !strings.Contains(ex.RequestErrors[0], why)) {
			t.Errorf("%s: the request breaks the spec as %q, want only %q", ex, ex.RequestErrors, why)
		}
	}
	return resp.StatusCode, data
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
	notOperations := map[string]bool{"String": true, "GoString": true, "Format": true, "InvalidateProject": true, "Spend": true, "ApplyRemoteWrite": true, "HearRemoteWrites": true, "MissedRemoteWrites": true}
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
