package db

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

type planNode struct {
	NodeType  string     `json:"Node Type"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

// limitInput returns the node feeding the first Limit of the plan of sql.
func limitInput(t *testing.T, conn *pgx.Conn, sql string, args []any) planNode {
	t.Helper()
	var out []byte
	if err := conn.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+sql,
		append([]any{pgx.QueryExecModeExec}, args...)...).Scan(&out); err != nil {
		t.Fatalf("EXPLAIN %s: %v", sql, err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(out, &plans); err != nil {
		t.Fatal(err)
	}
	var find func(n planNode) *planNode
	find = func(n planNode) *planNode {
		if n.NodeType == "Limit" && len(n.Plans) > 0 {
			return &n.Plans[0]
		}
		for _, c := range n.Plans {
			if r := find(c); r != nil {
				return r
			}
		}
		return nil
	}
	n := find(plans[0].Plan)
	if n == nil {
		t.Fatalf("no Limit in the plan of %s", sql)
	}
	return *n
}

// TestSegmentedStatementsWalkTheIndex checks every statement shape of the
// segmented form: each must be a Limit directly over a scan of the offered
// index, with no sort in between. Sequential and bitmap scans and sorts are
// disabled: on a tiny table they are cheaper, and the question here is
// whether the index can serve the statement at all.
type indexShape struct {
	name   string
	seg    segment
	newest bool
	from   bound
	filter Filter
}

func TestSegmentedStatementsWalkTheIndex(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 300, 5)
			b := f.browser(t, nil)
			if err := b.CreateIndex(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.exec(t, "ANALYZE "+specs[gen].table)
			f.exec(t, "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off")
			at := t0.Add(time.Minute)
			id := f.id("x")
			dated, undated := position{created: &at, id: id}, position{id: id}
			shapes := []indexShape{
				{"first page", segDated, true, bound{}, Filter{}},
				{"after", segDated, true, bound{after: &dated}, Filter{}},
				{"at", segDated, true, bound{at: &at}, Filter{}},
				{"before", segDated, false, bound{after: &dated}, Filter{}},
				{"last", segDated, false, bound{}, Filter{}},
			}
			if gen == authprovider.BetterAuth {
				shapes = append(shapes, indexShape{"after, verified", segDated, true, bound{after: &dated}, Filter{Status: StatusVerified}})
			}
			if gen == authprovider.Stack {
				shapes = append(shapes, []indexShape{
					{"undated first", segUndated, true, bound{}, Filter{}},
					{"undated after", segUndated, true, bound{after: &undated}, Filter{}},
					{"undated before", segUndated, false, bound{after: &undated}, Filter{}},
					{"undated last", segUndated, false, bound{}, Filter{}},
					{"after, deleted", segDated, true, bound{after: &dated}, Filter{Status: StatusDeleted}},
				}...)
			}
			for _, s := range shapes {
				var a sqlArgs
				sql := specs[gen].pageSQL(&a, s.filter, s.seg, s.newest, s.from, 51)
				n := limitInput(t, f.conn, sql, a.args)
				if (n.NodeType != "Index Scan" && n.NodeType != "Index Only Scan") || n.IndexName != specs[gen].index {
					t.Errorf("%s: Limit reads %s %s, want a scan of %s", s.name, n.NodeType, n.IndexName, specs[gen].index)
				}
			}
		})
	}
}

func TestIndexLifecycle(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 200, 0)
			f.exec(t, "ANALYZE "+specs[gen].table)
			b := f.browser(t, nil)
			ctx := context.Background()
			a, err := b.AdviseIndex(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantCreate := map[authprovider.Provider]string{
				authprovider.Stack:      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_sync_created_at_id_idx" ON neon_auth.users_sync (created_at DESC, id DESC)`,
				authprovider.BetterAuth: `CREATE INDEX CONCURRENTLY IF NOT EXISTS "user_created_at_id_idx" ON neon_auth."user" ("createdAt" DESC, id DESC)`,
			}[gen]
			if a.Present() || !a.CanCreate || a.CreateSQL != wantCreate || a.Owner != "postgres" || a.Role != "postgres" ||
				a.Rows != 200 || a.EstimatedBytes < 2*blockSize || len(a.Invalid) != 0 || a.Building != nil || a.NameTaken {
				t.Fatalf("advice before = %+v", a)
			}
			if indexed, _ := b.orderIndexed(ctx); indexed {
				t.Fatal("orderIndexed before the index exists")
			}
			if err := b.CreateIndex(ctx); err != nil {
				t.Fatal(err)
			}
			if a, err = b.AdviseIndex(ctx); err != nil || a.Serving != a.Name || a.ServingBytes <= 0 {
				t.Fatalf("advice after create = %+v, %v", a, err)
			}
			if indexed, _ := b.orderIndexed(ctx); !indexed {
				t.Fatal("orderIndexed is false after CreateIndex")
			}
			if err := b.CreateIndex(ctx); err != nil {
				t.Fatalf("second CreateIndex: %v", err)
			}
			if err := b.DropIndex(ctx, a.Name); err != nil {
				t.Fatal(err)
			}
			if a, err = b.AdviseIndex(ctx); err != nil || a.Present() {
				t.Fatalf("advice after drop = %+v, %v", a, err)
			}
			if indexed, _ := b.orderIndexed(ctx); indexed {
				t.Fatal("orderIndexed is still true after DropIndex")
			}
		})
	}
}

func TestIndexAdvisorRecognizesOtherIndexes(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	seedMany(t, f, 10, 0)
	ctx := context.Background()
	for _, c := range []struct {
		ddl    string
		serves bool
	}{
		{"CREATE INDEX mine ON neon_auth.users_sync (created_at, id)", true},
		{"CREATE INDEX mine ON neon_auth.users_sync (created_at DESC, id DESC, email)", true},
		{"CREATE INDEX mine ON neon_auth.users_sync (created_at DESC, id)", false},
		{"CREATE INDEX mine ON neon_auth.users_sync (created_at DESC NULLS LAST, id DESC NULLS LAST)", false},
		{"CREATE INDEX mine ON neon_auth.users_sync (created_at, id) WHERE deleted_at IS NULL", false},
		{"CREATE INDEX mine ON neon_auth.users_sync (created_at, id COLLATE \"C\")", false},
		{"CREATE INDEX mine ON neon_auth.users_sync USING hash (created_at)", false},
		{"CREATE INDEX mine ON neon_auth.users_sync (created_at)", false},
		{"CREATE INDEX mine ON neon_auth.users_sync (id, created_at)", false},
	} {
		f.exec(t, c.ddl)
		a, err := f.browser(t, nil).AdviseIndex(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a.Present() != c.serves || (c.serves && a.Serving != "mine") {
			t.Errorf("%s: Serving = %q, want serves=%v", c.ddl, a.Serving, c.serves)
		}
		f.exec(t, "DROP INDEX neon_auth.mine")
	}
}

func TestIndexAdvisorNameTakenByAnotherIndex(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	f.exec(t, "CREATE INDEX users_sync_created_at_id_idx ON neon_auth.users_sync (email)")
	b := f.browser(t, nil)
	a, err := b.AdviseIndex(context.Background())
	if err != nil || !a.NameTaken || a.Present() {
		t.Fatalf("advice = %+v, %v", a, err)
	}
	if err := b.CreateIndex(context.Background()); err == nil {
		t.Fatal("CreateIndex succeeded although IF NOT EXISTS would skip it")
	}
}

func TestInvalidIndexFromFailedBuild(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	seedPeople(t, f)
	f.insert(t, seedUser{key: "bob2", email: "bob@example.com", name: "Bob", created: t0})
	ctx := context.Background()
	// A concurrent unique build over duplicate emails fails after creating
	// its catalog entry, leaving the index INVALID under the offered name.
	_, err := f.conn.Exec(ctx, "CREATE UNIQUE INDEX CONCURRENTLY users_sync_created_at_id_idx ON neon_auth.users_sync (email)")
	if err == nil {
		t.Fatal("the failing build succeeded")
	}
	b := f.browser(t, nil)
	a, err := b.AdviseIndex(ctx)
	if err != nil || !slices.Equal(a.Invalid, []string{a.Name}) || a.Present() || a.NameTaken {
		t.Fatalf("advice = %+v, %v", a, err)
	}
	if err := b.CreateIndex(ctx); !errors.Is(err, ErrIndexInvalid) {
		t.Fatalf("CreateIndex over an invalid index = %v, want ErrIndexInvalid", err)
	}
	if got := a.DropSQL(a.Name); got != `DROP INDEX CONCURRENTLY IF EXISTS "neon_auth"."users_sync_created_at_id_idx"` {
		t.Errorf("DropSQL = %s", got)
	}
	if err := b.DropIndex(ctx, a.Name); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateIndex(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDropIndexRefusesOtherIndexes(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	f.exec(t, `CREATE INDEX user_name_idx ON neon_auth."user" (name)`)
	b := f.browser(t, nil)
	for _, name := range []string{"user_pkey", "user_email_key", "user_name_idx", "nope", `x"; DROP TABLE neon_auth."user"; --`} {
		wantInputError(t, b.DropIndex(context.Background(), name), "index")
	}
}

// TestIndexNeedsTableOwner connects as a role that may read the table but
// does not own it.
func TestIndexNeedsTableOwner(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	ctx := context.Background()
	role, asRole := pgtest.NewRole(t, f.connString, "USAGE ON SCHEMA neon_auth", "SELECT ON neon_auth.users_sync")
	f.exec(t, "CREATE INDEX users_sync_created_at_id_idx ON neon_auth.users_sync (created_at DESC, id DESC)")
	pool, err := newPools(t).Get(ctx, asRole)
	if err != nil {
		t.Fatal(err)
	}
	b := NewUserBrowser(pool, authprovider.Stack, nil)
	a, err := b.AdviseIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.CanCreate || a.Role != role || a.Owner != "postgres" || !a.Present() {
		t.Errorf("advice as %s = %+v", role, a)
	}
	if err := b.DropIndex(ctx, a.Name); !errors.Is(err, ErrPermission) {
		t.Errorf("DropIndex as a reader = %v, want ErrPermission", err)
	}
	f.exec(t, "DROP INDEX neon_auth.users_sync_created_at_id_idx")
	if err := b.CreateIndex(ctx); !errors.Is(err, ErrPermission) {
		t.Errorf("CreateIndex as a reader = %v, want ErrPermission", err)
	}
}

// TestIndexProgressDuringBuild holds a write open on the table so that the
// concurrent build waits in its first phase, where it can be observed.
func TestIndexProgressDuringBuild(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	seedMany(t, f, 50, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	writer, err := f.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Exec(ctx, `UPDATE neon_auth."user" SET name = 'w' WHERE id = md5('1')::uuid`); err != nil {
		t.Fatal(err)
	}
	b := f.browser(t, nil)
	done := make(chan error, 1)
	go func() { done <- b.CreateIndex(ctx) }()

	var p *IndexProgress
	for p == nil || p.Index == "" {
		select {
		case err := <-done:
			t.Fatalf("CreateIndex ended while a writer was open: %v", err)
		case <-ctx.Done():
			t.Fatal("the build never showed in pg_stat_progress_create_index")
		case <-time.After(20 * time.Millisecond):
		}
		if p, err = b.IndexProgress(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if p.Command != "CREATE INDEX CONCURRENTLY" || p.Index != specs[authprovider.BetterAuth].index || p.PID == 0 || p.PhaseDone() != -1 {
		t.Errorf("progress = %+v", p)
	}
	other := NewUserBrowser(b.pool, authprovider.BetterAuth, NewCache(0))
	a, err := other.AdviseIndex(ctx)
	if err != nil || a.Building == nil || len(a.Invalid) != 0 || a.Present() || a.NameTaken {
		t.Errorf("advice during the build = %+v, %v", a, err)
	}
	if err := other.CreateIndex(ctx); !errors.Is(err, ErrIndexBuilding) {
		t.Errorf("second CreateIndex = %v, want ErrIndexBuilding", err)
	}
	if err := other.DropIndex(ctx, a.Name); !errors.Is(err, ErrIndexBuilding) {
		t.Errorf("DropIndex during the build = %v, want ErrIndexBuilding", err)
	}
	if err := writer.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("CreateIndex: %v", err)
	}
	if p, err := b.IndexProgress(ctx); err != nil || p != nil {
		t.Errorf("progress after the build = %+v, %v", p, err)
	}
}

func TestEstimateIndexBytesMatchesABuild(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 20000, 0)
			f.exec(t, "ANALYZE "+specs[gen].table)
			b := f.browser(t, nil)
			ctx := context.Background()
			a, err := b.AdviseIndex(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.CreateIndex(ctx); err != nil {
				t.Fatal(err)
			}
			after, err := b.AdviseIndex(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r := float64(a.EstimatedBytes) / float64(after.ServingBytes); r < 0.85 || r > 1.15 {
				t.Errorf("estimated %d bytes, built %d (ratio %.2f); basis: %s", a.EstimatedBytes, after.ServingBytes, r, a.EstimateBasis)
			}
		})
	}
}

func TestEmailIndexOffer(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	seedMany(t, f, 20000, 0)
	f.exec(t, "ANALYZE neon_auth.users_sync")
	b := f.browser(t, nil)
	ctx := context.Background()
	a, err := b.AdviseIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := a.Offer(IndexForEmail)
	if !ok || len(a.Offers) != 2 || a.Offers[0].Name != a.Name || a.Offers[0].CreateSQL != a.CreateSQL ||
		o.Name != "users_sync_lower_email_idx" || o.Present() || o.NameTaken ||
		o.CreateSQL != `CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_sync_lower_email_idx" ON neon_auth.users_sync (lower(email))` {
		t.Fatalf("advice = %+v", a)
	}
	if w := a.Wanted(20000); len(w) != 2 || w[1].Purpose != IndexForEmail {
		t.Errorf("Wanted(20000) = %+v, want both offers", w)
	}
	if w := a.Wanted(20001); len(w) != 0 {
		t.Errorf("Wanted on a table below the threshold = %+v", w)
	}
	b.largeTable = 1000
	if c, err := b.Count(ctx, Filter{Email: "p7@example.com"}, false); err != nil || c.Exact {
		t.Errorf("count by email without an index = %+v, %v; want no exact count on a large table", c, err)
	}

	if err := b.CreateOfferedIndex(ctx, IndexForEmail); err != nil {
		t.Fatal(err)
	}
	if a, err = b.AdviseIndex(ctx); err != nil {
		t.Fatal(err)
	}
	o, _ = a.Offer(IndexForEmail)
	if o.Serving != o.Name || o.ServingBytes <= 0 || a.Present() {
		t.Fatalf("advice after creating the email index = %+v", a)
	}
	if c, err := b.Count(ctx, Filter{Email: "P7@example.com"}, false); err != nil || !c.Exact || c.N != 1 {
		t.Errorf("count by email through the index = %+v, %v; want exactly 1", c, err)
	}
	if w := a.Wanted(0); len(w) != 1 || w[0].Purpose != IndexForBrowse {
		t.Errorf("Wanted after = %+v, want the browse-order offer alone", w)
	}
	if r := float64(o.ServingBytes) / float64(a.Offers[1].EstimatedBytes); r < 0.85 || r > 1.15 {
		t.Errorf("email index built %d bytes, estimated %d; basis: %s", o.ServingBytes, a.Offers[1].EstimatedBytes, a.Offers[1].EstimateBasis)
	}
	if err := b.CreateOfferedIndex(ctx, IndexForEmail); err != nil {
		t.Fatalf("second CreateOfferedIndex: %v", err)
	}
	if err := b.DropIndex(ctx, o.Name); err != nil {
		t.Fatal(err)
	}
	if a, err = b.AdviseIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if o, _ = a.Offer(IndexForEmail); o.Present() {
		t.Fatalf("advice after dropping the email index = %+v", o)
	}
	if use, err := b.indexUse(ctx); err != nil || use.email {
		t.Errorf("indexUse after the drop = %+v, %v", use, err)
	}
}

func TestEmailIndexRecognition(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	seedMany(t, f, 10, 0)
	ctx := context.Background()
	for _, c := range []struct {
		ddl    string
		serves bool
	}{
		{"CREATE INDEX mine ON neon_auth.users_sync (lower(email))", true},
		{"CREATE UNIQUE INDEX mine ON neon_auth.users_sync (lower(email), id)", true},
		{"CREATE INDEX mine ON neon_auth.users_sync (email)", false},
		{"CREATE INDEX mine ON neon_auth.users_sync (upper(email))", false},
		{"CREATE INDEX mine ON neon_auth.users_sync (lower(email)) WHERE deleted_at IS NULL", false},
		{"CREATE INDEX mine ON neon_auth.users_sync (lower(email) text_pattern_ops)", false},
		{`CREATE INDEX mine ON neon_auth.users_sync (lower(email) COLLATE "C")`, false},
		{"CREATE INDEX mine ON neon_auth.users_sync USING hash (lower(email))", false},
	} {
		f.exec(t, c.ddl)
		b := f.browser(t, nil)
		a, err := b.AdviseIndex(ctx)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := a.Offer(IndexForEmail)
		if o.Present() != c.serves || (c.serves && o.Serving != "mine") {
			t.Errorf("%s: Serving = %q, want serves=%v", c.ddl, o.Serving, c.serves)
		}
		if err := b.DropIndex(ctx, "mine"); (err == nil) != c.serves {
			t.Errorf("%s: DropIndex = %v", c.ddl, err)
		}
		f.exec(t, "DROP INDEX IF EXISTS neon_auth.mine")
	}
	f.exec(t, "CREATE INDEX users_sync_lower_email_idx ON neon_auth.users_sync (email)")
	b := f.browser(t, nil)
	a, err := b.AdviseIndex(ctx)
	if o, _ := a.Offer(IndexForEmail); err != nil || !o.NameTaken || o.Present() || a.NameTaken {
		t.Fatalf("advice = %+v, %v", a, err)
	}
	if err := b.CreateOfferedIndex(ctx, IndexForEmail); err == nil {
		t.Fatal("CreateOfferedIndex succeeded although IF NOT EXISTS would skip it")
	}
}

func TestBetterAuthEmailNeedsNoOffer(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	seedMany(t, f, 10, 0)
	b := f.browser(t, nil)
	ctx := context.Background()
	a, err := b.AdviseIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Offer(IndexForEmail); ok || len(a.Offers) != 1 {
		t.Errorf("offers = %+v, want the browse-order one alone", a.Offers)
	}
	wantInputError(t, b.CreateOfferedIndex(ctx, IndexForEmail), "index")
	if use, err := b.indexUse(ctx); err != nil || !use.email {
		t.Errorf("indexUse = %+v, %v; want the unique email index to serve lookups", use, err)
	}
	if c, err := b.Count(ctx, Filter{Email: "P7@example.com"}, false); err != nil || !c.Exact || c.N != 1 {
		t.Errorf("count by email = %+v, %v; want exactly 1", c, err)
	}
}
