package db

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// IndexPurpose names the reads an index the advisor offers serves.
type IndexPurpose string

const (
	// IndexForBrowse serves the browse order: every page, at any depth.
	IndexForBrowse IndexPurpose = "browse"
	// IndexForEmail serves email lookups: checking a user by email and the
	// browse filter's exact email. Only users_sync gets one offered: Better
	// Auth's unique email constraint has an index that serves them.
	IndexForEmail IndexPurpose = "email"
)

// reads says what an index of purpose p serves, for messages.
func (p IndexPurpose) reads() string {
	if p == IndexForEmail {
		return "email lookups"
	}
	return "the browse order"
}

// IndexOffer is one index the advisor offers: whether an index already
// serves its purpose and, if not, what creating the offered one would take.
type IndexOffer struct {
	Purpose IndexPurpose
	// Name is the index the advisor offers to create.
	Name string
	// Serving names a valid index that already serves the purpose; it may
	// have been made by someone else under another name. "" when none does.
	Serving string
	// ServingBytes is the size of the Serving index on disk.
	ServingBytes int64
	// NameTaken reports that an index called Name exists in neon_auth but
	// does not serve the purpose, so CreateSQL would do nothing.
	NameTaken bool
	// EstimatedBytes is the expected size of the offered index; see
	// EstimateBasis for how it was worked out.
	EstimatedBytes int64
	EstimateBasis  string
	// CreateSQL is the exact statement CreateOfferedIndex runs.
	CreateSQL string
}

// Present reports whether a valid index serves the offer's purpose.
func (o IndexOffer) Present() bool { return o.Serving != "" }

// IndexAdvice says which reads of the user table indexes serve, which
// indexes failed builds left behind, and what creating each offered index
// would cost and require. Name, Serving, ServingBytes, NameTaken,
// EstimatedBytes, EstimateBasis and CreateSQL describe the browse-order
// offer, Offers[0].
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
	// Rows is how many rows the table holds: counted exactly when it is
	// small or has no statistics yet (RowsExact), the planner's estimate
	// otherwise.
	Rows      int64
	RowsExact bool
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
	// Offers lists every index the advisor offers on the table: the
	// browse-order one first, then, for users_sync, the email index
	// (IndexForEmail), without which an email lookup scans the table.
	Offers []IndexOffer
}

// Present reports whether a valid index serves the browse order.
func (a IndexAdvice) Present() bool { return a.Serving != "" }

// Offer returns the offer for purpose, or false when the advisor offers no
// index for it on this table.
func (a IndexAdvice) Offer(purpose IndexPurpose) (IndexOffer, bool) {
	i := slices.IndexFunc(a.Offers, func(o IndexOffer) bool { return o.Purpose == purpose })
	if i < 0 {
		return IndexOffer{}, false
	}
	return a.Offers[i], true
}

// Wanted lists the offers worth creating when reads that scan start to hurt
// at minRows rows: those whose purpose no index serves yet, on a table of
// at least minRows rows.
func (a IndexAdvice) Wanted(minRows int64) []IndexOffer {
	if a.Rows < minRows {
		return nil
	}
	var out []IndexOffer
	for _, o := range a.Offers {
		if !o.Present() {
			out = append(out, o)
		}
	}
	return out
}

// DropSQL is the exact statement DropIndex runs for the index name.
func (a IndexAdvice) DropSQL(name string) string {
	return "DROP INDEX CONCURRENTLY IF EXISTS " + pgx.Identifier{"neon_auth", name}.Sanitize()
}

// offerSpec is one index the advisor offers on a table.
type offerSpec struct {
	purpose IndexPurpose
	name    string
	keys    string // the CREATE INDEX key list
	serves  func(indexRow) bool
}

// offers lists the indexes the advisor offers on s's table.
func (s *tableSpec) offers() []offerSpec {
	o := []offerSpec{{IndexForBrowse, s.index, s.created + " DESC, id DESC", func(x indexRow) bool { return x.serves }}}
	if s.emailIndex != "" {
		o = append(o, offerSpec{IndexForEmail, s.emailIndex, s.emailKey, func(x indexRow) bool { return x.servesEmail }})
	}
	return o
}

// createSQL is the statement building the offered index. CREATE INDEX
// takes no schema on the index name: the index goes in its table's schema.
func (o offerSpec) createSQL(table string) string {
	return fmt.Sprintf("CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s (%s)",
		pgx.Identifier{o.name}.Sanitize(), table, o.keys)
}

// indexRow is one index of the user table, as the catalog describes it.
type indexRow struct {
	name        string
	valid       bool
	serves      bool // the browse order
	servesEmail bool // email lookups, as tableSpec.emailMatch writes them
	constraint  bool // backs a primary key or unique constraint
	building    bool
	bytes       int64
}

// indexesSQL lists the table's indexes. An index serves the browse order
// when it is a plain btree (no predicate, default operator classes, the
// column's collation) whose first two keys are created and id, both
// ascending with NULLS LAST or both descending with NULLS FIRST (indoption
// bits 1 and 2): the planner then walks it forwards or backwards for every
// statement the browser sends. It serves email lookups when it is a plain
// btree whose first key is $3 (email, or lower(email)) with the default
// operator class and the email column's collation: the equality tableSpec.emailMatch
// tests is then an index condition.
const indexesSQL = `SELECT c.relname::text,
       i.indisvalid AND i.indisready AND i.indislive,
       am.amname = 'btree' AND i.indpred IS NULL AND i.indnkeyatts >= 2
         AND i.indkey[0] = ca.attnum AND i.indkey[1] = ia.attnum
         AND (i.indoption[0] & 3) = (i.indoption[1] & 3) AND (i.indoption[0] & 3) IN (0, 3)
         AND i.indcollation[1] = ia.attcollation
         AND (SELECT bool_and(opcdefault) FROM pg_opclass WHERE oid IN (i.indclass[0], i.indclass[1])),
       am.amname = 'btree' AND i.indpred IS NULL
         AND pg_get_indexdef(i.indexrelid, 1, false) = $3
         AND i.indcollation[0] = ea.attcollation
         AND (SELECT opcdefault FROM pg_opclass WHERE oid = i.indclass[0]),
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid),
       EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid),
       pg_relation_size(i.indexrelid)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am am ON am.oid = c.relam
  JOIN pg_attribute ca ON ca.attrelid = i.indrelid AND ca.attname = $2
  JOIN pg_attribute ia ON ia.attrelid = i.indrelid AND ia.attname = 'id'
  JOIN pg_attribute ea ON ea.attrelid = i.indrelid AND ea.attname = 'email'
 WHERE i.indrelid = to_regclass($1)
 ORDER BY c.relname`

func (b *UserBrowser) indexes(ctx context.Context) ([]indexRow, error) {
	rows, err := b.pool.Query(ctx, indexesSQL, b.spec.table, b.spec.createdAttr, b.spec.emailKey)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (indexRow, error) {
		var x indexRow
		err := r.Scan(&x.name, &x.valid, &x.serves, &x.servesEmail, &x.constraint, &x.building, &x.bytes)
		return x, err
	})
}

// indexUse is which reads valid indexes of the table serve.
type indexUse struct{ order, email bool }

func (u indexUse) serves(purpose IndexPurpose) bool {
	if purpose == IndexForEmail {
		return u.email
	}
	return u.order
}

// indexUse reports which reads valid indexes serve. The answer is cached:
// Browse asks on every page, Count on every email count.
func (b *UserBrowser) indexUse(ctx context.Context) (indexUse, error) {
	v, _, err := cached(ctx, b.cache, b.indexCacheKey(), func(ctx context.Context) (indexUse, error) {
		list, err := b.indexes(ctx)
		var u indexUse
		for _, x := range list {
			u.order = u.order || (x.valid && x.serves)
			u.email = u.email || (x.valid && x.servesEmail)
		}
		return u, err
	})
	return v, err
}

// orderIndexed reports whether a valid index serves the browse order.
func (b *UserBrowser) orderIndexed(ctx context.Context) (bool, error) {
	u, err := b.indexUse(ctx)
	if err != nil {
		return false, wrapErr("check browse index", b.target, err)
	}
	return u.order, nil
}

func (b *UserBrowser) indexCacheKey() string { return b.cacheKey + "|index" }

// AdviseIndex reports which reads valid indexes serve, which indexes failed
// builds left behind, and what creating each offered index would cost and
// require.
func (b *UserBrowser) AdviseIndex(ctx context.Context) (IndexAdvice, error) {
	const op = "advise index"
	if err := b.check(op); err != nil {
		return IndexAdvice{}, err
	}
	a := IndexAdvice{Table: b.spec.table}
	list, err := b.indexes(ctx)
	if err != nil {
		return IndexAdvice{}, wrapErr(op, b.target, err)
	}
	for _, x := range list {
		if !x.valid && !x.building && !x.constraint {
			a.Invalid = append(a.Invalid, x.name)
		}
	}
	offers := b.spec.offers()
	names := make([]string, len(offers))
	for i, o := range offers {
		names[i] = o.name
	}
	var taken []string
	var w widths
	err = b.pool.QueryRow(ctx, `SELECT pg_get_userbyid(c.relowner)::text, current_user::text,
       pg_has_role(current_user, c.relowner, 'USAGE'),
       ARRAY(SELECT n.relname::text FROM pg_class n WHERE n.relnamespace = c.relnamespace AND n.relname = ANY($2::text[])),
       (SELECT avg_width FROM pg_stats s WHERE s.schemaname = 'neon_auth' AND s.tablename = c.relname AND s.attname = 'id'),
       (SELECT avg_width FROM pg_stats s WHERE s.schemaname = 'neon_auth' AND s.tablename = c.relname AND s.attname = 'email')
  FROM pg_class c WHERE c.oid = to_regclass($1)`,
		b.spec.table, names).Scan(&a.Owner, &a.Role, &a.CanCreate, &taken, &w.id, &w.email)
	if err != nil {
		return IndexAdvice{}, wrapErr(op, b.target, err)
	}
	if a.Building, err = b.IndexProgress(ctx); err != nil {
		return IndexAdvice{}, err
	}
	rows, err := b.tableRows(ctx)
	if err != nil {
		return IndexAdvice{}, wrapErr(op, b.target, err)
	}
	a.Rows, a.RowsExact = rows.N, rows.Exact
	for _, spec := range offers {
		o := IndexOffer{Purpose: spec.purpose, Name: spec.name, CreateSQL: spec.createSQL(b.spec.table)}
		// ours: an index named o.Name exists on the table and is the
		// offered one, whether valid, being built or left invalid.
		ours := false
		for _, x := range list {
			ours = ours || (x.name == o.Name && (spec.serves(x) || !x.valid))
			if x.valid && spec.serves(x) && o.Serving == "" {
				o.Serving, o.ServingBytes = x.name, x.bytes
			}
		}
		o.NameTaken = slices.Contains(taken, o.Name) && !ours
		o.EstimatedBytes, o.EstimateBasis = b.estimateOffer(spec.purpose, rows, w)
		a.Offers = append(a.Offers, o)
	}
	o := a.Offers[0]
	a.Name, a.Serving, a.ServingBytes, a.NameTaken = o.Name, o.Serving, o.ServingBytes, o.NameTaken
	a.EstimatedBytes, a.EstimateBasis, a.CreateSQL = o.EstimatedBytes, o.EstimateBasis, o.CreateSQL
	return a, nil
}

// widths are pg_stats' average widths of the id and email columns, nil
// before the table is analyzed.
type widths struct{ id, email *int32 }

// assumedEmailWidth is the stored width of an email without statistics: a
// 24-character address with its 1-byte header.
const assumedEmailWidth = 25

// estimateOffer estimates the size of the index offered for purpose over
// rows rows, and says how.
func (b *UserBrowser) estimateOffer(purpose IndexPurpose, rows UserCount, w widths) (int64, string) {
	counted := "planner estimate"
	if rows.Exact {
		counted = "counted"
	}
	var keyWords string
	var keyBytes int
	if purpose == IndexForEmail {
		width, source := assumedEmailWidth, "assumed"
		if w.email != nil {
			width, source = int(*w.email), "from pg_stats"
		}
		keyBytes, keyWords = width, fmt.Sprintf("%d-byte email %s", width, source)
	} else {
		width, source := b.spec.idWidth, "assumed"
		if w.id != nil && b.gen == authprovider.Stack {
			width, source = int(*w.id), "from pg_stats"
		}
		keyBytes, keyWords = 8+width, fmt.Sprintf("8-byte timestamp + %d-byte id %s", width, source)
	}
	tuple := indexTupleBytes(keyBytes)
	basis := fmt.Sprintf("%d rows (%s) × %d-byte leaf entries "+
		"(4-byte line pointer + 8-byte tuple header + %s, padded to 8) "+
		"at the 90%% leaf fill of a fresh btree, plus inner pages", rows.N, counted, tuple, keyWords)
	return estimateIndexBytes(rows.N, tuple), basis
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

// indexTupleBytes is the space one index entry with keyBytes of key data
// takes in a page.
func indexTupleBytes(keyBytes int) int {
	data := 8 + keyBytes   // IndexTupleData, keys
	return 4 + (data+7)&^7 // line pointer + MAXALIGNed tuple
}

// estimateIndexBytes estimates the size of a freshly built btree of rows
// entries of tuple bytes each.
func estimateIndexBytes(rows int64, tuple int) int64 {
	perLeaf := math.Floor(btreeUsable * leafFillFactor / float64(tuple))
	perInner := math.Floor(btreeUsable * nonLeafFillRatio / float64(tuple))
	pages := math.Ceil(float64(max(rows, 1)) / perLeaf)
	total := pages + 1 // the metapage
	for pages > 1 {
		pages = math.Ceil(pages / perInner)
		total += pages
	}
	return int64(total) * blockSize
}
