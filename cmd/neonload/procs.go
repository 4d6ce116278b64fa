package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// apiPrefix is where the Neon API lives under the sandbox's (and the
// proxy's) address.
const apiPrefix = "/api/v2"

// Time limits on the processes neonload starts.
const (
	startTimeout = time.Minute
	// stopTimeout covers the sandbox dropping every database it made.
	stopTimeout = time.Minute
)

// build compiles the dashboard at src (its module root when src is "") into
// dir and returns the binary.
func build(ctx context.Context, src, dir string, stderr io.Writer) (string, error) {
	bin := filepath.Join(dir, "dashboard")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = src, stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the dashboard in %s: %w", src, err)
	}
	return bin, nil
}

// moduleRoot is the root of the module neonload runs in, the default -src.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run neonload inside the dashboard's module or give -src (go env GOMOD: %q, %v)", gomod, err)
	}
	return filepath.Dir(gomod), nil
}

// describeBuild says what was built: the source directory and the commit Go
// stamped into the binary, marked when the tree had changes.
func describeBuild(bin, src string) string {
	s := src
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return s
	}
	var rev, modified string
	for _, kv := range info.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				modified = ", with uncommitted changes"
			}
		}
	}
	if rev != "" {
		s += fmt.Sprintf(" (commit %.12s%s)", rev, modified)
	}
	return s
}

// randomKey is the run's API key: the sandbox accepts it and nothing else.
func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "neonload-" + hex.EncodeToString(b)
}

// baseEnv is the little of neonload's own environment a child gets: none of
// the dashboard's or the sandbox's settings leak in from the shell, so a run
// says everything it changes.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// proc is the dashboard binary running as a child: the sandbox or the
// dashboard itself.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	// tail keeps the last lines of its stderr, for failures.
	tail *tail
	// url is what its ready line announced.
	url string
}

// startProc starts bin with args and env and waits for the stdout line ready
// accepts, which yields the process's URL. stderrLine sees every stderr line.
func startProc(ctx context.Context, name, bin string, args, env []string, ready func(string) (string, bool), stderrLine func(string)) (*proc, error) {
	p := &proc{name: name, done: make(chan struct{}), tail: &tail{}}
	found := make(chan string, 1)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	// Its own process group, so a Ctrl+C reaches neonload only and the
	// children stop in order; and SIGTERM should neonload die first.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	p.cmd.Stdout = &lineWriter{line: func(l string) {
		if u, ok := ready(l); ok {
			select {
			case found <- u:
			default:
			}
		}
	}}
	p.cmd.Stderr = &lineWriter{line: func(l string) {
		p.tail.add(l)
		if stderrLine != nil {
			stderrLine(l)
		}
	}}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the %s: %w", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	select {
	case p.url = <-found:
	case <-p.done:
		return nil, fmt.Errorf("the %s exited at start: %s:\n%s", name, p.cmd.ProcessState, p.tail)
	case <-time.After(startTimeout):
		p.stop(func(string, ...any) {})
		return nil, fmt.Errorf("the %s did not start within %s:\n%s", name, startTimeout, p.tail)
	case <-ctx.Done():
		p.stop(func(string, ...any) {})
		return nil, ctx.Err()
	}
	if u, err := url.Parse(p.url); err != nil || !isLoopbackHost(u.Hostname()) {
		p.stop(func(string, ...any) {})
		return nil, fmt.Errorf("the %s announced %q, not a loopback URL", name, p.url)
	}
	return p, nil
}

// stop sends SIGTERM and waits for the process to finish its shutdown (the
// sandbox drops its databases then), killing it after stopTimeout.
func (p *proc) stop(logf func(string, ...any)) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		logf("the %s did not stop within %s; killed", p.name, stopTimeout)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// sandbox is `dashboard sandbox` on a free loopback port.
type sandbox struct {
	*proc
	// base is its address, without the API's path.
	base string
}

// startSandbox starts the Neon API sandbox on dbURL accepting key only. Both
// go through the environment, out of ps.
func startSandbox(ctx context.Context, bin, key, dbURL string) (*sandbox, error) {
	env := append(baseEnv(), "DATABASE_URL="+dbURL, "SANDBOX_API_KEY="+key)
	p, err := startProc(ctx, "sandbox", bin, []string{"sandbox", "--listen", "127.0.0.1:0"}, env,
		func(l string) (string, bool) {
			return strings.TrimSpace(l), strings.HasPrefix(l, "http://") && strings.HasSuffix(strings.TrimSpace(l), apiPrefix)
		}, nil)
	if err != nil {
		return nil, err
	}
	return &sandbox{proc: p, base: strings.TrimSuffix(p.url, apiPrefix)}, nil
}

// dashboard is `dashboard serve` on a free loopback port, its Neon API being
// the counting proxy.
type dashboard struct {
	*proc
	// log receives its stderr (-log).
	log *os.File
	mu  sync.Mutex
	// limited are the times of its stderr lines that mention a rate limit.
	limited []time.Time
}

// startDashboard starts the dashboard with AUTH_MODE=none against apiURL,
// with -cache-ttl and the -env settings.
func startDashboard(ctx context.Context, bin, key, apiURL string, o options) (*dashboard, error) {
	env := append(baseEnv(), "NEON_API_KEY="+key, "NEON_API_URL="+apiURL, "AUTH_MODE=none")
	if o.cacheTTL != "" {
		env = append(env, "CACHE_TTL="+o.cacheTTL)
	}
	env = append(env, o.env...)
	d := &dashboard{}
	if o.logFile != "" {
		f, err := os.Create(o.logFile)
		if err != nil {
			return nil, fmt.Errorf("-log: %w", err)
		}
		d.log = f
	}
	p, err := startProc(ctx, "dashboard", bin, []string{"serve", "--listen", "127.0.0.1:0"}, env,
		func(l string) (string, bool) {
			u, ok := strings.CutPrefix(l, "Dashboard: ")
			return strings.TrimRight(strings.TrimSpace(u), "/"), ok
		},
		func(l string) {
			if d.log != nil {
				_, _ = io.WriteString(d.log, l+"\n")
			}
			if strings.Contains(strings.ToLower(l), "rate limit") {
				d.mu.Lock()
				d.limited = append(d.limited, time.Now())
				d.mu.Unlock()
			}
		})
	if err != nil {
		d.closeLog()
		return nil, err
	}
	d.proc = p
	return d, nil
}

// stop stops the dashboard and closes its log.
func (d *dashboard) stop(logf func(string, ...any)) {
	d.proc.stop(logf)
	d.closeLog()
}

func (d *dashboard) closeLog() {
	if d.log != nil {
		_ = d.log.Close()
	}
}

// rateLimitLines is when the dashboard's stderr mentioned a rate limit.
func (d *dashboard) rateLimitLines() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.limited...)
}

// lineWriter hands each complete line written to it to line; a line longer
// than 64 KiB is handed over in pieces.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 {
		w.line(string(w.buf))
		w.buf = nil
	}
	w.buf = append([]byte(nil), w.buf...) // let the consumed lines go
	return len(p), nil
}

// tail keeps the last lines of a process's output.
type tail struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 20

func (t *tail) add(l string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, l)
	if len(t.lines) > tailLines {
		t.lines = t.lines[len(t.lines)-tailLines:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
