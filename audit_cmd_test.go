package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

func auditFixture(t *testing.T, n int) (string, *state.Store) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	st, err := state.Open(context.Background(), url, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for i := range n {
		if _, err := st.AppendAudit(t.Context(), state.AuditRecord{Actor: "ada@example.com", Role: "admin",
			Action: fmt.Sprintf("user.delete.%d", i+1), Method: "POST", Outcome: "ok", Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	return url, st
}

func auditVerify(t *testing.T) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"audit", "verify"}, &out, &errb)
	return out.String(), err
}

// `dashboard audit verify` passes an intact chain and names the first
// altered or removed entry otherwise; main exits 1 on its error.
func TestAuditVerifyCommand(t *testing.T) {
	url, _ := auditFixture(t, 4)
	t.Setenv("STATE_DATABASE_URL", url)
	out, err := auditVerify(t)
	if err != nil || out != "audit chain verified: 4 entries (from seq 1 to 4)\n" {
		t.Fatalf("intact chain: %q %v", out, err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	exec := func(q string) {
		t.Helper()
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`ALTER TABLE dashboard_state.audit_entries DISABLE TRIGGER audit_entries_append_only`)
	exec(`UPDATE dashboard_state.audit_entries SET status = 500 WHERE seq = 3`)
	out, err = auditVerify(t)
	altered := regexp.MustCompile(`^audit chain broken at entry seq 3 \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, user\.delete\.3\): altered$`)
	if err == nil || out != "" || !altered.MatchString(err.Error()) {
		t.Fatalf("altered entry: out %q err %v", out, err)
	}
	exec(`DELETE FROM dashboard_state.audit_entries WHERE seq IN (2, 3)`)
	_, err = auditVerify(t)
	if err == nil || !strings.HasPrefix(err.Error(), "audit chain broken at entry seq 2 (before ") || !strings.HasSuffix(err.Error(), "user.delete.4): entry missing (removed)") {
		t.Fatalf("removed entries: %v", err)
	}

	empty := pgtest.NewDatabase(t)
	t.Setenv("STATE_DATABASE_URL", empty)
	if _, err := auditVerify(t); err == nil || !strings.Contains(err.Error(), "has no audit trail") {
		t.Errorf("a database without the trail: %v", err)
	}
	c2, err := pgx.Connect(t.Context(), empty)
	if err != nil {
		t.Fatal(err)
	}
	var schemas int
	err = c2.QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = 'dashboard_state'`).Scan(&schemas)
	c2.Close(context.Background())
	if err != nil || schemas != 0 {
		t.Errorf("verify created the store's schema in a database without one (%d, %v)", schemas, err)
	}

	t.Setenv("STATE_DATABASE_URL", "")
	if _, err := auditVerify(t); err == nil || !strings.Contains(err.Error(), "STATE_DATABASE_URL is not set") {
		t.Errorf("without a store: %v", err)
	}
	var out2, errb bytes.Buffer
	if err := run(t.Context(), []string{"audit"}, &out2, &errb); err == nil || !strings.Contains(errb.String(), "usage: dashboard audit verify") {
		t.Errorf("no subcommand: %v, stderr %q", err, errb.String())
	}
}

// Retention prunes at start; the rest of the chain still verifies.
func TestAuditRetentionPrunesAtStart(t *testing.T) {
	url, st := auditFixture(t, 3)
	time.Sleep(20 * time.Millisecond)
	if _, err := st.AppendAudit(t.Context(), state.AuditRecord{Action: "kept", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	stop := startAuditRetention(t.Context(), st, 10*time.Millisecond, slog.New(slog.NewTextHandler(logs, nil)))
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "pruned entries past retention") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	t.Setenv("STATE_DATABASE_URL", url)
	out, err := auditVerify(t)
	if err != nil || !strings.HasPrefix(out, "audit chain verified: ") {
		t.Fatalf("after pruning: %q %v (logs %s)", out, err, logs.String())
	}
	if !strings.Contains(out, "were pruned by retention") {
		t.Errorf("nothing pruned: %q", out)
	}
}

func TestParseAuditRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 365 * 24 * time.Hour, "0": 0, "30d": 30 * 24 * time.Hour, "720h": 720 * time.Hour, " 1d ": 24 * time.Hour} {
		if got, err := parseAuditRetention(in); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1d", "1.5d", "d", "forever", "10m", "0d", "5dd"} {
		if _, err := parseAuditRetention(in); err == nil || !strings.Contains(err.Error(), "AUDIT_RETENTION") {
			t.Errorf("%q: %v, want refused", in, err)
		}
	}
}
