package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/internal/secret"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// TestDemoStartupOutput starts the demo, uses it, and checks what its console
// shows: the dashboard's URL first, a short banner, and none of the sandbox's
// per-request lines.
func TestDemoStartupOutput(t *testing.T) {
	dbURL := pgtest.Require(t)
	for _, k := range []string{"AUTH_MODE", "SESSION_KEYS", "NEON_API_KEY", "DATABASE_URL", "LISTEN_ADDR", "AUDIT_LOG", "CACHE_TTL", "SYNC_TIMEOUT", "USERS_INDEX_ROWS", "COOKIE_SECURE"} {
		t.Setenv(k, "")
	}
	// The banner's last line says how to stop.
	stdout, stderr := newLineWatcher(regexp.MustCompile(`(Ctrl\+C)`)), &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--listen", "127.0.0.1:0", "--database-url", dbURL, "--sync-delay", "0s"}, stdout, stderr)
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })

	select {
	case <-stdout.match:
	case err := <-done:
		stopped = true
		t.Fatalf("demo stopped: %v\n%s", err, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("no banner within 30s; stdout %q, stderr:\n%s", stdout, stderr)
	}
	banner := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	url, ok := strings.CutPrefix(banner[0], "Dashboard: ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q, want the dashboard's URL", banner[0])
	}
	if len(banner) > 5 || !strings.Contains(stdout.String(), "/api/v2") || !strings.Contains(stdout.String(), "demo-app") {
		t.Errorf("banner, want a few lines naming the sandbox and the projects:\n%s", stdout)
	}

	// Using the dashboard makes sandbox requests; none may reach the console.
	for _, path := range []string{"projects", "healthz"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /%s: %s", path, resp.Status)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("demo stopped with %v\n%s", err, stderr)
	}
	for _, noise := range []string{"sandbox request", "SESSION_KEYS"} {
		if strings.Contains(stderr.String(), noise) {
			t.Errorf("console shows %q lines:\n%s", noise, stderr)
		}
	}
}

func TestMinLevelKeepsWarnings(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(minLevel{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.LevelWarn}).With("component", "sandbox")
	log.Debug("debug line")
	log.Info("sandbox request")
	log.WithGroup("g").Warn("sandbox sync: slow")
	log.Error("sandbox request failed")
	out := buf.String()
	if strings.Contains(out, "debug line") || strings.Contains(out, "msg=\"sandbox request\"") {
		t.Errorf("lines below WARN got through:\n%s", out)
	}
	for _, want := range []string{"sandbox sync: slow", "sandbox request failed", "component=sandbox"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestDemoSeedsBranchAuthProject: the demo's Better Auth project has its
// default branch and a preview branch, both with Neon Auth, both starting
// short of production-ready, and the preview trusting one domain more.
func TestDemoSeedsBranchAuthProject(t *testing.T) {
	dbURL := pgtest.Require(t)
	ctx := context.Background()
	d, err := startDemo(ctx, Config{DatabaseURL: secret.Value(dbURL), SyncDelay: -1}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close demo: %v", err)
		}
	})
	client, err := neonapi.New(d.APIKey, neonapi.WithBaseURL(d.APIURL))
	if err != nil {
		t.Fatal(err)
	}
	page, err := client.ListProjects(ctx, neonapi.ListProjectsOptions{Search: demoProjectBranchAuth})
	if err != nil || len(page.Projects) != 1 {
		t.Fatalf("find %s: %v, %+v", demoProjectBranchAuth, err, page)
	}
	pid := page.Projects[0].ID
	branches, err := client.ListBranches(ctx, pid)
	if err != nil || len(branches) != 2 {
		t.Fatalf("branches of %s: %v, %+v", demoProjectBranchAuth, err, branches)
	}
	for _, b := range branches {
		if b.Default == (b.Name == demoPreviewBranch) {
			t.Errorf("branch %q default=%v", b.Name, b.Default)
		}
		r, err := neonauth.ReadBranchSettings(ctx, client, pid, b.ID)
		if err != nil {
			t.Fatalf("settings of %s: %v", b.Name, err)
		}
		ready := neonauth.CheckReadiness(r)
		if ready.Summary.Status != neonauth.StatusRed {
			t.Errorf("%s starts %s, want red: %+v", b.Name, ready.Summary.Status, ready.Summary)
		}
		domains := ready.Items[0]
		if want := b.Name == demoPreviewBranch; (domains.Status == neonauth.StatusGreen) != want || domains.Key != "trusted-domains" {
			t.Errorf("%s: %s is %s (%s)", b.Name, domains.Key, domains.Status, domains.Explanation)
		}
	}
}
