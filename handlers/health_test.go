package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonapi"
)

func TestHealthAndReadiness(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	calls := 0
	var answer error
	ready := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return answer
	}
	sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: secAuthConfig(t), ListenAddr: "127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Security: sec, Ready: NewReadiness(ready, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })}
	e := h.Echo()
	get := func(path string) *httptest.ResponseRecorder {
		// No identity headers, from a peer outside AUTH_PROXY_TRUSTED.
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = "203.0.113.9:41000"
		return serve(e, r)
	}
	if w := get("/healthz"); w.Code != http.StatusOK || w.Body.String() != "ok\n" {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
	if w := get("/readyz"); w.Code != http.StatusOK || w.Body.String() != "ready\n"+memoryDetails {
		t.Errorf("readyz: %d %q", w.Code, w.Body)
	}

	mu.Lock()
	answer = &neonapi.APIError{StatusCode: http.StatusUnauthorized, Message: "key napi_live_SECRET is revoked"}
	mu.Unlock()
	if w := get("/readyz"); w.Code != http.StatusOK {
		t.Errorf("readyz within the cache window: %d, want the cached 200", w.Code)
	}
	mu.Lock()
	now = now.Add(readyCacheTTL)
	mu.Unlock()
	w := get("/readyz")
	if w.Code != http.StatusServiceUnavailable || w.Body.String() != "not ready: neon api rejected the api key\n"+memoryDetails {
		t.Errorf("readyz after the key was revoked: %d %q", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "napi_") {
		t.Error("readyz echoed Neon's error text")
	}
	mu.Lock()
	if calls != 2 {
		t.Errorf("%d readiness checks, want 2 (one per cache window)", calls)
	}
	mu.Unlock()
}

// memoryDetails is /readyz's details without a state store.
const memoryDetails = "state: memory (STATE_DATABASE_URL is not set: run a single replica)\n"

// With a state store, /readyz names it and this replica, and a store that
// stops answering is reported without making the replica unready.
func TestReadyzReportsTheStateStore(t *testing.T) {
	store := &fakeStore{replica: "web-1"}
	h := &Handler{Store: store}
	e := h.Echo()
	get := func() *httptest.ResponseRecorder {
		return serve(e, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	}
	if w := get(); w.Code != http.StatusOK || w.Body.String() != "ready\nstate: postgres (replica web-1; 2 replicas seen in the last minute)\n" {
		t.Errorf("readyz: %d %q", w.Code, w.Body)
	}
	store.err = errors.New("connection refused")
	if w := get(); w.Code != http.StatusOK || w.Body.String() != "ready\nstate: postgres, unreachable (replica web-1)\n" {
		t.Errorf("readyz with the store down: %d %q", w.Code, w.Body)
	}
}

type fakeStore struct {
	replica string
	err     error
}

func (f *fakeStore) Replica() string { return f.replica }
func (f *fakeStore) ReplicasSeen(context.Context, time.Duration) (int, error) {
	return 2, f.err
}

func TestNotReadyReasons(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&neonapi.APIError{StatusCode: 403}, "neon api rejected the api key"},
		{&neonapi.APIError{StatusCode: 429}, "neon api is rate limiting"},
		{&neonapi.APIError{StatusCode: 503}, "neon api unreachable"},
		{context.DeadlineExceeded, "neon api timed out"},
		{errors.New("something else"), "neon api check failed"},
	} {
		if got := notReadyReason(tc.err); got != tc.want {
			t.Errorf("notReadyReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
