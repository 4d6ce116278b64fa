package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
)

// auditEntry is one entry of the audit trail, as much as the test reads.
type auditEntry struct {
	seq             int64
	action, replica string
}

// auditTrail checks the survivor's /audit page lists every change the test
// made, that the trail holds them in order with entries from both replicas,
// that `dashboard audit verify` passes, and that once a superuser edits one
// entry behind the trail's back it fails naming that entry.
func (rs *replicaSet) auditTrail(t *testing.T) {
	rs.checkAuditPage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rs.stateURL)
	if err != nil {
		t.Fatalf("connect to the state store: %v", err)
	}
	defer conn.Close(ctx)
	rs.checkAuditExport(t)
	// The export's own entry is written as its answer ends: wait for it.
	var entries []auditEntry
	replicas := map[string]int{}
	next := 0
	var first int64
	_, _ = pollUntil(5*time.Second, 50*time.Millisecond, func() (bool, error) {
		entries = readAuditEntries(t, ctx, conn)
		clear(replicas)
		next, first = 0, 0
		for _, e := range entries {
			replicas[e.replica]++
			if next < len(rs.changes) && e.action == rs.changes[next] {
				if next == 0 {
					first = e.seq
				}
				next++
			}
		}
		return next == len(rs.changes), nil
	})
	t.Logf("the audit trail holds %d entries from %d replicas %v", len(entries), len(replicas), replicas)
	if next < len(rs.changes) {
		t.Errorf("the audit trail lacks %s (the changes in the order made: %v)", rs.changes[next], rs.changes)
	}
	if len(replicas) < 2 {
		t.Errorf("the audit trail has entries from %d replica(s), want both", len(replicas))
	}

	verified := fmt.Sprintf("audit chain verified: %d entries", len(entries))
	if out, code := rs.auditVerify(t); code != 0 || !strings.Contains(out, verified) {
		t.Fatalf("dashboard audit verify on the intact trail: exit %d, want 0 and %q\n%s", code, verified, out)
	}
	if first == 0 {
		t.Fatal("no entry of the test's changes to edit")
	}
	editAuditEntry(t, ctx, conn, first)
	out, code := rs.auditVerify(t)
	if code != 1 || !strings.Contains(out, fmt.Sprintf("seq %d ", first)) || !strings.Contains(out, "altered") {
		t.Errorf("dashboard audit verify after entry seq %d was edited: exit %d, want 1 naming seq %d as altered\n%s", first, code, first, out)
	}
	t.Logf("after entry seq %d was edited, dashboard audit verify exits %d: %s", first, code, strings.TrimSpace(out))
}

// checkAuditPage reads /audit on replica B, the survivor, and checks it
// lists an entry of each change the test made.
func (rs *replicaSet) checkAuditPage(t *testing.T) {
	t.Helper()
	page := fetch(t, rs.admin, http.MethodGet, rs.reps[1].URL+"/audit")
	if page.status != http.StatusOK {
		t.Fatalf("GET /audit on replica B: %d, want 200\n%.600s", page.status, page.body)
	}
	for _, what := range rs.leaked(page.body) {
		t.Errorf("/audit shows %s", what)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page.body))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	doc.Find(`[data-testid="audit-entry"]`).Each(func(_ int, s *goquery.Selection) {
		listed[s.AttrOr("data-action", "")]++
	})
	for _, action := range rs.changes {
		if listed[action] == 0 {
			t.Errorf("/audit on replica B does not list the change %s; it lists %v", action, listed)
		}
	}
}

// checkAuditExport downloads the trail as JSON lines from replica B and
// checks it holds an entry of each change the test made, and no secret.
// The export is audited too, which it adds to the test's changes.
func (rs *replicaSet) checkAuditExport(t *testing.T) {
	t.Helper()
	a := fetch(t, rs.admin, http.MethodGet, rs.reps[1].URL+"/audit/export?format=jsonl")
	if a.status != http.StatusOK {
		t.Fatalf("GET /audit/export?format=jsonl on replica B: %d, want 200\n%.600s", a.status, a.body)
	}
	rs.changes = append(rs.changes, "audit.export")
	for _, what := range rs.leaked(a.body) {
		t.Errorf("the audit export holds %s", what)
	}
	exported := map[string]int{}
	for line := range strings.Lines(a.body) {
		var e struct{ Action string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("the audit export has a line that is not JSON: %v\n%.300s", err, line)
		}
		exported[e.Action]++
	}
	for _, action := range rs.changes[:len(rs.changes)-1] {
		if exported[action] == 0 {
			t.Errorf("the audit export lacks the change %s; it holds %v", action, exported)
		}
	}
}

// readAuditEntries reads the whole trail, oldest first.
func readAuditEntries(t *testing.T, ctx context.Context, conn *pgx.Conn) []auditEntry {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT seq, action, replica FROM dashboard_state.audit_entries ORDER BY seq`)
	if err != nil {
		t.Fatalf("read the audit trail: %v", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditEntry, error) {
		var e auditEntry
		return e, r.Scan(&e.seq, &e.action, &e.replica)
	})
	if err != nil {
		t.Fatalf("read the audit trail: %v", err)
	}
	return entries
}

// editAuditEntry changes the actor of entry seq as a superuser would, with
// the trail's append-only triggers off for the edit.
func editAuditEntry(t *testing.T, ctx context.Context, conn *pgx.Conn, seq int64) {
	t.Helper()
	if _, err := conn.Exec(ctx, `ALTER TABLE dashboard_state.audit_entries DISABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	_, err := conn.Exec(ctx, `UPDATE dashboard_state.audit_entries SET actor = 'mallory@example.com' WHERE seq = $1`, seq)
	_, errOn := conn.Exec(ctx, `ALTER TABLE dashboard_state.audit_entries ENABLE TRIGGER USER`)
	if err != nil || errOn != nil {
		t.Fatalf("edit entry seq %d: %v", seq, errors.Join(err, errOn))
	}
}

// auditVerify runs `dashboard audit verify` on the state store and returns
// what it printed and its exit code.
func (rs *replicaSet) auditVerify(t *testing.T) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = childEnv([]string{"audit", "verify"}, map[string]string{"STATE_DATABASE_URL": rs.stateURL})
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("run dashboard audit verify: %v", err)
	return "", -1
}
