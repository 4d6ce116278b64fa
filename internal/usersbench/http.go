package usersbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/handlers"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// benchProject is the project the HTTP cases address.
const benchProject = "bench-project"

// benchNeon answers the two Neon reads the users pages make from memory, so
// the HTTP cases time the dashboard and the database, not an API.
type benchNeon struct {
	handlers.NeonAPI
	provider neonapi.AuthProvider
}

func (n benchNeon) GetProject(context.Context, string) (*neonapi.Project, error) {
	return &neonapi.Project{ID: benchProject, Name: "bench"}, nil
}

func (n benchNeon) ListIntegrations(context.Context, string) ([]neonapi.Integration, error) {
	return []neonapi.Integration{{AuthProvider: n.provider, BranchID: "br-bench", DBName: "bench"}}, nil
}

// server is the dashboard's real handler stack (router, middleware,
// handlers, the Neon Auth service and its pools) reading the suite's
// database as the operator's DATABASE_URL.
func (s *suite) server(pools *db.Pools) *httptest.Server {
	neon := benchNeon{provider: neonapi.AuthProvider(s.d.gen)}
	h := &handlers.Handler{
		Neon:   neon,
		Auth:   neonauth.New(neon, pools, neonauth.UserDBConfig{Default: s.d.url, Results: db.NewCache(0)}),
		Logger: slog.New(slog.DiscardHandler),
	}
	return httptest.NewServer(h.Echo())
}

// fetch returns a case side that GETs path (as htmx when htmx is set),
// reads the whole body and checks the status and that it holds want.
func fetch(srv *httptest.Server, path string, htmx bool, want string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if err != nil {
			return err
		}
		if htmx {
			req.Header.Set("HX-Request", "true")
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			return fmt.Errorf("GET %s: %d, body without %q", path, res.StatusCode, want)
		}
		return nil
	}
}

// httpCases time the users routes over HTTP against the bare SQL behind
// each: what a person waits for, handler stack and render included.
func (s *suite) httpCases(srv *httptest.Server) []*Case {
	provider := string(s.d.gen)
	users := "/projects/" + benchProject + "/users"
	q := func(v url.Values) string { v.Set("provider", provider); return v.Encode() }
	order := fmt.Sprintf("ORDER BY %s DESC, id DESC LIMIT 50", s.created)
	scan := func(where string) string { return fmt.Sprintf("SELECT %s FROM %s WHERE %s", s.cols, s.table, where) }
	pages := s.d.rows / 50
	exportQ, exportErr := s.b.ExportQuery(db.Filter{}, db.ExportCSV)
	cases := []*Case{
		{Name: "HTTP users page shell (full page)",
			Ours: fetch(srv, users+"?"+q(url.Values{}), false, `id="users-browser"`),
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s %s", s.cols, s.table, order))},
		{Name: fmt.Sprintf("HTTP browse page %d (htmx, after cursor)", pages/2+1),
			Ours: fetch(srv, users+"/browse?"+q(url.Values{"after": {s.b.Cursor(s.mid)}}), true, `data-testid="browse-row"`),
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s WHERE (%s, id) < ($1, $2) %s", s.cols, s.table, s.created, order), s.mid.CreatedAt, s.mid.ID)},
		{Name: "HTTP user detail (exact id)",
			Ours: fetch(srv, users+"/"+url.PathEscape(s.someID)+"/detail?"+q(url.Values{}), false, `data-testid="user-detail"`),
			Bare: s.query(fmt.Sprintf("SELECT * FROM %s WHERE id = $1", s.table), s.someID)},
		{Name: "HTTP search, 1 match (htmx)",
			Ours: fetch(srv, users+"/browse?"+q(url.Values{"q": {s.rareSearch}}), true, s.rareSearch),
			Bare: s.query(scan("email ILIKE $1 OR name ILIKE $1"), "%"+s.rareSearch+"%")},
		{Name: fmt.Sprintf("HTTP export csv, all %d rows (vs psql \\copy)", s.d.rows), Runs: 5,
			Ours: fetch(srv, users+"/export?"+q(url.Values{"format": {"csv"}}), false, "id,email,"),
			Bare: func(ctx context.Context) error {
				if exportErr != nil {
					return exportErr
				}
				return psqlCopy(ctx, s.d.url, exportQ, db.ExportOptions(db.ExportCSV))
			}},
	}
	if s.d.gen == db.GenerationBetterAuth {
		cases = append(cases, &Case{Name: "HTTP exact id in the search box (htmx)",
			Ours: fetch(srv, users+"/browse?"+q(url.Values{"q": {s.someID}}), true, s.someID),
			Bare: s.query(scan("id = $1"), s.someID)})
	}
	return cases
}
