package sandbox

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRateLimitPerKey: with a limit of 60 a minute (a call a second, bursts
// of 40), a key's 41st call at once answers Neon's 429 with Retry-After and
// is not served, another key still has its whole burst, and
// /_sandbox/requests counts both keys by hash, never by key.
func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimitPerMinute: 60})
	// The limit's clock stands still, so that a slow machine cannot refill
	// the bucket during the burst.
	frozen := time.Now()
	e.sb.requests.mu.Lock()
	e.sb.requests.now = func() time.Time { return frozen }
	e.sb.requests.mu.Unlock()
	for i := range NeonBurst {
		if res := e.request("GET", "/projects", nil); res.status != http.StatusOK {
			t.Fatalf("call %d of the burst: status %d %s", i+1, res.status, res.body)
		}
	}
	res := e.request("GET", "/projects", nil, "X-Request-ID", "over-the-limit")
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("call over the burst: status %d, want 429; body %s", res.status, res.body)
	}
	if got := res.generalError(t); got.Code != codeRateLimited || got.RequestID != "over-the-limit" || !strings.Contains(got.Message, "rate limit") {
		t.Errorf("429 body %+v, want Neon's GeneralError", got)
	}
	if ra, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || ra != 1 {
		t.Errorf("Retry-After %q, want the 1 s until the next call", res.header.Get("Retry-After"))
	}
	// A refused call is not served: a write over the limit makes nothing.
	if res := e.request("POST", "/projects", map[string]any{"project": map[string]any{"name": "refused"}}); res.status != http.StatusTooManyRequests {
		t.Fatalf("write over the limit: status %d, want 429", res.status)
	}
	if p := e.sb.projectCount(); p != 0 {
		t.Errorf("a refused createProject made %d projects", p)
	}

	other := "second-key-" + strconv.Itoa(int(time.Now().UnixNano()))
	for i := range 5 {
		if res := e.request("GET", "/projects", nil, "Authorization", "Bearer "+other); res.status != http.StatusOK {
			t.Fatalf("other key, call %d: status %d; each key has its own budget", i+1, res.status)
		}
	}

	var st RequestStats
	e.expect("GET", e.srv.URL+"/_sandbox/requests", nil, http.StatusOK, &st)
	if st.RateLimitPerMinute != 60 || st.Burst != NeonBurst || st.Requests != NeonBurst+7 || st.RateLimited != 2 || st.MaxPerMinute != NeonBurst+7 {
		t.Errorf("stats %+v, want 47 requests, 2 refused, 47 in a minute", st)
	}
	if len(st.Keys) != 2 || st.Keys[0].Key != keyHash(e.key) || st.Keys[0].Requests != NeonBurst+2 || st.Keys[0].RateLimited != 2 ||
		st.Keys[1].Key != keyHash(other) || st.Keys[1].Requests != 5 || st.Keys[1].RateLimited != 0 {
		t.Errorf("per key %+v", st.Keys)
	}
	raw := e.request("GET", e.srv.URL+"/_sandbox/requests", nil)
	if strings.Contains(string(raw.body), e.key) || strings.Contains(string(raw.body), other) || len(keyHash(e.key)) != 12 {
		t.Errorf("stats reveal a key: %s", raw.body)
	}

	e.expect("DELETE", e.srv.URL+"/_sandbox/requests", nil, http.StatusOK, &st)
	if st.Requests != 0 || st.RateLimited != 0 || st.MaxPerMinute != 0 || len(st.Keys) != 0 {
		t.Errorf("after reset: %+v", st)
	}
	if res := e.request("GET", "/projects", nil); res.status != http.StatusOK {
		t.Errorf("after reset the key's budget is full again: status %d", res.status)
	}
}

// TestRateLimitRefills: a key that spent its burst may call again once the
// limit's rate has given it a call back, and the window count keeps the
// most calls seen in 60 s.
func TestRateLimitRefills(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimitPerMinute: 6000}) // a call every 10 ms
	refused := 0
	for range NeonBurst + 10 {
		if res := e.request("GET", "/auth", nil); res.status == http.StatusTooManyRequests {
			refused++
		}
	}
	time.Sleep(50 * time.Millisecond)
	if res := e.request("GET", "/auth", nil); res.status != http.StatusOK {
		t.Fatalf("after a refill: status %d", res.status)
	}
	st := e.sb.RequestStats()
	if st.Requests != NeonBurst+11 || st.RateLimited != refused || st.MaxPerMinute != NeonBurst+11 {
		t.Errorf("stats %+v, want %d requests of which %d refused", st, NeonBurst+11, refused)
	}
}

// TestRateLimitOffByDefault: without a limit nothing is refused, and the
// requests are still counted.
func TestRateLimitOffByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	for i := range NeonBurst + 20 {
		if res := e.request("GET", "/auth", nil); res.status != http.StatusOK {
			t.Fatalf("call %d: status %d", i+1, res.status)
		}
	}
	if st := e.sb.RequestStats(); st.RateLimitPerMinute != 0 || st.Burst != 0 || st.Requests != NeonBurst+20 || st.RateLimited != 0 {
		t.Errorf("stats %+v", st)
	}
	// The control endpoint needs the key when one is configured.
	k := newEnv(t, Config{APIKey: "the-only-key"})
	if res := k.request("GET", k.srv.URL+"/_sandbox/requests", nil, "Authorization", "Bearer wrong"); res.status != http.StatusUnauthorized {
		t.Errorf("stats with a wrong key: status %d, want 401", res.status)
	}
}

// projectCount is how many projects the sandbox holds.
func (s *Sandbox) projectCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.projects)
}
