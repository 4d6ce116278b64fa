package handlers

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/logtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// TestOverloadAnswers serves the failures that mean "not now" through the
// real error handler: each gets a full error page with its status, and the
// ones worth retrying say when in Retry-After. None is logged as unexpected.
func TestOverloadAnswers(t *testing.T) {
	cases := []struct {
		name       string
		ctx        func() (context.Context, context.CancelFunc)
		handler    echo.HandlerFunc
		status     int
		retryAfter string
		wantText   string
	}{
		{
			name: "shed by the rate limiter",
			handler: func(echo.Context) error {
				return &neonapi.RequestError{Operation: "listProjects", Method: "GET", Path: "/projects", RequestID: "r-1",
					Err: &neonapi.ShedError{Wait: 1500 * time.Millisecond, Limit: time.Second}}
			},
			status: http.StatusServiceUnavailable, retryAfter: "2", wantText: "The dashboard is busy",
		},
		{
			name: "past the request's deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			},
			handler: func(c echo.Context) error { return c.Request().Context().Err() },
			status:  http.StatusGatewayTimeout, wantText: "That took too long",
		},
		{
			name: "users database busy",
			handler: func(echo.Context) error {
				return &neonauth.UserDBError{Target: "h:5432/app", Source: neonauth.SourceNeon,
					Err: fmt.Errorf("db: browse users on h:5432/app: %w", &db.BusyError{Lane: db.LaneFast, Wait: 2 * time.Second})}
			},
			status: http.StatusServiceUnavailable, retryAfter: "2", wantText: "The users database is busy; retry in a few seconds",
		},
		{
			name: "query stopped by the statement timeout",
			handler: func(echo.Context) error {
				return &neonauth.UserDBError{Target: "h:5432/app", Source: neonauth.SourceNeon,
					Err: fmt.Errorf("db: browse users on h:5432/app: %w: %w", db.ErrQueryTimeout, &pgconn.PgError{Code: "57014"})}
			},
			status: http.StatusGatewayTimeout, wantText: "Narrow the filter",
		},
		{
			name: "cancelled by the shutdown",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancelCause(context.Background())
				cancel(ErrShuttingDown)
				return ctx, func() {}
			},
			handler: func(c echo.Context) error {
				return &neonapi.RequestError{Operation: "listProjects", Err: c.Request().Context().Err()}
			},
			status: http.StatusServiceUnavailable, retryAfter: "5", wantText: "The dashboard is restarting",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := &Handler{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			e := h.Echo()
			e.GET("/fail", tc.handler)
			req := httptest.NewRequest(http.MethodGet, "/fail", nil)
			if tc.ctx != nil {
				ctx, cancel := tc.ctx()
				defer cancel()
				req = req.WithContext(ctx)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d; body:\n%s", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			doc, err := goquery.NewDocumentFromReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Find("title").Length() != 1 || !strings.Contains(doc.Text(), tc.wantText) {
				t.Errorf("want a full error page saying %q, got:\n%s", tc.wantText, doc.Text())
			}
			if logs.Len() > 0 {
				t.Errorf("logged as unexpected:\n%s", logs.String())
			}
		})
	}
}

// TestShedNeonReadIsA503 puts a rate limit of one request a minute on the
// dashboard's Neon client: once it is spent, the projects page does not wait a
// minute for the next token but answers at once with a 503 that says when to
// come back.
func TestShedNeonReadIsA503(t *testing.T) {
	a := newTestApp(t, withNeonClient("test-key", neonapi.WithRateLimit(1, 1)))
	first := a.get("/projects")
	if first.Status != http.StatusOK {
		t.Fatalf("first page: status %d, want 200 (the one token lists the projects)", first.Status)
	}
	res, err := a.Client.Get(a.Server.URL + "/projects")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second page: status %d, Retry-After %q; want 503 with a Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if !strings.Contains(doc.Text(), "The dashboard is busy") {
		t.Errorf("page does not say the dashboard is busy:\n%s", doc.Text())
	}
}

// lanesApp is a users app whose Stack Auth table, seeded with 30 users, is
// reached through pools bounded by opts, with the database's connection
// string to fill those pools from the test and the dashboard's log to read.
func lanesApp(t *testing.T, opts db.PoolOptions) (a *testApp, pools *db.Pools, uri string, logs *logtest.Buffer) {
	t.Helper()
	a = newUsersApp(t, usersAppConfig{})
	a.enableStack()
	a.seedRows(authprovider.Stack, 30)
	uri, err := a.Neon.GetConnectionURI(context.Background(), a.projectID, neonapi.ConnectionURIOptions{
		BranchID: a.project.BranchID, DatabaseName: a.project.DatabaseName, RoleName: a.project.RoleName,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Made after the sandbox, so closed before it drops the database.
	pools = db.NewPools(opts)
	t.Cleanup(pools.Close)
	a.Handler.Auth.(*switchableAuth).pools = pools
	a.configureUsers(neonauth.UserDBConfig{Default: uri})
	logs = &logtest.Buffer{}
	a.Handler.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	return a, pools, uri, logs
}

// TestUsersLanes fills the slow lane: pages without a search are still
// served from the fast lane, while a search answers "busy, retry" after the
// slow lane's short wait, as a 503 with Retry-After, never as an unreachable
// database.
func TestUsersLanes(t *testing.T) {
	a, pools, uri, logs := lanesApp(t, db.PoolOptions{Slow: db.LaneLimits{MaxConns: 1, AcquireWait: 100 * time.Millisecond}})
	ctx := context.Background()
	slow, err := pools.Get(db.WithLane(ctx, db.LaneSlow), uri)
	if err != nil {
		t.Fatal(err)
	}
	held, err := slow.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}

	page := a.get(a.browsePath(authprovider.Stack, nil))
	page.wantStatus(t, http.StatusOK)
	if got := len(page.emails()); got != 30 {
		t.Errorf("browse page with the slow lane full: %d rows, want 30", got)
	}

	for _, search := range []func() *testResponse{
		func() *testResponse {
			return a.get(a.browsePath(authprovider.Stack, url.Values{"q": {"user1"}}))
		},
		func() *testResponse {
			return a.htmxGet(a.browsePath(authprovider.Stack, url.Values{"q": {"user1"}}), "users-browser")
		},
	} {
		r := search()
		r.wantStatus(t, http.StatusServiceUnavailable)
		if got := r.Header.Get("Retry-After"); got != "2" {
			t.Errorf("Retry-After = %q, want 2", got)
		}
		if msg := r.text("api-error"); !strings.Contains(msg, "The users database is busy; retry in a few seconds") {
			t.Errorf("search with the slow lane full says %q", msg)
		}
	}

	// An export waits for the export lane only, and says so when it is taken.
	export, err := pools.Get(db.WithLane(ctx, db.LaneExport), uri)
	if err != nil {
		t.Fatal(err)
	}
	exporting, err := export.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := a.get("/projects/" + a.projectID + "/users/export?provider=stack&format=csv")
	r.wantStatus(t, http.StatusServiceUnavailable)
	if got := r.Header.Get("Retry-After"); got != "2" {
		t.Errorf("export Retry-After = %q, want 2", got)
	}
	if !strings.Contains(r.Body, "Another export is running") {
		t.Errorf("export with its lane full does not say another export is running:\n%s", r.Body)
	}
	exporting.Release()

	held.Release()
	r = a.get(a.browsePath(authprovider.Stack, url.Values{"q": {"user1"}}))
	r.wantStatus(t, http.StatusOK)
	if got := len(r.emails()); got != 11 { // user1, user10..user19
		t.Errorf("search once the lane is free: %d rows, want 11", got)
	}
	if strings.Contains(logs.String(), "unreachable") {
		t.Errorf("a busy lane was logged as unreachable:\n%s", logs)
	}
}

// TestSlowSearchStatementTimeout holds a lock on the users table so that a
// search cannot finish: the slow lane's statement timeout stops it, and the
// page says the search took too long and to narrow it.
func TestSlowSearchStatementTimeout(t *testing.T) {
	a, _, uri, logs := lanesApp(t, db.PoolOptions{Slow: db.LaneLimits{StatementTimeout: 200 * time.Millisecond}})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "LOCK TABLE neon_auth.users_sync IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	r := a.get(a.browsePath(authprovider.Stack, url.Values{"q": {"user1"}}))
	r.wantStatus(t, http.StatusGatewayTimeout)
	msg := r.text("api-error")
	for _, want := range []string{"That took too long", "Narrow the filter"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if l := logs.String(); strings.Contains(l, "unreachable") || strings.Contains(l, `"level":"ERROR"`) {
		t.Errorf("a statement timeout was logged as a failure:\n%s", l)
	}
}
