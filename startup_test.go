package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// mainArgsEnv, when set, makes the test binary run main with these
// arguments (separated by newlines) instead of the tests: a test can then
// watch the real process exit, status and all.
const mainArgsEnv = "DASHBOARD_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(mainArgsEnv); ok {
		os.Args = append([]string{"dashboard"}, strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// takePort listens on a free loopback port for the test's duration and
// returns its address.
func takePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln.Addr().String()
}

// checkTakenMessage checks that msg names the taken address and both ways
// to choose another.
func checkTakenMessage(t *testing.T, msg, addr, flagName, envName string) {
	t.Helper()
	for _, want := range []string{addr, "already in use", flagName + " 127.0.0.1:", envName + "=127.0.0.1:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(strings.TrimSpace(msg), "\n"); n > 0 {
		t.Errorf("message has %d lines, want one:\n%s", n+1, msg)
	}
}

// TestListenAddressTaken starts the dashboard, as a process, on a port
// another program holds: it exits non-zero with one line naming the port,
// --listen and LISTEN_ADDR.
func TestListenAddressTaken(t *testing.T) {
	addr := takePort(t)
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "NEON_API_URL" || name == "DEMO_USERS" || strings.HasPrefix(name, "AUTH_") || name == "ALLOWED_HOSTS" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, mainArgsEnv+"=serve", "LISTEN_ADDR="+addr, "NEON_API_KEY="+testAPIKey)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("dashboard on a taken port: %v, want a non-zero exit\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	msg := stderr.String()
	if !strings.HasPrefix(msg, "error: listen address "+addr) {
		t.Errorf("stderr, want the listen error first:\n%s", msg)
	}
	checkTakenMessage(t, msg, addr, "--listen", "LISTEN_ADDR")
	if stdout.Len() > 0 {
		t.Errorf("stdout %q, want nothing: no URL for a dashboard that is not serving", &stdout)
	}
}

// TestDemoListenAddressTakenFailsFirst starts the demo on a taken port with
// a Postgres server that does not answer: the port is what it reports, at
// once, before it starts the sandbox.
func TestDemoListenAddressTakenFailsFirst(t *testing.T) {
	for _, k := range []string{"AUTH_MODE", "SESSION_KEYS", "NEON_API_KEY", "DATABASE_URL", "LISTEN_ADDR", "AUDIT_LOG", "USERS_INDEX_ROWS", "DEMO_USERS"} {
		t.Setenv(k, "")
	}
	addr := takePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"serve", "--demo", "--listen", addr, "--database-url", "postgres://nobody@127.0.0.1:1/none?connect_timeout=5"}, &stdout, &stderr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("run = %v, want the address in use", err)
	}
	checkTakenMessage(t, err.Error(), addr, "--listen", "LISTEN_ADDR")
}

// TestSandboxListenAddressTaken: the sandbox command names its own flag and
// variable.
func TestSandboxListenAddressTaken(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.Require(t))
	t.Setenv("SANDBOX_LISTEN", "")
	addr := takePort(t)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"sandbox", "--listen", addr}, &stdout, &stderr)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("run = %v, want the address in use", err)
	}
	checkTakenMessage(t, err.Error(), addr, "--listen", "SANDBOX_LISTEN")
}

func TestOtherListenAddr(t *testing.T) {
	cases := []struct {
		addr  string
		inUse bool
		want  string
	}{
		{"127.0.0.1:8080", true, "127.0.0.1:8081"},
		{"0.0.0.0:9000", true, "0.0.0.0:9001"},
		{"[::1]:8080", true, "[::1]:8081"},
		{":8080", true, ":8081"},
		{"127.0.0.1:65535", true, "127.0.0.1:8081"},
		{"127.0.0.1:80", false, "127.0.0.1:8081"},
		{"127.0.0.1:8081", false, "127.0.0.1:8082"},
	}
	for _, c := range cases {
		if got := otherListenAddr(c.addr, c.inUse); got != c.want {
			t.Errorf("otherListenAddr(%q, %t) = %q, want %q", c.addr, c.inUse, got, c.want)
		}
	}
}

// TestListenErrorWords: an address that is not taken but still cannot be
// used says why, and suggests a loopback address on an unprivileged port.
func TestListenErrorWords(t *testing.T) {
	denied := &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EACCES)}
	unknown := &net.OpError{Op: "listen", Net: "tcp", Err: errors.New("lookup nowhere.invalid: no such host")}
	cases := []struct {
		addr string
		err  error
		want string
	}{
		{"127.0.0.1:80", denied, "listen address 127.0.0.1:80 cannot be used (permission denied): choose another with --listen 127.0.0.1:8081 or LISTEN_ADDR=127.0.0.1:8081"},
		{"nowhere.invalid:8080", unknown, "listen address nowhere.invalid:8080 cannot be used (listen tcp: lookup nowhere.invalid: no such host): choose another with --listen 127.0.0.1:8081 or LISTEN_ADDR=127.0.0.1:8081"},
	}
	for _, c := range cases {
		err := listenFailed(c.addr, "--listen", "LISTEN_ADDR", c.err)
		if err.Error() != c.want {
			t.Errorf("got  %s\nwant %s", err, c.want)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%v does not unwrap to the network error", err)
		}
	}
}
