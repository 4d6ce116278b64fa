package db

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// scanNode is a node of a plan that reads a table or an index.
type scanNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	IndexName string     `json:"Index Name"`
	Plans     []scanNode `json:"Plans"`
}

// planScans returns the nodes of the plan of sql that read a table or an
// index.
func planScans(t *testing.T, conn *pgx.Conn, sql string, args []any) []scanNode {
	t.Helper()
	var out []byte
	if err := conn.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+sql,
		append([]any{pgx.QueryExecModeExec}, args...)...).Scan(&out); err != nil {
		t.Fatalf("EXPLAIN %s: %v", sql, err)
	}
	var plans []struct{ Plan scanNode }
	if err := json.Unmarshal(out, &plans); err != nil {
		t.Fatal(err)
	}
	var scans []scanNode
	var walk func(n scanNode)
	walk = func(n scanNode) {
		if n.Relation != "" || n.IndexName != "" {
			scans = append(scans, n)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	return scans
}

// lastActiveProbe reports whether n is Better Auth's "last active" column
// reading a kept user's sessions through session_userId_idx; any other read
// of the session table (a scan of it all) is not.
func lastActiveProbe(n scanNode) bool {
	return n.IndexName == "session_userId_idx"
}

// readsOnlyThrough reports how the plan of sql falls short of reading the
// table only through index: "" when it does.
func readsOnlyThrough(t *testing.T, conn *pgx.Conn, index, sql string, args ...any) string {
	t.Helper()
	used := false
	var shape []string
	for _, n := range planScans(t, conn, sql, args) {
		shape = append(shape, n.NodeType+" "+n.IndexName)
		switch {
		case lastActiveProbe(n):
		case n.IndexName == index:
			used = true
		case n.NodeType == "Bitmap Heap Scan":
		default:
			return fmt.Sprintf("reads %s %s; plan scans %v", n.NodeType, n.IndexName, shape)
		}
	}
	if !used {
		return fmt.Sprintf("never reads %s; plan scans %v", index, shape)
	}
	return ""
}

// TestLookupsUseTheirIndex checks the plans of the id lookup, the email
// lookup and the browse filter's exact email: each must read the table only
// through the primary key or the email index, before and after the
// browse-order index exists. The table is analyzed before the email index
// is built, so the planner has no statistics on lower(email) and guesses
// that 0.5% of rows match an address: the guess with which, unfenced, it
// prefers walking the browse-order index for an ORDER BY ... LIMIT 1.
func TestLookupsUseTheirIndex(t *testing.T) {
	for _, gen := range generations {
		t.Run(string(gen), func(t *testing.T) {
			f := newFixture(t, gen)
			seedMany(t, f, 20000, 0)
			s := specs[gen]
			f.exec(t, "ANALYZE "+s.table)
			ctx := context.Background()
			b := f.browser(t, nil)
			d := f.directory(t)
			pkey := map[authprovider.Provider]string{authprovider.Stack: "users_sync_pkey", authprovider.BetterAuth: "user_pkey"}[gen]
			emailIndex := "user_email_key"
			if gen == authprovider.Stack {
				if err := b.CreateOfferedIndex(ctx, IndexForEmail); err != nil {
					t.Fatal(err)
				}
				emailIndex = s.emailIndex
			}
			id := f.id("x")
			if gen == authprovider.Stack {
				id = "user_12345"
			}
			var idArg any = id
			if gen == authprovider.BetterAuth {
				idArg = asUUID(id)
			}
			at := t0.Add(1000 * 1e9)
			for _, browseIndex := range []bool{false, true} {
				if browseIndex {
					if err := b.CreateIndex(ctx); err != nil {
						t.Fatal(err)
					}
				}
				check := func(what, index, sql string, args ...any) {
					t.Helper()
					if why := readsOnlyThrough(t, f.conn, index, sql, args...); why != "" {
						t.Errorf("browse-order index %v: %s %s", browseIndex, what, why)
					}
				}
				check("id lookup", pkey, d.q.get, idArg)
				check("email lookup", emailIndex, d.q.findEmail, "P12345@Example.com")
				for _, from := range []bound{{}, {after: &position{created: &at, id: id}}} {
					var a sqlArgs
					sql := s.pageSQL(&a, Filter{Email: "P12345@Example.com"}, segAll, true, from, 51)
					// The join back to the page's rows reads the primary key.
					for _, n := range planScans(t, f.conn, sql, a.args) {
						if n.IndexName != pkey && n.IndexName != emailIndex && n.NodeType != "Bitmap Heap Scan" && !lastActiveProbe(n) {
							t.Errorf("browse-order index %v: email filter page reads %s %s", browseIndex, n.NodeType, n.IndexName)
						}
					}
				}
			}
			// Both lookups still answer, through those plans.
			if u, err := d.Find(ctx, "p12345@EXAMPLE.com"); err != nil || u.Email != "p12345@example.com" {
				t.Errorf("Find by email = %+v, %v", u, err)
			}
		})
	}
}
