package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/state"
	"github.com/neonauth-admin/dashboard/views"
)

// handlerOpener opens users tables through h.Auth as it is when a job
// runs, so a test may set h.Auth after the runner.
type handlerOpener struct{ h *Handler }

func (o handlerOpener) OpenBrowser(ctx context.Context, r neonauth.Ref) (neonauth.UserBrowser, error) {
	return o.h.Auth.OpenBrowser(ctx, r)
}

func (o handlerOpener) OpenPeople(ctx context.Context, r neonauth.Ref) (neonauth.People, error) {
	return o.h.Auth.OpenPeople(ctx, r)
}

// useMemoryJobs gives h a job runner keeping its jobs in memory, as a
// dashboard without a state store runs, closed at the end of the test.
func useMemoryJobs(t *testing.T, h *Handler) *jobs.Runner {
	t.Helper()
	r := jobs.New(jobs.Options{Service: handlerOpener{h}, Lease: jobs.DefaultLease})
	r.Start()
	h.Jobs = r
	t.Cleanup(r.Close)
	return r
}

// storeJobs gives h a job runner on a state store at stateURL, as replica
// name, closed at the end of the test.
func storeJobs(t *testing.T, h *Handler, stateURL, name string) (*state.Store, *jobs.Runner) {
	t.Helper()
	st, err := state.Open(context.Background(), stateURL, state.Options{Replica: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	r := jobs.New(jobs.Options{Store: st, Service: handlerOpener{h}, Lease: 2 * time.Second})
	r.Start()
	t.Cleanup(r.Close)
	return st, r
}

// TestCopyRecordedAsJobWithoutSecrets: a copy Neon refuses midway is
// recorded, on the replica that made it, as a failed job with the step
// applied, the one refused and the one not attempted; the SMTP password
// typed for it is in no column of the jobs table and not on the jobs page,
// which also lists another replica's job and says which replica answered.
func TestCopyRecordedAsJobWithoutSecrets(t *testing.T) {
	audit := &lockedBuffer{}
	a, _, preview := copyApp(t, audit)
	stateURL := pgtest.NewDatabase(t)
	stA, runnerA := storeJobs(t, a.Handler, stateURL, "replica-a")
	a.Handler.Jobs, a.Handler.Store = runnerA, stA
	pid, main := a.projectID, a.project.BranchID

	page := a.get(views.CopyURL(pid, main, preview.ID))
	page.wantStatus(t, http.StatusOK)
	form := url.Values{"from": {main}, "to": {preview.ID}, "email_password": {copyPassword}}
	page.byTestID("copy-form").Find(`input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		if n := s.AttrOr("name", ""); n != "_csrf" {
			form.Add(n, s.AttrOr("value", ""))
		}
	})
	a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultLocked, Count: 5, PathContains: "/branches/" + preview.ID + "/auth/email_provider", Method: http.MethodPatch})
	r := a.postForm("/projects/"+pid+"/auth/copy", form)
	if r.Status < 400 || !strings.Contains(r.text("copy-failed"), "Save the email server") {
		t.Fatalf("a copy Neon refused midway answered %d", r.Status)
	}

	// Another replica's job on the same store.
	_, runnerB := storeJobs(t, &Handler{}, stateURL, "replica-b")
	_, tr, err := runnerB.Track(context.Background(), jobs.Copy(jobs.CopyParams{ProjectID: pid, From: preview.ID, To: main}, []string{"Set the application name"}, "bo@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Finish(jobs.Progress{Done: 1, Total: 1, Steps: []string{"Set the application name"}, Applied: []string{"Set the application name"}}, "1 of 1 steps applied", ""); err != nil {
		t.Fatal(err)
	}

	conn, err := pgx.Connect(context.Background(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows []string
	rs, err := conn.Query(context.Background(), `SELECT row_to_json(j)::text FROM dashboard_state.jobs j ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d job rows (%v), want 2", len(rows), err)
	}
	for _, row := range rows {
		if strings.Contains(row, copyPassword) {
			t.Errorf("a job row holds the SMTP password: %s", row)
		}
	}
	for _, want := range []string{`"kind":"settings.copy"`, `"status":"failed"`, `"replica":"replica-a"`, `"created_by":"` + adminEmail,
		`"applied": ["Trust https://app.example.com"]`, `"failed": ["Save the email server"]`, `"not_attempted": ["Save the webhook"]`} {
		if !strings.Contains(rows[0], want) {
			t.Errorf("the copy's row lacks %s:\n%s", want, rows[0])
		}
	}

	list := a.get("/jobs")
	list.wantStatus(t, http.StatusOK)
	if got := list.Header.Get("X-Dashboard-Replica"); got != "replica-a" {
		t.Errorf("X-Dashboard-Replica %q, want replica-a", got)
	}
	if strings.Contains(list.Body, copyPassword) {
		t.Error("the jobs page shows the SMTP password")
	}
	jobRows := list.byTestID("job-row")
	if jobRows.Length() != 2 {
		t.Fatalf("%d rows on the jobs page, want 2:\n%s", jobRows.Length(), list.Body)
	}
	newest, copyRow := jobRows.Eq(0), jobRows.Eq(1)
	for sel, want := range map[*goquery.Selection][]string{
		newest:  {"settings.copy", "done", "replica-b", "bo@example.com", "1 of 1 steps applied"},
		copyRow: {"settings.copy", "failed", "replica-a", adminEmail, "1 of 3 steps applied; failed: Save the email server; 1 not attempted", `Neon refused "Save the email server"`},
	} {
		text := strings.Join(strings.Fields(sel.Text()), " ")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("jobs row %q lacks %q", text, w)
			}
		}
	}
	if target := copyRow.Find(`[data-testid="job-target"]`).Text(); !strings.Contains(target, pid) || !strings.Contains(target, preview.ID) {
		t.Errorf("the copy's target %q does not name the project and branch", target)
	}
}

// TestJobsPageForViewersAndReplicaHeader: a viewer may see the jobs page;
// a dashboard without a store names itself "single" on every response,
// errors included.
func TestJobsPageForViewersAndReplicaHeader(t *testing.T) {
	a := newTestApp(t, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
	r := a.get("/jobs")
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("jobs-none").Length() != 1 || r.text("jobs-replica") != "single" {
		t.Errorf("jobs page without jobs:\n%s", r.Body)
	}
	if r.Doc.Find(`a[href="/jobs"]`).Length() == 0 {
		t.Error("the nav does not link the jobs page")
	}
	for _, path := range []string{"/jobs", "/projects", "/no-such-page"} {
		if got := a.get(path).Header.Get("X-Dashboard-Replica"); got != "single" {
			t.Errorf("%s: X-Dashboard-Replica %q, want single", path, got)
		}
	}
}

// panickingCopy makes a copy panic during its first step, as a bug would.
type panickingCopy struct{ AuthSettings }

func (p panickingCopy) ApplyCopy(ctx context.Context, _ *neonauth.CopyPlan, _ neonauth.CopyValues, stepCtx func(context.Context) context.Context, _ func(context.Context, neonauth.CopyStep, error)) *neonauth.CopyResult {
	stepCtx(ctx)
	panic("copy bug")
}

// A copy that panics mid-step is concluded as failed, its step's outcome
// unknown, rather than left running: the next copy onto the branch is not
// refused as if one still ran.
func TestCopyThatPanicsIsConcluded(t *testing.T) {
	a, _, preview := copyApp(t, &lockedBuffer{})
	stateURL := pgtest.NewDatabase(t)
	stA, runnerA := storeJobs(t, a.Handler, stateURL, "replica-a")
	a.Handler.Jobs, a.Handler.Store = runnerA, stA
	real := a.Handler.AuthSettings
	a.Handler.AuthSettings = panickingCopy{real}
	pid, main := a.projectID, a.project.BranchID
	post := func() *testResponse {
		page := a.get(views.CopyURL(pid, main, preview.ID))
		page.wantStatus(t, http.StatusOK)
		form := url.Values{"from": {main}, "to": {preview.ID}, "email_password": {copyPassword}}
		page.byTestID("copy-form").Find(`input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
			if n := s.AttrOr("name", ""); n != "_csrf" {
				form.Add(n, s.AttrOr("value", ""))
			}
		})
		return a.postForm("/projects/"+pid+"/auth/copy", form)
	}
	if r := post(); r.Status != http.StatusInternalServerError {
		t.Fatalf("a copy that panicked answered %d", r.Status)
	}
	conn, err := pgx.Connect(context.Background(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var row string
	if err := conn.QueryRow(context.Background(), `SELECT row_to_json(j)::text FROM dashboard_state.jobs j`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"status":"failed"`, `"unknown": ["Trust https://app.example.com"]`, "may have been made"} {
		if !strings.Contains(row, want) {
			t.Errorf("the copy's row lacks %s:\n%s", want, row)
		}
	}
	a.Handler.AuthSettings = real
	if r := post(); r.Status != http.StatusOK {
		t.Errorf("the next copy answered %d, want 200 (no copy runs any more)", r.Status)
	}
}
