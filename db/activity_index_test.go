package db

import (
	"context"
	"slices"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// TestSessionsIndexOffer checks the advisor's offer of the sessions view's
// index on a Better Auth branch: offered on a session table above the
// threshold, built as the sessions view spells it, recognised, and
// dropped; and that with it the users browse still reads a kept user's
// sessions through session_userId_idx alone.
func TestSessionsIndexOffer(t *testing.T) {
	f := newFixture(t, authprovider.BetterAuth)
	seedMany(t, f, 5000, 0)
	f.exec(t, `INSERT INTO neon_auth.session (id, "expiresAt", token, "createdAt", "updatedAt", "userId")
SELECT gen_random_uuid(), now() + interval '7 days', gen_random_uuid()::text, t, t, u.id
  FROM neon_auth."user" u, generate_series(1, 3) g, LATERAL (SELECT u."createdAt" + g * interval '1 hour' AS t) x`)
	f.exec(t, "ANALYZE neon_auth.session")
	f.exec(t, `ANALYZE neon_auth."user"`)
	b := f.browser(t, nil)
	ctx := context.Background()
	a, err := b.AdviseIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := a.Offer(IndexForSessions)
	if !ok || len(a.Offers) != 1 || len(a.Related) != 1 || o.Table != "neon_auth.session" || o.Name != SessionsIndex ||
		o.CreateSQL != SessionsIndexSQL || o.Present() || o.NameTaken || o.Rows != 15000 || o.EstimatedBytes <= 0 {
		t.Fatalf("advice = %+v", a)
	}
	if w := a.Wanted(15000); !slices.ContainsFunc(w, func(o IndexOffer) bool { return o.Purpose == IndexForSessions }) {
		t.Errorf("Wanted(15000) = %+v, want the sessions offer", w)
	}
	if w := a.Wanted(15001); slices.ContainsFunc(w, func(o IndexOffer) bool { return o.Purpose == IndexForSessions }) {
		t.Errorf("Wanted(15001) = %+v, want no sessions offer below the threshold", w)
	}

	if err := b.CreateOfferedIndex(ctx, IndexForSessions); err != nil {
		t.Fatal(err)
	}
	if a, err = b.AdviseIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if o, _ = a.Offer(IndexForSessions); o.Serving != SessionsIndex || o.ServingBytes <= 0 || a.Present() {
		t.Fatalf("advice after the build = %+v", a)
	}
	if r := float64(o.ServingBytes) / float64(o.EstimatedBytes); r < 0.5 || r > 2 {
		t.Errorf("sessions index built %d bytes, estimated %d", o.ServingBytes, o.EstimatedBytes)
	}
	// The users browse, before and after its own index: the last active
	// column reads session_userId_idx, never the new index or the table.
	for _, indexed := range []bool{false, true} {
		var args sqlArgs
		sql := specs[authprovider.BetterAuth].pageSQL(&args, Filter{}, segAll, true, bound{}, 51)
		if indexed {
			sql = specs[authprovider.BetterAuth].pageSQL(&args, Filter{}, segDated, true, bound{}, 51)
		}
		for _, n := range planScans(t, f.conn, sql, args.args) {
			if n.Relation == "session" && n.NodeType != "Bitmap Heap Scan" || n.IndexName == SessionsIndex {
				t.Errorf("browse page (indexed %v) reads %s %s %s", indexed, n.NodeType, n.Relation, n.IndexName)
			}
		}
		if !indexed {
			if err := b.CreateIndex(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A session index someone else made is recognised, whatever its name.
	if err := b.DropIndex(ctx, SessionsIndex); err != nil {
		t.Fatal(err)
	}
	f.exec(t, `CREATE INDEX mine ON neon_auth.session ("createdAt", id)`)
	if a, err = b.AdviseIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if o, _ = a.Offer(IndexForSessions); o.Serving != "mine" {
		t.Errorf("advice with another sessions index = %+v", o)
	}
	f.exec(t, "DROP INDEX neon_auth.mine")
	// Better Auth's own session indexes are not the dashboard's to drop.
	wantInputError(t, b.DropIndex(ctx, "session_userId_idx"), "index")
	wantInputError(t, b.DropIndex(ctx, "session_token_key"), "index")
}

// TestSessionsIndexNotOfferedForStack checks that Stack Auth, which keeps no
// sessions, is offered no session index.
func TestSessionsIndexNotOfferedForStack(t *testing.T) {
	f := newFixture(t, authprovider.Stack)
	seedMany(t, f, 10, 0)
	a, err := f.browser(t, nil).AdviseIndex(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Offer(IndexForSessions); ok || len(a.Related) != 0 {
		t.Errorf("Stack Auth advice offers %+v", a.Related)
	}
}
