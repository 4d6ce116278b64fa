package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// demo is the dashboard's demo running as its own process, so its memory can
// be read apart from the load generator's.
type demo struct {
	url    string
	pid    int
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	dir    string
}

// startDemo builds the dashboard and starts `dashboard serve --demo` on a
// free loopback port with the given CACHE_TTL.
func startDemo(ctx context.Context, cacheTTL string) (*demo, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "dashboard")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir, build.Stderr = root, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build the dashboard: %w", err)
	}
	d := &demo{dir: dir, stderr: &bytes.Buffer{}}
	d.cmd = exec.Command(bin, "serve", "--demo", "--listen", "127.0.0.1:0")
	d.cmd.Env = append(os.Environ(), "CACHE_TTL="+cacheTTL, "AUTH_MODE=none", "LISTEN_ADDR=")
	d.cmd.Stderr = &lockedWriter{w: d.stderr}
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := d.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start the demo: %w", err)
	}
	d.pid = d.cmd.Process.Pid
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "Dashboard: "); ok {
				found <- strings.TrimSpace(u)
			}
		}
	}()
	select {
	case d.url = <-found:
		return d, nil
	case <-time.After(60 * time.Second):
		d.stop()
		return nil, fmt.Errorf("the demo did not start within a minute:\n%s", d.stderr)
	}
}

// stop ends the demo as an orchestrator would, with SIGTERM, and removes the
// binary.
func (d *demo) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(d.dir)
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run loadtest inside the dashboard's module (go env GOMOD: %q, %v)", gomod, err)
	}
	return filepath.Dir(gomod), nil
}

// demoPaths finds the pages to load from the projects list: the list, each
// project, the users page of each project with Neon Auth, and the readiness
// badges the project pages load after themselves.
func demoPaths(ctx context.Context, base string) ([]string, error) {
	doc, err := getDoc(ctx, base, "/projects")
	if err != nil {
		return nil, err
	}
	paths := []string{"/projects"}
	var projects []string
	doc.Find(`[data-testid="project-row"]`).Each(func(_ int, row *goquery.Selection) {
		id := row.AttrOr("data-project-id", "")
		if id == "" {
			return
		}
		paths = append(paths, "/projects/"+id)
		projects = append(projects, "/projects/"+id)
		if !strings.Contains(row.Find(`[data-testid="auth-state"]`).Text(), "not enabled") {
			paths = append(paths, "/projects/"+id+"/users")
		}
	})
	if len(paths) == 1 {
		return nil, fmt.Errorf("GET /projects lists no projects")
	}
	for _, p := range projects {
		doc, err := getDoc(ctx, base, p)
		if err != nil {
			return nil, err
		}
		doc.Find(`[data-testid="readiness-slot"]`).Each(func(_ int, slot *goquery.Selection) {
			if badge := slot.AttrOr("hx-get", ""); badge != "" {
				paths = append(paths, badge)
			}
		})
	}
	return paths, nil
}

// getDoc loads and parses the page at path.
func getDoc(ctx context.Context, base, path string) (*goquery.Document, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return goquery.NewDocumentFromReader(res.Body)
}

// readRSS is the process's resident memory in bytes; 0 when unknown.
func readRSS(pid int) int64 { return procStatus(pid, "VmRSS:") }

// procStatus reads one kB field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// rssWatch samples a process's RSS while the load runs and keeps the peak.
type rssWatch struct {
	done chan struct{}
	peak chan int64
}

func watchRSS(pid int) *rssWatch {
	w := &rssWatch{done: make(chan struct{}), peak: make(chan int64, 1)}
	go func() {
		var peak int64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, readRSS(pid))
			select {
			case <-w.done:
				w.peak <- peak
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *rssWatch) stop() int64 {
	close(w.done)
	return <-w.peak
}

// lockedWriter lets the demo's stderr be written while a failure reads it.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() > 1<<20 {
		return len(p), nil // keep the last words bounded
	}
	return l.w.Write(p)
}
