package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// PageSizes are the page sizes a browse accepts.
var PageSizes = []int{50, 100, 200}

// DefaultPageSize is the page size of a PageRequest that leaves Size zero.
const DefaultPageSize = 50

// UserBrowser pages through, filters, counts, charts and exports the users
// of one database, in whichever Neon Auth table it has. Every page is read
// by keyset on (created_at DESC, id DESC), so a page costs the same at any
// depth and stays put while new users arrive.
//
// users_sync computes created_at from raw_json, and a row whose raw_json
// lacks signed_up_at_millis has none. Such undated rows are shown, after all
// dated ones, ordered by id: the order is created_at DESC NULLS LAST, id DESC.
type UserBrowser struct {
	pool   *pgxpool.Pool
	gen    authprovider.Provider
	target string
	// cacheKey prefixes this browser's cache entries: target and role, since
	// two roles may see different things.
	cacheKey string
	spec     *tableSpec
	cache    *Cache
	// indexed, when set, overrides asking the catalog whether an index
	// serves the browse order (tests read both ways through the same data).
	indexed *bool
	// largeTable and searchWindow are LargeTable and SearchWindow, lowered
	// by tests.
	largeTable   int64
	searchWindow int
}

// NewUserBrowser browses pool's database as gen lays it out. cache keeps
// exact counts, chart series and the index check for a short while; pass the
// one Cache the process shares, or nil for a private one. With
// GenerationUnknown every method returns ErrSchemaMissing.
func NewUserBrowser(pool *pgxpool.Pool, gen authprovider.Provider, cache *Cache) *UserBrowser {
	if cache == nil {
		cache = NewCache(DefaultCacheTTL)
	}
	target := describePool(pool)
	return &UserBrowser{
		pool:     pool,
		gen:      gen,
		target:   target,
		cacheKey: pool.Config().ConnConfig.User + "@" + target + "|" + string(gen),
		spec:     specs[gen],
		cache:    cache,

		largeTable:   LargeTable,
		searchWindow: SearchWindow,
	}
}

// OpenUserBrowser detects the generation of pool's database and returns a
// browser over it.
func OpenUserBrowser(ctx context.Context, pool *pgxpool.Pool, cache *Cache) (*UserBrowser, error) {
	gen, err := Detect(ctx, pool)
	if err != nil {
		return nil, err
	}
	return NewUserBrowser(pool, gen, cache), nil
}

// Browser is Get followed by OpenUserBrowser.
func (p *Pools) Browser(ctx context.Context, connString string, cache *Cache) (*UserBrowser, error) {
	pool, err := p.Get(ctx, connString)
	if err != nil {
		return nil, err
	}
	return OpenUserBrowser(ctx, pool, cache)
}

// Generation returns the table layout the browser reads.
func (b *UserBrowser) Provider() authprovider.Provider { return b.gen }

// Target returns host:port/database of the browser's database.
func (b *UserBrowser) Target() string { return b.target }

func (b *UserBrowser) check(op string) error {
	if b.spec == nil {
		return fmt.Errorf("db: %s on %s: %w", op, b.target, ErrSchemaMissing)
	}
	return nil
}

// UserRow is one user as a browse page shows it.
type UserRow struct {
	User
	// LastActiveAt is users_sync's raw_json last_active_at_millis, or
	// better_auth's latest session "updatedAt"; nil when absent.
	LastActiveAt *time.Time
	// ImageURL is the profile image: raw_json profile_image_url for
	// users_sync, the image column for better_auth.
	ImageURL string
	// BanExpires is better_auth's "banExpires": when a ban lifts, nil for a
	// permanent one (or none).
	BanExpires *time.Time

	// undated marks a users_sync row without created_at (CreatedAt is then
	// the zero time, which a real row could in principle also carry).
	undated bool
}

// PageRequest asks for one page of users. At most one of After, Before, At
// and Last may be set; none asks for the first page (the newest users).
type PageRequest struct {
	// Size is one of PageSizes; zero means DefaultPageSize.
	Size int
	// After is a Page.Next cursor: the page that follows it.
	After string
	// Before is a Page.Prev cursor: the page that precedes it, in display order.
	Before string
	// At jumps to the first page of users who signed up at or before it.
	At time.Time
	// Last asks for the last page: the oldest users.
	Last   bool
	Filter Filter
}

// Page is one page of users, newest first. Only a page at an end of the
// list is short: the last one when reached going forward, the first one
// when reached going backward, so that either walk shows each row once.
type Page struct {
	Users []UserRow
	Size  int
	// Next is the cursor for PageRequest.After, "" on the last page.
	Next string
	// Prev is the cursor for PageRequest.Before, "" on the first page. A page
	// reached by At has one whenever it has rows, even if no newer user
	// exists; following it then shows the first page.
	Prev string
	// Filter is the filter as applied: trimmed, ids normalized.
	Filter Filter
}

// Browse returns one page of the users req.Filter selects. Bad requests give
// an *InputError (errors.Is ErrInvalidInput) naming the field.
func (b *UserBrowser) Browse(ctx context.Context, req PageRequest) (Page, error) {
	const op = "browse users"
	if err := b.check(op); err != nil {
		return Page{}, err
	}
	size := req.Size
	if size == 0 {
		size = DefaultPageSize
	}
	if !slices.Contains(PageSizes, size) {
		return Page{}, inputErr("size", "must be 50, 100 or 200")
	}
	f, err := req.Filter.normalize(b.gen)
	if err != nil {
		return Page{}, err
	}
	set := 0
	for _, on := range []bool{req.After != "", req.Before != "", !req.At.IsZero(), req.Last} {
		if on {
			set++
		}
	}
	if set > 1 {
		return Page{}, inputErr("cursor", "only one of after, before, at and last may be given")
	}
	r := pager{b: b, f: f, n: size}
	// An id or email lookup matches a row or a few, which the primary key
	// or the email index finds; the one-statement form leaves the planner
	// that choice, where the segmented form would walk the browse order.
	if f.ID == "" && f.Email == "" {
		if r.indexed, err = b.useOrderIndex(ctx); err != nil {
			return Page{}, err
		}
		r.windowed = r.indexed && f.unpredictable(b.gen)
	}
	var p Page
	switch {
	case req.After != "":
		var pos position
		if pos, err = decodeCursor(b.gen, "cursor", req.After); err != nil {
			return Page{}, err
		}
		p, err = r.forward(ctx, bound{after: &pos})
	case req.Before != "":
		var pos position
		if pos, err = decodeCursor(b.gen, "cursor", req.Before); err != nil {
			return Page{}, err
		}
		p, err = r.backward(ctx, &pos)
	case !req.At.IsZero():
		if y := req.At.Year(); y < 1 || y > 9999 {
			return Page{}, inputErr("at", "must be a date between the years 1 and 9999")
		}
		at := req.At
		p, err = r.forward(ctx, bound{at: &at})
	case req.Last:
		p, err = r.backward(ctx, nil)
	default:
		p, err = r.forward(ctx, bound{})
	}
	if err != nil {
		return Page{}, wrapErr(op, b.target, err)
	}
	p.Size, p.Filter = size, f
	return p, nil
}

// useOrderIndex reports whether pages should be read in the segmented,
// index-served form.
func (b *UserBrowser) useOrderIndex(ctx context.Context) (bool, error) {
	if b.indexed != nil {
		return *b.indexed, nil
	}
	return b.orderIndexed(ctx)
}

// SearchWindow is how many index entries a page of an unpredictable filter
// (see Filter.unpredictable) examines through the browse-order index before
// scanning the rest of the table instead: a few milliseconds of index walk,
// which fills a page of 50 whenever at least 0.5% of users match.
const SearchWindow = 10000

// pager reads the pages of one request. Without an index on the browse
// order, each page is one statement scanning the table (segAll). With one,
// dated and undated rows are read by separate index-served statements, and
// windowed filters bound their index walk.
type pager struct {
	b        *UserBrowser
	f        Filter
	n        int
	indexed  bool
	windowed bool
}

// forward reads the page starting at from, newest first.
func (r pager) forward(ctx context.Context, from bound) (Page, error) {
	var rows []UserRow
	var err error
	switch {
	case !r.indexed:
		rows, err = r.read(ctx, segAll, true, from, r.n+1)
	case from.after != nil && from.after.created == nil:
		rows, err = r.read(ctx, segUndated, true, from, r.n+1)
	default:
		rows, err = r.read(ctx, segDated, true, from, r.n+1)
		if err == nil && len(rows) <= r.n && r.b.spec.nullable {
			var more []UserRow
			more, err = r.read(ctx, segUndated, true, bound{}, r.n+1-len(rows))
			rows = append(rows, more...)
		}
	}
	if err != nil {
		return Page{}, err
	}
	p := Page{Users: rows}
	if len(rows) > r.n {
		p.Users = rows[:r.n]
		p.Next = r.b.Cursor(p.Users[r.n-1])
	}
	if len(p.Users) > 0 && (from.after != nil || from.at != nil) {
		p.Prev = r.b.Cursor(p.Users[0])
	}
	return p, nil
}

// backward reads the page that ends just before before (the last page when
// nil) and returns it newest first. When fewer than a page of rows precede
// before, the page holds just those rows: it is the first page, short, so
// that walking back from the last page shows every row exactly once. When
// none do (a cursor at the newest row), the first page is returned.
func (r pager) backward(ctx context.Context, before *position) (Page, error) {
	var rows []UserRow
	var err error
	from := bound{after: before}
	switch {
	case !r.indexed:
		rows, err = r.read(ctx, segAll, false, from, r.n+1)
	case before != nil && before.created != nil:
		rows, err = r.read(ctx, segDated, false, from, r.n+1)
	default:
		if r.b.spec.nullable {
			rows, err = r.read(ctx, segUndated, false, from, r.n+1)
		}
		if err == nil && len(rows) <= r.n {
			var more []UserRow
			more, err = r.read(ctx, segDated, false, bound{}, r.n+1-len(rows))
			rows = append(rows, more...)
		}
	}
	if err != nil {
		return Page{}, err
	}
	if len(rows) == 0 && before != nil {
		return r.forward(ctx, bound{})
	}
	hasPrev := len(rows) > r.n
	rows = rows[:min(len(rows), r.n)]
	slices.Reverse(rows)
	p := Page{Users: rows}
	if hasPrev {
		p.Prev = r.b.Cursor(rows[0])
	}
	if before != nil && len(rows) > 0 {
		p.Next = r.b.Cursor(rows[len(rows)-1])
	}
	return p, nil
}

// read runs one segment read of at most limit rows.
func (r pager) read(ctx context.Context, seg segment, newest bool, from bound, limit int) ([]UserRow, error) {
	if seg == segDated && r.windowed {
		return r.readWindowed(ctx, newest, from, limit)
	}
	var a sqlArgs
	sql := r.b.spec.pageSQL(&a, r.f, seg, newest, from, limit)
	return r.b.queryRows(ctx, sql, a.args)
}

// readWindowed reads the dated segment for a filter the planner cannot
// estimate: first the matches among the next SearchWindow rows of the index,
// then, if those do not fill the page, a scan of the rows past the window.
// A common filter is answered from the window; a rare one costs the window
// plus one scan, never a full walk of the index.
func (r pager) readWindowed(ctx context.Context, newest bool, from bound, limit int) ([]UserRow, error) {
	var a sqlArgs
	rows, err := r.b.queryRows(ctx, r.b.spec.windowSQL(&a, r.f, newest, from, r.b.searchWindow, limit), a.args)
	if err != nil || len(rows) >= limit {
		return rows, err
	}
	a = sqlArgs{}
	var end position
	var created time.Time
	err = r.b.pool.QueryRow(ctx, r.b.spec.windowEndSQL(&a, newest, from, r.b.searchWindow),
		append([]any{pgx.QueryExecModeExec}, a.args...)...).Scan(&created, &end.id)
	if errors.Is(err, pgx.ErrNoRows) {
		return rows, nil // the window reached the end of the segment
	}
	if err != nil {
		return nil, err
	}
	end.created = &created
	a = sqlArgs{}
	rest, err := r.b.queryRows(ctx, r.b.spec.pageSQL(&a, r.f, segDatedScan, newest, bound{after: &end}, limit-len(rows)), a.args)
	return append(rows, rest...), err
}

// queryRows runs sql and scans UserRows. It uses the exec protocol mode:
// the statement is planned for the actual values every time, never with a
// cached generic plan that guessed a filter's selectivity.
func (b *UserBrowser) queryRows(ctx context.Context, sql string, args []any) ([]UserRow, error) {
	rows, err := b.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (UserRow, error) { return scanUserRow(b.gen, r) })
}

// Cursor returns the cursor of u's place in the browse order: a page
// requested with After: Cursor(u) starts just past u, one with
// Before: Cursor(u) ends just before it (a "show in list" link).
func (b *UserBrowser) Cursor(u UserRow) string {
	p := position{id: u.ID}
	if !u.undated {
		t := u.CreatedAt
		p.created = &t
	}
	return encodeCursor(b.gen, p)
}
