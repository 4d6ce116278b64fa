package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The load the budget check puts on the replicas: workers per replica,
// each asking for a page then pausing, for loadFor.
const (
	loadWorkers = 3
	loadPause   = 50 * time.Millisecond
	loadFor     = 12 * time.Second
)

// sandboxRequests is the sandbox's GET /_sandbox/requests.
type sandboxRequests struct {
	RateLimitPerMinute int `json:"rate_limit_per_minute"`
	Burst              int `json:"burst"`
	Requests           int `json:"requests"`
	RateLimited        int `json:"rate_limited"`
	MaxPerMinute       int `json:"max_per_minute"`
	Keys               []struct {
		Key         string `json:"key"`
		Requests    int    `json:"requests"`
		RateLimited int    `json:"rate_limited"`
	} `json:"keys"`
}

// sandboxControl calls one of the sandbox's /_sandbox endpoints.
func (rs *replicaSet) sandboxControl(t *testing.T, method, path string) (int, []byte) {
	t.Helper()
	base := strings.TrimSuffix(rs.sandbox.URL, "/api/v2")
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+rs.apiKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, b
}

// readSandboxRequests reads what the sandbox counted.
func (rs *replicaSet) readSandboxRequests(t *testing.T) sandboxRequests {
	t.Helper()
	status, body := rs.sandboxControl(t, http.MethodGet, "/_sandbox/requests")
	if status != http.StatusOK {
		t.Fatalf("GET /_sandbox/requests: %d, want 200 (the sandbox's request counts)\n%.300s", status, body)
	}
	var st sandboxRequests
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("GET /_sandbox/requests: %v\n%.300s", err, body)
	}
	return st
}

// neonCalls is how many Neon calls a replica says it made that got an
// answer (status 0 is a call that got none, such as one the limiter shed).
func neonCalls(t *testing.T, base string) float64 {
	t.Helper()
	return metricSum(t, base, "neonauth_dashboard_neon_api_calls_total", func(labels string) bool {
		return !strings.Contains(labels, `status="0"`)
	})
}

// loadPages are pages that cost Neon calls: a project search (a new query
// each time, so never from the cache), the two projects' pages and the
// people branch's readiness, whose reads are fresh for CACHE_TTL only.
func (rs *replicaSet) loadPages(i int) string {
	switch i % 4 {
	case 0:
		return "/projects?q=" + randomSuffix()
	case 1:
		return "/projects/" + rs.people.projectID
	case 2:
		return fmt.Sprintf("/projects/%s/branches/%s/auth/readiness", rs.people.projectID, rs.people.branchID)
	default:
		return "/projects?q=replicas-" + randomSuffix()
	}
}

// sharedBudget loads both replicas at once, directly, with more demand for
// Neon calls than 700 a minute, and reads from the sandbox (which answers
// 429 beyond 700 a minute per key, with Neon's burst) that together they
// stayed within one budget: no 429, and no more calls than the rate allows
// for the time plus the burst.
func (rs *replicaSet) sharedBudget(t *testing.T) {
	if status, body := rs.sandboxControl(t, http.MethodDelete, "/_sandbox/requests"); status/100 != 2 {
		t.Fatalf("DELETE /_sandbox/requests: %d, want 2xx (reset the sandbox's counts)\n%.300s", status, body)
	}
	start := time.Now()
	before := [2]float64{neonCalls(t, rs.reps[0].URL), neonCalls(t, rs.reps[1].URL)}
	waited := [2]float64{budgetWait(t, rs.reps[0].URL), budgetWait(t, rs.reps[1].URL)}
	answers := rs.load(start)
	st := rs.readSandboxRequests(t)
	elapsed := time.Since(start)
	after := [2]float64{neonCalls(t, rs.reps[0].URL), neonCalls(t, rs.reps[1].URL)}
	calls := [2]int{int(after[0] - before[0]), int(after[1] - before[1])}
	for r := range 2 {
		waited[r] = budgetWait(t, rs.reps[r].URL) - waited[r]
	}

	allowed := float64(replicasRateLimit)/60*elapsed.Seconds() + float64(st.Burst)
	t.Logf("%s of load: the sandbox counted %d Neon API requests (%.1f/s; allowed %.0f = %d/min × %.1fs + burst %d), %d answered 429, at most %d in 60 s",
		elapsed.Round(time.Millisecond), st.Requests, float64(st.Requests)/elapsed.Seconds(), allowed, st.RateLimitPerMinute, elapsed.Seconds(), st.Burst, st.RateLimited, st.MaxPerMinute)
	for r := range 2 {
		t.Logf("replica %c: %d Neon calls answered, %.1fs queued for the shared budget in all; its pages answered %s", 'A'+r, calls[r], waited[r], statusCounts(answers[r]))
	}
	if st.RateLimitPerMinute != replicasRateLimit {
		t.Errorf("the sandbox enforces %d calls a minute, want %d (--rate-limit)", st.RateLimitPerMinute, replicasRateLimit)
	}
	if st.RateLimited > 0 {
		t.Errorf("the sandbox answered %d of %d requests with 429: the replicas together spent more than one key's budget", st.RateLimited, st.Requests)
	}
	if float64(st.Requests) > allowed {
		t.Errorf("the sandbox served %d requests in %s, more than the %.0f one budget allows", st.Requests, elapsed.Round(time.Millisecond), allowed)
	}
	// Demand well over the budget: the check would pass trivially if the
	// pages cost no calls.
	if min := float64(replicasRateLimit) / 60 * elapsed.Seconds() / 2; float64(st.Requests) < min {
		t.Errorf("only %d Neon requests in %s: the load did not press on the budget (want at least %.0f)", st.Requests, elapsed.Round(time.Millisecond), min)
	}
	for r := range 2 {
		if total := calls[0] + calls[1]; total > 0 && calls[r]*5 < total {
			t.Errorf("replica %c made %d of the %d calls: starved of the shared budget", 'A'+r, calls[r], total)
		}
		if answers[r][0] > 0 {
			t.Errorf("replica %c did not answer %d requests", 'A'+r, answers[r][0])
		}
	}
}

// load has loadWorkers per replica ask each replica directly for
// loadPages until loadFor has passed since start, and counts the answers'
// statuses per replica (0: no answer).
func (rs *replicaSet) load(start time.Time) [2]map[int]int {
	var mu sync.Mutex
	answers := [2]map[int]int{{}, {}}
	var wg sync.WaitGroup
	for r := range 2 {
		for w := range loadWorkers {
			wg.Go(func() {
				c := &http.Client{Jar: rs.admin.Jar, Timeout: 30 * time.Second, Transport: rs.admin.Transport}
				for i := w; time.Since(start) < loadFor; i++ {
					status := 0
					if res, err := c.Get(rs.reps[r].URL + rs.loadPages(i)); err == nil {
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						status = res.StatusCode
					}
					mu.Lock()
					answers[r][status]++
					mu.Unlock()
					time.Sleep(loadPause)
				}
			})
		}
	}
	wg.Wait()
	return answers
}

// statusCounts writes status counts as "200×n, 503×m".
func statusCounts(m map[int]int) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d×%d", s, m[s]))
	}
	return strings.Join(parts, ", ")
}
