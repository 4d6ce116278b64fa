package sandbox

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// stackProject makes a project with Stack Neon Auth and a connection to its
// database.
func stackProject(t *testing.T, e *env) (projectID string, user func(email string) string, rows func() int) {
	t.Helper()
	p, br := e.createProject("sync")
	e.expect("POST", "/projects/auth/create", map[string]any{"auth_provider": "stack", "project_id": p, "branch_id": br}, http.StatusCreated, nil)
	conn := e.connect(p)
	user = func(email string) string {
		var out idJSON
		e.expect("POST", "/projects/auth/user", map[string]any{"project_id": p, "auth_provider": "stack", "email": email}, http.StatusCreated, &out)
		return out.ID
	}
	rows = func() int {
		n, err := count(t, conn, "SELECT count(*) FROM neon_auth.users_sync")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return p, user, rows
}

func TestSyncNever(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	_, user, rows := stackProject(t, e)
	var mode syncJSON
	e.expect("POST", e.srv.URL+"/_sandbox/sync", `{"mode":"never"}`, http.StatusOK, &mode)
	if mode.Mode != SyncNever {
		t.Fatalf("sync answered %+v", mode)
	}
	user("held@example.com")

	// The write is held: waiting for it runs out of time and the table stays empty.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := e.sb.WaitForSync(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForSync under never: %v", err)
	}
	if n := rows(); n != 0 {
		t.Fatalf("%d rows while sync is never", n)
	}
	e.expect("GET", e.srv.URL+"/_sandbox/sync", nil, http.StatusOK, &mode)
	if mode.Pending != 1 {
		t.Errorf("pending %d, want 1", mode.Pending)
	}

	// Back to normal, the held write goes through.
	e.expect("POST", e.srv.URL+"/_sandbox/sync", `{"mode":"normal"}`, http.StatusOK, &mode)
	if mode.DelayMS != testSyncDelay.Milliseconds() {
		t.Errorf("normal delay %dms, want the configured %s", mode.DelayMS, testSyncDelay)
	}
	e.waitSync()
	if n := rows(); n != 1 {
		t.Fatalf("%d rows after sync resumed, want 1", n)
	}
}

func TestSyncSlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	_, user, rows := stackProject(t, e)
	e.sb.SetSync(SyncSlow, time.Hour)
	user("late@example.com")
	if n := rows(); n != 0 {
		t.Fatalf("%d rows with an hour's delay", n)
	}
	var mode syncJSON
	e.expect("GET", e.srv.URL+"/_sandbox/sync", nil, http.StatusOK, &mode)
	if mode.Mode != SyncSlow || mode.DelayMS != time.Hour.Milliseconds() {
		t.Errorf("sync state %+v", mode)
	}
	// A shorter delay applies to the queued write too.
	e.expect("POST", e.srv.URL+"/_sandbox/sync", `{"mode":"slow","delay_ms":30}`, http.StatusOK, nil)
	e.waitSync()
	if n := rows(); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

func TestSyncKeepsOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, user, rows := stackProject(t, e)
	e.sb.SetSync(SyncNever, 0)
	// Create then delete while nothing is written: the row must end up
	// soft-deleted, not live.
	id := user("gone@example.com")
	e.expect("DELETE", "/projects/"+p+"/auth/users/"+id, nil, http.StatusNoContent, nil)
	e.sb.SetSync(SyncNormal, time.Millisecond)
	e.waitSync()
	if n := rows(); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
	conn := e.connect(p)
	if n, err := count(t, conn, "SELECT count(*) FROM neon_auth.users_sync WHERE id = $1 AND deleted_at IS NOT NULL", id); err != nil || n != 1 {
		t.Fatalf("soft-deleted rows %d (%v), want 1", n, err)
	}
}
