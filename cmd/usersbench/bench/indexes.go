package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
)

// offer is one index the dashboard's index advisor offers for the table.
type offer struct {
	// Purpose is what the index serves, as the advisor names it.
	Purpose db.IndexPurpose
	// Name is the index's name in neon_auth.
	Name string
	// CreateSQL is the statement the advisor would run.
	CreateSQL string
}

// Label is what the index covers, as its CREATE statement says: the
// parenthesised part, e.g. "(created_at DESC, id DESC)".
func (o offer) Label() string {
	if i := strings.Index(o.CreateSQL, " ON "); i >= 0 {
		if j := strings.Index(o.CreateSQL[i:], "("); j >= 0 {
			return strings.TrimSpace(o.CreateSQL[i+j:])
		}
	}
	return o.Name
}

// offeredIndexes asks the dashboard's advisor which indexes it offers for
// the table, so that the benchmark measures every one of them without
// knowing them in advance.
func offeredIndexes(ctx context.Context, b *db.UserBrowser) ([]offer, error) {
	a, err := b.AdviseIndex(ctx)
	if err != nil {
		return nil, err
	}
	var out []offer
	for _, o := range a.Offers {
		if o.Present() {
			return nil, fmt.Errorf("%s: an index (%s) already serves %s before the benchmark built any", a.Table, o.Serving, o.Purpose)
		}
		out = append(out, offer{Purpose: o.Purpose, Name: o.Name, CreateSQL: o.CreateSQL})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the advisor offers no index", a.Table)
	}
	return out, nil
}

// createOffered builds o through the dashboard's own code, as the advisor's
// "create" button does.
func createOffered(ctx context.Context, b *db.UserBrowser, o offer) error {
	return b.CreateOfferedIndex(ctx, o.Purpose)
}

// indexSet is a combination of the offered indexes: bit i set means
// offers[i] exists.
type indexSet struct {
	mask   uint
	offers []offer
}

// has reports whether offer i is in the set.
func (s indexSet) has(i int) bool { return s.mask&(1<<i) != 0 }

// String names the indexes present, for the results table.
func (s indexSet) String() string {
	var parts []string
	for i, o := range s.offers {
		if s.has(i) {
			parts = append(parts, o.Label())
		}
	}
	if len(parts) == 0 {
		return "no offered index"
	}
	return strings.Join(parts, " + ")
}

// combinations lists every subset of n offered indexes in Gray-code order,
// so that each step from one to the next builds or drops exactly one index.
func combinations(offers []offer) []indexSet {
	n := len(offers)
	out := make([]indexSet, 0, 1<<n)
	for i := range uint(1 << n) {
		out = append(out, indexSet{mask: i ^ (i >> 1), offers: offers})
	}
	return out
}

// switchIndexes goes from the indexes of from to those of to: offered ones
// are built through the dashboard, dropped ones with DROP INDEX CONCURRENTLY
// (the dashboard only drops what serves the browse order).
// Each build is reported to note with its time and size.
func (s *suite) switchIndexes(ctx context.Context, from, to indexSet, logf func(string, ...any), note func(string)) error {
	for i, o := range to.offers {
		switch {
		case to.has(i) && !from.has(i):
			start := time.Now()
			if err := createOffered(ctx, s.b, o); err != nil {
				return fmt.Errorf("create %s: %w", o.Name, err)
			}
			size, err := s.indexBytes(ctx, o.Name)
			if err != nil {
				return err
			}
			note(fmt.Sprintf("built %s in %s (%.1f MB) through the dashboard: %s", o.Name, time.Since(start).Round(time.Millisecond), float64(size)/(1<<20), o.CreateSQL))
		case from.has(i) && !to.has(i):
			sql := "DROP INDEX CONCURRENTLY IF EXISTS " + pgx.Identifier{"neon_auth", o.Name}.Sanitize()
			if _, err := s.bare.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("drop %s: %w", o.Name, err)
			}
			logf("  dropped %s", o.Name)
		}
	}
	return nil
}

// indexBytes is the size of a valid index, or an error when it is missing
// or invalid: a build that did not produce a usable index must not be
// measured as if it had.
func (s *suite) indexBytes(ctx context.Context, name string) (int64, error) {
	var valid bool
	var size int64
	err := s.bare.QueryRow(ctx, `SELECT i.indisvalid, pg_relation_size(i.indexrelid) FROM pg_index i
 WHERE i.indexrelid = to_regclass($1)`, pgx.Identifier{"neon_auth", name}.Sanitize()).Scan(&valid, &size)
	if err != nil {
		return 0, fmt.Errorf("index %s after its build: %w", name, err)
	}
	if !valid {
		return 0, fmt.Errorf("index %s is INVALID after its build", name)
	}
	return size, nil
}

// planOf says how Postgres runs a bare statement: the index it uses
// ("Index Scan users_sync_pkey") or else its scan ("Seq Scan"), and
// whether an index serves it.
func (s *suite) planOf(ctx context.Context, sql string, args ...any) (string, bool) {
	var out string
	err := s.bare.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...).Scan(&out)
	if err != nil {
		return "EXPLAIN failed: " + err.Error(), false
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) == 0 {
		return "unreadable plan", false
	}
	var scan, indexed string
	var walk func(n planNode)
	walk = func(n planNode) {
		if n.IndexName != "" && indexed == "" {
			indexed = n.NodeType + " " + n.IndexName
		}
		if strings.HasSuffix(n.NodeType, "Scan") && scan == "" {
			scan = n.NodeType
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	if indexed != "" {
		return indexed, true
	}
	return scan, false
}

// planNode is the part of a JSON plan node planOf reads.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}
