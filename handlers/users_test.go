package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/metrics"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/views"
)

// usersAppConfig adjusts newUsersApp.
type usersAppConfig struct {
	db       UserDBConfig
	settings func(*Settings)
	// syncs, when set, receives the sync check durations.
	syncs *syncRecorder
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

// switchableUsers lets a test change how the running dashboard reaches users
// tables once it knows the seeded project's id.
type switchableUsers struct {
	pools *db.Pools
	neon  DatabaseLocator
	cur   atomic.Pointer[NeonUserDatabases]
}

func (s *switchableUsers) Open(ctx context.Context, t UserTarget) (UserDirectory, error) {
	return s.cur.Load().Open(ctx, t)
}

func (s *switchableUsers) configure(cfg UserDBConfig) {
	s.cur.Store(NewUserDatabases(s.neon, s.pools, cfg))
}

// countingNeon counts the Neon calls the users pages can make.
type countingNeon struct {
	NeonAPI
	calls atomic.Int64
}

func (n *countingNeon) GetProject(ctx context.Context, id string) (*neonapi.Project, error) {
	n.calls.Add(1)
	return n.NeonAPI.GetProject(ctx, id)
}

func (n *countingNeon) ListIntegrations(ctx context.Context, id string) ([]neonapi.Integration, error) {
	n.calls.Add(1)
	return n.NeonAPI.ListIntegrations(ctx, id)
}

func (n *countingNeon) ListDatabases(ctx context.Context, id, branch string) ([]neonapi.Database, error) {
	n.calls.Add(1)
	return n.NeonAPI.ListDatabases(ctx, id, branch)
}

func (n *countingNeon) GetConnectionURI(ctx context.Context, id string, o neonapi.ConnectionURIOptions) (string, error) {
	n.calls.Add(1)
	return n.NeonAPI.GetConnectionURI(ctx, id, o)
}

func (n *countingNeon) CreateUser(ctx context.Context, r neonapi.CreateUserRequest) (*neonapi.CreatedUser, error) {
	n.calls.Add(1)
	return n.NeonAPI.CreateUser(ctx, r)
}

func (n *countingNeon) CreateBranchUser(ctx context.Context, id, branch string, r neonapi.CreateBranchUserRequest) (*neonapi.CreatedUser, error) {
	n.calls.Add(1)
	return n.NeonAPI.CreateBranchUser(ctx, id, branch, r)
}

// neonCalls is how many Neon calls the users pages made so far.
func (a *testApp) neonCalls() int64 { return a.Handler.Neon.(*countingNeon).calls.Load() }

// newUsersApp is newTestApp (with a 50 ms sync delay) whose users tables are
// reached the way serve reaches them: through Neon's connection URIs (or cfg's
// overrides) and real pools.
func newUsersApp(t *testing.T, cfg usersAppConfig) *testApp {
	t.Helper()
	pools := db.NewPools(db.PoolOptions{})
	a := newTestApp(t, withSyncDelay(50*time.Millisecond), withHandler(func(h *Handler) {
		h.Neon = &countingNeon{NeonAPI: h.Neon}
		sw := &switchableUsers{pools: pools, neon: h.Neon}
		sw.configure(cfg.db)
		h.Users = sw
		if cfg.settings != nil {
			cfg.settings(&h.Settings)
		}
		if cfg.syncs != nil {
			h.SyncMetrics = cfg.syncs
		}
	}))
	// Registered after the sandbox's cleanup, so it runs first: the pools let go
	// of the sandbox's databases before they are dropped.
	t.Cleanup(pools.Close)
	return a
}

// configureUsers changes the running dashboard's UserDBConfig.
func (a *testApp) configureUsers(cfg UserDBConfig) {
	a.Handler.Users.(*switchableUsers).configure(cfg)
}

// enableBetterAuth enables branch-level Neon Auth on the seeded project.
func (a *testApp) enableBetterAuth() {
	a.t.Helper()
	_, err := a.Neon.EnableBranchAuth(context.Background(), a.projectID, a.project.BranchID, neonapi.EnableBranchAuthRequest{
		AuthProvider: neonapi.AuthProviderBetterAuth,
		DatabaseName: a.project.DatabaseName,
	})
	if err != nil {
		a.t.Fatalf("enable better_auth: %v", err)
	}
}

// enable turns on Neon Auth for provider on the seeded project.
func (a *testApp) enable(provider neonapi.AuthProvider) {
	a.t.Helper()
	if provider == neonapi.AuthProviderStack {
		a.enableStack()
	} else {
		a.enableBetterAuth()
	}
}

// seedUser creates a user through the API and waits until the sandbox wrote it.
func (a *testApp) seedUser(provider neonapi.AuthProvider, email, name string) string {
	a.t.Helper()
	ctx := context.Background()
	var (
		u   *neonapi.CreatedUser
		err error
	)
	if provider == neonapi.AuthProviderStack {
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

func (a *testApp) usersPath(provider neonapi.AuthProvider) string {
	return "/projects/" + a.projectID + "/users?provider=" + string(provider)
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

var providers = []neonapi.AuthProvider{neonapi.AuthProviderStack, neonapi.AuthProviderBetterAuth}

func tableOf(p neonapi.AuthProvider) string {
	return db.Generation(p).Table()
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
			rows := r.byTestID("user-row")
			if rows.Length() != 2 {
				t.Fatalf("rows = %d, want 2", rows.Length())
			}
			if !strings.Contains(r.text("latest-users"), tableOf(provider)) {
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

			refresh := a.htmxGet("/projects/"+a.projectID+"/users/latest?provider="+string(provider), "latest-users")
			refresh.wantStatus(t, http.StatusOK)
			if refresh.byTestID("user-row").Length() != 2 || refresh.Doc.Find("html head title").Length() != 0 {
				t.Errorf("refresh fragment: %d rows\n%s", refresh.byTestID("user-row").Length(), refresh.Body)
			}
		})
	}
}

var elapsedRe = regexp.MustCompile(`^\d+\.\d\d s$`)

func TestCreateUserThenSynced(t *testing.T) {
	for _, provider := range providers {
		t.Run(string(provider), func(t *testing.T) {
			syncs := &syncRecorder{}
			a := newUsersApp(t, usersAppConfig{syncs: syncs})
			a.enable(provider)
			page := a.get(a.usersPath(provider))
			page.wantStatus(t, http.StatusOK)
			if got := page.text("user-total"); got != "0" {
				t.Fatalf("total before the create = %q, want 0", got)
			}
			r := a.htmxPost("/projects/"+a.projectID+"/users", url.Values{
				"provider": {string(provider)}, "email": {"grace@example.com"}, "name": {"Grace Hopper"},
			})
			r.wantStatus(t, http.StatusCreated)
			id := r.text("created-user-id")
			if id == "" {
				t.Fatalf("no created id:\n%s", r.Body)
			}
			if v, _ := r.Doc.Find(`input[name="email"]`).Attr("value"); v != "" {
				t.Errorf("form not reset after the create: email %q", v)
			}
			if got := r.text("sync-status"); got != "waiting" {
				t.Errorf("first status = %q, want waiting", got)
			}
			if trig, _ := r.byTestID("sync-panel").Attr("hx-trigger"); trig != "load delay:100ms" {
				t.Errorf("first poll = %q, want load delay:100ms", trig)
			}
			if got := r.Header.Get("HX-Trigger"); got != "" {
				t.Errorf("create answered HX-Trigger %q before anything synced", got)
			}

			before := a.neonCalls()
			r = a.pollSync(r)
			if got := r.text("sync-status"); got != "synced" {
				t.Fatalf("status = %q, want synced:\n%s", got, r.Body)
			}
			if calls := a.neonCalls() - before; calls != 0 {
				t.Errorf("polling made %d Neon calls, want 0 (database resolved once, cached)", calls)
			}
			if got := r.text("row-id"); got != id {
				t.Errorf("row id = %q, want %q", got, id)
			}
			if got := r.text("row-email"); got != "grace@example.com" {
				t.Errorf("row email = %q", got)
			}
			if got := r.text("row-name"); got != "Grace Hopper" {
				t.Errorf("row name = %q", got)
			}
			if got := r.text("sync-elapsed"); !elapsedRe.MatchString(got) {
				t.Errorf("elapsed = %q", got)
			}

			// The concluded check reports its time once, and tells the page
			// to reload the latest users, whose refresh brings the counts.
			if got := syncs.observed(); len(got) != 1 || got[0] <= 0 {
				t.Errorf("sync check observations = %v, want one positive duration", got)
			}
			if got := r.Header.Get("HX-Trigger"); got != "users-changed" {
				t.Errorf("synced answer HX-Trigger = %q, want users-changed", got)
			}
			latest := a.htmxGet("/projects/"+a.projectID+"/users/latest?provider="+string(provider), "latest-users")
			latest.wantStatus(t, http.StatusOK)
			if got := latest.text("user-row"); !strings.Contains(got, "grace@example.com") {
				t.Errorf("latest users after the sync = %q, want the new user", got)
			}
			counts := latest.Doc.Find(`#user-counts[hx-swap-oob="true"]`)
			if counts.Length() != 1 || strings.TrimSpace(counts.Find(`[data-testid="user-total"]`).Text()) != "1" {
				t.Errorf("refresh did not bring the counts out of band:\n%s", latest.Body)
			}
		})
	}
}

func TestCreateUserWithoutJavaScript(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	r := a.postForm("/projects/"+a.projectID+"/users", url.Values{"provider": {"stack"}, "email": {"lin@example.com"}})
	r.wantStatus(t, http.StatusSeeOther)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.Path, "/projects/"+a.projectID+"/users/") || loc.Query().Get("since") == "" || loc.Query().Get("provider") != "stack" {
		t.Fatalf("Location = %q", loc)
	}
	a.waitForSync()
	page := a.get(loc.String())
	page.wantStatus(t, http.StatusOK)
	if got := page.text("flash"); !strings.Contains(got, "lin@example.com") {
		t.Errorf("flash = %q", got)
	}
	if got := page.text("sync-status"); got != "synced" {
		t.Errorf("status = %q, want synced", got)
	}
	if got := page.text("row-email"); got != "lin@example.com" {
		t.Errorf("row email = %q", got)
	}
	if page.Doc.Find("script:not([src])").Length() != 0 || page.Doc.Find(`meta[http-equiv]`).Length() != 0 {
		t.Error("page relies on inline script or meta refresh")
	}
}

func TestCreateUserNeverSynced(t *testing.T) {
	syncs := &syncRecorder{}
	a := newUsersApp(t, usersAppConfig{syncs: syncs, settings: func(s *Settings) { s.SyncTimeout = 300 * time.Millisecond }})
	a.enableStack()
	a.Sandbox.SetSync(sandbox.SyncNever, 0)
	r := a.htmxPost("/projects/"+a.projectID+"/users", url.Values{"provider": {"stack"}, "email": {"lost@example.com"}})
	r.wantStatus(t, http.StatusCreated)
	r = a.pollSync(r)
	if got := r.text("sync-status"); got != "timed out" {
		t.Fatalf("status = %q, want timed out:\n%s", got, r.Body)
	}
	panel := r.text("sync-panel")
	if !strings.Contains(panel, "not synced after 0.30 s") {
		t.Errorf("panel = %q", panel)
	}
	hints := r.text("sync-hints")
	for _, want := range []string{"/nsb_", "status", "DATABASE_URL"} {
		if !strings.Contains(hints, want) {
			t.Errorf("hints lack %q: %q", want, hints)
		}
	}
	if href, _ := r.byTestID("check-again").Attr("href"); !strings.Contains(href, "since=") {
		t.Errorf("check again = %q", href)
	}
	// A check that gave up is recorded at its timeout, however late the last
	// poll came, and leaves the table alone.
	if got := syncs.observed(); !slices.Equal(got, []time.Duration{300 * time.Millisecond}) {
		t.Errorf("sync check observations = %v, want [300ms]", got)
	}
	if got := r.Header.Get("HX-Trigger"); got != "" {
		t.Errorf("timed-out answer HX-Trigger = %q, want none", got)
	}
}

func TestCreateUserValidation(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	long := strings.Repeat("a", 250) + "@ex.com"
	tests := []struct {
		name      string
		email     string
		userName  string
		htmx      bool
		wantField string
	}{
		{name: "empty email", email: "", wantField: "email"},
		{name: "not an email", email: "not-an-email", wantField: "email"},
		{name: "display name part", email: "Ada <ada@example.com>", wantField: "email", htmx: true},
		{name: "email too long", email: long, wantField: "email"},
		{name: "name too long", email: "ok@example.com", userName: strings.Repeat("n", 256), wantField: "name", htmx: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.post("/projects/"+a.projectID+"/users", url.Values{"provider": {"stack"}, "email": {tt.email}, "name": {tt.userName}}, tt.htmx)
			r.wantStatus(t, http.StatusUnprocessableEntity)
			if r.text("field-error-"+tt.wantField) == "" {
				t.Errorf("no message next to %s:\n%s", tt.wantField, r.Body)
			}
			input := r.Doc.Find(`form[data-testid="create-user-form"] input[name="` + tt.wantField + `"]`)
			if v, _ := input.Attr("aria-invalid"); v != "true" {
				t.Errorf("%s not marked invalid", tt.wantField)
			}
			if v, _ := r.Doc.Find(`input[name="email"]`).Attr("value"); v != strings.TrimSpace(tt.email) {
				t.Errorf("email kept = %q, want %q", v, tt.email)
			}
			if v, _ := r.Doc.Find(`input[name="name"]`).Attr("value"); v != tt.userName {
				t.Errorf("name not kept")
			}
			if isPage := r.Doc.Find("title").Length() == 1; isPage == tt.htmx {
				t.Errorf("full page = %v for htmx = %v", isPage, tt.htmx)
			}
		})
	}
	// Nothing reached Neon.
	list := a.get(a.usersPath(neonapi.AuthProviderStack))
	if got := list.text("user-total"); got != "0" {
		t.Errorf("users after invalid creates = %q, want 0", got)
	}
}

func TestLookupUser(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	id := a.seedUser(neonapi.AuthProviderStack, "ada@example.com", "Ada")
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
				r = a.get(a.usersPath(neonapi.AuthProviderStack) + "&q=" + url.QueryEscape(tt.q))
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

func TestDeleteUserWatchesTheDatabase(t *testing.T) {
	tests := []struct {
		provider   neonapi.AuthProvider
		wantStatus string
	}{
		{provider: neonapi.AuthProviderStack, wantStatus: "deleted"},
		{provider: neonapi.AuthProviderBetterAuth, wantStatus: "removed"},
	}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.enable(tt.provider)
			id := a.seedUser(tt.provider, "gone@example.com", "")
			base := "/projects/" + a.projectID + "/users/" + id + "/delete"

			confirm := a.htmxGet(base+"?provider="+string(tt.provider), "user-activity")
			confirm.wantStatus(t, http.StatusOK)
			if !strings.Contains(confirm.text("delete-user"), "gone@example.com") {
				t.Errorf("confirmation does not name the user:\n%s", confirm.Body)
			}

			unconfirmed := a.htmxPost(base, url.Values{"provider": {string(tt.provider)}})
			unconfirmed.wantStatus(t, http.StatusUnprocessableEntity)
			if unconfirmed.text("field-error-confirm") == "" {
				t.Error("no message next to the confirmation box")
			}

			r := a.htmxPost(base, url.Values{"provider": {string(tt.provider)}, "confirm": {"yes"}})
			r.wantStatus(t, http.StatusOK)
			r = a.pollSync(r)
			if got := r.text("sync-status"); got != tt.wantStatus {
				t.Fatalf("status = %q, want %q:\n%s", got, tt.wantStatus, r.Body)
			}
			if got := r.Header.Get("HX-Trigger"); got != "users-changed" {
				t.Errorf("concluded deletion HX-Trigger = %q, want users-changed", got)
			}
			if tt.provider == neonapi.AuthProviderStack {
				if r.text("row-deleted-at") == "" {
					t.Error("deleted_at not shown")
				}
				page := a.get(a.usersPath(tt.provider))
				if got := page.text("user-deleted"); got != "1" {
					t.Errorf("deleted count = %q, want 1", got)
				}
				if page.byTestID("deleted-badge").Length() != 1 {
					t.Error("no deleted badge in the table")
				}
			}
		})
	}
}

func TestDeleteUserWithoutJavaScript(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	id := a.seedUser(neonapi.AuthProviderStack, "plain@example.com", "")
	base := "/projects/" + a.projectID + "/users/" + id + "/delete"
	page := a.get(base + "?provider=stack")
	page.wantStatus(t, http.StatusOK)
	if page.Doc.Find(`#user-activity form[data-testid="delete-user-form"]`).Length() != 1 {
		t.Fatalf("confirmation page without the form:\n%s", page.Body)
	}
	r := a.postForm(base, url.Values{"provider": {"stack"}, "confirm": {"yes"}})
	r.wantStatus(t, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.Contains(loc, "watch=delete") {
		t.Fatalf("Location = %q", loc)
	}
	a.waitForSync()
	done := a.get(loc)
	done.wantStatus(t, http.StatusOK)
	if got := done.text("sync-status"); got != "deleted" {
		t.Errorf("status = %q, want deleted", got)
	}
}

func TestUsersPageDatabaseProblems(t *testing.T) {
	empty := pgtest.NewDatabase(t)
	emptyName := strings.TrimPrefix(mustParseURL(t, empty).Path, "/")
	tests := []struct {
		name      string
		cfg       func(projectID string) UserDBConfig
		wantTitle string
		wantText  []string
	}{
		{
			name: "unreachable",
			cfg: func(p string) UserDBConfig {
				return UserDBConfig{PerProject: map[string]string{p: deadDatabaseURL(t, "pw-never-shown")}}
			},
			wantTitle: "Database unreachable",
			wantText:  []string{"Could not connect to appdb on host 127.0.0.1:", "per-project override"},
		},
		{
			name:      "schema missing",
			cfg:       func(string) UserDBConfig { return UserDBConfig{Default: empty} },
			wantTitle: "No Neon Auth users table",
			wantText:  []string{"does not exist in " + emptyName + " on host ", "is Neon Auth enabled for this branch/database?", "DATABASE_URL override"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.configureUsers(tt.cfg(a.projectID))
			a.enableStack()

			r := a.get(a.usersPath(neonapi.AuthProviderStack))
			r.wantStatus(t, http.StatusOK)
			if r.Doc.Find(`form[data-testid="create-user-form"]`).Length() != 1 {
				t.Error("create form missing")
			}
			box := r.Doc.Find(`[data-testid="latest-users"] [data-testid="api-error"]`)
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
		r := a.get(a.usersPath(neonapi.AuthProviderStack))
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

func TestSyncCheckMetricsAreOptional(t *testing.T) {
	done := views.SyncCheck{State: views.SyncSynced, Elapsed: time.Second}
	var off *metrics.Metrics
	for name, h := range map[string]*Handler{
		"no observer":  {},
		"nil *Metrics": {SyncMetrics: off},
	} {
		t.Run(name, func(t *testing.T) {
			h.observeSyncCheck(done) // must not panic
		})
	}
	rec := &syncRecorder{}
	h := &Handler{SyncMetrics: rec}
	h.observeSyncCheck(views.SyncCheck{State: views.SyncPending, Elapsed: time.Second})
	h.observeSyncCheck(done)
	if got := rec.observed(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Errorf("observations = %v, want only the concluded check's 1s", got)
	}
}

// oneUser is a users table holding a single user, for routes that only read.
type oneUser struct{ user db.User }

func (o oneUser) Open(context.Context, UserTarget) (UserDirectory, error) { return o, nil }
func (o oneUser) Target() string                                          { return "db.test:5432/neondb" }
func (o oneUser) Source() string                                          { return SourceNeon }
func (o oneUser) Generation() db.Generation                               { return db.GenerationStack }
func (o oneUser) Latest(context.Context, int) ([]db.User, error)          { return []db.User{o.user}, nil }
func (o oneUser) Count(context.Context) (int, int, error)                 { return 1, 0, nil }
func (o oneUser) Find(ctx context.Context, q string) (db.User, error)     { return o.Get(ctx, q) }
func (o oneUser) Get(_ context.Context, id string) (db.User, error) {
	if id != o.user.ID {
		return db.User{}, db.ErrNotFound
	}
	return o.user, nil
}

// TestUserIDsWithReservedCharacters follows the links the pages build for ids
// holding characters a path segment must escape: the handlers must see the
// id itself, not its escaped form.
func TestUserIDsWithReservedCharacters(t *testing.T) {
	for _, id := range []string{"a,b", "org;1", "team/ada", "ada@example.com", "ünï"} {
		t.Run(id, func(t *testing.T) {
			users := oneUser{db.User{ID: id, Email: "ada@example.com", CreatedAt: time.Unix(1700000000, 0)}}
			srv := httptest.NewServer((&Handler{Users: users}).Echo())
			defer srv.Close()
			check := views.SyncCheck{ProjectID: "p-1", Provider: "stack", UserID: id, Watch: views.WatchCreate, Since: time.Now().UnixMilli()}
			req, err := http.NewRequest(http.MethodGet, srv.URL+views.SyncPollURL(check), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("HX-Request", "true")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			doc, err := goquery.NewDocumentFromReader(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", req.URL, res.StatusCode)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="sync-status"]`).Text()); got != "synced" {
				t.Errorf("status = %q, want synced", got)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="row-id"]`).Text()); got != id {
				t.Errorf("row id = %q, want %q", got, id)
			}
		})
	}
}
