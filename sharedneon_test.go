package main

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/state"
)

// replica is one dashboard's Neon client, wired to the state store as
// newHandler wires it.
type replica struct {
	shared *sharedNeon
	client *neonapi.Client
	sent   *neontest.Requests // what it asked the sandbox
}

// startReplica opens a store on url as replica name and builds its client
// with a long freshness window, listening for the other replicas' changes
// and sending its own. reconnect, when positive, is the listener's first
// pause before reconnecting; otherwise the notifier is newSharedNeon's.
func startReplica(t *testing.T, url, name, apiURL string, reconnect time.Duration) *replica {
	t.Helper()
	r := newReplica(t, url, name, apiURL, reconnect)
	r.shared.start(context.Background(), r.client)
	t.Cleanup(r.shared.stop)
	return r
}

// newReplica is startReplica without the start: the replica neither hears
// the others nor sends the notices it queues until r.shared.start.
func newReplica(t *testing.T, url, name, apiURL string, reconnect time.Duration) *replica {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, url, state.Options{Replica: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	logger := slog.New(slog.DiscardHandler)
	shared, err := newSharedNeon(ctx, st, "napi_invalidation-test", 700, 35, logger)
	if err != nil {
		t.Fatal(err)
	}
	if reconnect > 0 {
		shared.notifier = st.Notifier(changesChannel, state.NotifierOptions{
			Handle: shared.applyRemote, OnListening: shared.hearing, OnMissed: shared.missed, Logger: logger, MinBackoff: reconnect,
		})
	}
	r := &replica{shared: shared, sent: &neontest.Requests{}}
	r.client, err = neonapi.New("napi_invalidation-test", append([]neonapi.Option{
		neonapi.WithBaseURL(apiURL),
		neonapi.WithHTTPClient(&http.Client{Transport: r.sent}),
		neonapi.WithReadCache(time.Minute),
		neonapi.WithFreshness(time.Hour),
	}, shared.options()...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitListening waits until r hears the other replicas (or stops hearing
// them), and fails the test after five seconds.
func (r *replica) waitListening(t *testing.T, want bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for r.shared.listening.Load() != want {
		if time.Now().After(deadline) {
			t.Fatalf("listening never became %t", want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReplicasDropEachOthersWrites: a Neon Auth setting one replica
// changes shows on the other within a second although the other keeps
// such settings for an hour; while the other's listener is cut it reads
// them from Neon rather than trust what it holds, and once it listens
// again it forgets what it held, since it may have missed writes.
func TestReplicasDropEachOthersWrites(t *testing.T) {
	sb, srv := neontest.StartSandbox(t, -1)
	ctx := context.Background()
	p, err := sb.CreateProject(ctx, "replicas")
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.NewDatabase(t)
	apiURL := srv.URL + "/api/v2"
	a := startReplica(t, url, "replica-a", apiURL, 0)
	b := startReplica(t, url, "replica-b", apiURL, 3*time.Second)
	a.waitListening(t, true)
	b.waitListening(t, true)
	if _, err := a.client.EnableBranchAuth(ctx, p.ID, p.BranchID, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth, DatabaseName: p.DatabaseName}); err != nil {
		t.Fatal(err)
	}

	read := func(r *replica) bool {
		t.Helper()
		v, err := r.client.GetAllowLocalhost(ctx, p.ID, p.BranchID)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if !read(b) {
		t.Fatal("a new integration allows localhost")
	}
	// The notice of a's enabling may land after b's first read and drop
	// it; once it has, b serves the setting from its cache.
	cachedSince := time.Now()
	for {
		before := b.sent.Count()
		read(b)
		if b.sent.Count() == before {
			break
		}
		if time.Since(cachedSince) > time.Second {
			t.Fatal("b reads the setting from Neon each time: it is not cached, and the test would prove nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// a writes; b's cached answer must give way within a second.
	var latencies []time.Duration
	want := true
	for range 5 {
		want = !want
		if _, err := a.client.UpdateAllowLocalhost(ctx, p.ID, p.BranchID, want); err != nil {
			t.Fatal(err)
		}
		written := time.Now()
		for read(b) != want {
			if time.Since(written) > time.Second {
				t.Fatalf("b still shows allow_localhost=%t a second after a wrote %t", !want, want)
			}
			time.Sleep(time.Millisecond)
		}
		latencies = append(latencies, time.Since(written))
	}
	slices.Sort(latencies)
	t.Logf("a's write reached b's cache in %v (median), %v (max) of 5", latencies[2], latencies[4])

	// Cut b's listener from the server side. Until it listens again (after
	// 1.5-3 s), nothing tells b of a's writes.
	if _, err := a.client.GetProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.GetProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	pid := b.shared.notifier.ListenerPID()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var cut bool
	if err := admin.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int(pid)).Scan(&cut); err != nil || !cut {
		t.Fatalf("terminate b's listener %d: %t %v", pid, cut, err)
	}
	b.waitListening(t, false)
	want = !want
	if _, err := a.client.UpdateAllowLocalhost(ctx, p.ID, p.BranchID, want); err != nil {
		t.Fatal(err)
	}
	before := b.sent.Count()
	if got := read(b); got != want {
		t.Fatalf("b, not listening, served the stale allow_localhost=%t", got)
	}
	if b.sent.Count() != before+1 || b.shared.listening.Load() {
		t.Fatalf("b, not listening, made %d requests (listening %t); want the setting read from Neon while the listener is down",
			b.sent.Count()-before, b.shared.listening.Load())
	}

	b.waitListening(t, true)
	if b.shared.notifier.ListenerPID() == pid {
		t.Error("b listens on the connection that was cut")
	}
	before = b.sent.Count()
	if _, err := b.client.GetProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	read(b)
	if b.sent.Count() != before+2 {
		t.Errorf("after reconnecting b made %d requests for a project and a setting it held; want both read again", b.sent.Count()-before)
	}
	// Listening again, b trusts its window: the next read is cached.
	before = b.sent.Count()
	if read(b) != want || b.sent.Count() != before {
		t.Errorf("listening again, b did not serve the setting from its cache")
	}
	// And a's next write reaches b as before.
	want = !want
	if _, err := a.client.UpdateAllowLocalhost(ctx, p.ID, p.BranchID, want); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	for read(b) != want {
		if time.Since(written) > time.Second {
			t.Fatal("after reconnecting, a's write never reached b")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReplicasForgetEachOthersUserCounts: a users table one replica
// changed (and so forgot its cached counts of) is forgotten by the other
// replica's results cache too, which would otherwise show the old count
// for up to its TTL.
func TestReplicasForgetEachOthersUserCounts(t *testing.T) {
	sb, srv := neontest.StartSandbox(t, -1)
	ctx := context.Background()
	p, err := sb.CreateProject(ctx, "replica-counts")
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.NewDatabase(t)
	a := startReplica(t, url, "replica-a", srv.URL+"/api/v2", 0)
	b := startReplica(t, url, "replica-b", srv.URL+"/api/v2", 0)
	resultsA, resultsB := db.NewCache(time.Minute), db.NewCache(time.Minute)
	a.shared.shareResults(resultsA)
	b.shared.shareResults(resultsB)
	a.waitListening(t, true)
	b.waitListening(t, true)
	if _, err := a.client.EnableBranchAuth(ctx, p.ID, p.BranchID, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth, DatabaseName: p.DatabaseName}); err != nil {
		t.Fatal(err)
	}
	uri, err := a.client.GetConnectionURI(ctx, p.ID, neonapi.ConnectionURIOptions{BranchID: p.BranchID, DatabaseName: p.DatabaseName, RoleName: p.RoleName})
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
	before := count()
	if _, err := pool.Exec(ctx, `INSERT INTO neon_auth."user" (name, email, "emailVerified") VALUES ('Ada', 'ada@example.com', true)`); err != nil {
		t.Fatal(err)
	}
	if count() != before {
		t.Fatal("b's count is not cached: the test would prove nothing")
	}
	resultsA.ForgetTable(uri) // what replica a does after it changes the table
	forgot := time.Now()
	for count() != before+1 {
		if time.Since(forgot) > time.Second {
			t.Fatalf("b still counts %d users a second after a forgot the table", before)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("b forgot the count %v after a did", time.Since(forgot).Round(time.Millisecond))
}
