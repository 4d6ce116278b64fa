package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/state"
)

// testLease is short, so a replica that dies has its jobs taken over in
// about three seconds.
const testLease = 2 * time.Second

// usersDB is a Better Auth database with one user, reached directly.
type usersDB struct {
	url  string
	conn *pgx.Conn
	uid  string
}

func newUsersDB(t *testing.T) *usersDB {
	t.Helper()
	ctx := context.Background()
	u := &usersDB{url: pgtest.NewDatabase(t)}
	conn, err := pgx.Connect(ctx, u.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	u.conn = conn
	u.exec(t, sandbox.BetterAuthDDL())
	if err := conn.QueryRow(ctx, `INSERT INTO neon_auth."user" (name, email, "emailVerified") VALUES ('Ada', 'ada@example.com', true) RETURNING id::text`).Scan(&u.uid); err != nil {
		t.Fatal(err)
	}
	return u
}

func (u *usersDB) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := u.conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// seedSessions stores n sessions of the user with user agent ua.
func (u *usersDB) seedSessions(t *testing.T, n int, ua string) {
	t.Helper()
	u.exec(t, `INSERT INTO neon_auth.session ("expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
SELECT now() + interval '1 day', 'tok-' || gen_random_uuid(), now() - interval '1 minute', now(), '10.0.0.' || (i % 200), $1, $2::uuid
  FROM generate_series(1, $3::int) i`, ua, u.uid, n)
}

func (u *usersDB) count(t *testing.T, sql string) int64 {
	t.Helper()
	var n int64
	if err := u.conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// opener reaches the users database directly, as neonauth does through a
// Neon connection URI. slow, when set, makes each revocation batch take
// that long more, so a test can stop a replica mid-revocation.
type opener struct {
	pools *db.Pools
	url   string
	slow  time.Duration
}

func newOpener(t *testing.T, url string, slow time.Duration) *opener {
	pools := db.NewPools(db.PoolOptions{})
	t.Cleanup(pools.Close)
	return &opener{pools: pools, url: url, slow: slow}
}

func (o *opener) OpenBrowser(ctx context.Context, _ neonauth.Ref) (neonauth.UserBrowser, error) {
	return o.pools.Browser(ctx, o.url, db.NewCache(time.Second))
}

func (o *opener) OpenPeople(ctx context.Context, _ neonauth.Ref) (neonauth.People, error) {
	b, err := o.pools.Browser(ctx, o.url, db.NewCache(time.Second))
	if err != nil {
		return nil, err
	}
	return slowPeople{UserBrowser: b, slow: o.slow}, nil
}

type slowPeople struct {
	*db.UserBrowser
	slow time.Duration
}

func (p slowPeople) RevokeMatchingSessions(ctx context.Context, f neonauth.SessionFilter, progress func(int64)) (int64, error) {
	return p.UserBrowser.RevokeMatchingSessions(ctx, f, func(n int64) {
		progress(n)
		time.Sleep(p.slow)
	})
}

// replica is one dashboard process: its own state store connection and
// job runner on the shared state database.
type replica struct {
	store  *state.Store
	runner *jobs.Runner
}

func newReplica(t *testing.T, stateURL, name string, open jobs.Opener) *replica {
	t.Helper()
	st, err := state.Open(context.Background(), stateURL, state.Options{Replica: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	r := jobs.New(jobs.Options{Store: st, Lease: testLease, Service: open})
	t.Cleanup(r.Close)
	return &replica{store: st, runner: r}
}

var ref = neonauth.Ref{ProjectID: "proj-1", Provider: authprovider.BetterAuth, BranchID: "br-main"}

// waitJob polls key's latest job through r until until accepts it.
func waitJob(t *testing.T, r *jobs.Runner, key, what string, within time.Duration, until func(jobs.Job) bool) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j, err := r.Latest(context.Background(), key)
		if err != nil && err != jobs.ErrNotFound {
			t.Fatal(err)
		}
		if err == nil && until(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s; last: %+v", what, within, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRevocationResumedAfterReplicaDies: replica A dies a few batches
// into revoking 20,000 sessions; B takes the job over once A's lease runs
// out and revokes the rest, exactly: sessions of the filter created after
// the revocation started stay, others stay, and the count adds up.
func TestRevocationResumedAfterReplicaDies(t *testing.T) {
	u := newUsersDB(t)
	u.seedSessions(t, 20000, "Bot/1.0")
	u.seedSessions(t, 50, "Firefox/120")
	stateURL := pgtest.NewDatabase(t)
	a := newReplica(t, stateURL, "replica-a", newOpener(t, u.url, 40*time.Millisecond))
	b := newReplica(t, stateURL, "replica-b", newOpener(t, u.url, 0))
	a.runner.Start()
	b.runner.Start()

	f := neonauth.SessionFilter{UserAgent: "bot"}
	j, err := a.runner.StartJob(context.Background(), jobs.Revocation(ref, f, `"bot" in the user agent`, 20000, "ada@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	// Signed in after the revocation started: not among what it revokes.
	u.exec(t, `INSERT INTO neon_auth.session ("expiresAt", token, "createdAt", "updatedAt", "userAgent", "userId")
SELECT now() + interval '1 day', 'tok-late-' || i, now() + interval '1 second', now(), 'Bot/1.0', $1::uuid FROM generate_series(1, 7) i`, u.uid)
	if _, err := a.runner.StartJob(context.Background(), jobs.Revocation(ref, f, "again", 1, "ada@example.com", time.Now())); err != jobs.ErrActive {
		t.Fatalf("a second revocation on the branch: err %v, want ErrActive", err)
	}
	waitJob(t, a.runner, jobs.RevocationKey(ref), "progress past 5,000", 20*time.Second, func(j jobs.Job) bool { return j.Progress.Done >= 5000 })
	a.runner.Halt()

	dead, err := a.store.GetJob(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	left := u.count(t, `SELECT count(*) FROM neon_auth.session WHERE "userAgent" = 'Bot/1.0' AND token NOT LIKE 'tok-late-%'`)
	if dead.Status != state.JobRunning || dead.Replica != "replica-a" || left == 0 || left == 20000 {
		t.Fatalf("after A died: status %s on %s, %d sessions left; want running on replica-a, partly revoked", dead.Status, dead.Replica, left)
	}
	done := waitJob(t, b.runner, jobs.RevocationKey(ref), "the revocation done by B", 30*time.Second, func(j jobs.Job) bool { return !j.Active() })
	if done.Status != jobs.Done || done.Replica != "replica-b" || done.Attempts != 2 {
		t.Fatalf("the revocation ended %s on %s after %d attempts (error %q); want done on replica-b, attempt 2", done.Status, done.Replica, done.Attempts, done.Error)
	}
	if done.Progress.Done != 20000 || done.Progress.Total != 20000 || done.Result != "revoked 20000 of 20000" {
		t.Errorf("progress %d of %d, result %q; want 20000 of 20000", done.Progress.Done, done.Progress.Total, done.Result)
	}
	if n := u.count(t, `SELECT count(*) FROM neon_auth.session WHERE token NOT LIKE 'tok-late-%' AND "userAgent" = 'Bot/1.0'`); n != 0 {
		t.Errorf("%d matching sessions left", n)
	}
	if n := u.count(t, `SELECT count(*) FROM neon_auth.session WHERE token LIKE 'tok-late-%'`); n != 7 {
		t.Errorf("%d of the 7 sessions created after the start are left", n)
	}
	if n := u.count(t, `SELECT count(*) FROM neon_auth.session WHERE "userAgent" = 'Firefox/120'`); n != 50 {
		t.Errorf("%d of the 50 sessions outside the filter are left", n)
	}
}

// TestIndexBuildResumedAfterReplicaDies: A dies while its CREATE INDEX
// CONCURRENTLY waits, leaving an INVALID index; B drops it, builds again,
// and the index ends valid.
func TestIndexBuildResumedAfterReplicaDies(t *testing.T) {
	u := newUsersDB(t)
	u.exec(t, `INSERT INTO neon_auth."user" (name, email, "emailVerified") SELECT 'u' || i, 'u' || i || '@example.com', false FROM generate_series(1, 2000) i`)
	stateURL := pgtest.NewDatabase(t)
	a := newReplica(t, stateURL, "replica-a", newOpener(t, u.url, 0))
	b := newReplica(t, stateURL, "replica-b", newOpener(t, u.url, 0))
	a.runner.Start()

	// A writer's open transaction holds the build in its first wait.
	ctx := context.Background()
	tx, err := u.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO neon_auth."user" (name, email, "emailVerified") VALUES ('w', 'w@example.com', false)`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.runner.StartJob(ctx, jobs.IndexBuild(ref, neonauth.IndexForBrowse, "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	check, err := pgx.Connect(ctx, u.url)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close(ctx)
	count := func(sql string) int {
		var n int
		if err := check.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	// Waiting for the writer, the build has committed its INVALID index.
	for count(`SELECT count(*) FROM pg_stat_progress_create_index WHERE phase LIKE 'waiting for writers%'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the build never came to wait for the writer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.runner.Halt()
	// Its connection gone, Postgres ends the build the dead replica ran
	// (a cancel request alone may come too late for a build in its wait).
	if _, err := check.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_progress_create_index`); err != nil {
		t.Fatal(err)
	}
	for count(`SELECT count(*) FROM pg_stat_progress_create_index`) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = 'user' AND NOT i.indisvalid`); n != 1 {
		t.Fatalf("%d INVALID indexes after A died mid-build, want the one it left", n)
	}
	b.runner.Start()
	done := waitJob(t, b.runner, jobs.IndexBuildKey(ref), "the build done by B", 30*time.Second, func(j jobs.Job) bool { return !j.Active() })
	if done.Status != jobs.Done || done.Replica != "replica-b" || done.Attempts != 2 || !strings.HasSuffix(done.Result, " built") {
		t.Fatalf("the build ended %s on %s, attempt %d, result %q, error %q", done.Status, done.Replica, done.Attempts, done.Result, done.Error)
	}
	if n := count(`SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = 'user' AND NOT i.indisvalid`); n != 0 {
		t.Errorf("%d INVALID indexes left", n)
	}
	var def string
	if err := check.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = 'neon_auth' AND indexname = $1`, strings.Fields(done.Result)[1]).Scan(&def); err != nil {
		t.Fatalf("the index built: %v", err)
	}
	if !strings.Contains(def, `"createdAt"`) {
		t.Errorf("index built: %s", def)
	}
}

// TestCopyConcludedWhenReplicaDies: a copy never resumes; once its
// replica dies mid-step, another concludes it as failed with the steps
// applied, the one in flight as unknown and the rest not attempted.
func TestCopyConcludedWhenReplicaDies(t *testing.T) {
	stateURL := pgtest.NewDatabase(t)
	a := newReplica(t, stateURL, "replica-a", nil)
	b := newReplica(t, stateURL, "replica-b", nil)
	a.runner.Start()
	b.runner.Start()
	steps := []string{"Set the application name", "Trust app.example.com", "Set the email server", "Turn on Google", "Set the webhook"}
	p := jobs.CopyParams{ProjectID: "proj-1", From: "br-main", To: "br-preview", Groups: []string{"application", "email"}, Fingerprint: "f1"}
	ctx, tr, err := a.runner.Track(context.Background(), jobs.Copy(p, steps, "ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	prog := jobs.Copy(p, steps, "").Progress
	for i := range 2 {
		prog = prog.StepStarting(i)
		if err := tr.Report(prog); err != nil {
			t.Fatal(err)
		}
		prog = prog.StepApplied()
		if err := tr.Report(prog); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Report(prog.StepStarting(2)); err != nil {
		t.Fatal(err)
	}
	// A stays up past its lease while heartbeating: nothing is concluded.
	time.Sleep(testLease + testLease/2)
	if j, _ := b.runner.Latest(context.Background(), jobs.CopyKey("proj-1", "br-preview")); j.Status != jobs.Running || j.Replica != "replica-a" {
		t.Fatalf("a copy whose replica heartbeats was concluded: %+v", j)
	}
	a.runner.Halt()
	j := waitJob(t, b.runner, jobs.CopyKey("proj-1", "br-preview"), "the copy concluded", 10*time.Second, func(j jobs.Job) bool { return !j.Active() })
	want := jobs.Progress{Applied: steps[:2], Unknown: steps[2:3], NotAttempted: steps[3:]}
	if j.Status != jobs.Failed || j.Replica != "replica-b" || fmt.Sprint(j.Progress.Applied, j.Progress.Unknown, j.Progress.NotAttempted, j.Progress.Failed) != fmt.Sprint(want.Applied, want.Unknown, want.NotAttempted, want.Failed) {
		t.Fatalf("concluded copy: %s on %s, progress %+v", j.Status, j.Replica, j.Progress)
	}
	if !strings.Contains(j.Error, "2 of 5 steps applied") || !strings.Contains(j.Error, `"Set the email server" may have been made`) || !strings.Contains(j.Error, "2 not attempted") {
		t.Errorf("error %q", j.Error)
	}
	// The replica that lost the copy learns it: its finish is refused.
	if err := tr.Finish(prog, "5 of 5", ""); err == nil {
		t.Error("the dead replica's finish of a concluded copy was accepted")
	}
	if ctx.Err() == nil {
		t.Log("the tracked copy's context is still live after its runner halted")
	}
}

// TestShutdownGivesJobsBack: a replica shutting down gives its running
// revocation back at once (queued, no lease), within a bounded time, and
// a replica starting takes it over at once, without waiting for a lease.
func TestShutdownGivesJobsBack(t *testing.T) {
	u := newUsersDB(t)
	u.seedSessions(t, 6000, "Bot/1.0")
	stateURL := pgtest.NewDatabase(t)
	a := newReplica(t, stateURL, "replica-a", newOpener(t, u.url, 100*time.Millisecond))
	b := newReplica(t, stateURL, "replica-b", newOpener(t, u.url, 0))
	a.runner.Start()
	j, err := a.runner.StartJob(context.Background(), jobs.Revocation(ref, neonauth.SessionFilter{UserAgent: "bot"}, "bots", 6000, "ada@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, a.runner, jobs.RevocationKey(ref), "a first batch", 10*time.Second, func(j jobs.Job) bool { return j.Progress.Done >= 1000 })
	start := time.Now()
	a.runner.Close()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	back, err := a.store.GetJob(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Status != state.JobQueued || !back.LeaseUntil.IsZero() || back.Replica != "replica-a" {
		t.Fatalf("after shutdown: status %s, lease until %v, replica %s; want queued with no lease", back.Status, back.LeaseUntil, back.Replica)
	}
	if _, err := a.runner.StartJob(context.Background(), jobs.IndexBuild(ref, neonauth.IndexForBrowse, "x")); err != jobs.ErrClosed {
		t.Errorf("a job started on a closed runner: err %v", err)
	}
	var taken atomic.Bool
	start = time.Now()
	b.runner.Start()
	done := waitJob(t, b.runner, jobs.RevocationKey(ref), "the revocation done by B", 20*time.Second, func(j jobs.Job) bool {
		if j.Replica == "replica-b" && !taken.Load() {
			taken.Store(true)
			if d := time.Since(start); d > testLease {
				t.Errorf("B took the job over after %s, not at once", d)
			}
		}
		return !j.Active()
	})
	if done.Status != jobs.Done || done.Progress.Done != 6000 || done.Attempts != 2 {
		t.Errorf("ended %s with %d revoked after %d attempts", done.Status, done.Progress.Done, done.Attempts)
	}
	if n := u.count(t, `SELECT count(*) FROM neon_auth.session`); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

// TestMemoryRunnerOneJobPerKey: without a store, a key runs one job at a
// time and Close stops a running job, recording it failed.
func TestMemoryRunnerOneJobPerKey(t *testing.T) {
	u := newUsersDB(t)
	u.seedSessions(t, 3000, "Bot/1.0")
	r := jobs.New(jobs.Options{Service: newOpener(t, u.url, 300*time.Millisecond)})
	r.Start()
	if r.Replica() != "single" {
		t.Errorf("replica %q", r.Replica())
	}
	spec := jobs.Revocation(ref, neonauth.SessionFilter{UserAgent: "bot"}, "bots", 3000, "ada@example.com", time.Now())
	if _, err := r.StartJob(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if _, err := r.StartJob(context.Background(), spec); err != jobs.ErrActive {
		t.Errorf("second job on the key: err %v, want ErrActive", err)
	}
	waitJob(t, r, jobs.RevocationKey(ref), "a first batch", 10*time.Second, func(j jobs.Job) bool { return j.Progress.Done >= 1000 })
	r.Close()
	j, err := r.Latest(context.Background(), jobs.RevocationKey(ref))
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != jobs.Failed || !strings.Contains(j.Error, "stopped while it ran") || j.Progress.Done < 1000 || j.Progress.Done >= 3000 {
		t.Errorf("after Close: %s, %q, %d revoked", j.Status, j.Error, j.Progress.Done)
	}
	if left := u.count(t, `SELECT count(*) FROM neon_auth.session`); left != 3000-j.Progress.Done {
		t.Errorf("%d sessions left, %d recorded revoked", left, j.Progress.Done)
	}
	list, err := r.Recent(context.Background(), 10)
	if err != nil || len(list) != 1 || list[0].ID != j.ID {
		t.Errorf("recent: %v %v", list, err)
	}
}

// TestLostLeaseStopsTheJob: when another replica holds a job this one runs
// (its lease ran out while the store was unreachable, say), the next
// heartbeat stops the job here, and this replica writes nothing more to it.
func TestLostLeaseStopsTheJob(t *testing.T) {
	u := newUsersDB(t)
	u.seedSessions(t, 30000, "Bot/1.0")
	stateURL := pgtest.NewDatabase(t)
	a := newReplica(t, stateURL, "replica-a", newOpener(t, u.url, 50*time.Millisecond))
	a.runner.Start()
	j, err := a.runner.StartJob(context.Background(), jobs.Revocation(ref, neonauth.SessionFilter{UserAgent: "bot"}, "bots", 30000, "ada@example.com", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, a.runner, jobs.RevocationKey(ref), "a first batch", 10*time.Second, func(j jobs.Job) bool { return j.Progress.Done >= 1000 })
	if _, err := a.store.Pool().Exec(context.Background(), `UPDATE dashboard_state.jobs SET replica = 'replica-z', progress = '{"done": 1}', lease_until = now() + interval '1 hour' WHERE id = $1`, j.ID); err != nil {
		t.Fatal(err)
	}
	// Within a heartbeat (lease/3) the revocation stops.
	time.Sleep(testLease/3 + 500*time.Millisecond)
	left := u.count(t, `SELECT count(*) FROM neon_auth.session`)
	time.Sleep(500 * time.Millisecond)
	if again := u.count(t, `SELECT count(*) FROM neon_auth.session`); again != left || left == 0 {
		t.Fatalf("the revocation went on after its lease was lost: %d sessions left, then %d", left, again)
	}
	row, err := a.store.GetJob(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Replica != "replica-z" || row.Status != state.JobRunning || row.Attempts != 1 || string(row.Progress) != `{"done": 1}` {
		t.Errorf("the replica that lost the lease wrote to the job: %s on %s, attempt %d, progress %s", row.Status, row.Replica, row.Attempts, row.Progress)
	}
}

// TestOwnExpiredLeaseIsNotTakenOver: a job whose lease ran out while its
// replica still runs it (the heartbeats did not reach the store for a
// while) is not taken over by that same replica: a live copy is not
// concluded as if its replica had died, and it stays this replica's.
func TestOwnExpiredLeaseIsNotTakenOver(t *testing.T) {
	stateURL := pgtest.NewDatabase(t)
	a := newReplica(t, stateURL, "replica-a", nil)
	steps := []string{"Set the application name", "Trust app.example.com"}
	p := jobs.CopyParams{ProjectID: "proj-1", From: "br-main", To: "br-preview", Groups: []string{"application"}, Fingerprint: "f1"}
	ctx, tr, err := a.runner.Track(context.Background(), jobs.Copy(p, steps, "ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.Pool().Exec(context.Background(), `UPDATE dashboard_state.jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, tr.ID); err != nil {
		t.Fatal(err)
	}
	// Start looks for abandoned jobs at once, before its first heartbeat.
	a.runner.Start()
	time.Sleep(testLease / 4)
	row, err := a.store.GetJob(context.Background(), tr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != state.JobRunning || row.Replica != "replica-a" || row.Error != "" {
		t.Fatalf("a live copy was concluded by its own replica: %s on %s, error %q", row.Status, row.Replica, row.Error)
	}
	if ctx.Err() != nil {
		t.Fatalf("the live copy's context ended: %v", context.Cause(ctx))
	}
	prog := jobs.Copy(p, steps, "").Progress.StepStarting(0).StepApplied().StepStarting(1).StepApplied().CopyEnded(-1, false)
	if err := tr.Finish(prog, "2 of 2 steps applied", ""); err != nil {
		t.Fatalf("the copy's own finish was refused: %v", err)
	}
	if row, _ := a.store.GetJob(context.Background(), tr.ID); row.Status != state.JobDone {
		t.Errorf("finished copy: %s", row.Status)
	}
}
