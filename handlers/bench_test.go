package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// staticUsers is a users table held in memory, and the two Neon reads the
// users page makes; any other call panics through the nil embedded
// interface, which a benchmark would show.
type staticUsers struct {
	NeonAuth
	project      neonapi.Project
	integrations []neonapi.Integration
	users        []db.User
}

func (s *staticUsers) Project(context.Context, string) (*neonapi.Project, error) {
	p := s.project
	return &p, nil
}

func (s *staticUsers) Integrations(context.Context, string) ([]neonapi.Integration, error) {
	return s.integrations, nil
}

func (s *staticUsers) OpenUsers(context.Context, neonauth.Ref) (neonauth.UserDirectory, error) {
	return s, nil
}
func (s *staticUsers) Target() string                  { return "db.example:5432/neondb" }
func (s *staticUsers) Source() string                  { return neonauth.SourceNeon }
func (s *staticUsers) Provider() authprovider.Provider { return authprovider.Stack }
func (s *staticUsers) Latest(_ context.Context, n int) ([]db.User, error) {
	return s.users[:min(n, len(s.users))], nil
}
func (s *staticUsers) Find(_ context.Context, q string) (db.User, error) {
	return s.Get(context.Background(), q)
}
func (s *staticUsers) Get(_ context.Context, id string) (db.User, error) {
	for _, u := range s.users {
		if u.ID == id || u.Email == id {
			return u, nil
		}
	}
	return db.User{}, db.ErrNotFound
}
func (s *staticUsers) Count(context.Context) (int, int, error) { return len(s.users), 5, nil }

// BenchmarkUsersPage50 is the server's own time to answer the users page with
// 50 rows: routing, middleware, the handler and the render, with Neon and the
// database answered from memory.
func BenchmarkUsersPage50(b *testing.B) {
	users := make([]db.User, 50)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range users {
		users[i] = db.User{
			ID:        fmt.Sprintf("3f8c1a2e-0000-4000-8000-%012d", i),
			Email:     fmt.Sprintf("user%02d@example.com", i),
			Name:      fmt.Sprintf("User Number %d", i),
			CreatedAt: t0.Add(-time.Duration(i) * time.Minute),
		}
		if i%10 == 0 {
			d := t0
			users[i].DeletedAt = &d
		}
	}
	h := &Handler{
		Auth: &staticUsers{
			project:      neonapi.Project{ID: "p-1", Name: "Shop"},
			integrations: []neonapi.Integration{{AuthProvider: authprovider.Stack, BranchID: "br-main", DBName: "neondb"}},
			users:        users,
		},
		Logger:   slog.New(slog.DiscardHandler),
		Settings: Settings{SyncTimeout: 30 * time.Second},
	}
	e := h.Echo()
	newReq := func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/projects/p-1/users?provider=stack", nil)
		req.RemoteAddr = "127.0.0.1:50000"
		return req
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, newReq())
	if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `data-testid="browse-row"`) != 50 {
		b.Fatalf("status %d, %d rows", rec.Code, strings.Count(rec.Body.String(), `data-testid="browse-row"`))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, newReq())
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkCreateToSynced measures what a person waits for: from the 201 of a
// create until the sync panel says "synced", polling exactly as the browser
// does (the fragment's hx-get after its hx-trigger delay), against the
// sandbox's sync delay. It reports the wait and its overshoot past the delay.
// Run it with -benchtime=20x or so: every operation lasts at least the delay.
func BenchmarkCreateToSynced(b *testing.B) {
	for _, delay := range []time.Duration{50 * time.Millisecond, sandbox.DefaultSyncDelay} {
		b.Run("delay="+delay.String(), func(b *testing.B) {
			d := newSyncBench(b, delay)
			var total time.Duration
			polls := 0
			i := 0
			for b.Loop() {
				i++
				wait, n := d.createAndWait(fmt.Sprintf("bench%d@example.com", i))
				total += wait
				polls += n
			}
			avg := total / time.Duration(i)
			b.ReportMetric(float64(avg.Microseconds())/1000, "ms-to-synced")
			b.ReportMetric(float64((avg-delay).Microseconds())/1000, "ms-over-delay")
			b.ReportMetric(float64(polls)/float64(i), "polls/op")
		})
	}
}

// syncBench is a dashboard on a sandbox, driven over HTTP like a browser.
type syncBench struct {
	b         *testing.B
	base      string
	client    *http.Client
	projectID string
	csrf      string
}

func newSyncBench(b *testing.B, delay time.Duration) *syncBench {
	ctx := context.Background()
	sb, err := sandbox.New(ctx, sandbox.Config{DatabaseURL: pgtest.Require(b), SyncDelay: delay})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Close() })
	neonSrv := httptest.NewServer(sb.Handler())
	b.Cleanup(neonSrv.Close)
	client, err := neonapi.New("bench-key", neonapi.WithBaseURL(neonSrv.URL+"/api/v2"), neonapi.WithoutRateLimit())
	if err != nil {
		b.Fatal(err)
	}
	p, err := sb.CreateProject(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{
		AuthProvider: authprovider.Stack, ProjectID: p.ID, BranchID: p.BranchID, DatabaseName: p.DatabaseName,
	}); err != nil {
		b.Fatal(err)
	}
	pools := db.NewPools(db.PoolOptions{})
	h := &Handler{
		Auth:     neonauth.New(client, pools, neonauth.UserDBConfig{}),
		Logger:   slog.New(slog.DiscardHandler),
		Settings: Settings{SyncTimeout: 30 * time.Second},
	}
	srv := httptest.NewServer(h.Echo())
	b.Cleanup(srv.Close)
	b.Cleanup(pools.Close)
	jar, _ := cookiejar.New(nil)
	d := &syncBench{b: b, base: srv.URL, projectID: p.ID, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	// Load the page once, as a person would, which also resolves the database.
	page := d.do(http.MethodGet, "/projects/"+p.ID+"/users?provider=stack", nil, false)
	d.csrf, _ = page.Find(`meta[name="csrf-token"]`).Attr("content")
	return d
}

func (d *syncBench) do(method, path string, form url.Values, htmx bool) *goquery.Document {
	var body io.Reader
	if form != nil {
		form.Set("_csrf", d.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, d.base+path, body)
	if err != nil {
		d.b.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", d.base)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", d.csrf)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(resp.Body)
		d.b.Fatalf("%s %s: %d\n%s", method, path, resp.StatusCode, msg)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		d.b.Fatal(err)
	}
	return doc
}

// createAndWait creates a user and follows the sync panel until it is done,
// returning the time from the 201 to the answer that showed "synced".
func (d *syncBench) createAndWait(email string) (time.Duration, int) {
	doc := d.do(http.MethodPost, "/projects/"+d.projectID+"/users", url.Values{"provider": {"stack"}, "email": {email}}, true)
	start := time.Now()
	for polls := 0; ; polls++ {
		panel := doc.Find(`[data-testid="sync-panel"]`)
		next, pending := panel.Attr("hx-get")
		if !pending {
			if got := strings.TrimSpace(doc.Find(`[data-testid="sync-status"]`).Text()); got != "synced" {
				d.b.Fatalf("sync status %q", got)
			}
			return time.Since(start), polls
		}
		trig, _ := panel.Attr("hx-trigger")
		wait, err := time.ParseDuration(strings.TrimPrefix(trig, "load delay:"))
		if err != nil {
			d.b.Fatalf("hx-trigger %q", trig)
		}
		time.Sleep(wait)
		doc = d.do(http.MethodGet, next, nil, true)
	}
}
