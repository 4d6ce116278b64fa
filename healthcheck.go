package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// healthcheckTimeout bounds one check: a container runtime runs it every few
// seconds and counts a slow answer as a failure anyway.
const healthcheckTimeout = 5 * time.Second

// runHealthcheck asks a URL on this container whether the server behind it
// answers, for container healthchecks: the image has no shell, curl or wget.
// It passes on any answer below 500, so it checks /readyz's 503 as a
// failure while a server that answers a request without a key (the sandbox's
// 401) counts as up.
//
//	dashboard healthcheck [URL]   default http://127.0.0.1:8080/healthz
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: dashboard healthcheck [URL]\n\nExits 0 when URL (default http://127.0.0.1:8080/healthz) answers with a status below 500.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	target := "http://127.0.0.1:8080/healthz"
	switch fs.NArg() {
	case 0:
	case 1:
		target = fs.Arg(0)
	default:
		return fmt.Errorf("healthcheck: one URL at most, not %d arguments", fs.NArg())
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("healthcheck: %q is not an http(s) URL", target)
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode >= 500 {
		return fmt.Errorf("healthcheck: %s answered %s: %s", u.Redacted(), res.Status, firstLine(body))
	}
	_, err = fmt.Fprintf(stdout, "%s: %s\n", u.Redacted(), res.Status)
	return err
}

// firstLine is the first line of an answer, for the failure message.
func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i])
		}
	}
	return string(b)
}
