package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// TestQuickRun runs -quick end to end: it builds the dashboard, starts its
// sandbox, seeds, clicks for half a minute and reports. It checks that the
// run happened and was counted, not how many calls it took.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the dashboard for about a minute")
	}
	dbURL := pgtest.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	if err := run(ctx, []string{"-quick", "-json", "-database-url", dbURL}, &out, &progress); err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	var r Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("decode the report: %v\n%s", err, out.String())
	}
	if r.Scenario.Projects != 2 || r.Scenario.Branches != 3 || r.Scenario.Admins != 4 || r.Scenario.Measure != "20s" {
		t.Errorf("scenario %+v, want -quick's", r.Scenario)
	}
	if r.PageViews == 0 {
		t.Errorf("no page views in the window:\n%s", out.String())
	}
	if r.NeonCalls == 0 || len(r.TopOperations) == 0 {
		t.Errorf("no Neon calls counted in the window:\n%s", out.String())
	}
	if r.NeonCallsPerMinute <= 0 || r.WindowSeconds < 19 {
		t.Errorf("calls a minute %.1f over %.1fs, want a positive rate over the 20s window", r.NeonCallsPerMinute, r.WindowSeconds)
	}
}

func TestOperation(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/api/v2/projects", "GET /projects"},
		{"GET", "/api/v2/projects/round-snow-123/branches/br-a-1/auth", "GET /projects/{project}/branches/{branch}/auth"},
		{"PATCH", "/api/v2/projects/p-1/branches/br-1/auth/oauth_providers/google", "PATCH /projects/{project}/branches/{branch}/auth/oauth_providers/{provider}"},
		{"POST", "/api/v2/projects/auth/create", "POST /projects/auth/create"},
		{"GET", "/api/v2/projects/shared", "GET /projects/shared"},
		{"GET", "/api/v2/users/me", "GET /users/me"},
		{"PUT", "/api/v2/projects/p/branches/b/auth/users/u-1/role", "PUT /projects/{project}/branches/{branch}/auth/users/{user}/role"},
		{"GET", "/api/v2/projects/p/branches/b/databases/neondb", "GET /projects/{project}/branches/{branch}/databases/{database}"},
	} {
		if got := operation(c.method, c.path); got != c.want {
			t.Errorf("operation(%s %s) = %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

// TestLoadTriggers checks what a browser fetches by itself: load triggers at
// once or after their delay, the first rows of intersect triggers, no
// click-triggered elements and nothing off this origin.
func TestLoadTriggers(t *testing.T) {
	page := `<table>` +
		`<span hx-get="/projects/p/branches/b1/auth/readiness/badge" hx-trigger="load"></span>` +
		`<span hx-get="/x?retry=1" hx-trigger="load delay:4000ms"></span>` +
		`<button hx-get="/clicked"></button>` +
		`<input hx-get="/search" hx-trigger="input changed delay:300ms, search">` +
		`<span hx-get="https://elsewhere.example/steal" hx-trigger="load"></span>` +
		`<section hx-get="signups?range=30d" hx-trigger="load"></section>` +
		`</table>`
	got := loadTriggers([]byte(page), "/projects/p/branches/b1/users")
	want := []trigger{
		{url: "/projects/p/branches/b1/auth/readiness/badge"},
		{url: "/x?retry=1", delay: 4 * time.Second},
		{url: "/projects/p/branches/b1/signups?range=30d"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("load triggers %+v, want %+v", got, want)
	}

	var rows bytes.Buffer
	for i := range 10 {
		io.WriteString(&rows, `<span hx-get="/projects/p/branches/b`+strconv.Itoa(i)+`/auth/readiness/badge" hx-trigger="intersect once"></span>`)
	}
	got = loadTriggers(rows.Bytes(), "/projects/p")
	if len(got) != viewportRows || got[0].url != "/projects/p/branches/b0/auth/readiness/badge" || fragmentKind(got[0].url) != kindBadge {
		t.Errorf("intersect triggers %+v, want the first %d badges", got, viewportRows)
	}
}

func TestFlagBounds(t *testing.T) {
	for _, args := range [][]string{
		{"-admins", "101"},
		{"-projects", "50", "-branches", "11"},
		{"-measure", "11m"},
		{"-warmup", "-1s"},
		{"-pause-min", "3s", "-pause-max", "1s"},
		{"-database-url", "postgres://postgres@db.example.com:5432/postgres"},
		{"-mix", "projects=1,nonsense=2"},
		{"-env", "NOVALUE"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted it", args)
		}
	}
	o, err := parseFlags([]string{"-quick", "-admins", "7", "-database-url", "postgres://postgres@127.0.0.1/postgres"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.projects != 2 || o.branches != 3 || o.admins != 7 || o.warmup != 10*time.Second || o.measure != 20*time.Second {
		t.Errorf("-quick -admins 7 gave %+v", o)
	}
}
