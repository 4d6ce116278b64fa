package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/handlers"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// The project, branch and database the HTTP cases address.
const (
	benchProject = "bench-project"
	benchBranch  = "br-bench"
	benchDB      = "bench"
)

// requestTimeout is the server's default REQUEST_TIMEOUT, which the real
// server gives every request as its deadline.
const requestTimeout = 30 * time.Second

// benchNeon answers the Neon reads the users pages make (the project, its
// integrations, its branches, a branch's Neon Auth) from memory, over HTTP
// on loopback, so the dashboard's own Neon client reads them as it reads
// Neon's and the HTTP cases time the dashboard and the database, not an API.
type benchNeon struct {
	provider authprovider.Provider
}

func (n benchNeon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := map[string]any{"auth_provider": n.provider, "branch_id": benchBranch, "db_name": benchDB}
	var answer any
	switch r.URL.Path {
	case "/projects/" + benchProject:
		answer = map[string]any{"project": map[string]any{"id": benchProject, "name": "bench"}}
	case "/projects/" + benchProject + "/auth/integrations":
		answer = map[string]any{"data": []any{in}}
	case "/projects/" + benchProject + "/branches":
		answer = map[string]any{"branches": []any{map[string]any{
			"id": benchBranch, "project_id": benchProject, "name": "main", "current_state": "ready", "default": true}}}
	case "/projects/" + benchProject + "/branches/" + benchBranch + "/auth":
		answer = in
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code":"","message":"not found"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// neonClient is a Neon client reading benchNeon, through the read cache
// with the dashboard's default TTL, without a rate limit.
func neonClient(api *httptest.Server) (*neonapi.Client, error) {
	return neonapi.New("bench-key",
		neonapi.WithBaseURL(api.URL),
		neonapi.WithoutRateLimit(),
		neonapi.WithReadCache(15*time.Second))
}

// server is the dashboard's real handler stack (router, middleware,
// handlers, the Neon Auth service and its pools) reading the suite's
// database as the operator's DATABASE_URL, on a loopback listener, with
// the request deadline the real server sets.
func (s *suite) server() *httptest.Server {
	h := &handlers.Handler{
		Auth:   s.svc,
		Logger: slog.New(slog.DiscardHandler),
	}
	e := h.Echo()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		e.ServeHTTP(w, r.WithContext(ctx))
	}))
}

// usersRoute is where the users pages of the suite's table live: the path
// of the users page and the query every users route carries.
type usersRoute struct {
	path  string
	query url.Values
}

// url is the users route sub ("" for the page itself) with v added to the
// route's own query.
func (u usersRoute) url(sub string, v url.Values) string {
	q := url.Values{}
	for k, vs := range u.query {
		q[k] = vs
	}
	for k, vs := range v {
		q[k] = vs
	}
	p := u.path
	if sub != "" {
		p += "/" + sub
	}
	return p + "?" + q.Encode()
}

// findUsersRoute asks the server where the table's users pages are: the
// project's users page for the provider, or wherever it redirects (a
// branch's users pages), as a link from an older page would be sent.
func (s *suite) findUsersRoute(ctx context.Context) (usersRoute, error) {
	start := "/projects/" + benchProject + "/users"
	q := url.Values{"provider": {string(s.d.gen)}, "branch": {benchBranch}}
	client := &http.Client{Transport: s.srv.Client().Transport, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+start+"?"+q.Encode(), nil)
	if err != nil {
		return usersRoute{}, err
	}
	res, err := client.Do(req)
	if err != nil {
		return usersRoute{}, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusOK:
		delete(q, "branch")
		return usersRoute{path: start, query: q}, nil
	case res.StatusCode >= 300 && res.StatusCode < 400:
		loc, err := res.Location()
		if err != nil {
			return usersRoute{}, fmt.Errorf("GET %s: %d without a location", start, res.StatusCode)
		}
		return usersRoute{path: strings.TrimSuffix(loc.Path, "/"), query: loc.Query()}, nil
	}
	return usersRoute{}, fmt.Errorf("GET %s: %d", start, res.StatusCode)
}

// fetch returns a case side that GETs path (as htmx when htmx is set),
// reads the whole body and checks the status and that it holds each of want.
func fetch(srv *httptest.Server, path string, htmx bool, want ...string) func(context.Context) error {
	return func(ctx context.Context) error {
		status, body, _, err := get(ctx, srv.Client(), srv.URL+path, htmx)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, status)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				return fmt.Errorf("GET %s: 200, body without %q", path, w)
			}
		}
		return nil
	}
}

// get sends one GET and returns the status, the body and the Retry-After
// delay of a 503 (0 when absent).
func get(ctx context.Context, client *http.Client, url string, htmx bool) (int, string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", 0, err
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, "", 0, err
	}
	var retry time.Duration
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		retry = time.Duration(secs) * time.Second
	}
	return res.StatusCode, string(body), retry, nil
}
