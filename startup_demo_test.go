package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// runDemoProcess starts the real binary as `dashboard serve --demo` on
// dbURL, with no other configuration from the test's environment, and
// returns what it printed once it exits; it fails the test when the demo
// does not stop by itself.
func runDemoProcess(t *testing.T, dbURL string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "AUTH_"), strings.HasPrefix(name, "DATABASE_URL"),
			name == "STATE_DATABASE_URL", name == "NEON_API_URL", name == "NEON_API_KEY", name == "LISTEN_ADDR",
			name == "DEMO_USERS", name == "ALLOWED_HOSTS", name == "SESSION_KEYS":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, mainArgsEnv+"=serve\n--demo\n--listen\n127.0.0.1:0\n--database-url\n"+dbURL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Fatalf("demo without a usable Postgres: %v, want a non-zero exit\nstdout:\n%s\nstderr:\n%s", err, &out, &errOut)
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("demo without a usable Postgres still running after a minute\nstdout:\n%s\nstderr:\n%s", &out, &errOut)
	}
	return out.String(), errOut.String()
}

// closedPortURL is a connection string to a loopback port nothing listens
// on, so that connecting is refused.
func closedPortURL(t *testing.T, password string) (string, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "postgres://someone:" + url.QueryEscape(password) + "@" + addr + "/appdb?sslmode=disable&connect_timeout=2", addr
}

// TestDemoWithoutPostgresSaysHowToGetOne runs the demo, as a process,
// against a port where no Postgres answers: a server that hangs up, and a
// port nothing listens on. It exits non-zero with one line naming the
// address and how to start a server, and never prints the password.
func TestDemoWithoutPostgresSaysHowToGetOne(t *testing.T) {
	const password = "pw-never-printed-7f3a"
	dead := pgtest.DeadServerURL(t, password)
	deadURL, err := url.Parse(dead)
	if err != nil {
		t.Fatal(err)
	}
	refused, refusedAddr := closedPortURL(t, password)
	cases := []struct {
		name, url, addr, reason string
	}{
		{"server hangs up", dead, deadURL.Host, "the server hung up without answering"},
		{"connection refused", refused, refusedAddr, "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr := runDemoProcess(t, c.url)
			_, port, _ := net.SplitHostPort(c.addr)
			want := fmt.Sprintf("error: demo: no Postgres server answers at %s (DATABASE_URL / --database-url): %s. "+
				"Start one: `docker run --rm -d -p %s:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15` (or `sudo apt-get install postgresql`), "+
				"or run the whole stack with `docker compose up --build`; then run this again.\n", c.addr, c.reason, port)
			if !strings.HasSuffix(stderr, want) {
				t.Errorf("stderr ends\n%q\nwant it to end\n%q", lastLine(stderr), want)
			}
			if strings.Contains(stdout+stderr, password) {
				t.Errorf("the password reached the output:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
			if strings.Contains(stdout, "Dashboard:") {
				t.Errorf("stdout %q announces a dashboard that never served", stdout)
			}
		})
	}
}

// TestDemoPostgresRefusesUserSaysSo runs the demo, as a process, against
// the real server as a role it does not know: the message is about the
// credentials, not about starting a server, and leaves the password out.
func TestDemoPostgresRefusesUserSaysSo(t *testing.T) {
	base, err := url.Parse(pgtest.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	const password = "pw-never-printed-91c2"
	u := *base
	u.User = url.UserPassword("no_such_role_for_the_demo", password)
	stdout, stderr := runDemoProcess(t, u.String())
	msg := lastLine(stderr)
	for _, want := range []string{
		"error: demo: the Postgres server at " + net.JoinHostPort(base.Hostname(), portOr(base.Port(), "5432")) + " refused user \"no_such_role_for_the_demo\"",
		"SQLSTATE 28", "DATABASE_URL / --database-url", "fix the user or password in DATABASE_URL",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "docker run") || strings.Contains(msg, "no Postgres server answers") {
		t.Errorf("a server that answered is told to be started:\n%s", msg)
	}
	if strings.Contains(stdout+stderr, password) {
		t.Errorf("the password reached the output:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

func portOr(port, def string) string {
	if port == "" {
		return def
	}
	return port
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1] + "\n"
}

// TestStartPostgresHint: a server on this machine gets the commands that
// start one on the port asked for; another machine's, a hint to check it.
func TestStartPostgresHint(t *testing.T) {
	cases := []struct{ host, port, want string }{
		{"127.0.0.1", "5433", "`docker run --rm -d -p 5433:5432 "},
		{"localhost", "", "`docker run --rm -d -p 5432:5432 "},
		{"::1", "5432", "`docker run --rm -d -p 5432:5432 "},
		{"/var/run/postgresql", "5432", "(or `sudo apt-get install postgresql`)"},
		{"db.internal.example", "5432", "Check that the server runs and that this machine reaches it"},
		{"10.0.0.7", "5432", "Check that the server runs and that this machine reaches it"},
	}
	for _, c := range cases {
		got := startPostgresHint(c.host, c.port)
		if !strings.Contains(got, c.want) || !strings.Contains(got, "`docker compose up --build`") {
			t.Errorf("startPostgresHint(%q, %q) = %q, want it to contain %q and the compose command", c.host, c.port, got, c.want)
		}
	}
}

// TestHealthcheck runs the healthcheck command against servers answering
// 200, 401 and 503, and against a port nothing listens on.
func TestHealthcheck(t *testing.T) {
	serve := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/readyz"
	}
	refused, _ := closedPortURL(t, "x")
	refusedURL, _ := url.Parse(refused)
	cases := []struct {
		name, url string
		ok        bool
		want      string
	}{
		{"ready", serve(http.StatusOK, "ready\n"), true, "200 OK"},
		{"answers without a key", serve(http.StatusUnauthorized, "{}"), true, "401 Unauthorized"},
		{"not ready", serve(http.StatusServiceUnavailable, "not ready: neon api unreachable\nstate: memory\n"), false, "answered 503 Service Unavailable: not ready: neon api unreachable"},
		{"nothing listens", "http://" + refusedURL.Host + "/healthz", false, "connection refused"},
		{"not a URL", "127.0.0.1:8080", false, "is not an http(s) URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{"healthcheck", c.url}, &stdout, &stderr)
			if c.ok != (err == nil) {
				t.Fatalf("healthcheck %s = %v, want ok %t", c.url, err, c.ok)
			}
			got := stdout.String()
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("healthcheck %s said %q, want %q in it", c.url, got, c.want)
			}
		})
	}
}
