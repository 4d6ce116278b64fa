package state_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

func openStore(t *testing.T, url string) *state.Store {
	t.Helper()
	s, err := state.Open(context.Background(), url, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func record(action string, i int) state.AuditRecord {
	neon := 200
	return state.AuditRecord{
		Actor: fmt.Sprintf("person%d@example.com", i%3), Role: "admin", Action: action, Method: "POST",
		Route: "/projects/:id/users", Project: "proj-1", Branch: "br-main", Target: fmt.Sprintf("email=u%d@example.com", i),
		TargetUser: fmt.Sprintf("user-%d", i), Outcome: "ok", Status: 201, NeonStatus: &neon, NeonRequestID: "req-neon",
		RequestID: fmt.Sprintf("req-%d", i), Peer: "127.0.0.1",
		Details: map[string]any{"rows": i, "ratio": 0.5, "big": 1e21, "nested": map[string]any{"z": "<tag>", "a": []any{1, "é"}}},
	}
}

// superuser connects as the database's owner, able to disable the trigger
// as an attacker with that access could.
func superuser(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustVerify(t *testing.T, s *state.Store) state.AuditVerification {
	t.Helper()
	v, err := s.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Two replicas appending at once build one linear chain that verifies.
func TestAuditAppendsFromTwoReplicasStayLinear(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := openStore(t, url), openStore(t, url)
	const each = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for _, s := range []*state.Store{a, b} {
		wg.Go(func() {
			for i := range each {
				if _, err := s.AppendAudit(t.Context(), record("user.create", i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v := mustVerify(t, a)
	if v.Broken != nil || v.Entries != 2*each || v.From != 1 || v.To != 2*each {
		t.Fatalf("verification %+v, want %d intact entries from 1", v, 2*each)
	}
	page, err := b.ListAudit(t.Context(), state.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	replicas := map[string]int{}
	for i, e := range page.Entries {
		replicas[e.Replica]++
		if want := int64(2*each - i); e.Seq != want {
			t.Fatalf("entry %d has seq %d, want %d", i, e.Seq, want)
		}
		if i+1 < len(page.Entries) && e.PrevHash != page.Entries[i+1].Hash {
			t.Fatalf("entry %d does not follow entry %d", e.Seq, page.Entries[i+1].Seq)
		}
	}
	if len(replicas) != 2 || replicas[a.Replica()] != each {
		t.Errorf("entries by replica %v, want %d from each of two", replicas, each)
	}
	if d := page.Entries[0].Details; d["nested"].(map[string]any)["z"] != "<tag>" {
		t.Errorf("details read back as %v", d)
	}
}

// Verify names the first altered entry, a removed one, and a row whose hash
// was forged to match its new content at the entry after it.
func TestAuditVerifyFindsTampering(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := openStore(t, url)
	for i := range 6 {
		if _, err := s.AppendAudit(t.Context(), record(fmt.Sprintf("action.%d", i+1), i)); err != nil {
			t.Fatal(err)
		}
	}
	conn := superuser(t, url)
	tamper := func(sql string, args ...any) {
		t.Helper()
		for i, q := range []string{`ALTER TABLE dashboard_state.audit_entries DISABLE TRIGGER audit_entries_append_only`, sql,
			`ALTER TABLE dashboard_state.audit_entries ENABLE TRIGGER audit_entries_append_only`} {
			var a []any
			if i == 1 {
				a = args
			}
			if _, err := conn.Exec(t.Context(), q, a...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	if v := mustVerify(t, s); v.Broken != nil || v.Entries != 6 {
		t.Fatalf("untouched trail: %+v", v)
	}

	// Entries 4 and 5 altered: 4 is named.
	var before4, before5 string
	_ = conn.QueryRow(t.Context(), `SELECT actor FROM dashboard_state.audit_entries WHERE seq = 4`).Scan(&before4)
	_ = conn.QueryRow(t.Context(), `SELECT outcome FROM dashboard_state.audit_entries WHERE seq = 5`).Scan(&before5)
	tamper(`UPDATE dashboard_state.audit_entries SET actor = 'someone-else' WHERE seq = 4`)
	tamper(`UPDATE dashboard_state.audit_entries SET outcome = 'denied' WHERE seq = 5`)
	v := mustVerify(t, s)
	if v.Broken == nil || v.Broken.Seq != 4 || v.Broken.Kind != state.AuditAltered || v.Broken.Action != "action.4" {
		t.Fatalf("altered entries 4 and 5: %+v", v.Broken)
	}
	if msg := v.Broken.Error(); !strings.HasPrefix(msg, "audit chain broken at entry seq 4 (") || !strings.HasSuffix(msg, ", action.4): altered") {
		t.Errorf("message %q", msg)
	}
	tamper(`UPDATE dashboard_state.audit_entries SET actor = $1 WHERE seq = 4`, before4)
	tamper(`UPDATE dashboard_state.audit_entries SET outcome = $1 WHERE seq = 5`, before5)
	if v := mustVerify(t, s); v.Broken != nil {
		t.Fatalf("restored trail: %+v", v.Broken)
	}

	// A details change alone is caught too.
	tamper(`UPDATE dashboard_state.audit_entries SET details = details || '{"rows": 99}' WHERE seq = 2`)
	if v := mustVerify(t, s); v.Broken == nil || v.Broken.Seq != 2 || v.Broken.Kind != state.AuditAltered {
		t.Fatalf("altered details of entry 2: %+v", v.Broken)
	}
	tamper(`UPDATE dashboard_state.audit_entries SET details = details || '{"rows": 1}' WHERE seq = 2`)

	// A forged entry 3: new content, its hash recomputed as the store would,
	// still fails at entry 4, which was chained to the old hash.
	forged := forgeEntry(t, s, 3, "forger@example.com")
	tamper(`UPDATE dashboard_state.audit_entries SET actor = 'forger@example.com', hash = $1 WHERE seq = 3`, forged)
	v = mustVerify(t, s)
	if v.Broken == nil || v.Broken.Seq != 4 || v.Broken.Kind != state.AuditAltered {
		t.Fatalf("forged entry 3: %+v, want a break at 4", v.Broken)
	}

	// A removed entry is named by its number.
	tamper(`DELETE FROM dashboard_state.audit_entries WHERE seq IN (3, 4)`)
	v = mustVerify(t, s)
	if v.Broken == nil || v.Broken.Seq != 3 || v.Broken.Kind != state.AuditRemoved || v.Broken.Action != "action.5" {
		t.Fatalf("removed entries 3 and 4: %+v", v.Broken)
	}
	if msg := v.Broken.Error(); !strings.Contains(msg, "seq 3 (before ") || !strings.HasSuffix(msg, "entry missing (removed)") {
		t.Errorf("message %q", msg)
	}

	// The newest entry removed: the head still counts it.
	url2 := pgtest.NewDatabase(t)
	s2 := openStore(t, url2)
	for i := range 3 {
		if _, err := s2.AppendAudit(t.Context(), record("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	conn = superuser(t, url2)
	// The newest entry forged with its hash recomputed: no entry follows
	// it, but the chain's head still holds its hash.
	forged = forgeEntry(t, s2, 3, "forger@example.com")
	tamper(`UPDATE dashboard_state.audit_entries SET actor = 'forger@example.com', hash = $1 WHERE seq = 3`, forged)
	if v := mustVerify(t, s2); v.Broken == nil || v.Broken.Seq != 3 || v.Broken.Kind != state.AuditAltered {
		t.Fatalf("forged newest entry: %+v, want entry 3 altered", v.Broken)
	}
	tamper(`DELETE FROM dashboard_state.audit_entries WHERE seq = 3`)
	if v := mustVerify(t, s2); v.Broken == nil || v.Broken.Seq != 3 || v.Broken.Kind != state.AuditRemoved {
		t.Fatalf("removed newest entry: %+v", v.Broken)
	}
}

// forgeEntry computes the hash entry seq would have with actor changed, by
// appending the same entry to a scratch store under the same chain
// position: the forger knows the algorithm.
func forgeEntry(t *testing.T, s *state.Store, seq int64, actor string) string {
	t.Helper()
	page, err := s.ListAudit(t.Context(), state.AuditFilter{Before: seq + 1, Limit: 1})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("read entry %d: %v", seq, err)
	}
	e := page.Entries[0]
	e.Actor = actor
	h, err := state.ForgeAuditHash(e)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The trigger refuses UPDATE, DELETE and TRUNCATE from anyone.
func TestAuditEntriesAreAppendOnly(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := openStore(t, url)
	if _, err := s.AppendAudit(t.Context(), record("user.delete", 1)); err != nil {
		t.Fatal(err)
	}
	conn := superuser(t, url)
	for _, q := range []string{
		`UPDATE dashboard_state.audit_entries SET actor = 'x'`,
		`DELETE FROM dashboard_state.audit_entries`,
		`TRUNCATE dashboard_state.audit_entries`,
	} {
		_, err := conn.Exec(t.Context(), q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", q, err)
		}
	}
	if v := mustVerify(t, s); v.Entries != 1 || v.Broken != nil {
		t.Errorf("after the refused changes: %+v", v)
	}
}

// Pruning deletes the old entries, keeps an anchor, and the rest verifies;
// entries appended after a prune chain on.
func TestAuditPruneKeepsTheChainVerifiable(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s, other := openStore(t, url), openStore(t, url)
	for i := range 5 {
		if _, err := s.AppendAudit(t.Context(), record("old", i)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Millisecond)
	cut := time.Now()
	for i := range 3 {
		if _, err := s.AppendAudit(t.Context(), record("new", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Two replicas prune at once: one does the work, the other skips.
	var wg sync.WaitGroup
	counts := make([]int64, 2)
	for i, st := range []*state.Store{s, other} {
		wg.Go(func() {
			n, err := st.PruneAudit(t.Context(), cut)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	if counts[0]+counts[1] != 5 {
		t.Fatalf("pruned %v, want 5 in all", counts)
	}
	v := mustVerify(t, s)
	if v.Broken != nil || v.Entries != 3 || v.From != 6 || v.AnchorSeq != 5 {
		t.Fatalf("after pruning: %+v", v)
	}
	if _, err := other.AppendAudit(t.Context(), record("after", 9)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneAudit(t.Context(), cut); err != nil || n != 0 {
		t.Fatalf("second prune: %d %v", n, err)
	}
	if v := mustVerify(t, s); v.Broken != nil || v.Entries != 4 || v.To != 9 {
		t.Fatalf("after appending past the prune: %+v", v)
	}
	// Everything pruned: the anchor is the head and the empty trail verifies.
	if n, err := s.PruneAudit(t.Context(), time.Now().Add(time.Hour)); err != nil || n != 4 {
		t.Fatalf("prune all: %d %v", n, err)
	}
	if v := mustVerify(t, s); v.Broken != nil || v.Entries != 0 || v.AnchorSeq != 9 {
		t.Fatalf("after pruning all: %+v", v)
	}
}

// The filters and keyset paging of the page.
func TestAuditListFiltersAndPages(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := openStore(t, url)
	for i := range 30 {
		r := record("user.create", i)
		if i%5 == 0 {
			r.Action, r.Project = "user.delete", "proj-2"
		}
		if _, err := s.AppendAudit(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	list := func(f state.AuditFilter) state.AuditPage {
		t.Helper()
		p, err := s.ListAudit(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	seqs := func(p state.AuditPage) []int64 {
		var out []int64
		for _, e := range p.Entries {
			out = append(out, e.Seq)
		}
		return out
	}
	first := list(state.AuditFilter{Limit: 10})
	if got := seqs(first); len(got) != 10 || got[0] != 30 || got[9] != 21 || !first.HasOlder || first.HasNewer {
		t.Fatalf("first page %v older=%v newer=%v", got, first.HasOlder, first.HasNewer)
	}
	second := list(state.AuditFilter{Limit: 10, Before: 21})
	if got := seqs(second); got[0] != 20 || got[9] != 11 || !second.HasNewer || !second.HasOlder {
		t.Fatalf("second page %v", got)
	}
	back := list(state.AuditFilter{Limit: 10, After: 20})
	if got := seqs(back); got[0] != 30 || got[9] != 21 || back.HasNewer {
		t.Fatalf("back to the first page %v newer=%v", got, back.HasNewer)
	}
	last := list(state.AuditFilter{Limit: 10, Before: 11})
	if got := seqs(last); len(got) != 10 || got[9] != 1 || last.HasOlder {
		t.Fatalf("last page %v older=%v", got, last.HasOlder)
	}
	if got := seqs(list(state.AuditFilter{Action: "user.delete"})); fmt.Sprint(got) != "[26 21 16 11 6 1]" {
		t.Errorf("action filter: %v", got)
	}
	if got := seqs(list(state.AuditFilter{Project: "proj-2", Actor: "person0@example.com"})); fmt.Sprint(got) != "[16 1]" {
		t.Errorf("project and actor: %v", got)
	}
	if got := seqs(list(state.AuditFilter{User: "user-7"})); fmt.Sprint(got) != "[8]" {
		t.Errorf("user: %v", got)
	}
	if got := seqs(list(state.AuditFilter{Target: "U1_"})); len(got) != 0 {
		t.Errorf("target with a LIKE wildcard matched %v", got)
	}
	if got := seqs(list(state.AuditFilter{Target: "u2"})); fmt.Sprint(got) != "[30 29 28 27 26 25 24 23 22 21 3]" {
		t.Errorf("target text: %v", got)
	}
	future := time.Now().Add(time.Hour)
	if got := list(state.AuditFilter{Since: future}); len(got.Entries) != 0 {
		t.Errorf("since the future: %v", seqs(got))
	}
	var n int
	err := s.EachAudit(t.Context(), state.AuditFilter{Action: "user.create", Limit: 1}, func(state.AuditEntry) error { n++; return nil })
	if err != nil || n != 24 {
		t.Errorf("each: %d entries, %v", n, err)
	}
}

// A NUL character in what a request carried (a form field of a refused
// request, say), which Postgres keeps in neither text nor jsonb, does not
// keep the entry out of the trail: it is stored as U+FFFD, and verifies.
func TestAuditStoresEntriesCarryingNUL(t *testing.T) {
	s := openStore(t, pgtest.NewDatabase(t))
	r := record("user.role", 1)
	r.Target, r.Actor, r.Reason = "role=ad\x00min", "a\x00b@example.com", "bad\xffbyte"
	r.Details = map[string]any{"filter\x00": "x\x00y", "list": []any{"\x00"}}
	e, err := s.AppendAudit(t.Context(), r)
	if err != nil {
		t.Fatalf("an entry carrying NUL was not stored: %v", err)
	}
	page, err := s.ListAudit(t.Context(), state.AuditFilter{})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("list: %d entries, %v", len(page.Entries), err)
	}
	got := page.Entries[0]
	if got.Seq != e.Seq || got.Target != "role=ad\uFFFDmin" || got.Actor != "a\uFFFDb@example.com" || got.Details["filter\uFFFD"] != "x\uFFFDy" || got.Reason != "bad\uFFFDbyte" {
		t.Errorf("stored entry: target %q actor %q reason %q details %v", got.Target, got.Actor, got.Reason, got.Details)
	}
	if v := mustVerify(t, s); v.Broken != nil || v.Entries != 1 {
		t.Fatalf("verify: %+v", v)
	}
}

// An export reads the trail in chunks and holds no connection while its
// caller writes the entries out: with a pool of one connection, the store
// still answers between entries, and the export has every entry once,
// newest first, none appended meanwhile.
func TestAuditExportHoldsNoConnection(t *testing.T) {
	state.SetExportChunk(t, 2)
	url := pgtest.NewDatabase(t)
	s, err := state.Open(t.Context(), url, state.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 5 {
		if _, err := s.AppendAudit(t.Context(), record("user.create", i)); err != nil {
			t.Fatal(err)
		}
	}
	var got []int64
	err = s.EachAudit(t.Context(), state.AuditFilter{Action: "user.create"}, func(e state.AuditEntry) error {
		got = append(got, e.Seq)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := s.Ping(ctx); err != nil {
			return fmt.Errorf("the store did not answer while entry %d was written out: %w", e.Seq, err)
		}
		if e.Seq == 3 {
			if _, err := s.AppendAudit(ctx, record("user.create", 9)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[5 4 3 2 1]" {
		t.Errorf("exported %v, want [5 4 3 2 1]", got)
	}
}
