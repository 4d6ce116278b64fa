package db

import (
	"cmp"
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
	// IndexForSessions serves the sessions view's order (SessionsIndex on
	// neon_auth.session): every page of sessions, at any depth. Only Better
	// Auth has sessions. The advisor offers no index on ("userId",
	// "updatedAt"), although it would make a user's "last active" one index
	// entry instead of a probe of session_userId_idx reading each of the
	// user's sessions: measured at 200k users and 600k sessions, that saves
	// under a millisecond per page of 50 users, while indexing "updatedAt",
	// which Better Auth moves every time it refreshes a session, would turn
	// every refresh into a non-HOT update writing every index of the table.
	// Active users count ranges of time, which it does not serve.
	IndexForSessions IndexPurpose = "sessions"
)

// reads says what an index of purpose p serves, for messages.
func (p IndexPurpose) reads() string {
	switch p {
	case IndexForEmail:
		return "email lookups"
	case IndexForSessions:
		return "the sessions order"
	}
	return "the browse order"
}

// IndexOffer is one index the advisor offers: whether an index already
// serves its purpose and, if not, what creating the offered one would take.
type IndexOffer struct {
	Purpose IndexPurpose
	// Table is the qualified table the index is on.
	Table string
	// Rows is how many rows Table holds, as IndexAdvice.Rows says it for
	// the user table.
	Rows      int64
	RowsExact bool
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
	// Related lists the indexes offered on the branch's other tables, which
	// the people console reads: for Better Auth, the sessions order
	// (IndexForSessions). Invalid and Building cover those tables too.
	Related []IndexOffer
}

// Present reports whether a valid index serves the browse order.
func (a IndexAdvice) Present() bool { return a.Serving != "" }

// Offer returns the offer for purpose, or false when the advisor offers no
// index for it on this table.
func (a IndexAdvice) Offer(purpose IndexPurpose) (IndexOffer, bool) {
	for _, o := range slices.Concat(a.Offers, a.Related) {
		if o.Purpose == purpose {
			return o, true
		}
	}
	return IndexOffer{}, false
}

// Wanted lists the offers worth creating when reads that scan start to hurt
// at minRows rows: those whose purpose no index serves yet, on a table of
// at least minRows rows.
func (a IndexAdvice) Wanted(minRows int64) []IndexOffer {
	var out []IndexOffer
	for _, o := range slices.Concat(a.Offers, a.Related) {
		if !o.Present() && o.Rows >= minRows {
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
	// table is the qualified table the index goes on when it is not the
	// user table.
	table string
}

// sessionTable is Better Auth's session table, which the sessions offer
// indexes.
const sessionTable = "neon_auth.session"

// offers lists the indexes the advisor offers on s's table.
func (s *tableSpec) offers() []offerSpec {
	o := []offerSpec{{purpose: IndexForBrowse, name: s.index, keys: s.created + " DESC, id DESC", serves: func(x indexRow) bool { return x.serves }}}
	if s.emailIndex != "" {
		o = append(o, offerSpec{purpose: IndexForEmail, name: s.emailIndex, keys: s.emailKey, serves: func(x indexRow) bool { return x.servesEmail }})
	}
	return o
}

// related lists the indexes the advisor offers on gen's other tables.
func related(gen authprovider.Provider) []offerSpec {
	if gen != authprovider.BetterAuth {
		return nil
	}
	return []offerSpec{{purpose: IndexForSessions, name: SessionsIndex, keys: `"createdAt" DESC, id DESC`, table: sessionTable,
		serves: func(x indexRow) bool { return x.servesSessions }}}
}

// allOffers is offers and related together.
func (b *UserBrowser) allOffers() []offerSpec {
	return slices.Concat(b.spec.offers(), related(b.gen))
}

// on is the table the offered index goes on.
func (o offerSpec) on(userTable string) string { return cmp.Or(o.table, userTable) }

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
	table       string // the qualified table it indexes
	serves      bool   // the browse order
	servesEmail bool   // email lookups, as tableSpec.emailMatch writes them
	// servesSessions: the sessions view's order, ("createdAt", id) of
	// neon_auth.session in one direction.
	servesSessions bool
	constraint     bool // backs a primary key or unique constraint
	building       bool
	bytes          int64
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

// sessionIndexesSQL lists the indexes of neon_auth.session. One serves the
// sessions order when it is a plain btree whose first two keys are
// "createdAt" and id in one direction, as indexesSQL says it of the browse
// order.
const sessionIndexesSQL = `SELECT c.relname::text,
       i.indisvalid AND i.indisready AND i.indislive,
       am.amname = 'btree' AND i.indpred IS NULL AND i.indnkeyatts >= 2
         AND i.indkey[0] = ca.attnum AND i.indkey[1] = ia.attnum
         AND (i.indoption[0] & 3) = (i.indoption[1] & 3) AND (i.indoption[0] & 3) IN (0, 3)
         AND (SELECT bool_and(opcdefault) FROM pg_opclass WHERE oid IN (i.indclass[0], i.indclass[1])),
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid),
       EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid),
       pg_relation_size(i.indexrelid)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am am ON am.oid = c.relam
  JOIN pg_attribute ca ON ca.attrelid = i.indrelid AND ca.attname = 'createdAt'
  JOIN pg_attribute ia ON ia.attrelid = i.indrelid AND ia.attname = 'id'
 WHERE i.indrelid = to_regclass('neon_auth.session')
 ORDER BY c.relname`

// indexes lists the indexes of the user table and, for Better Auth, of
// neon_auth.session.
func (b *UserBrowser) indexes(ctx context.Context) ([]indexRow, error) {
	rows, err := b.pool.Query(ctx, indexesSQL, b.spec.table, b.spec.createdAttr, b.spec.emailKey)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (indexRow, error) {
		x := indexRow{table: b.spec.table}
		err := r.Scan(&x.name, &x.valid, &x.serves, &x.servesEmail, &x.constraint, &x.building, &x.bytes)
		return x, err
	})
	if err != nil || b.gen != authprovider.BetterAuth {
		return list, err
	}
	rows, err = b.pool.Query(ctx, sessionIndexesSQL)
	if err != nil {
		return nil, err
	}
	more, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (indexRow, error) {
		x := indexRow{table: sessionTable}
		err := r.Scan(&x.name, &x.valid, &x.servesSessions, &x.constraint, &x.building, &x.bytes)
		return x, err
	})
	return append(list, more...), err
}

// indexUse is which reads valid indexes of the table serve.
type indexUse struct{ order, email, sessions bool }

func (u indexUse) serves(purpose IndexPurpose) bool {
	switch purpose {
	case IndexForEmail:
		return u.email
	case IndexForSessions:
		return u.sessions
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
			u.sessions = u.sessions || (x.valid && x.servesSessions)
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
	offers := b.allOffers()
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
		table := spec.on(b.spec.table)
		o := IndexOffer{Purpose: spec.purpose, Table: table, Rows: rows.N, RowsExact: rows.Exact, Name: spec.name, CreateSQL: spec.createSQL(table)}
		if spec.table != "" {
			if o.Rows, o.RowsExact, err = b.relatedRows(ctx, spec.table); err != nil {
				return IndexAdvice{}, wrapErr(op, b.target, err)
			}
		}
		// ours: an index named o.Name exists on the table and is the
		// offered one, whether valid, being built or left invalid.
		ours := false
		for _, x := range list {
			if x.table != table {
				continue
			}
			ours = ours || (x.name == o.Name && (spec.serves(x) || !x.valid))
			if x.valid && spec.serves(x) && o.Serving == "" {
				o.Serving, o.ServingBytes = x.name, x.bytes
			}
		}
		o.NameTaken = slices.Contains(taken, o.Name) && !ours
		o.EstimatedBytes, o.EstimateBasis = b.estimateOffer(spec.purpose, UserCount{N: o.Rows, Exact: o.RowsExact}, w)
		if spec.table != "" {
			a.Related = append(a.Related, o)
		} else {
			a.Offers = append(a.Offers, o)
		}
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
	switch purpose {
	case IndexForSessions:
		keyBytes, keyWords = 8+16, "8-byte timestamp + 16-byte uuid"
	case IndexForEmail:
		width, source := assumedEmailWidth, "assumed"
		if w.email != nil {
			width, source = int(*w.email), "from pg_stats"
		}
		keyBytes, keyWords = width, fmt.Sprintf("%d-byte email %s", width, source)
	default:
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

// maxRelatedCount bounds the exact count of a related table that VACUUM or
// ANALYZE has not measured yet.
const maxRelatedCount = 1_000_000

// relatedRows says how many rows table holds: the planner's estimate once
// VACUUM or ANALYZE has measured it, scaled to its size on disk as the
// planner does; until then counted, up to maxRelatedCount.
func (b *UserBrowser) relatedRows(ctx context.Context, table string) (int64, bool, error) {
	var reltuples float64
	var relpages int32
	var blocks int64
	err := b.pool.QueryRow(ctx, `SELECT c.reltuples, c.relpages, pg_relation_size(c.oid) / current_setting('block_size')::bigint
  FROM pg_class c WHERE c.oid = $1::text::regclass`, table).Scan(&reltuples, &relpages, &blocks)
	if err != nil {
		return 0, false, err
	}
	if reltuples >= 0 && relpages > 0 {
		return int64(math.Round(reltuples / float64(relpages) * float64(blocks))), false, nil
	}
	var n int64
	err = b.pool.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT FROM %s LIMIT %d) t", table, maxRelatedCount)).Scan(&n)
	return n, n < maxRelatedCount, err
}
