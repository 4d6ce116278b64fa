package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// hungNeon is a Neon API sandbox whose every API request hangs until the
// dashboard gives up on it.
type hungNeon struct {
	sb  *sandbox.Sandbox
	url string
}

const hungNeonKey = "napi_hung_neon_test_key"

func startHungNeon(t *testing.T) *hungNeon {
	t.Helper()
	sb, err := sandbox.New(context.Background(), sandbox.Config{DatabaseURL: pgtest.Require(t), APIKey: hungNeonKey})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	// Closing the sandbox first ends the hangs that outlive the dashboard, such
	// as a cached read's, which is detached from the request that started it;
	// only then can the server close without waiting for them.
	t.Cleanup(func() { _ = sb.Close() })
	if _, err := sb.CreateProject(context.Background(), "held-app"); err != nil {
		t.Fatal(err)
	}
	sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultHang, Count: hungRequests, PathContains: "/api/v2/", Hang: 10 * time.Minute})
	return &hungNeon{sb: sb, url: srv.URL + "/api/v2"}
}

// hungRequests is how many API requests the sandbox holds.
const hungRequests = 1000

// waitForHeld blocks until the sandbox holds at least n requests.
func (h *hungNeon) waitForHeld(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		f := h.sb.Faults()
		if len(f) == 1 && hungRequests-f[0].Count >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the sandbox never held %d requests", n)
}

// serving is the real serve command running in the background.
type serving struct {
	URL  string
	done chan struct{} // closed when run returns
	err  error         // what run returned, once done is closed
	stop context.CancelFunc
}

// startServing runs `dashboard serve` against neon with the given extra
// environment, as main would, and waits for its URL.
func startServing(t *testing.T, neon *hungNeon, env map[string]string) *serving {
	t.Helper()
	for _, k := range []string{"AUTH_MODE", "SESSION_KEYS", "DATABASE_URL", "LISTEN_ADDR", "AUDIT_LOG", "CACHE_TTL",
		"SYNC_TIMEOUT", "USERS_INDEX_ROWS", "COOKIE_SECURE", "REQUEST_TIMEOUT", "SHUTDOWN_GRACE", "DEMO_USERS"} {
		t.Setenv(k, "")
	}
	t.Setenv("NEON_API_KEY", hungNeonKey)
	t.Setenv("NEON_API_URL", neon.url)
	for k, v := range env {
		t.Setenv(k, v)
	}
	stdout, stderr := newLineWatcher(regexp.MustCompile(`^Dashboard: (\S+)`)), &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{done: make(chan struct{}), stop: cancel}
	go func() {
		defer close(s.done)
		s.err = run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	select {
	case s.URL = <-stdout.match:
	case <-s.done:
		t.Fatalf("serve stopped: %v\n%s", s.err, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("no URL within 30s; stderr:\n%s", stderr)
	}
	return s
}

type answer struct {
	status     int
	retryAfter string
	body       string
	err        error
}

func getAsync(url string) chan answer {
	ch := make(chan answer, 1)
	go func() {
		res, err := (&http.Client{Timeout: time.Minute}).Get(url)
		if err != nil {
			ch <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		ch <- answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: string(b), err: err}
	}()
	return ch
}

// TestShutdownAnswersHeldRequests stops the server while a request waits on
// a Neon call that never answers: the request gets a 503 page saying the
// dashboard is restarting, and the server stops cleanly within its grace.
func TestShutdownAnswersHeldRequests(t *testing.T) {
	for _, cacheTTL := range []string{"0", "15s"} {
		t.Run("CACHE_TTL="+cacheTTL, func(t *testing.T) {
			neon := startHungNeon(t)
			const grace = 2 * time.Second
			s := startServing(t, neon, map[string]string{"SHUTDOWN_GRACE": grace.String(), "CACHE_TTL": cacheTTL})

			held := getAsync(s.URL + "projects")
			neon.waitForHeld(t, 1)
			s.stop()

			select {
			case <-s.done:
			case <-time.After(grace + 10*time.Second):
				t.Fatalf("serve still running well past the %s grace", grace)
			}
			if s.err != nil {
				t.Errorf("serve returned %v, want nil after a clean shutdown", s.err)
			}
			a := <-held
			if a.err != nil {
				t.Fatalf("held request: %v, want a 503 answer", a.err)
			}
			if a.status != http.StatusServiceUnavailable || a.retryAfter == "" || !strings.Contains(a.body, "The dashboard is restarting") {
				t.Errorf("held request: %d, Retry-After %q, body:\n%s\nwant a 503 restart page with Retry-After", a.status, a.retryAfter, a.body)
			}
		})
	}
}

// TestSlowNeonEndsInErrorPage lets every Neon call hang past the request's
// deadline: the retries fit inside it, and the person gets an error page
// long before the write timeout would cut the connection.
func TestSlowNeonEndsInErrorPage(t *testing.T) {
	neon := startHungNeon(t)
	s := startServing(t, neon, map[string]string{"REQUEST_TIMEOUT": "2s", "CACHE_TTL": "0"})

	a := <-getAsync(s.URL + "projects")
	if a.err != nil {
		t.Fatalf("GET /projects: %v, want an error page", a.err)
	}
	if a.status != http.StatusGatewayTimeout && a.status != http.StatusBadGateway {
		t.Errorf("status %d, want 504 or 502", a.status)
	}
	if !strings.Contains(a.body, "<title>") || !strings.Contains(a.body, "Try again") {
		t.Errorf("body is not an error page:\n%s", a.body)
	}
	// More than one attempt reached Neon: the first did not spend the budget.
	if f := neon.sb.Faults(); len(f) != 1 || hungRequests-f[0].Count < 2 {
		t.Errorf("faults left %+v, want at least two attempts held", f)
	}
}
