package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestJobLeaseConfig: JOB_LEASE defaults to 30s, takes a duration of at
// least a second, and a bad one is named with the rest of the problems.
func TestJobLeaseConfig(t *testing.T) {
	for _, c := range []struct {
		value string
		want  time.Duration
		bad   string
	}{
		{"", 30 * time.Second, ""},
		{"2s", 2 * time.Second, ""},
		{"500ms", 0, "JOB_LEASE 500ms must be between 1s and 1h"},
		{"soon", 0, `JOB_LEASE="soon" is not a duration`},
		{"2h", 0, "JOB_LEASE 2h0m0s must be between 1s and 1h"},
	} {
		getenv, environ := envFunc(map[string]string{"NEON_API_KEY": testAPIKey, "JOB_LEASE": c.value})
		cfg, err := loadConfig(nil, getenv, environ, io.Discard)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("JOB_LEASE=%q: %v", c.value, err)
		case c.bad == "" && cfg.JobLease != c.want:
			t.Errorf("JOB_LEASE=%q: lease %s, want %s", c.value, cfg.JobLease, c.want)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("JOB_LEASE=%q: err %v, want %q", c.value, err, c.bad)
		}
	}
}
