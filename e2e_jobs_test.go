package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// jobsTestAgent is the user agent of the sessions the test revokes; no
// demo session has it.
const jobsTestAgent = "JobsTestAgent/1.0"

// jobsReplica is one `dashboard serve` run in-process, which the test
// stops as SIGTERM would.
type jobsReplica struct {
	URL  string
	logs *syncBuffer
	stop func() error
}

// startJobsReplica runs `dashboard serve` with the environment startDashboardEnv
// set, and returns a stop that cancels it (a SIGTERM) and waits.
func startJobsReplica(t *testing.T) *jobsReplica {
	t.Helper()
	p := &jobsReplica{logs: &syncBuffer{}}
	stdout := newLineWatcher(regexp.MustCompile(`Dashboard: (http://\S+?)/?$`))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, stdout, p.logs) }()
	var stopped bool
	var stopErr error
	p.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-done
		}
		return stopErr
	}
	t.Cleanup(func() { _ = p.stop() })
	select {
	case p.URL = <-stdout.match:
	case err := <-done:
		stopped, stopErr = true, err
		t.Fatalf("replica did not start: %v\n%s", err, p.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("replica did not report its address\n%s", p.logs)
	}
	return p
}

// asAdmin sends a request as the proxy's signed-in admin, from one of the
// dashboard's own pages, without following redirects.
func asAdmin(t *testing.T, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-Email", e2eAdminEmail)
	req.Header.Set("X-Forwarded-User", e2eAdminUser)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// TestRevocationSurvivesReplicaShutdown runs two replicas on one state
// store with JOB_LEASE=2s against the demo sandbox. An admin starts a
// revocation of 100,000 sessions on replica A, which is stopped (SIGTERM)
// a few batches in: it gives the job back without waiting, replica B takes it over
// and finishes it, its /jobs page and the progress page show it done on B
// at its second attempt, and Postgres holds none of the sessions.
func TestRevocationSurvivesReplicaShutdown(t *testing.T) {
	dbURL := pgtest.Require(t)
	d, client := startDemoAPI(t, dbURL, &syncBuffer{})
	pid := demoProjectID(t, client, demoProjectBranchAuth)
	branches, err := client.ListBranches(t.Context(), pid)
	if err != nil {
		t.Fatal(err)
	}
	var mainID string
	for _, b := range branches {
		if b.Name == "main" {
			mainID = b.ID
		}
	}
	uri := branchUsersURI(t, client, pid, mainID)
	conn, err := pgx.Connect(t.Context(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	const n = 100000
	if _, err := conn.Exec(t.Context(), `INSERT INTO neon_auth.session ("expiresAt", token, "createdAt", "updatedAt", "userAgent", "userId")
SELECT now() + interval '1 day', 'jobs-test-' || i, now() - interval '1 minute', now(), $1, (SELECT id FROM neon_auth."user" ORDER BY id LIMIT 1)
  FROM generate_series(1, $2::int) i`, jobsTestAgent, n); err != nil {
		t.Fatal(err)
	}
	countLeft := func() int {
		var left int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM neon_auth.session WHERE "userAgent" = $1`, jobsTestAgent).Scan(&left); err != nil {
			t.Fatal(err)
		}
		return left
	}

	env := map[string]string{"NEON_API_KEY": d.APIKey, "NEON_API_URL": d.APIURL, "STATE_DATABASE_URL": pgtest.NewDatabase(t), "JOB_LEASE": "2s"}
	b := startDashboardEnv(t, dbURL, env) // sets the environment both replicas read
	a := startJobsReplica(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replica A's log:\n%s\nreplica B's log:\n%s", a.logs, b.logs)
		}
	})

	sessions := "/projects/" + pid + "/branches/" + mainID + "/sessions"
	res, _ := asAdmin(t, http.MethodGet, a.URL+sessions+"/revoke?ua=JobsTestAgent", nil)
	replicaA := res.Header.Get("X-Dashboard-Replica")
	res, _ = asAdmin(t, http.MethodGet, b.URL+"/jobs", nil)
	replicaB := res.Header.Get("X-Dashboard-Replica")
	if replicaA == "" || replicaA == "single" || replicaB == "" || replicaA == replicaB {
		t.Fatalf("replicas answer as %q and %q; want two names from the store", replicaA, replicaB)
	}
	res, body := asAdmin(t, http.MethodPost, a.URL+sessions+"/revoke", url.Values{"ua": {"JobsTestAgent"}, "count": {"100000"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), sessions+"/revoke/progress") {
		t.Fatalf("revoke on A: %s to %q\n%s", res.Status, res.Header.Get("Location"), body)
	}
	// A few batches in, A is stopped.
	for wait := time.Now().Add(30 * time.Second); countLeft() > n-2000; {
		if time.Now().After(wait) {
			t.Fatal("A revoked nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := a.stop(); err != nil {
		t.Fatalf("replica A stopped with %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("replica A took %s to stop", took)
	}
	if left := countLeft(); left == 0 || left == n {
		t.Fatalf("%d of %d sessions left when A stopped; want a revocation stopped midway", left, n)
	}

	deadline := time.Now().Add(60 * time.Second)
	var row string
	for {
		res, body = asAdmin(t, http.MethodGet, b.URL+"/jobs", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/jobs on B: %s", res.Status)
		}
		row = jobsRow(body, "sessions.revoke")
		if strings.Contains(row, `data-status="done"`) || strings.Contains(row, `data-status="failed"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revocation did not end on B; its row: %s", row)
		}
		time.Sleep(200 * time.Millisecond)
	}
	text := strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(row, " ")), " ")
	for _, want := range []string{`data-status="done"`, "attempt 2", replicaB, e2eAdminEmail, pid + " / " + mainID} {
		if !strings.Contains(row, want) && !strings.Contains(text, want) {
			t.Errorf("B's jobs row lacks %q: %s", want, text)
		}
	}
	if !strings.Contains(text, "100000 of 100000") {
		t.Errorf("B's jobs row does not count every session revoked: %s", text)
	}
	if left := countLeft(); left != 0 {
		t.Errorf("%d sessions left after B finished", left)
	}
	res, body = asAdmin(t, http.MethodGet, b.URL+sessions+"/revoke/progress", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="revocation-done"`) || !strings.Contains(body, `<span data-testid="revocation-revoked">100000</span>`) {
		t.Errorf("B's progress page: %s\n%s", res.Status, body)
	}
}

// jobsRow is the newest row of the jobs page's table of kind, as HTML.
func jobsRow(page, kind string) string {
	for _, tr := range strings.Split(page, "<tr ")[1:] {
		if strings.Contains(tr, `data-kind="`+kind+`"`) {
			return tr[:strings.Index(tr, "</tr>")]
		}
	}
	return ""
}
