package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

func TestRunSandbox(t *testing.T) {
	admin := pgtest.Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		args := []string{"--listen", "127.0.0.1:0", "--database-url", admin, "--seed", "--sync-delay", "10ms", "--fault", "503:1:/projects"}
		done <- runSandbox(ctx, args, w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	var seed, base string
	if lines.Scan() {
		seed = lines.Text()
	}
	if lines.Scan() {
		base = lines.Text()
	}
	if !strings.HasPrefix(seed, "demo project ") || !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/api/v2") {
		t.Fatalf("printed %q then %q", seed, base)
	}

	get := func() (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/projects", nil)
		req.Header.Set("Authorization", "Bearer k")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	if status, _ := get(); status != http.StatusServiceUnavailable {
		t.Errorf("first request with --fault 503:1: status %d", status)
	}
	status, body := get()
	var page struct {
		Projects []struct {
			Name string `json:"name"`
		} `json:"projects"`
	}
	if err := json.Unmarshal(body, &page); status != http.StatusOK || err != nil || len(page.Projects) != 1 || page.Projects[0].Name != "sandbox-demo" {
		t.Fatalf("listProjects: %d %s", status, body)
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

func TestRunSandboxFlags(t *testing.T) {
	for _, args := range [][]string{{"--sync", "sometimes"}, {"--fault", "500"}, {"extra"}} {
		if err := runSandbox(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("runSandbox(%q) accepted", args)
		}
	}
}

func TestRunSandboxHelpHidesSecrets(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://admin:db-pass-6f1c@db.internal:5432/postgres")
	t.Setenv("SANDBOX_API_KEY", "sandbox-key-93ab")
	var help strings.Builder
	if err := runSandbox(context.Background(), []string{"-h"}, io.Discard, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("runSandbox(-h) = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(help.String(), "-database-url") {
		t.Fatalf("help does not list --database-url:\n%s", help.String())
	}
	for _, secret := range []string{"db-pass-6f1c", "sandbox-key-93ab"} {
		if strings.Contains(help.String(), secret) {
			t.Errorf("help reveals %q:\n%s", secret, help.String())
		}
	}
}
