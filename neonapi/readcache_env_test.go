package neonapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// wire is the transport under a cached test client: it counts the requests
// that reach the sandbox, as "METHOD /path?query" below the API root, and
// can hold GET answers back once the sandbox has given them.
type wire struct {
	mu    sync.Mutex
	calls map[string]int
	// hold, when non-nil, keeps each GET answer until it is closed.
	hold chan struct{}
	// entered, when non-nil, receives each GET once the sandbox answered it.
	entered chan string
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/api/v2")
	if r.URL.RawQuery != "" {
		key += "?" + r.URL.RawQuery
	}
	w.mu.Lock()
	w.calls[key]++
	hold, entered := w.hold, w.entered
	w.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet {
		return resp, err
	}
	// The answer is the sandbox's state when the request reached it, however
	// long it is held.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if entered != nil {
		entered <- key
	}
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return resp, nil
}

// count is how many requests key was sent.
func (w *wire) count(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[key]
}

// sent is how many times each request was sent, in no order.
func (w *wire) sent() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var n []int
	for _, v := range w.calls {
		n = append(n, v)
	}
	return n
}

// writes is how many requests other than GET were sent.
func (w *wire) writes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for k, v := range w.calls {
		if !strings.HasPrefix(k, "GET ") {
			n += v
		}
	}
	return n
}

// lastWrite is the "METHOD path" of a request other than GET that was
// sent, or "" if none was (tests send one).
func (w *wire) lastWrite() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k := range w.calls {
		if !strings.HasPrefix(k, "GET ") {
			return k
		}
	}
	return ""
}

// holdGets makes GET answers wait for the returned channel to close, and
// reports each on entered.
func (w *wire) holdGets(entered chan string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hold, w.entered = make(chan struct{}), entered
	return w.hold
}

// release lets GETs from now on answer at once; held ones stay held.
func (w *wire) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hold = nil
}

// fakeClock is a settable clock for TTL tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cacheEnv is a sandbox served over HTTP with two projects, and a client
// without a cache that arranges their state.
type cacheEnv struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	base   string
	setup  *Client
	p1, p2 sandbox.CreatedProject
}

// oneTry sends each request once, so the counts are the calls.
var oneTry = RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}

func newCacheEnv(t *testing.T) *cacheEnv {
	t.Helper()
	sb, srv := neontest.StartSandbox(t, -1)
	e := &cacheEnv{t: t, sb: sb, base: srv.URL + "/api/v2"}
	var err error
	if e.setup, err = New("test-key", WithBaseURL(e.base), WithoutRateLimit(), WithRetryPolicy(oneTry)); err != nil {
		t.Fatal(err)
	}
	for i, p := range []*sandbox.CreatedProject{&e.p1, &e.p2} {
		if *p, err = sb.CreateProject(context.Background(), []string{"one", "two"}[i]); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// client returns a client with a read cache of ttl on a clock of its own,
// and the wire under it.
func (e *cacheEnv) client(t *testing.T, ttl time.Duration, opts ...Option) (*Client, *wire, *fakeClock) {
	t.Helper()
	w := &wire{calls: map[string]int{}}
	c, err := New("test-key", append([]Option{WithBaseURL(e.base), WithHTTPClient(&http.Client{Transport: w}),
		WithoutRateLimit(), WithRetryPolicy(oneTry), WithReadCache(ttl)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)}
	if c.cache != nil {
		c.cache.now = clock.now
	}
	return c, w, clock
}

// enableBetterAuth turns branch-level Neon Auth on for a branch.
func (e *cacheEnv) enableBetterAuth(projectID, branchID string) {
	e.t.Helper()
	if _, err := e.setup.EnableBranchAuth(context.Background(), projectID, branchID, EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth}); err != nil {
		e.t.Fatal(err)
	}
}

// refuseWrites makes the sandbox refuse the next n requests of every write
// method with a 503, before serving them.
func (e *cacheEnv) refuseWrites(n int) {
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		e.sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: n, Method: m})
	}
}
