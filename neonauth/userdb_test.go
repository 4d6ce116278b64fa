package neonauth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// recordingLocator answers the three Neon calls behind a database lookup from
// fixed data and records what it was asked.
type recordingLocator struct {
	mu    sync.Mutex
	calls int
	ins   []neonapi.Integration
	dbs   []neonapi.Database
	uri   string
	err   error
	asked []neonapi.ConnectionURIOptions
}

func (l *recordingLocator) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

func (l *recordingLocator) ListIntegrations(ctx context.Context, projectID string) ([]neonapi.Integration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.ins, l.err
}

// GetBranchAuth answers with the integration on branchID, as getNeonAuth does.
func (l *recordingLocator) GetBranchAuth(ctx context.Context, projectID, branchID string) (*neonapi.Integration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.err != nil {
		return nil, l.err
	}
	for _, in := range l.ins {
		if in.BranchID == branchID {
			return &in, nil
		}
	}
	return nil, &neonapi.APIError{StatusCode: 404, Message: "not enabled"}
}

func (l *recordingLocator) ListDatabases(ctx context.Context, projectID, branchID string) ([]neonapi.Database, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.dbs, l.err
}

func (l *recordingLocator) GetConnectionURI(ctx context.Context, projectID string, opts neonapi.ConnectionURIOptions) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	l.asked = append(l.asked, opts)
	return l.uri, l.err
}

// stackDatabase makes a test database holding Neon's users_sync table and one user.
func stackDatabase(t *testing.T) string {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sandbox.StackDDL()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO neon_auth.users_sync (raw_json) VALUES
		('{"id":"u-1","primary_email":"ada@example.com","display_name":"Ada","signed_up_at_millis":1700000000000}')`); err != nil {
		t.Fatal(err)
	}
	return url
}

func newPools(t *testing.T) *db.Pools {
	t.Helper()
	p := db.NewPools(db.PoolOptions{})
	t.Cleanup(p.Close)
	return p
}

func TestUserDatabasesAskNeonAsTheOwner(t *testing.T) {
	dbURL := stackDatabase(t)
	tests := []struct {
		name     string
		dbs      []neonapi.Database
		wantRole string
	}{
		{name: "owner from ListDatabases", dbs: []neonapi.Database{{Name: "other", OwnerName: "x"}, {Name: "appdb", OwnerName: "app_owner"}}, wantRole: "app_owner"},
		{name: "neondb_owner when the database is not listed", dbs: []neonapi.Database{{Name: "other", OwnerName: "x"}}, wantRole: "neondb_owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := &recordingLocator{
				ins: []neonapi.Integration{{AuthProvider: authprovider.BetterAuth, BranchID: "br-x"}, {AuthProvider: authprovider.Stack, BranchID: "br-main", DBName: "appdb"}},
				dbs: tt.dbs,
				uri: dbURL,
			}
			u := NewUserDatabases(loc, newPools(t), UserDBConfig{})
			dir, err := u.Open(context.Background(), Ref{ProjectID: "p-1", Provider: authprovider.Stack})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if len(loc.asked) != 1 {
				t.Fatalf("GetConnectionURI calls = %d, want 1", len(loc.asked))
			}
			want := neonapi.ConnectionURIOptions{BranchID: "br-main", DatabaseName: "appdb", RoleName: tt.wantRole}
			if loc.asked[0] != want {
				t.Errorf("asked %+v, want %+v", loc.asked[0], want)
			}
			if dir.Provider() != authprovider.Stack || dir.Source() != SourceNeon {
				t.Errorf("generation %q source %q", dir.Provider(), dir.Source())
			}
			if dir.Target() != db.Describe(dbURL) || strings.Contains(dir.Target(), "@") {
				t.Errorf("target = %q", dir.Target())
			}
			user, err := dir.Get(context.Background(), "u-1")
			if err != nil || user.Email != "ada@example.com" {
				t.Errorf("Get = %+v, %v", user, err)
			}
		})
	}
}

func TestUserDatabasesCacheTheResolution(t *testing.T) {
	loc := &recordingLocator{
		ins: []neonapi.Integration{{AuthProvider: authprovider.Stack, BranchID: "br-main", DBName: "neondb"}},
		dbs: []neonapi.Database{{Name: "neondb", OwnerName: "neondb_owner"}},
		uri: stackDatabase(t),
	}
	now := time.Now()
	u := NewUserDatabases(loc, newPools(t), UserDBConfig{CacheTTL: time.Minute})
	u.now = func() time.Time { return now }
	ctx := context.Background()
	target := Ref{ProjectID: "p-1", Provider: authprovider.Stack}

	// Concurrent first opens share one resolution.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := u.Open(ctx, target)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
	}
	first := loc.count()
	if first != 3 {
		t.Fatalf("Neon calls for 8 concurrent opens = %d, want 3 (one resolution)", first)
	}
	for range 5 {
		if _, err := u.Open(ctx, target); err != nil {
			t.Fatal(err)
		}
	}
	if got := loc.count(); got != first {
		t.Errorf("Neon calls after cached opens = %d, want %d", got, first)
	}
	// A page that knows the branch and finds it moved resolves again.
	loc.ins[0].BranchID = "br-new"
	if _, err := u.Open(ctx, Ref{ProjectID: "p-1", Provider: authprovider.Stack, BranchID: "br-new", DBName: "neondb"}); err != nil {
		t.Fatal(err)
	}
	if got := loc.count(); got != first+2 {
		t.Errorf("Neon calls after the branch moved = %d, want %d", got, first+2)
	}
	// After the TTL the connection string (it holds a password) is fetched anew.
	now = now.Add(2 * time.Minute)
	if _, err := u.Open(ctx, target); err != nil {
		t.Fatal(err)
	}
	// Where the database is (branch, name, owner) holds no secret and is
	// remembered longer: only the connection URI is asked for again.
	if got := loc.count(); got != first+3 {
		t.Errorf("Neon calls after the TTL = %d, want %d (the connection URI alone)", got, first+3)
	}
	// Resolving another project drops expired entries, passwords and all.
	now = now.Add(2 * time.Minute)
	if _, err := u.Open(ctx, Ref{ProjectID: "p-2", Provider: authprovider.Stack}); err != nil {
		t.Fatal(err)
	}
	u.mu.Lock()
	_, kept := u.cache["p-1\x00stack"]
	u.mu.Unlock()
	if kept {
		t.Error("expired connection string of p-1 still cached")
	}
}

func TestUserDatabasesOverrides(t *testing.T) {
	fallback, project := stackDatabase(t), stackDatabase(t)
	loc := &recordingLocator{err: errors.New("the Neon API must not be called with an override")}
	u := NewUserDatabases(loc, newPools(t), UserDBConfig{Default: fallback, PerProject: map[string]string{"p-own": project}})
	tests := []struct {
		projectID  string
		wantTarget string
		wantSource string
	}{
		{projectID: "p-own", wantTarget: db.Describe(project), wantSource: SourceProject},
		{projectID: "p-other", wantTarget: db.Describe(fallback), wantSource: SourceDefault},
	}
	for _, tt := range tests {
		dir, err := u.Open(context.Background(), Ref{ProjectID: tt.projectID, Provider: authprovider.Stack})
		if err != nil {
			t.Fatalf("%s: %v", tt.projectID, err)
		}
		if dir.Target() != tt.wantTarget || dir.Source() != tt.wantSource {
			t.Errorf("%s: target %q source %q, want %q %q", tt.projectID, dir.Target(), dir.Source(), tt.wantTarget, tt.wantSource)
		}
	}
	if loc.count() != 0 {
		t.Errorf("Neon calls = %d, want 0", loc.count())
	}
}

func TestUserDatabasesFailures(t *testing.T) {
	empty := pgtest.NewDatabase(t)
	unreachable := pgtest.DeadServerURL(t, "hunter2-secret")
	notFound := &neonapi.APIError{StatusCode: 404, Message: "project not found", RequestID: "req-1"}
	tests := []struct {
		name       string
		cfg        UserDBConfig
		loc        *recordingLocator
		want       error
		wantTarget string
	}{
		{name: "unreachable", cfg: UserDBConfig{PerProject: map[string]string{"p-1": unreachable}}, loc: &recordingLocator{}, want: db.ErrUnreachable, wantTarget: db.Describe(unreachable)},
		{name: "schema missing", cfg: UserDBConfig{Default: empty}, loc: &recordingLocator{}, want: db.ErrSchemaMissing, wantTarget: db.Describe(empty)},
		{name: "bad override", cfg: UserDBConfig{Default: "postgres://a b:c@/::"}, loc: &recordingLocator{}, want: db.ErrBadConnString},
		{name: "no integration", loc: &recordingLocator{ins: []neonapi.Integration{{AuthProvider: authprovider.BetterAuth}}}, want: ErrNoIntegration},
		{name: "neon refuses", loc: &recordingLocator{err: notFound}, want: neonapi.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := NewUserDatabases(tt.loc, newPools(t), tt.cfg)
			_, err := u.Open(context.Background(), Ref{ProjectID: "p-1", Provider: authprovider.Stack})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %v", err)
			}
			var dbErr *UserDBError
			if tt.wantTarget != "" {
				if !errors.As(err, &dbErr) || dbErr.Target != tt.wantTarget {
					t.Errorf("err = %#v, want a UserDBError for %s", err, tt.wantTarget)
				}
			}
		})
	}
}

func TestUserDatabasesNoticeTheTableComingAndGoing(t *testing.T) {
	url := pgtest.NewDatabase(t)
	u := NewUserDatabases(&recordingLocator{}, newPools(t), UserDBConfig{Default: url})
	ctx := context.Background()
	target := Ref{ProjectID: "p-1", Provider: authprovider.BetterAuth}
	if _, err := u.Open(ctx, target); !errors.Is(err, db.ErrSchemaMissing) {
		t.Fatalf("before Neon Auth: %v, want ErrSchemaMissing", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sandbox.BetterAuthDDL()); err != nil {
		t.Fatal(err)
	}
	dir, err := u.Open(ctx, target)
	if err != nil {
		t.Fatalf("after enabling: %v", err)
	}
	if dir.Provider() != authprovider.BetterAuth {
		t.Fatalf("generation = %q", dir.Provider())
	}
	if _, err := conn.Exec(ctx, `DROP SCHEMA neon_auth CASCADE`); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Latest(ctx, 5); !errors.Is(err, db.ErrSchemaMissing) {
		t.Fatalf("after the drop, Latest: %v", err)
	}
	if _, err := u.Open(ctx, target); !errors.Is(err, db.ErrSchemaMissing) {
		t.Errorf("after the drop, Open: %v, want the table detected again", err)
	}
}
