// Package oauth2proxytest runs the real oauth2-proxy in front of a server
// under test, on loopback. The proxy is built from the version pinned in the
// module beside this file (oauth2proxy/go.mod), once per test binary; the go
// command keeps the binary in its build cache, so later runs only look it up.
// Tests skip when it cannot be built, and fail instead when CI is set: CI
// must never pass by skipping.
package oauth2proxytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the oauth2-proxy release the module pins.
const Version = "v7.15.6"

// buildTimeout bounds a cold build: oauth2-proxy and its dependencies take a
// few minutes on two busy cores. .ci/run builds it before the tests, so that
// this time does not count against go test's own timeout there.
const buildTimeout = 10 * time.Minute

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary returns the path of the pinned oauth2-proxy, building it on first use.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { binary, buildErr = build() })
	if buildErr != nil {
		msg := "oauth2-proxy " + Version + " cannot be built here, so the test with the real proxy cannot run: " + buildErr.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return binary
}

// moduleDir is the directory of the module that pins oauth2-proxy.
func moduleDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", errors.New("the test binary does not know where its sources are (built with -trimpath?)")
	}
	return filepath.Join(filepath.Dir(file), "oauth2proxy"), nil
}

func build() (string, error) {
	dir, err := moduleDir()
	if err != nil {
		return "", err
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	// go tool -n builds the module's tool into the build cache and prints
	// where it is, without running it.
	cmd := exec.CommandContext(ctx, goCmd, "tool", "-n", "oauth2-proxy")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go tool -n oauth2-proxy in %s: %w\n%s", dir, err, lastLines(stderr.String(), 20))
	}
	path := strings.TrimSpace(stdout.String())
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("go tool -n printed %q, which is not a file: %w", path, err)
	}
	return path, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Proxy is one running oauth2-proxy.
type Proxy struct {
	// URL is where the proxy listens, e.g. http://127.0.0.1:41234.
	URL  string
	logs *syncBuffer
}

// Logs is what the proxy has printed so far.
func (p *Proxy) Logs() string { return p.logs.String() }

// FreeAddr returns a loopback address nothing listens on, for a server whose
// own URL must be configured before it starts (a redirect URL).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// Start runs oauth2-proxy listening on addr (from FreeAddr) with args, which
// must not name --http-address, and waits until it answers /ping. The
// process is killed when the test ends.
func Start(t testing.TB, addr string, args ...string) *Proxy {
	t.Helper()
	bin := Binary(t)
	p := &Proxy{URL: "http://" + addr, logs: &syncBuffer{}}
	cmd := exec.Command(bin, append([]string{"--http-address=" + addr}, args...)...)
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	// The proxy reads OAUTH2_PROXY_* settings from the environment too; only
	// the arguments may configure it.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OAUTH2_PROXY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oauth2-proxy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("oauth2-proxy exited at startup (%v):\n%s", err, p.Logs())
		default:
		}
		if res, err := client.Get(p.URL + "/ping"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("oauth2-proxy did not answer /ping within 30s:\n%s", p.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer is a log sink read while the process writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
