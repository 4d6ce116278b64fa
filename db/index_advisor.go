package db

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"
)

// IndexAdvice says whether an index serves the browse order of the user
// table and, if not, what creating one would take.
type IndexAdvice struct {
	// Table is the qualified user table.
	Table string
	// Name is the index the advisor offers to create.
	Name string
	// Serving names a valid index that already serves the browse order,
	// in either direction; it may have been made by someone else under
	// another name. "" when none does.
	Serving string
	// ServingBytes is the size of the Serving index on disk.
	ServingBytes int64
	// Invalid lists indexes on the table that a failed concurrent build
	// left INVALID: never used by queries, still maintained on every write.
	// Each should be dropped (DropSQL).
	Invalid []string
	// NameTaken reports that an index called Name exists in neon_auth but
	// does not serve the browse order, so CreateSQL would do nothing.
	NameTaken bool
	// Building is the CREATE INDEX running on the table right now, if any.
	Building *IndexProgress
	// Rows is the planner's estimate of the table's rows.
	Rows int64
	// EstimatedBytes is the expected size of the offered index; see
	// EstimateBasis for how it was worked out.
	EstimatedBytes int64
	EstimateBasis  string
	// Owner is the role owning the table; Role is the connected role.
	Owner, Role string
	// CanCreate reports whether Role may create and drop indexes on the
	// table: it is the owner, a member with the owner's privileges, or a
	// superuser.
	CanCreate bool
	// CreateSQL is the exact statement CreateIndex runs.
	CreateSQL string
}

// Present reports whether a valid index serves the browse order.
func (a IndexAdvice) Present() bool { return a.Serving != "" }

// DropSQL is the exact statement DropIndex runs for the index name.
func (a IndexAdvice) DropSQL(name string) string {
	return "DROP INDEX CONCURRENTLY IF EXISTS " + pgx.Identifier{"neon_auth", name}.Sanitize()
}

// createSQL is the statement building the offered index. CREATE INDEX
// takes no schema on the index name: the index goes in its table's schema.
func (s *tableSpec) createSQL() string {
	return fmt.Sprintf("CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s (%s DESC, id DESC)",
		pgx.Identifier{s.index}.Sanitize(), s.table, s.created)
}

// indexRow is one index of the user table, as the catalog describes it.
type indexRow struct {
	name       string
	valid      bool
	serves     bool
	constraint bool // backs a primary key or unique constraint
	building   bool
	bytes      int64
}

// indexesSQL lists the table's indexes. An index serves the browse order
// when it is a plain btree (no predicate, default operator classes, the
// column's collation) whose first two keys are created and id, both
// ascending with NULLS LAST or both descending with NULLS FIRST (indoption
// bits 1 and 2): the planner then walks it forwards or backwards for every
// statement the browser sends.
const indexesSQL = `SELECT c.relname::text,
       i.indisvalid AND i.indisready AND i.indislive,
       am.amname = 'btree' AND i.indpred IS NULL AND i.indnkeyatts >= 2
         AND i.indkey[0] = ca.attnum AND i.indkey[1] = ia.attnum
         AND (i.indoption[0] & 3) = (i.indoption[1] & 3) AND (i.indoption[0] & 3) IN (0, 3)
         AND i.indcollation[1] = ia.attcollation
         AND (SELECT bool_and(opcdefault) FROM pg_opclass WHERE oid IN (i.indclass[0], i.indclass[1])),
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid),
       EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid),
       pg_relation_size(i.indexrelid)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am am ON am.oid = c.relam
  JOIN pg_attribute ca ON ca.attrelid = i.indrelid AND ca.attname = $2
  JOIN pg_attribute ia ON ia.attrelid = i.indrelid AND ia.attname = 'id'
 WHERE i.indrelid = to_regclass($1)
 ORDER BY c.relname`

func (b *UserBrowser) indexes(ctx context.Context) ([]indexRow, error) {
	rows, err := b.pool.Query(ctx, indexesSQL, b.spec.table, b.spec.createdAttr)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (indexRow, error) {
		var x indexRow
		err := r.Scan(&x.name, &x.valid, &x.serves, &x.constraint, &x.building, &x.bytes)
		return x, err
	})
}

// orderIndexed reports whether a valid index serves the browse order. The
// answer is cached: Browse asks on every page.
func (b *UserBrowser) orderIndexed(ctx context.Context) (bool, error) {
	v, _, err := cached(ctx, b.cache, b.indexCacheKey(), func(ctx context.Context) (bool, error) {
		list, err := b.indexes(ctx)
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(list, func(x indexRow) bool { return x.valid && x.serves }), nil
	})
	if err != nil {
		return false, wrapErr("check browse index", b.target, err)
	}
	return v, nil
}

func (b *UserBrowser) indexCacheKey() string { return b.cacheKey + "|index" }

// AdviseIndex reports whether an index serves the browse order, which
// indexes failed builds left behind, and what creating the offered one would
// cost and require.
func (b *UserBrowser) AdviseIndex(ctx context.Context) (IndexAdvice, error) {
	const op = "advise index"
	if err := b.check(op); err != nil {
		return IndexAdvice{}, err
	}
	a := IndexAdvice{Table: b.spec.table, Name: b.spec.index, CreateSQL: b.spec.createSQL()}
	list, err := b.indexes(ctx)
	if err != nil {
		return IndexAdvice{}, wrapErr(op, b.target, err)
	}
	// ours: an index named a.Name exists on the table and is the offered
	// one, whether valid, being built or left invalid.
	ours := false
	for _, x := range list {
		ours = ours || (x.name == a.Name && (x.serves || !x.valid))
		switch {
		case x.valid && x.serves && a.Serving == "":
			a.Serving, a.ServingBytes = x.name, x.bytes
		case !x.valid && !x.building && !x.constraint:
			a.Invalid = append(a.Invalid, x.name)
		}
	}
	var width *int32
	err = b.pool.QueryRow(ctx, `SELECT pg_get_userbyid(c.relowner)::text, current_user::text,
       pg_has_role(current_user, c.relowner, 'USAGE'),
       to_regclass($2) IS NOT NULL,
       (SELECT avg_width FROM pg_stats s WHERE s.schemaname = 'neon_auth' AND s.tablename = c.relname AND s.attname = 'id')
  FROM pg_class c WHERE c.oid = to_regclass($1)`,
		b.spec.table, pgx.Identifier{"neon_auth", b.spec.index}.Sanitize()).Scan(&a.Owner, &a.Role, &a.CanCreate, &a.NameTaken, &width)
	if err != nil {
		return IndexAdvice{}, wrapErr(op, b.target, err)
	}
	a.NameTaken = a.NameTaken && !ours
	if a.Building, err = b.IndexProgress(ctx); err != nil {
		return IndexAdvice{}, err
	}
	rows, err := b.estimateRows(ctx, Filter{})
	if err != nil {
		return IndexAdvice{}, wrapErr(op, b.target, err)
	}
	idWidth, source := b.spec.idWidth, "assumed"
	if width != nil && b.gen == GenerationStack {
		idWidth, source = int(*width), "from pg_stats"
	}
	a.Rows = rows
	a.EstimatedBytes = estimateIndexBytes(rows, idWidth)
	a.EstimateBasis = fmt.Sprintf("%d rows (planner estimate) × %d-byte leaf entries "+
		"(4-byte line pointer + 8-byte tuple header + 8-byte timestamp + %d-byte id %s, padded to 8) "+
		"at the 90%% leaf fill of a fresh btree, plus inner pages",
		rows, indexTupleBytes(idWidth), idWidth, source)
	return a, nil
}

// Btree geometry, from PostgreSQL's nbtree: 8 kB pages with a 24-byte page
// header and 16-byte special space; a build fills leaves to 90% and inner
// pages to 70%.
const (
	blockSize        = 8192
	btreeUsable      = blockSize - 24 - 16
	leafFillFactor   = 0.90
	nonLeafFillRatio = 0.70
)

// indexTupleBytes is the space one (timestamptz, id) entry takes in a page.
func indexTupleBytes(idWidth int) int {
	data := 8 + 8 + idWidth // IndexTupleData, timestamptz, id
	return 4 + (data+7)&^7  // line pointer + MAXALIGNed tuple
}

// estimateIndexBytes estimates the size of a freshly built btree on
// (created, id) over rows rows.
func estimateIndexBytes(rows int64, idWidth int) int64 {
	tuple := float64(indexTupleBytes(idWidth))
	perLeaf := math.Floor(btreeUsable * leafFillFactor / tuple)
	perInner := math.Floor(btreeUsable * nonLeafFillRatio / tuple)
	pages := math.Ceil(float64(max(rows, 1)) / perLeaf)
	total := pages + 1 // the metapage
	for pages > 1 {
		pages = math.Ceil(pages / perInner)
		total += pages
	}
	return int64(total) * blockSize
}
