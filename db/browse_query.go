package db

import (
	"fmt"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// tableSpec is what the browser needs to know about one generation's table
// to build its statements.
type tableSpec struct {
	table   string // qualified table name
	relname string // the table's name in neon_auth, as the catalog spells it
	created string // signup time column, quoted as needed
	// createdAttr is the created column's name as the catalog spells it.
	createdAttr string
	// idWidth is the stored width of an id in an index tuple when the
	// planner has no statistics: a 36-character text uuid with its 1-byte
	// header, or a binary uuid.
	idWidth  int
	idType   string // SQL type of id, for casts of bound values
	nullable bool   // whether created can be NULL
	// index is the name of the index the advisor offers on (created, id).
	index string
	// emailMatch is the predicate matching an email address, %[1]s being
	// the address: the form that emailKey's index serves. users_sync emails
	// keep the case Stack Auth was given, so they are compared lower-cased.
	// Better Auth lower-cases every email it stores and keeps a unique index
	// on the column, so the address is looked up as typed and lower-cased
	// through that index; a row someone stored in mixed case by hand is
	// found only when typed as stored. Matching lower(email) there would
	// scan the table instead.
	emailMatch string
	// emailKey is the first key of an index serving emailMatch, as
	// pg_get_indexdef prints it.
	emailKey string
	// emailIndex is the name of the email index the advisor offers, or ""
	// when the table always has one (Better Auth's unique constraint).
	emailIndex string
	// emailPrefer orders the rows matching the email $1, of the table
	// aliased u, best first.
	emailPrefer string
	// cols are the columns of a UserRow, which every statement reading
	// users selects and scanUserRow scans, and the exported columns.
	cols   []userCol
	status map[Status]string
	// statsColumn names, for the statuses that test one plain column, that
	// column: ANALYZE keeps statistics on it that the planner estimates
	// the status from. The other statuses test expressions it has none for.
	statsColumn map[Status]string
}

var specs = map[authprovider.Provider]*tableSpec{
	authprovider.Stack: {
		table:       "neon_auth.users_sync",
		relname:     "users_sync",
		created:     "created_at",
		createdAttr: "created_at",
		idWidth:     37,
		idType:      "text",
		nullable:    true,
		index:       "users_sync_created_at_id_idx",
		emailMatch:  "lower(email) = lower(%[1]s)",
		emailKey:    "lower(email)",
		emailIndex:  "users_sync_lower_email_idx",
		// users_sync has no unique email: a user deleted and signed up
		// again has two rows. The live one wins, then the newest.
		emailPrefer: "u.deleted_at IS NULL DESC, u.created_at DESC NULLS LAST, u.id",
		cols:        stackColumns,
		status: map[Status]string{
			StatusActive:     "deleted_at IS NULL",
			StatusDeleted:    "deleted_at IS NOT NULL",
			StatusVerified:   "raw_json -> 'primary_email_verified' = 'true'::jsonb",
			StatusUnverified: "NOT coalesce(raw_json -> 'primary_email_verified' = 'true'::jsonb, false)",
		},
		statsColumn: map[Status]string{StatusActive: "deleted_at", StatusDeleted: "deleted_at"},
	},
	authprovider.BetterAuth: {
		table:       `neon_auth."user"`,
		relname:     "user",
		created:     `"createdAt"`,
		createdAttr: "createdAt",
		idWidth:     16,
		idType:      "uuid",
		index:       "user_created_at_id_idx",
		emailMatch:  "email = ANY(ARRAY[%[1]s, lower(%[1]s)])",
		emailKey:    "email",
		emailPrefer: `u.email = $1::text DESC, u."createdAt" DESC, u.id`,
		cols:        betterAuthColumns,
		status: map[Status]string{
			StatusVerified:   `"emailVerified"`,
			StatusUnverified: `NOT "emailVerified"`,
			StatusBanned:     "banned IS TRUE",
		},
		statsColumn: map[Status]string{StatusVerified: "emailVerified", StatusUnverified: "emailVerified", StatusBanned: "banned"},
	},
}

// sqlArgs collects the values a statement refers to: as $n bind parameters,
// or, for COPY, which takes none, inlined as quoted literals.
type sqlArgs struct {
	literal bool
	args    []any
	err     error // the first value quoteLiteral refused
}

func (a *sqlArgs) text(v, cast string) string {
	if a.literal {
		l, err := quoteLiteral(v)
		if err != nil && a.err == nil {
			a.err = err
		}
		return l + "::" + cast
	}
	a.args = append(a.args, v)
	return fmt.Sprintf("$%d::%s", len(a.args), cast)
}

func (a *sqlArgs) time(t time.Time) string {
	if a.literal {
		// A formatted time.Time holds no quote or backslash.
		return "'" + t.UTC().Format("2006-01-02 15:04:05.999999Z07:00") + "'::timestamptz"
	}
	a.args = append(a.args, t)
	return fmt.Sprintf("$%d::timestamptz", len(a.args))
}

// filterWhere returns the predicates of f, which normalize has checked.
func (s *tableSpec) filterWhere(a *sqlArgs, f Filter) []string {
	var w []string
	if f.ID != "" {
		w = append(w, "id = "+a.text(f.ID, s.idType))
	}
	if f.Email != "" {
		w = append(w, fmt.Sprintf(s.emailMatch, a.text(f.Email, "text")))
	}
	if f.Search != "" {
		p := a.text(likeContains(f.Search), "text")
		w = append(w, "(email ILIKE "+p+" OR name ILIKE "+p+")")
	}
	if f.Status != StatusAny {
		w = append(w, s.status[f.Status])
	}
	if f.Role != "" {
		// Splitting only lists ("admin,user") keeps the common single-role
		// row to one comparison: string_to_array on every row costs more
		// than the index walk it filters.
		r := a.text(f.Role, "text")
		w = append(w, "(role = "+r+" OR (strpos(role, ',') > 0 AND "+r+" = ANY(string_to_array(role, ','))))")
	}
	return w
}

// segment is the part of the browse order a statement reads. With an index
// on (created, id), dated and undated rows are read by separate statements,
// each of which the index serves; without one, a single statement reads all
// rows in one scan.
type segment int

const (
	segAll     segment = iota // every row: created DESC NULLS LAST, id DESC
	segDated                  // rows with a signup time
	segUndated                // users_sync rows without one, which come last
	// segDatedScan is segDated read in segAll's order, which no index on
	// (created, id) provides: the planner scans and sorts the top rows.
	segDatedScan
)

// bound is where a statement starts reading: strictly past after, in the
// statement's direction, or at rows created at or before at (newest first
// only). The zero bound reads from the start of the segment.
type bound struct {
	after *position
	at    *time.Time
}

// keysetWhere returns the predicates that start a segment read at b.
func (s *tableSpec) keysetWhere(a *sqlArgs, seg segment, newest bool, b bound) []string {
	c := s.created
	cmp := ">"
	if newest {
		cmp = "<"
	}
	orNull := func(p string) string {
		if seg == segAll && newest && s.nullable {
			return "(" + p + " OR " + c + " IS NULL)"
		}
		return p
	}
	switch {
	case b.at != nil:
		return []string{orNull(c + " <= " + a.time(*b.at))}
	case b.after != nil && b.after.created != nil:
		return []string{orNull("(" + c + ", id) " + cmp + " (" + a.time(*b.after.created) + ", " + a.text(b.after.id, s.idType) + ")")}
	case b.after != nil:
		idCmp := "id " + cmp + " " + a.text(b.after.id, s.idType)
		switch {
		case seg == segUndated:
			return []string{c + " IS NULL", idCmp}
		case newest:
			return []string{"(" + c + " IS NULL AND " + idCmp + ")"}
		default:
			return []string{"(" + c + " IS NOT NULL OR " + idCmp + ")"}
		}
	case (seg == segDated || seg == segDatedScan) && s.nullable:
		return []string{c + " IS NOT NULL"}
	case seg == segUndated:
		return []string{c + " IS NULL"}
	}
	return nil
}

// orderBy returns the ORDER BY list of a segment read, columns prefixed
// with alias. The dated and undated orders match an index on (created, id)
// in either direction; segAll's NULLS LAST deliberately matches none.
func (s *tableSpec) orderBy(alias string, seg segment, newest bool) string {
	c, id := alias+s.created, alias+"id"
	scan := seg == segAll || seg == segDatedScan
	switch {
	case scan && newest:
		return c + " DESC NULLS LAST, " + id + " DESC"
	case scan:
		return c + " ASC NULLS FIRST, " + id + " ASC"
	case newest:
		return c + " DESC, " + id + " DESC"
	}
	return c + " ASC, " + id + " ASC"
}

// pageSQL returns the statement reading up to limit rows of f from b on.
func (s *tableSpec) pageSQL(a *sqlArgs, f Filter, seg segment, newest bool, b bound, limit int) string {
	from, filter := s.filtered(a, f)
	return s.joinBack(fmt.Sprintf("SELECT id, %s FROM %s%s\n ORDER BY %s LIMIT %d", s.created, from,
		whereSQL(append(filter, s.keysetWhere(a, seg, newest, b)...)), s.orderBy("", seg, newest), limit), seg, newest)
}

// filtered returns what a page reads rows of f from, and f's predicates
// on it. An email is matched in a subquery of its own, which OFFSET 0 keeps
// the planner from merging into the page's statement: the email index alone
// then finds the few rows it matches. Merged, the planner, which has no
// statistics on lower(email) until the table is analyzed again and guesses
// that 0.5% of rows match, may AND those with a range of the browse-order
// index.
func (s *tableSpec) filtered(a *sqlArgs, f Filter) (string, []string) {
	if f.Email == "" {
		return s.table, s.filterWhere(a, f)
	}
	from := fmt.Sprintf("(SELECT * FROM %s WHERE %s OFFSET 0) e", s.table, fmt.Sprintf(s.emailMatch, a.text(f.Email, "text")))
	f.Email = ""
	return from, s.filterWhere(a, f)
}

// joinBack returns the statement selecting the UserRow columns of the rows
// keys selects (their id and created), in the order of a segment read. A
// page selects the order keys first and the other columns of its own rows
// afterwards, by primary key: a scan feeding a top-N sort computes the
// selected expressions for every row it reads, and users_sync's raw_json
// lookups, or even Better Auth's id::text, cost more than the scan.
func (s *tableSpec) joinBack(keys string, seg segment, newest bool) string {
	return fmt.Sprintf(`SELECT %s
  FROM (%s) k
  JOIN %s u ON u.id = k.id
 ORDER BY %s`, s.selectList(), keys, s.table, s.orderBy("k.", seg, newest))
}

// windowSQL returns the statement reading up to limit rows of f among the
// first window rows of the dated segment from b on. The inner statement
// walks the index on (created, id) and stops after window rows whatever
// the filter, which bounds its cost.
func (s *tableSpec) windowSQL(a *sqlArgs, f Filter, newest bool, b bound, window, limit int) string {
	inner := fmt.Sprintf("SELECT * FROM %s%s ORDER BY %s LIMIT %d", s.table,
		whereSQL(s.keysetWhere(a, segDated, newest, b)), s.orderBy("", segDated, newest), window)
	return s.joinBack(fmt.Sprintf("SELECT id, %s FROM (%s) w%s\n ORDER BY %s LIMIT %d", s.created, inner,
		whereSQL(s.filterWhere(a, f)), s.orderBy("", segDated, newest), limit), segDated, newest)
}

// windowEndSQL returns the statement finding the last row of the window
// windowSQL reads, or none when the window reaches the end of the segment.
func (s *tableSpec) windowEndSQL(a *sqlArgs, newest bool, b bound, window int) string {
	return fmt.Sprintf("SELECT %s, id::text FROM %s%s ORDER BY %s OFFSET %d LIMIT 1", s.created, s.table,
		whereSQL(s.keysetWhere(a, segDated, newest, b)), s.orderBy("", segDated, newest), window-1)
}

// whereSQL returns a WHERE clause joining conds, or "" for none.
func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return "\n WHERE " + strings.Join(conds, "\n   AND ")
}
