package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// TestSandboxRateLimitFlag: the command limits each key to Neon's 700 calls
// a minute unless told otherwise, SANDBOX_RATE_LIMIT and --rate-limit
// change it (the flag winning), 0 turns it off and a negative or
// non-numeric value is refused.
func TestSandboxRateLimitFlag(t *testing.T) {
	t.Setenv("SANDBOX_RATE_LIMIT", "")
	o, err := parseSandboxFlags(nil, io.Discard)
	if err != nil || o.rateLimit != 700 {
		t.Errorf("default: %d, %v; want Neon's 700", o.rateLimit, err)
	}
	t.Setenv("SANDBOX_RATE_LIMIT", "120")
	if o, err := parseSandboxFlags(nil, io.Discard); err != nil || o.rateLimit != 120 {
		t.Errorf("SANDBOX_RATE_LIMIT=120: %d, %v", o.rateLimit, err)
	}
	if o, err := parseSandboxFlags([]string{"--rate-limit", "0"}, io.Discard); err != nil || o.rateLimit != 0 {
		t.Errorf("--rate-limit 0 over the environment: %d, %v", o.rateLimit, err)
	}
	if _, err := parseSandboxFlags([]string{"--rate-limit", "-1"}, io.Discard); err == nil || !strings.Contains(err.Error(), "--rate-limit") {
		t.Errorf("--rate-limit -1: %v, want refused naming the flag", err)
	}
	t.Setenv("SANDBOX_RATE_LIMIT", "lots")
	if _, err := parseSandboxFlags(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "SANDBOX_RATE_LIMIT") {
		t.Errorf("SANDBOX_RATE_LIMIT=lots: %v, want refused naming the variable", err)
	}
}

// TestRunSandboxRateLimit: the running command answers a key over its
// limit with Neon's 429, and /_sandbox/requests counts it.
func TestRunSandboxRateLimit(t *testing.T) {
	admin := pgtest.Require(t)
	t.Setenv("SANDBOX_RATE_LIMIT", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runSandbox(ctx, []string{"--listen", "127.0.0.1:0", "--database-url", admin, "--rate-limit", "2"}, w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatal("the sandbox printed nothing")
	}
	base := lines.Text()
	go func() { _, _ = io.Copy(io.Discard, out) }()
	call := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer k")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	for i := range 2 {
		if res, body := call(base + "/auth"); res.StatusCode != http.StatusOK {
			t.Fatalf("call %d within the limit: %d %s", i+1, res.StatusCode, body)
		}
	}
	res, body := call(base + "/auth")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "TOO_MANY_REQUESTS") {
		t.Fatalf("third call of a 2/min limit: %d, Retry-After %q, %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	_, body = call(strings.TrimSuffix(base, "/api/v2") + "/_sandbox/requests")
	var st sandbox.RequestStats
	if err := json.Unmarshal(body, &st); err != nil || st.RateLimitPerMinute != 2 || st.Requests != 3 || st.RateLimited != 1 {
		t.Errorf("stats %s (%v)", body, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runSandbox: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("runSandbox did not return after cancel")
	}
}
