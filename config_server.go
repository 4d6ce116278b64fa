package main

import (
	"fmt"
	"strings"
	"time"
)

// Defaults of the server's time limits.
const (
	defaultRequestTimeout = 30 * time.Second
	defaultShutdownGrace  = 10 * time.Second
)

// serverLimits bound how long the server spends on one request and on
// shutting down. Environment:
//
//	REQUEST_TIMEOUT   how long one request may take, Neon calls and their retries
//	                  included, before it is answered with an error page (default 30s)
//	SHUTDOWN_GRACE    how long a shutdown (SIGTERM, Ctrl+C) waits for running requests;
//	                  after half of it their Neon calls are cancelled and they are
//	                  answered with 503 (default 10s)
type serverLimits struct {
	RequestTimeout time.Duration
	ShutdownGrace  time.Duration
}

// loadServerLimits reads the limits; getenv is os.Getenv outside tests. All
// problems are reported together.
func loadServerLimits(getenv func(string) string) (serverLimits, error) {
	var problems []string
	duration := func(name string, def, lo, hi time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q is not a duration (try 10s or 1m)", name, v))
			return def
		}
		if d < lo || d > hi {
			problems = append(problems, fmt.Sprintf("%s %s must be between %s and %s", name, d, lo, hi))
		}
		return d
	}
	l := serverLimits{
		RequestTimeout: duration("REQUEST_TIMEOUT", defaultRequestTimeout, time.Second, 5*time.Minute),
		ShutdownGrace:  duration("SHUTDOWN_GRACE", defaultShutdownGrace, time.Second, 10*time.Minute),
	}
	if len(problems) > 0 {
		return serverLimits{}, fmt.Errorf("invalid configuration:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return l, nil
}
