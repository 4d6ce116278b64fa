// Package neontest starts the Neon API sandbox for tests and records what a
// Neon client sends it.
package neontest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// StartSandbox serves a sandbox backed by the test Postgres server over real
// HTTP until the test ends, then drops its databases. syncDelay is
// sandbox.Config's (negative: at once). The API base is srv.URL + "/api/v2".
func StartSandbox(t testing.TB, syncDelay time.Duration) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	// The sandbox's errors (an answer of 500 says only "internal error")
	// reach the test's log, so that a failure says why.
	logs := &testLog{t: t}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	sb, err := sandbox.New(context.Background(), sandbox.Config{DatabaseURL: pgtest.Require(t), SyncDelay: syncDelay, Logger: logger})
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("sandbox close: %v", err)
		}
		logs.close()
	})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return sb, srv
}

// testLog writes log lines to the test's log until the test is over, and
// drops them after: logging after a test ends panics.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) close() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}

// Requests is an http.RoundTripper that records each request it sends, as
// "METHOD /path": put under a Neon client, it tells what Neon was asked.
type Requests struct {
	mu    sync.Mutex
	calls []string
	total int
}

// RoundTrip records r and sends it with http.DefaultTransport.
func (q *Requests) RoundTrip(r *http.Request) (*http.Response, error) {
	q.mu.Lock()
	q.calls = append(q.calls, r.Method+" "+r.URL.Path)
	q.total++
	q.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// Count is how many requests were sent in all.
func (q *Requests) Count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total
}

// Take returns the requests sent since the last Take, sorted.
func (q *Requests) Take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.calls
	q.calls = nil
	slices.Sort(c)
	return c
}
