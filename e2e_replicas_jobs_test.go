package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
)

// countSQL counts rows of the people branch's database, as its superuser.
func (rs *replicaSet) countSQL(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rs.people.super)
	if err != nil {
		t.Fatalf("connect to %s's database: %v", replicasPeopleProject, err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// revokeMatchSQL selects the sessions a revocation filtered by
// replicasRevokeIP matches: from that network, not expired.
const revokeMatchSQL = `SELECT count(*) FROM neon_auth.session WHERE "ipAddress" LIKE $1 AND "expiresAt" > now()`

// jobRow is a job as the state store holds it.
type jobRow struct {
	id                    int64
	status, replica, errs string
	attempts              int
	done, total           int64
}

// latestJob reads the newest job of kind from the state store.
func (rs *replicaSet) latestJob(t *testing.T, kind string) (jobRow, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rs.stateURL)
	if err != nil {
		t.Fatalf("connect to the state store: %v", err)
	}
	defer conn.Close(ctx)
	var j jobRow
	var progress []byte
	err = conn.QueryRow(ctx, `SELECT id, status, replica, error, attempts, progress FROM dashboard_state.jobs
 WHERE kind = $1 ORDER BY id DESC LIMIT 1`, kind).Scan(&j.id, &j.status, &j.replica, &j.errs, &j.attempts, &progress)
	if errors.Is(err, pgx.ErrNoRows) {
		return j, false
	}
	if err != nil {
		t.Fatalf("read the %s job from the state store: %v", kind, err)
	}
	var p struct{ Done, Total int64 }
	_ = json.Unmarshal(progress, &p)
	j.done, j.total = p.Done, p.Total
	return j, true
}

// jobSurvivesKill starts a revocation of a third of the people branch's
// sessions on replica A, directly, kills A with SIGKILL once some batches
// are done, and waits for replica B to finish the job: /jobs on B says so,
// Postgres holds none of the matching sessions and every other one, and
// the job's count adds up to the sessions it matched.
func (rs *replicaSet) jobSurvivesKill(t *testing.T) {
	a := rs.reps[0]
	ip := replicasRevokeIP + "%"
	total0 := rs.countSQL(t, `SELECT count(*) FROM neon_auth.session`)
	match0 := rs.countSQL(t, revokeMatchSQL, ip)
	replicaA := rs.startRevocation(t, match0)

	// Kill A once its revocation is under way, well before it is done.
	if _, err := pollUntil(20*time.Second, 20*time.Millisecond, func() (bool, error) {
		return rs.countSQL(t, revokeMatchSQL, ip) < match0, errors.New("no session revoked yet")
	}); err != nil {
		t.Fatalf("replica A's revocation did not start: %v", err)
	}
	a.kill(t)
	left := rs.countSQL(t, revokeMatchSQL, ip)
	t.Logf("replica A (%s) killed with %d of %d matching sessions left", replicaA, left, match0)
	if left == 0 {
		t.Fatalf("the revocation was over before replica A was killed: the test must kill it midway")
	}

	rs.waitForSurvivor(t)
	j, ok := rs.latestJob(t, "sessions.revoke")
	if !ok {
		t.Fatal("the state store holds no sessions.revoke job")
	}
	t.Logf("the job in the state store: status %s, replica %s, %d attempts, progress %d of %d", j.status, j.replica, j.attempts, j.done, j.total)
	if j.status != "done" {
		t.Errorf("the revocation ended %s (%s), want done: a revocation resumes", j.status, j.errs)
	}
	if j.replica == replicaA && replicaA != "" {
		t.Errorf("the job is still held by the dead replica %s", replicaA)
	}
	if j.done != match0 || j.total != match0 {
		t.Errorf("the job counts %d revoked of %d, want %d of %d: the counts of both replicas must add up", j.done, j.total, match0, match0)
	}
	if n := rs.countSQL(t, revokeMatchSQL, ip); n != 0 {
		t.Errorf("%d matching sessions are left after the job", n)
	}
	if n := rs.countSQL(t, `SELECT count(*) FROM neon_auth.session`); n != total0-match0 {
		t.Errorf("the branch holds %d sessions, want %d: %d before less the %d matched", n, total0-match0, total0, match0)
	}
}

// startRevocation confirms, on replica A directly, the revocation of the
// sessions from replicasRevokeIP (match of them, Postgres says), which
// runs in the background; it returns the name of the replica that took it.
func (rs *replicaSet) startRevocation(t *testing.T, match int64) string {
	t.Helper()
	a := rs.reps[0]
	confirmURL := fmt.Sprintf("%s/projects/%s/branches/%s/sessions/revoke?ip=%s", a.URL, rs.people.projectID, rs.people.branchID, replicasRevokeIP)
	page := mustGet(t, rs.admin, confirmURL, http.StatusOK)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page.body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="revoke-count"]`).Text()); got != strconv.FormatInt(match, 10) {
		t.Fatalf("the confirmation revokes %q sessions, Postgres counts %d", got, match)
	}
	action, vals := formOf(t, page.body, a.URL, `[data-testid="revoke-matching-form"]`)
	res := postForm(t, rs.admin, action, vals)
	if res.status != http.StatusSeeOther && res.status != http.StatusFound {
		t.Fatalf("revoking %d sessions on replica A: %d, want a redirect to the progress page\n%.600s", match, res.status, res.body)
	}
	rs.changes = append(rs.changes, "session.revoke_filter")
	return res.header.Get(replicaHeader)
}

// waitForSurvivor polls /jobs on replica B until it shows the revocation
// concluded: B takes the job over once A's lease runs out.
func (rs *replicaSet) waitForSurvivor(t *testing.T) {
	t.Helper()
	var status, shown string
	took, err := pollUntil(30*time.Second, 250*time.Millisecond, func() (bool, error) {
		jobs := fetch(t, rs.admin, http.MethodGet, rs.reps[1].URL+"/jobs")
		if jobs.status != http.StatusOK {
			return false, fmt.Errorf("GET /jobs on replica B: %d", jobs.status)
		}
		for _, what := range rs.leaked(jobs.body) {
			t.Errorf("/jobs shows %s", what)
		}
		status, shown = jobsPageRow(jobs.body, "sessions.revoke")
		return status == "done" || status == "failed", fmt.Errorf("/jobs on replica B shows the revocation as %q: %q", status, shown)
	})
	if err != nil {
		j, _ := rs.latestJob(t, "sessions.revoke")
		t.Fatalf("replica B never concluded the revocation replica A was running: %v\n(the state store holds it as %+v)", err, j)
	}
	t.Logf("replica B concluded the revocation %s after replica A died; /jobs shows: %s", took.Round(time.Millisecond), shown)
	if status != "done" {
		t.Errorf("/jobs on replica B shows the revocation %s, want done", status)
	}
}

// jobsPageRow reads the newest row of kind on the /jobs page: its status
// and the whole row's text.
func jobsPageRow(body, kind string) (status, text string) {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		return "", ""
	}
	row := doc.Find(`[data-testid="job-row"][data-kind="` + kind + `"]`).First()
	var cells []string
	row.Find("td").Each(func(_ int, td *goquery.Selection) {
		cells = append(cells, strings.Join(strings.Fields(td.Text()), " "))
	})
	return row.AttrOr("data-status", ""), strings.Join(cells, " | ")
}
