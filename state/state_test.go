package state_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/state"
)

// Replicas starting together on a new database both come up, and the
// migrations are applied once.
func TestOpenMigratesOnceWhenReplicasStartTogether(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	const replicas = 4
	stores := make([]*state.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = state.Open(ctx, url, state.Options{}) })
	}
	wg.Wait()
	names := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
		names[stores[i].Replica()] = true
	}
	if len(names) != replicas {
		t.Errorf("replica names %v are not distinct", names)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM dashboard_state.goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Errorf("goose recorded %d migrations, %d distinct: want each once", applied, distinct)
	}
	// A restart finds nothing to do.
	again, err := state.Open(ctx, url, state.Options{Replica: "again"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Replica() != "again" {
		t.Errorf("Replica() = %q, want the one given", again.Replica())
	}
	if err := again.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesABadURL(t *testing.T) {
	_, err := state.Open(context.Background(), "postgres://%zz", state.Options{})
	if err == nil {
		t.Fatal("Open accepted a malformed URL")
	}
	if got := err.Error(); got != "state: STATE_DATABASE_URL is not a valid Postgres connection string" {
		t.Errorf("error %q", got)
	}
}

// Replicas record their presence; ReplicasSeen counts the ones seen
// lately, and one that left is no longer counted.
func TestReplicaPresence(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	a, err := state.Open(ctx, url, state.Options{Replica: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := state.Open(ctx, url, state.Options{Replica: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, err := a.ReplicasSeen(ctx, time.Minute); err != nil || n != 0 {
		t.Fatalf("before any touch: %d, %v", n, err)
	}
	for _, s := range []*state.Store{a, b, a} {
		if err := s.Touch(ctx, "v1"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.ReplicasSeen(ctx, time.Minute); err != nil || n != 2 {
		t.Fatalf("two replicas touched: seen %d, %v", n, err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE dashboard_state.replicas SET seen_at = now() - interval '2 minutes' WHERE name = 'b'`); err != nil {
		t.Fatal(err)
	}
	if n, err := a.ReplicasSeen(ctx, time.Minute); err != nil || n != 1 {
		t.Fatalf("b unseen for two minutes: seen %d, %v", n, err)
	}
	if err := a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := a.ReplicasSeen(ctx, time.Hour); err != nil || n != 1 {
		t.Fatalf("a left: seen within the hour %d, %v; want b alone", n, err)
	}
}

// A read-only open leaves a database's schema as it is.
func TestOpenReadOnlyDoesNotMigrate(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	st, err := state.Open(ctx, url, state.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'dashboard_state')`).Scan(&exists); err != nil || exists {
		t.Errorf("schema after a read-only open: exists=%t, %v", exists, err)
	}
}
