package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// usersAppConfig adjusts newUsersApp.
type usersAppConfig struct {
	db       neonauth.UserDBConfig
	settings func(*Settings)
	// syncs, when set, receives the sync check durations.
	syncs *syncRecorder
	// handler, when set, adjusts the handler last (e.g. puts security on).
	handler func(*Handler)
}

// syncRecorder is a SyncObserver that keeps what it was told.
type syncRecorder struct {
	mu  sync.Mutex
	got []time.Duration
}

func (r *syncRecorder) ObserveSyncCheck(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, d)
}

func (r *syncRecorder) observed() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// switchableAuth lets a test change how the running dashboard reaches users
// tables once it knows the seeded project's id.
type switchableAuth struct {
	neon  *neonapi.Client
	pools *db.Pools
	cur   atomic.Pointer[neonauth.Service]
}

func (s *switchableAuth) configure(cfg neonauth.UserDBConfig) {
	if cfg.Results == nil {
		// One results cache for the process, as the dashboard runs.
		cfg.Results = db.NewCache(0)
	}
	s.cur.Store(neonauth.New(s.neon, s.pools, cfg))
}

func (s *switchableAuth) Projects(ctx context.Context, opts neonauth.ListProjectsOptions) (*neonauth.ProjectsPage, error) {
	return s.cur.Load().Projects(ctx, opts)
}

func (s *switchableAuth) Project(ctx context.Context, projectID string) (*neonauth.Project, error) {
	return s.cur.Load().Project(ctx, projectID)
}

func (s *switchableAuth) Branches(ctx context.Context, projectID string) ([]neonauth.Branch, error) {
	return s.cur.Load().Branches(ctx, projectID)
}

func (s *switchableAuth) Databases(ctx context.Context, projectID, branchID string) ([]neonauth.Database, error) {
	return s.cur.Load().Databases(ctx, projectID, branchID)
}

func (s *switchableAuth) Roles(ctx context.Context, projectID, branchID string) ([]neonauth.Role, error) {
	return s.cur.Load().Roles(ctx, projectID, branchID)
}

func (s *switchableAuth) Integrations(ctx context.Context, projectID string) ([]neonauth.Integration, error) {
	return s.cur.Load().Integrations(ctx, projectID)
}

func (s *switchableAuth) LegacyIntegrations(ctx context.Context, projectID string) ([]neonapi.Integration, error) {
	return s.cur.Load().LegacyIntegrations(ctx, projectID)
}

func (s *switchableAuth) BranchStates(ctx context.Context, projectID string, branches []neonapi.Branch) []neonauth.BranchState {
	return s.cur.Load().BranchStates(ctx, projectID, branches)
}

func (s *switchableAuth) UsersOnBranch(ctx context.Context, projectID, branchID string) (neonauth.BranchUsers, error) {
	return s.cur.Load().UsersOnBranch(ctx, projectID, branchID)
}

func (s *switchableAuth) UsersBranch(ctx context.Context, projectID, hint string) (string, error) {
	return s.cur.Load().UsersBranch(ctx, projectID, hint)
}

func (s *switchableAuth) UsersChanged(ctx context.Context, r neonauth.Ref) {
	s.cur.Load().UsersChanged(ctx, r)
}

func (s *switchableAuth) DiscoverDefault(ctx context.Context, projectID string) neonauth.Discovery {
	return s.cur.Load().DiscoverDefault(ctx, projectID)
}

func (s *switchableAuth) Enable(ctx context.Context, req neonauth.EnableRequest) (*neonapi.IntegrationKeys, error) {
	return s.cur.Load().Enable(ctx, req)
}

func (s *switchableAuth) Disable(ctx context.Context, r neonauth.Ref, deleteData bool) error {
	return s.cur.Load().Disable(ctx, r, deleteData)
}

func (s *switchableAuth) TransferOwnership(ctx context.Context, r neonauth.Ref) (*neonapi.TransferResponse, error) {
	return s.cur.Load().TransferOwnership(ctx, r)
}

func (s *switchableAuth) CreateSDKKeys(ctx context.Context, r neonauth.Ref) (*neonapi.IntegrationKeys, error) {
	return s.cur.Load().CreateSDKKeys(ctx, r)
}

func (s *switchableAuth) CreateUser(ctx context.Context, r neonauth.Ref, email, name string) (*neonapi.CreatedUser, error) {
	return s.cur.Load().CreateUser(ctx, r, email, name)
}

func (s *switchableAuth) DeleteUser(ctx context.Context, r neonauth.Ref, userID string) error {
	return s.cur.Load().DeleteUser(ctx, r, userID)
}

func (s *switchableAuth) SetUserRole(ctx context.Context, r neonauth.Ref, userID string, roles []string) error {
	return s.cur.Load().SetUserRole(ctx, r, userID, roles)
}

func (s *switchableAuth) OpenUsers(ctx context.Context, r neonauth.Ref) (neonauth.UserDirectory, error) {
	return s.cur.Load().OpenUsers(ctx, r)
}

func (s *switchableAuth) OpenBrowser(ctx context.Context, r neonauth.Ref) (neonauth.UserBrowser, error) {
	return s.cur.Load().OpenBrowser(ctx, r)
}

func (s *switchableAuth) OpenPeople(ctx context.Context, r neonauth.Ref) (neonauth.People, error) {
	return s.cur.Load().OpenPeople(ctx, r)
}

// neonCalls is how many requests the dashboard sent Neon so far.
func (a *testApp) neonCalls() int64 { return int64(a.neonCounter.Count()) }

// newUsersApp is newTestApp (with a 50 ms sync delay) whose users tables are
// reached the way serve reaches them: through Neon's connection URIs (or cfg's
// overrides) and real pools, and whose requests to Neon are counted.
func newUsersApp(t *testing.T, cfg usersAppConfig) *testApp {
	t.Helper()
	counter := &neontest.Requests{}
	a := newTestApp(t, withSyncDelay(50*time.Millisecond),
		withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter})),
		withHandlerNeon(func(h *Handler, neon *neonapi.Client) {
			sw := &switchableAuth{neon: neon, pools: testPools(t)}
			sw.configure(cfg.db)
			h.Auth = sw
			if cfg.settings != nil {
				cfg.settings(&h.Settings)
			}
			if cfg.syncs != nil {
				h.SyncMetrics = cfg.syncs
			}
			if cfg.handler != nil {
				cfg.handler(h)
			}
		}))
	a.neonCounter = counter
	return a
}

// configureUsers changes the running dashboard's neonauth.UserDBConfig.
func (a *testApp) configureUsers(cfg neonauth.UserDBConfig) {
	a.Handler.Auth.(*switchableAuth).configure(cfg)
}

// enableBetterAuth enables branch-level Neon Auth on the seeded project.
func (a *testApp) enableBetterAuth() {
	a.t.Helper()
	_, err := a.Neon.EnableBranchAuth(context.Background(), a.projectID, a.project.BranchID, neonapi.EnableBranchAuthRequest{
		AuthProvider: authprovider.BetterAuth,
		DatabaseName: a.project.DatabaseName,
	})
	if err != nil {
		a.t.Fatalf("enable better_auth: %v", err)
	}
}

// enable turns on Neon Auth for provider on the seeded project.
func (a *testApp) enable(provider authprovider.Provider) {
	a.t.Helper()
	if provider == authprovider.Stack {
		a.enableStack()
	} else {
		a.enableBetterAuth()
	}
}

// seedUser creates a user through the API and waits until the sandbox wrote it.
func (a *testApp) seedUser(provider authprovider.Provider, email, name string) string {
	a.t.Helper()
	ctx := context.Background()
	var (
		u   *neonapi.CreatedUser
		err error
	)
	if provider == authprovider.Stack {
		u, err = a.Neon.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: a.projectID, AuthProvider: provider, Email: email, Name: name})
	} else {
		u, err = a.Neon.CreateBranchUser(ctx, a.projectID, a.project.BranchID, neonapi.CreateBranchUserRequest{Email: email, Name: name})
	}
	if err != nil {
		a.t.Fatalf("create user %s: %v", email, err)
	}
	a.waitForSync()
	return u.ID
}

func (a *testApp) waitForSync() {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Sandbox.WaitForSync(ctx); err != nil {
		a.t.Fatal(err)
	}
}

func (a *testApp) usersPath(provider authprovider.Provider) string {
	return a.usersAt(provider).URL("", nil)
}

// usersAt addresses the seeded project's users for provider: Better Auth's
// on the seeded branch, whose users they are.
func (a *testApp) usersAt(provider authprovider.Provider) views.UsersAt {
	return views.UsersAt{ProjectID: a.projectID, Provider: authprovider.Provider(provider), BranchID: a.project.BranchID}
}

// usersSub is a users route below the page for provider, with query q
// ("" for none).
func (a *testApp) usersSub(provider authprovider.Provider, sub, q string) string {
	v, err := url.ParseQuery(q)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.usersAt(provider).URL(sub, v)
}

// pollSync follows a sync panel the way htmx does (hx-get after the
// hx-trigger delay) until it stops polling, and returns the last answer.
func (a *testApp) pollSync(r *testResponse) *testResponse {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		panel := r.byTestID("sync-panel")
		if panel.Length() != 1 {
			a.t.Fatalf("no sync panel in:\n%s", r.Body)
		}
		next, polls := panel.Attr("hx-get")
		if !polls {
			return r
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("sync panel still polling at the deadline:\n%s", r.Body)
		}
		trig, _ := panel.Attr("hx-trigger")
		delay, err := time.ParseDuration(strings.TrimPrefix(trig, "load delay:"))
		if err != nil {
			a.t.Fatalf("hx-trigger %q: %v", trig, err)
		}
		time.Sleep(delay)
		r = a.htmxGet(next, "")
		r.wantStatus(a.t, http.StatusOK)
	}
}

var providers = []authprovider.Provider{authprovider.Stack, authprovider.BetterAuth}

func tableOf(p authprovider.Provider) string {
	return authprovider.Provider(p).Table()
}

func TestUsersPageShowsTheTable(t *testing.T) {
	for _, provider := range providers {
		t.Run(string(provider), func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.enable(provider)
			a.seedUser(provider, "ada@example.com", "Ada")
			a.seedUser(provider, "bob@example.com", "")

			r := a.get(a.usersPath(provider))
			r.wantStatus(t, http.StatusOK)
			if got := r.text("project-name"); got != "demo-app" {
				t.Errorf("project name = %q", got)
			}
			if got := r.text("database"); !strings.Contains(got, "/nsb_") || strings.Contains(got, "@") {
				t.Errorf("database = %q, want host/db of the sandbox database, no credentials", got)
			}
			if got := r.text("user-total"); got != "2" {
				t.Errorf("total = %q, want 2", got)
			}
			rows := r.byTestID("browse-row")
			if rows.Length() != 2 {
				t.Fatalf("rows = %d, want 2", rows.Length())
			}
			if !strings.Contains(r.text("users-header"), tableOf(provider)) {
				t.Errorf("table name %s not shown", tableOf(provider))
			}
			if r.Doc.Find(`form[data-testid="create-user-form"] input[name="_csrf"]`).Length() != 1 {
				t.Error("create form without CSRF field")
			}
			for _, secret := range []string{"password=", "postgres://", "postgresql://"} {
				if strings.Contains(r.Body, secret) {
					t.Errorf("page shows %q", secret)
				}
			}

			refresh := a.htmxGet(a.usersSub(provider, "/browse", ""), "users-browser")
			refresh.wantStatus(t, http.StatusOK)
			if refresh.byTestID("browse-row").Length() != 2 || refresh.Doc.Find("html head title").Length() != 0 {
				t.Errorf("refresh fragment: %d rows\n%s", refresh.byTestID("browse-row").Length(), refresh.Body)
			}
		})
	}
}

func TestLookupUser(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	id := a.seedUser(authprovider.Stack, "ada@example.com", "Ada")
	tests := []struct {
		name, q   string
		htmx      bool
		wantEmail string
		missing   bool
	}{
		{name: "by email", q: "ADA@example.com", wantEmail: "ada@example.com"},
		{name: "by id", q: id, wantEmail: "ada@example.com", htmx: true},
		{name: "unknown", q: "zed@example.com", missing: true, htmx: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *testResponse
			if tt.htmx {
				r = a.htmxGet("/projects/"+a.projectID+"/users/lookup?provider=stack&q="+url.QueryEscape(tt.q), "user-lookup")
			} else {
				r = a.get(a.usersPath(authprovider.Stack) + "&q=" + url.QueryEscape(tt.q))
			}
			r.wantStatus(t, http.StatusOK)
			if tt.missing {
				if got := r.text("lookup-missing"); got != "zed@example.com is not in neon_auth.users_sync (yet)." {
					t.Errorf("missing = %q", got)
				}
				return
			}
			res := r.byTestID("lookup-result")
			if got := strings.TrimSpace(res.Find(`[data-testid="row-email"]`).Text()); got != tt.wantEmail {
				t.Errorf("email = %q, want %q\n%s", got, tt.wantEmail, r.Body)
			}
			if got := strings.TrimSpace(res.Find(`[data-testid="row-id"]`).Text()); got != id {
				t.Errorf("id = %q, want %q", got, id)
			}
		})
	}
	empty := a.htmxGet("/projects/"+a.projectID+"/users/lookup?provider=stack&q=", "user-lookup")
	empty.wantStatus(t, http.StatusUnprocessableEntity)
	if empty.text("field-error-q") == "" {
		t.Error("empty lookup without a message")
	}
}

func TestUsersPageDatabaseProblems(t *testing.T) {
	empty := pgtest.NewDatabase(t)
	emptyName := strings.TrimPrefix(mustParseURL(t, empty).Path, "/")
	tests := []struct {
		name      string
		cfg       func(projectID string) neonauth.UserDBConfig
		wantTitle string
		wantText  []string
	}{
		{
			name: "unreachable",
			cfg: func(p string) neonauth.UserDBConfig {
				return neonauth.UserDBConfig{PerProject: map[string]string{p: pgtest.DeadServerURL(t, "pw-never-shown")}}
			},
			wantTitle: "Database unreachable",
			wantText:  []string{"Could not connect to appdb on host 127.0.0.1:", "per-project override"},
		},
		{
			name:      "schema missing",
			cfg:       func(string) neonauth.UserDBConfig { return neonauth.UserDBConfig{Default: empty} },
			wantTitle: "No Neon Auth users table",
			wantText:  []string{"does not exist in " + emptyName + " on host ", "is Neon Auth enabled for this branch/database?", "DATABASE_URL override"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.configureUsers(tt.cfg(a.projectID))
			a.enableStack()

			r := a.get(a.usersPath(authprovider.Stack))
			r.wantStatus(t, http.StatusOK)
			if r.Doc.Find(`form[data-testid="create-user-form"]`).Length() != 1 {
				t.Error("create form missing")
			}
			box := r.Doc.Find(`[data-testid="users-browser"] [data-testid="api-error"]`)
			if got := strings.TrimSpace(box.Find("strong").First().Text()); got != tt.wantTitle {
				t.Errorf("title = %q, want %q", got, tt.wantTitle)
			}
			msg := strings.TrimSpace(box.Find(`[data-testid="api-error-message"]`).Text())
			for _, w := range tt.wantText {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if r.text("user-counts") != "unknown" {
				t.Errorf("counts = %q", r.text("user-counts"))
			}
			if strings.Contains(r.Body, "pw-never-shown") || strings.Contains(r.Body, "someone") {
				t.Error("credentials shown")
			}

			// The sync fragment keeps polling and says what is wrong.
			poll := a.htmxGet("/projects/"+a.projectID+"/users/u-1/sync?provider=stack&since="+nowMillis(), "")
			poll.wantStatus(t, http.StatusOK)
			if got := poll.text("sync-status"); got != "waiting" {
				t.Errorf("poll status = %q", got)
			}
			if !strings.Contains(poll.text("api-error"), tt.wantTitle) {
				t.Errorf("poll shows %q", poll.text("api-error"))
			}
		})
	}
}

func TestUsersPageNeonProblems(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})

	t.Run("no integration", func(t *testing.T) {
		r := a.get(a.usersPath(authprovider.Stack))
		r.wantStatus(t, http.StatusNotFound)
		if !strings.Contains(r.text("api-error"), "has no Stack Auth (project-level) integration") {
			t.Errorf("error = %q", r.text("api-error"))
		}
		if r.text("project-name") != "demo-app" {
			t.Error("header missing")
		}
	})
	t.Run("unknown project", func(t *testing.T) {
		r := a.get("/projects/no-such-project/users?provider=stack")
		r.wantStatus(t, http.StatusNotFound)
		if r.byTestID("error-page").Length() != 1 || r.text("request-id") == "" {
			t.Errorf("no error page with Neon's request id: %q", r.text("api-error"))
		}
	})
	t.Run("bad provider", func(t *testing.T) {
		r := a.get("/projects/" + a.projectID + "/users?provider=mock")
		r.wantStatus(t, http.StatusBadRequest)
		if got := r.text("api-error"); !strings.Contains(got, "provider must be stack or better_auth") {
			t.Errorf("error = %q", got)
		}
	})
	t.Run("rate limited create", func(t *testing.T) {
		a.enableStack()
		a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultRateLimited, Count: 5, PathContains: "/auth/user", RetryAfter: time.Millisecond})
		defer a.Sandbox.ClearFaults()
		r := a.htmxPost("/projects/"+a.projectID+"/users", url.Values{"provider": {"stack"}, "email": {"busy@example.com"}})
		r.wantStatus(t, http.StatusTooManyRequests)
		if !strings.Contains(r.text("api-error"), "Could not create the user") || r.text("request-id") == "" {
			t.Errorf("error box = %q, request id %q", r.text("api-error"), r.text("request-id"))
		}
		if v, _ := r.Doc.Find(`input[name="email"]`).Attr("value"); v != "busy@example.com" {
			t.Errorf("email not kept: %q", v)
		}
	})
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func nowMillis() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }
