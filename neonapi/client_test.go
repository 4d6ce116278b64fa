package neonapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/neonauth-admin/dashboard/neonapi"
)

const testKey = "napi_test_key_0123456789abcdef"

// seen is one request as the test server received it.
type seen struct {
	Method string
	Path   string // escaped, as sent
	Query  string
	Header http.Header
	Body   []byte
}

// recorder keeps every request a test server receives.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rec *recorder) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}
}

func (rec *recorder) all() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

// fastRetries keeps retry tests quick: pauses of a few milliseconds at most.
var fastRetries = neonapi.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// newTestClient serves h on a test server and returns a client for it, with the
// rate limiter off and fast retries; opts come last and override those.
func newTestClient(t *testing.T, h http.HandlerFunc, opts ...neonapi.Option) (*neonapi.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(h))
	t.Cleanup(srv.Close)
	all := append([]neonapi.Option{
		neonapi.WithBaseURL(srv.URL + "/api/v2"),
		neonapi.WithoutRateLimit(),
		neonapi.WithRetryPolicy(fastRetries),
	}, opts...)
	c, err := neonapi.New(testKey, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name string
		key  string
		opts []neonapi.Option
	}{
		{"empty key", "", nil},
		{"key with newline", "abc\nX-Evil: 1", nil},
		{"key with space", "abc def", nil},
		{"relative base URL", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("/api/v2")}},
		{"ftp base URL", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("ftp://example.com/api")}},
		{"unparsable base URL", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("http://[::1")}},
		{"base URL with query", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("https://example.com/api?x=1")}},
		{"base URL with credentials", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("https://u:url-pass-1@example.com/api")}},
		{"ftp base URL with credentials", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("ftp://u:url-pass-1@example.com/api")}},
		{"unparsable base URL with credentials", "key-9f8e7d", []neonapi.Option{neonapi.WithBaseURL("http://u:url-pass-1@[::1")}},
		{"nil HTTP client", "key-9f8e7d", []neonapi.Option{neonapi.WithHTTPClient(nil)}},
		{"empty user agent", "key-9f8e7d", []neonapi.Option{neonapi.WithUserAgent("")}},
		{"user agent with newline", "key-9f8e7d", []neonapi.Option{neonapi.WithUserAgent("a\r\nb")}},
		{"zero attempts", "key-9f8e7d", []neonapi.Option{neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 0, BaseDelay: 1, MaxDelay: 1})}},
		{"zero base delay", "key-9f8e7d", []neonapi.Option{neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 2, MaxDelay: 1})}},
		{"max below base", "key-9f8e7d", []neonapi.Option{neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 2, BaseDelay: 2, MaxDelay: 1})}},
		{"negative attempt timeout", "key-9f8e7d", []neonapi.Option{neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 2, BaseDelay: 1, MaxDelay: 1, AttemptTimeout: -1})}},
		{"zero rate", "key-9f8e7d", []neonapi.Option{neonapi.WithRateLimit(0, 40)}},
		{"negative burst", "key-9f8e7d", []neonapi.Option{neonapi.WithRateLimit(700, -1)}},
		{"nil observer", "key-9f8e7d", []neonapi.Option{neonapi.WithObserver(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := neonapi.New(tt.key, tt.opts...)
			if err == nil {
				t.Fatalf("New succeeded with %s: %v", tt.name, c)
			}
			if tt.key != "" && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q repeats the key", err)
			}
			if strings.Contains(err.Error(), "url-pass-1") {
				t.Errorf("error %q repeats the base URL's password", err)
			}
		})
	}

	valid := []neonapi.Option{
		neonapi.WithBaseURL("http://127.0.0.1:8081/api/v2/"),
		neonapi.WithHTTPClient(&http.Client{Timeout: time.Minute}),
		neonapi.WithUserAgent("probe/1.0"),
		neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 1, BaseDelay: 1, MaxDelay: 1}),
		neonapi.WithRateLimit(60, 1),
		neonapi.WithObserver(&countingObserver{}),
	}
	if _, err := neonapi.New("key-9f8e7d", valid...); err != nil {
		t.Fatalf("New with valid options: %v", err)
	}
}

func TestRequestHeaders(t *testing.T) {
	c, rec := newTestClient(t, reply(200, `{"account_id":"acc-1","auth_method":"api_key_user"}`))
	ctx := context.Background()
	for range 2 {
		if _, err := c.GetAuthDetails(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetAuthDetails(neonapi.WithRequestID(ctx, "dash-req-42")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"evil\r\nX-Injected: 1", strings.Repeat("x", 129)} {
		if _, err := c.GetAuthDetails(neonapi.WithRequestID(ctx, bad)); err != nil {
			t.Fatal(err)
		}
	}

	reqs := rec.all()
	if len(reqs) != 5 {
		t.Fatalf("server saw %d requests, want 5", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("request %d: Authorization = %q", i, got)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("request %d: Accept = %q", i, got)
		}
		if got := r.Header.Get("User-Agent"); !strings.HasPrefix(got, "neon-auth-dashboard/") {
			t.Errorf("request %d: User-Agent = %q", i, got)
		}
		if r.Method != http.MethodGet || r.Path != "/api/v2/auth" {
			t.Errorf("request %d: %s %s, want GET /api/v2/auth", i, r.Method, r.Path)
		}
		if got := r.Header.Get("Content-Type"); got != "" {
			t.Errorf("request %d: Content-Type %q on a request without body", i, got)
		}
	}
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.Header.Get("X-Request-ID")
	}
	for _, i := range []int{0, 1, 3, 4} {
		if _, err := uuid.Parse(ids[i]); err != nil {
			t.Errorf("request %d: X-Request-ID %q is not a UUID", i, ids[i])
		}
	}
	if ids[0] == ids[1] {
		t.Errorf("two calls shared X-Request-ID %q", ids[0])
	}
	if ids[2] != "dash-req-42" {
		t.Errorf("X-Request-ID = %q, want the context's dash-req-42", ids[2])
	}
	if got := neonapi.RequestIDFrom(neonapi.WithRequestID(ctx, "abc")); got != "abc" {
		t.Errorf("RequestIDFrom = %q, want abc", got)
	}
	if got := neonapi.RequestIDFrom(ctx); got != "" {
		t.Errorf("RequestIDFrom(empty ctx) = %q", got)
	}
}

func TestCustomUserAgent(t *testing.T) {
	c, rec := newTestClient(t, reply(200, `{"account_id":"a","auth_method":"oauth"}`), neonapi.WithUserAgent("neon-auth-dashboard/1.2.3"))
	if _, err := c.GetAuthDetails(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.all()[0].Header.Get("User-Agent"); got != "neon-auth-dashboard/1.2.3" {
		t.Errorf("User-Agent = %q", got)
	}
}

// projectsServer serves listProjects from pages keyed by the cursor they answer.
func projectsServer(pages map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			reply(500, `{"code":"","message":"unexpected cursor"}`)(w, r)
			return
		}
		reply(200, body)(w, r)
	}
}

func projectsJSON(cursor string, ids ...string) string {
	var ps []string
	for _, id := range ids {
		ps = append(ps, `{"id":"`+id+`","name":"`+id+`","region_id":"r","pg_version":17,"created_at":"`+ts+`","updated_at":"`+ts+`"}`)
	}
	return `{"projects":[` + strings.Join(ps, ",") + `],"pagination":{"cursor":"` + cursor + `"}}`
}

func TestAllProjects(t *testing.T) {
	tests := []struct {
		name      string
		limit     int
		pages     map[string]string
		wantIDs   []string
		wantCalls int
		wantErr   bool
	}{
		{
			name:  "cursor on the last page, then an empty page",
			limit: 2,
			pages: map[string]string{
				"":  projectsJSON("b", "a", "b"),
				"b": projectsJSON("d", "c", "d"),
				"d": projectsJSON("d"),
			},
			wantIDs: []string{"a", "b", "c", "d"}, wantCalls: 3,
		},
		{
			name:  "short page ends without another request",
			limit: 2,
			pages: map[string]string{
				"":  projectsJSON("b", "a", "b"),
				"b": projectsJSON("c", "c"),
			},
			wantIDs: []string{"a", "b", "c"}, wantCalls: 2,
		},
		{
			name:  "unchanged cursor ends",
			limit: 1,
			pages: map[string]string{
				"":  projectsJSON("x", "a"),
				"x": projectsJSON("x", "b"),
			},
			wantIDs: []string{"a", "b"}, wantCalls: 2,
		},
		{
			name:  "cursor cycle ends",
			limit: 1,
			pages: map[string]string{
				"":  projectsJSON("x", "a"),
				"x": projectsJSON("y", "b"),
				"y": projectsJSON("x", "c"),
			},
			wantIDs: []string{"a", "b", "c"}, wantCalls: 3,
		},
		{
			name:  "no pagination object",
			limit: 1,
			pages: map[string]string{
				"": `{"projects":[{"id":"a"}]}`,
			},
			wantIDs: []string{"a"}, wantCalls: 1,
		},
		{
			name:  "error mid-way is yielded last",
			limit: 1,
			pages: map[string]string{
				"": projectsJSON("gone", "a"),
			},
			wantIDs: []string{"a"}, wantCalls: 2, wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newTestClient(t, projectsServer(tt.pages), neonapi.WithRetryPolicy(neonapi.RetryPolicy{MaxAttempts: 1, BaseDelay: 1, MaxDelay: 1}))
			var ids []string
			var gotErr error
			for p, err := range c.AllProjects(context.Background(), neonapi.ListProjectsOptions{Limit: tt.limit}) {
				if err != nil {
					gotErr = err
					continue
				}
				if gotErr != nil {
					t.Fatalf("project %q yielded after error %v", p.ID, gotErr)
				}
				ids = append(ids, p.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
			if n := rec.count(); n != tt.wantCalls {
				t.Errorf("requests = %d, want %d", n, tt.wantCalls)
			}
			if (gotErr != nil) != tt.wantErr {
				t.Errorf("err = %v, wantErr %v", gotErr, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(gotErr, neonapi.ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", gotErr)
			}
		})
	}
}

func TestAllProjectsStopsWhenTheLoopBreaks(t *testing.T) {
	c, rec := newTestClient(t, projectsServer(map[string]string{
		"":  projectsJSON("b", "a", "b"),
		"b": projectsJSON("d", "c", "d"),
	}))
	for p, err := range c.AllProjects(context.Background(), neonapi.ListProjectsOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if p.ID == "a" {
			break
		}
	}
	if n := rec.count(); n != 1 {
		t.Errorf("requests = %d, want 1 after breaking on the first project", n)
	}
}

func TestAllProjectsDefaultLimit(t *testing.T) {
	c, rec := newTestClient(t, projectsServer(map[string]string{"": projectsJSON("a", "a")}))
	for _, err := range c.AllProjects(context.Background(), neonapi.ListProjectsOptions{Search: "x"}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if q := rec.all()[0].Query; q != "limit=100&search=x" {
		t.Errorf("query = %q, want limit=100&search=x", q)
	}
}

func TestListBranchesFollowsCursor(t *testing.T) {
	branches := func(from, to int) string {
		var bs []string
		for i := from; i < to; i++ {
			bs = append(bs, `{"id":"br-`+strconv.Itoa(i)+`","name":"b`+strconv.Itoa(i)+`"}`)
		}
		return strings.Join(bs, ",")
	}
	pages := map[string]string{
		"":   `{"branches":[` + branches(0, 100) + `],"pagination":{"next":"n1","sort_by":"updated_at","sort_order":"desc"}}`,
		"n1": `{"branches":[` + branches(99, 103) + `],"pagination":{"next":"n2"}}`,
	}
	c, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("cursor")]
		if !ok {
			http.Error(w, "unexpected cursor", 500)
			return
		}
		reply(200, body)(w, r)
	})
	got, err := c.ListBranches(context.Background(), "p-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 103 {
		t.Fatalf("got %d branches, want 103 (the repeated br-99 once)", len(got))
	}
	for i, b := range got {
		if want := "br-" + strconv.Itoa(i); b.ID != want {
			t.Fatalf("branch %d = %s, want %s", i, b.ID, want)
		}
	}
	reqs := rec.all()
	if len(reqs) != 2 || reqs[1].Query != "cursor=n1&limit=100" {
		t.Errorf("requests = %+v, want two, the second with cursor=n1&limit=100", reqs)
	}
}

// countingObserver records what the client reports.
type countingObserver struct {
	mu      sync.Mutex
	calls   []string // "op status"
	retries map[string]int
	waits   []time.Duration
	onRetry func()
}

func (o *countingObserver) ObserveCall(op string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s %d", op, status))
}

func (o *countingObserver) ObserveRetry(op string) {
	o.mu.Lock()
	if o.retries == nil {
		o.retries = map[string]int{}
	}
	o.retries[op]++
	f := o.onRetry
	o.mu.Unlock()
	if f != nil {
		f()
	}
}

func (o *countingObserver) ObserveRateLimitWait(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits = append(o.waits, d)
}

func (o *countingObserver) snapshot() (calls []string, retries map[string]int, waits []time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := map[string]int{}
	for k, v := range o.retries {
		r[k] = v
	}
	return append([]string(nil), o.calls...), r, append([]time.Duration(nil), o.waits...)
}

func TestObserverSeesOperations(t *testing.T) {
	var n int
	var mu sync.Mutex
	obs := &countingObserver{}
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		switch {
		case first:
			reply(503, `{"code":"","message":"busy"}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/integrations"):
			reply(200, `{"data":[]}`)(w, r)
		default:
			reply(404, `{"code":"","message":"no such project"}`)(w, r)
		}
	}, neonapi.WithObserver(obs))
	if _, err := c.ListIntegrations(context.Background(), "p-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProject(context.Background(), "p-2"); !errors.Is(err, neonapi.ErrNotFound) {
		t.Fatalf("GetProject err = %v, want ErrNotFound", err)
	}
	calls, retries, waits := obs.snapshot()
	if want := []string{"listNeonAuthIntegrations 200", "getProject 404"}; !reflect.DeepEqual(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
	if want := map[string]int{"listNeonAuthIntegrations": 1}; !reflect.DeepEqual(retries, want) {
		t.Errorf("retries = %v, want %v", retries, want)
	}
	if len(waits) != 0 {
		t.Errorf("rate limit waits %v with the limiter off", waits)
	}
}
