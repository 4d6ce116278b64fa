package main

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestReplicasForgetAllAfterADroppedNotice: a replica whose notice of a
// settings write is dropped (its queue of notices to send is full) makes
// the other replica forget every answer it caches, Neon's and the users
// databases', with the next notice that gets out; otherwise the other
// would serve the old setting for its whole freshness window (an hour
// here).
func TestReplicasForgetAllAfterADroppedNotice(t *testing.T) {
	sb, srv := neontest.StartSandbox(t, -1)
	ctx := context.Background()
	p, err := sb.CreateProject(ctx, "replica-dropped")
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.NewDatabase(t)
	apiURL := srv.URL + "/api/v2"
	// a queues its notices but does not send them until started.
	a := newReplica(t, url, "replica-a", apiURL, 0)
	b := startReplica(t, url, "replica-b", apiURL, 0)
	resultsB := db.NewCache(time.Minute)
	b.shared.shareResults(resultsB)
	b.waitListening(t, true)
	listener := b.shared.notifier.ListenerPID()

	if _, err := b.client.EnableBranchAuth(ctx, p.ID, p.BranchID, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth, DatabaseName: p.DatabaseName}); err != nil {
		t.Fatal(err)
	}
	uri, err := b.client.GetConnectionURI(ctx, p.ID, neonapi.ConnectionURIOptions{BranchID: p.BranchID, DatabaseName: p.DatabaseName, RoleName: p.RoleName})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	users := db.NewUserBrowser(pool, authprovider.BetterAuth, resultsB)
	count := func() int64 {
		t.Helper()
		n, err := users.Count(ctx, db.Filter{}, true)
		if err != nil {
			t.Fatal(err)
		}
		return n.N
	}
	read := func() bool {
		t.Helper()
		v, err := b.client.GetAllowLocalhost(ctx, p.ID, p.BranchID)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// b caches the setting and the count.
	old := read()
	before := b.sent.Count()
	if read() != old || b.sent.Count() != before {
		t.Fatal("b reads the setting from Neon each time: it is not cached, and the test would prove nothing")
	}
	users0 := count()
	if _, err := pool.Exec(ctx, `INSERT INTO neon_auth."user" (name, email, "emailVerified") VALUES ('Ada', 'ada@example.com', true)`); err != nil {
		t.Fatal(err)
	}
	if count() != users0 {
		t.Fatal("b's count is not cached: the test would prove nothing")
	}

	// Fill a's queue with notices that concern none of b's answers, so
	// that the notice of a's write is the one dropped.
	for range 256 {
		a.shared.notifier.Publish(changeNotice{Table: "elsewhere@127.0.0.1:1/none|"})
	}
	if _, err := a.client.UpdateAllowLocalhost(ctx, p.ID, p.BranchID, !old); err != nil {
		t.Fatal(err)
	}
	before = b.sent.Count()
	if read() != old || b.sent.Count() != before {
		t.Fatal("b read the setting again before a sent anything: the test would prove nothing")
	}

	a.shared.start(ctx, a.client)
	t.Cleanup(a.shared.stop)
	started := time.Now()
	for read() == old {
		if time.Since(started) > 3*time.Second {
			t.Fatalf("b still shows allow_localhost=%t 3s after a started sending; a's write was dropped and b was never told", old)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("b forgot the setting %v after a started sending", time.Since(started).Round(time.Millisecond))
	if got := count(); got != users0+1 {
		t.Errorf("b counts %d users, want %d: its results cache kept an answer after a dropped a notice", got, users0+1)
	}
	if !b.shared.listening.Load() || b.shared.notifier.ListenerPID() != listener {
		t.Error("b's listener reconnected: the test does not show what a dropped notice does")
	}
}
