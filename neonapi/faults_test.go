package neonapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// pathCounter counts the API requests that reach the sandbox, by method and
// path, and knows when none is in progress.
type pathCounter struct {
	mu     sync.Mutex
	hits   map[string]int
	active int
	idle   *sync.Cond
	next   http.Handler
}

func newPathCounter(next http.Handler) *pathCounter {
	p := &pathCounter{hits: map[string]int{}, next: next}
	p.idle = sync.NewCond(&p.mu)
	return p
}

func (p *pathCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.hits[r.Method+" "+r.URL.Path]++
	p.active++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.active--
		p.idle.Broadcast()
		p.mu.Unlock()
	}()
	p.next.ServeHTTP(w, r)
}

// waitIdle returns once no request is being served, so that a request the
// client gave up on has finished before its effects are counted.
func (p *pathCounter) waitIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.active > 0 {
		p.idle.Wait()
	}
}

func (p *pathCounter) count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[key]
}

// faultEnv is a sandbox with one project that has a stack integration.
type faultEnv struct {
	sb      *sandbox.Sandbox
	base    string
	hits    *pathCounter
	project sandbox.CreatedProject
	dbURL   string
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Config{DatabaseURL: pgtest.Require(t), SyncDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("sandbox close: %v", err)
		}
	})
	hits := newPathCounter(sb.Handler())
	srv := httptest.NewServer(hits)
	t.Cleanup(srv.Close)
	p, err := sb.CreateProject(ctx, "faults")
	if err != nil {
		t.Fatal(err)
	}
	env := &faultEnv{sb: sb, base: srv.URL + "/api/v2", hits: hits, project: p}
	c := env.client(t, fastRetries)
	if _, err := c.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{
		AuthProvider: authprovider.Stack, ProjectID: p.ID, BranchID: p.BranchID,
		DatabaseName: p.DatabaseName, RoleName: p.RoleName,
	}); err != nil {
		t.Fatal(err)
	}
	env.dbURL, err = c.GetConnectionURI(ctx, p.ID, neonapi.ConnectionURIOptions{BranchID: p.BranchID, DatabaseName: p.DatabaseName, RoleName: p.RoleName})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func (e *faultEnv) client(t *testing.T, p neonapi.RetryPolicy) *neonapi.Client {
	t.Helper()
	c, err := neonapi.New("faults-key", neonapi.WithBaseURL(e.base), neonapi.WithoutRateLimit(), neonapi.WithRetryPolicy(p))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// usersWithEmail counts the synced rows for email once every queued write has
// landed, so a duplicate create could not hide in the queue.
func (e *faultEnv) usersWithEmail(t *testing.T, email string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.sb.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM neon_auth.users_sync WHERE email = $1", email).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFaults drives the client into each failure the sandbox injects, on a GET
// (listNeonAuthIntegrations) and on a POST (createNeonAuthNewUser), and checks
// how many requests reached the sandbox, which error surfaced, and for the POST
// how many users exist afterwards.
func TestFaults(t *testing.T) {
	env := newFaultEnv(t)
	quick := fastRetries
	quick.AttemptTimeout = 10 * time.Second
	patient := quick
	patient.MaxDelay = 2 * time.Second // long enough for the sandbox's 1s Retry-After
	hangs := quick
	hangs.AttemptTimeout = 300 * time.Millisecond
	noAttemptTimeout := fastRetries

	tests := []struct {
		name        string
		fault       sandbox.FaultKind
		count       int
		post        bool
		policy      neonapi.RetryPolicy
		callTimeout time.Duration // caller's deadline; 0 for none
		wantHits    int
		wantErr     error // nil: the call succeeds
		wantUsers   int
		body        string // for sandbox.FaultBody
		// wantUnknown: the error leaves open whether the request took effect.
		wantUnknown bool
	}{
		{name: "GET 429 waits Retry-After and retries", fault: sandbox.FaultRateLimited, policy: patient, wantHits: 2},
		{name: "GET 429 with Retry-After beyond MaxDelay surfaces", fault: sandbox.FaultRateLimited, policy: quick, wantHits: 1, wantErr: neonapi.ErrRateLimited},
		{name: "GET 503 retried", fault: sandbox.FaultUnavailable, policy: quick, wantHits: 2},
		{name: "GET 503 beyond MaxAttempts surfaces", fault: sandbox.FaultUnavailable, count: 5, policy: quick, wantHits: 3, wantErr: neonapi.ErrUnavailable},
		{name: "GET 423 retried", fault: sandbox.FaultLocked, policy: quick, wantHits: 2},
		{name: "GET hang retried after the attempt timeout", fault: sandbox.FaultHang, policy: hangs, wantHits: 2},
		{name: "GET hang past the caller's deadline", fault: sandbox.FaultHang, policy: noAttemptTimeout, callTimeout: 300 * time.Millisecond, wantHits: 1, wantErr: context.DeadlineExceeded},
		{name: "GET dropped connection retried", fault: sandbox.FaultDrop, policy: quick, wantHits: 2},
		{name: "GET malformed JSON not retried", fault: sandbox.FaultMalformed, policy: quick, wantHits: 1, wantErr: neonapi.ErrInvalidResponse},
		{name: "GET answered {} is incomplete, not an empty list", fault: sandbox.FaultEmpty, policy: quick, wantHits: 1, wantErr: neonapi.ErrIncompleteAnswer},

		{name: "POST 429 not retried", fault: sandbox.FaultRateLimited, post: true, policy: patient, wantHits: 1, wantErr: neonapi.ErrRateLimited},
		{name: "POST 503 retried, one user", fault: sandbox.FaultUnavailable, post: true, policy: quick, wantHits: 2, wantUsers: 1},
		{name: "POST 423 retried, one user", fault: sandbox.FaultLocked, post: true, policy: quick, wantHits: 2, wantUsers: 1},
		// A hung POST may have been acted on, so it is never sent again, and
		// its outcome is unknown to the client. The sandbox drops a hung
		// request once the client gives up, hence no user.
		{name: "POST hang not retried", fault: sandbox.FaultHang, post: true, policy: hangs, wantHits: 1, wantErr: context.DeadlineExceeded, wantUnknown: true},
		{name: "POST hang past the caller's deadline", fault: sandbox.FaultHang, post: true, policy: noAttemptTimeout, callTimeout: 300 * time.Millisecond, wantHits: 1, wantErr: context.DeadlineExceeded, wantUnknown: true},
		{name: "POST dropped connection not retried", fault: sandbox.FaultDrop, post: true, policy: quick, wantHits: 1, wantErr: neonapi.ErrNoAnswer, wantUnknown: true},
		{name: "POST malformed JSON not retried", fault: sandbox.FaultMalformed, post: true, policy: quick, wantHits: 1, wantErr: neonapi.ErrInvalidResponse, wantUnknown: true},
		// The "after" faults make the user, then spoil the answer: exactly
		// one user, and an error that says the outcome is unknown.
		{name: "POST answered {} not retried, one user", fault: sandbox.FaultEmpty, post: true, policy: quick, wantHits: 1, wantErr: neonapi.ErrIncompleteAnswer, wantUsers: 1, wantUnknown: true},
		{name: "POST answered with a path as the id, one user", fault: sandbox.FaultBody, body: `{"id":"../../../projects"}`, post: true, policy: quick, wantHits: 1, wantErr: neonapi.ErrIncompleteAnswer, wantUsers: 1, wantUnknown: true},
		{name: "POST dropped after it was made not retried, one user", fault: sandbox.FaultDropAfter, post: true, policy: quick, wantHits: 1, wantErr: neonapi.ErrNoAnswer, wantUsers: 1, wantUnknown: true},
		{name: "POST answer held past the attempt timeout not retried, one user", fault: sandbox.FaultHangAfter, post: true, policy: hangs, wantHits: 1, wantErr: context.DeadlineExceeded, wantUsers: 1, wantUnknown: true},
		{name: "POST answer held past the caller's deadline, one user", fault: sandbox.FaultHangAfter, post: true, policy: noAttemptTimeout, callTimeout: 300 * time.Millisecond, wantHits: 1, wantErr: neonapi.ErrNoAnswer, wantUsers: 1, wantUnknown: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.sb.ClearFaults()
			t.Cleanup(env.sb.ClearFaults)
			c := env.client(t, tt.policy)
			ctx := neonapi.WithRequestID(context.Background(), "fault-"+strconv.Itoa(i))
			if tt.callTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.callTimeout)
				defer cancel()
			}

			path := "/api/v2/projects/" + env.project.ID + "/auth/integrations"
			key := "GET " + path
			email := "fault-" + strconv.Itoa(i) + "@example.com"
			if tt.post {
				path = "/api/v2/projects/auth/user"
				key = "POST " + path
			}
			before := env.hits.count(key)
			// A hang outlasts every client timeout here, so the sandbox serves
			// a hung request only if it missed that the client gave up.
			env.sb.InjectFault(sandbox.Fault{Kind: tt.fault, Count: tt.count, PathContains: path, Hang: 5 * time.Second, Body: tt.body})

			var err error
			if tt.post {
				var u *neonapi.CreatedUser
				u, err = c.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: env.project.ID, AuthProvider: authprovider.Stack, Email: email})
				if err == nil && u.ID == "" {
					t.Error("created user has no id")
				}
			} else {
				var ints []neonapi.Integration
				ints, err = c.ListIntegrations(ctx, env.project.ID)
				if err == nil && (len(ints) != 1 || ints[0].AuthProvider != authprovider.Stack) {
					t.Errorf("integrations = %+v, want the one stack integration", ints)
				}
			}

			env.hits.waitIdle()
			if got := env.hits.count(key) - before; got != tt.wantHits {
				t.Errorf("sandbox saw %d requests, want %d", got, tt.wantHits)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want errors.Is %v", err, tt.wantErr)
			}
			if err != nil {
				checkFaultError(t, err, "fault-"+strconv.Itoa(i))
			}
			if got := neonapi.OutcomeUnknown(err); got != tt.wantUnknown {
				t.Errorf("OutcomeUnknown(%v) = %t, want %t", err, got, tt.wantUnknown)
			}
			if tt.fault == sandbox.FaultRateLimited && tt.wantErr != nil {
				var apiErr *neonapi.APIError
				if !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Second {
					t.Errorf("err = %#v, want an APIError carrying Retry-After 1s", err)
				}
			}
			if tt.post {
				if got := env.usersWithEmail(t, email); got != tt.wantUsers {
					t.Errorf("%d users with %s, want %d", got, email, tt.wantUsers)
				}
			}
		})
	}
}

// checkFaultError asserts what every surfaced failure must carry: the request
// id the caller chose, and no credentials.
func checkFaultError(t *testing.T, err error, wantID string) {
	t.Helper()
	var apiErr *neonapi.APIError
	var reqErr *neonapi.RequestError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.RequestID != wantID {
			t.Errorf("APIError.RequestID = %q, want %q", apiErr.RequestID, wantID)
		}
	case errors.As(err, &reqErr):
		if reqErr.RequestID != wantID {
			t.Errorf("RequestError.RequestID = %q, want %q", reqErr.RequestID, wantID)
		}
	default:
		t.Errorf("err = %T %v, want *APIError or *RequestError", err, err)
	}
	if strings.Contains(err.Error(), "faults-key") {
		t.Errorf("error reveals the key: %v", err)
	}
}

// TestFaultsCreateProject checks the no-duplicate rule on createProject, the
// costliest create: a dropped request leaves no project behind, and a 503 is
// retried into exactly one.
func TestFaultsCreateProject(t *testing.T) {
	env := newFaultEnv(t)
	c := env.client(t, fastRetries)
	ctx := context.Background()
	countNamed := func(name string) int {
		t.Helper()
		n := 0
		for p, err := range c.AllProjects(ctx, neonapi.ListProjectsOptions{Search: name}) {
			if err != nil {
				t.Fatal(err)
			}
			if p.Name == name {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name      string
		fault     sandbox.FaultKind
		wantHits  int
		wantErr   error
		wantCount int
	}{
		{"drop", sandbox.FaultDrop, 1, neonapi.ErrUnavailable, 0},
		{"503", sandbox.FaultUnavailable, 2, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.sb.ClearFaults()
			t.Cleanup(env.sb.ClearFaults)
			name := "fault-project-" + tt.name
			before := env.hits.count("POST /api/v2/projects")
			env.sb.InjectFault(sandbox.Fault{Kind: tt.fault, PathContains: "/api/v2/projects"})
			p, err := c.CreateProject(ctx, neonapi.CreateProjectRequest{Name: name})
			if tt.wantErr == nil {
				if err != nil || p.Project.Name != name {
					t.Fatalf("CreateProject = %+v, %v", p, err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := env.hits.count("POST /api/v2/projects") - before; got != tt.wantHits {
				t.Errorf("sandbox saw %d createProject requests, want %d", got, tt.wantHits)
			}
			if got := countNamed(name); got != tt.wantCount {
				t.Errorf("%d projects named %s, want %d", got, name, tt.wantCount)
			}
		})
	}
}
