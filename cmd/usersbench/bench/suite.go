package bench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// suite is one seeded table with what its cases share: a plain connection
// for the bare SQL, known rows and cursors, and (rebuilt for each
// combination of indexes, so no cache remembers the previous one) the
// dashboard's pools, Neon Auth service, browser and HTTP server.
type suite struct {
	d       *database
	bare    *pgx.Conn
	table   string // qualified table
	created string // quoted created column
	cols    string // what a person would select: id, email, name, created

	// Known rows, found once per table (untimed).
	newest db.UserRow
	depths []depth // the browse pages at depth
	// mid and beforeLast end the middle page and the page before the last.
	mid, beforeLast db.UserRow
	// known values for filters and lookups
	someID, someEmail, rareSearch string
	lookupID, lookupEmail         string
	midTime                       time.Time

	// The dashboard as one combination of indexes sees it.
	pools *db.Pools
	pool  *pgxpool.Pool
	svc   *neonauth.Service
	neon  *httptest.Server // what the service reads as Neon
	b     *db.UserBrowser
	srv   *httptest.Server
	users usersRoute
}

// depth is page n of the browse order: after is the row ending page n-1,
// first the row opening page n.
type depth struct {
	page         int
	after, first db.UserRow
}

// browseDepths are the pages the benchmark reads besides the first and the
// last, where the table has them.
var browseDepths = []int{100, 2000}

// pageSize is the browse page the cases read.
const pageSize = db.DefaultPageSize

func newSuite(ctx context.Context, d *database) (*suite, error) {
	bare, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return nil, err
	}
	s := &suite{d: d, bare: bare, table: d.gen.Table()}
	s.created, s.cols = "created_at", "id, email, name, created_at"
	if d.gen == authprovider.BetterAuth {
		s.created, s.cols = `"createdAt"`, `id, email, name, "createdAt"`
	}
	if err := s.open(ctx); err != nil {
		s.close(ctx)
		return nil, err
	}
	if err := s.findRows(ctx); err != nil {
		s.close(ctx)
		return nil, err
	}
	return s, nil
}

// lastPage is the number of the last browse page.
func (s *suite) lastPage() int { return (s.d.rows + pageSize - 1) / pageSize }

// findRows reads the rows the cases start from (untimed set-up).
func (s *suite) findRows(ctx context.Context) error {
	var err error
	if s.newest, err = s.rowAt(ctx, 0); err != nil {
		return err
	}
	for _, n := range browseDepths {
		if n >= s.lastPage() {
			continue
		}
		dp := depth{page: n}
		if dp.after, err = s.rowAt(ctx, (n-1)*pageSize-1); err != nil {
			return err
		}
		if dp.first, err = s.rowAt(ctx, (n-1)*pageSize); err != nil {
			return err
		}
		s.depths = append(s.depths, dp)
	}
	pages := s.d.rows / pageSize
	for _, p := range []struct {
		into *db.UserRow
		page int
	}{{&s.mid, pages / 2}, {&s.beforeLast, pages - 1}} {
		if *p.into, err = s.rowAt(ctx, p.page*pageSize-1); err != nil {
			return err
		}
	}
	s.someID, s.someEmail, s.midTime = s.mid.ID, s.mid.Email, s.mid.CreatedAt
	n := s.d.rows / 2
	if n%97 == 0 { // users_sync leaves every 97th email empty
		n++
	}
	s.rareSearch = fmt.Sprintf("user%d@", n)
	// The check box's user: a third of the way down, with an email.
	err = s.bare.QueryRow(ctx, fmt.Sprintf("SELECT id::text, email FROM %s WHERE email IS NOT NULL ORDER BY %s DESC, id DESC OFFSET %d LIMIT 1",
		s.table, s.created, s.d.rows/3)).Scan(&s.lookupID, &s.lookupEmail)
	if err != nil {
		return fmt.Errorf("pick the user to look up: %w", err)
	}
	return nil
}

// rowAt returns the row at offset in browse order (untimed set-up).
func (s *suite) rowAt(ctx context.Context, offset int) (db.UserRow, error) {
	var id string
	err := s.bare.QueryRow(ctx, fmt.Sprintf("SELECT id::text FROM %s ORDER BY %s DESC NULLS LAST, id DESC OFFSET %d LIMIT 1",
		s.table, s.created, max(offset, 0))).Scan(&id)
	if err != nil {
		return db.UserRow{}, fmt.Errorf("row at %d: %w", offset, err)
	}
	d, err := s.b.Detail(ctx, id)
	return d.UserRow, err
}

// open builds the dashboard over the suite's database as the server does:
// one set of pools, one results cache shared by the service and its
// browsers, and the HTTP handler stack on a loopback listener.
func (s *suite) open(ctx context.Context) error {
	s.pools = db.NewPools(db.PoolOptions{})
	var err error
	if s.pool, err = s.pools.Get(ctx, s.d.url); err != nil {
		return err
	}
	cache := db.NewCache(db.DefaultCacheTTL)
	s.b = db.NewUserBrowser(s.pool, s.d.gen, cache)
	s.neon = httptest.NewServer(benchNeon{provider: s.d.gen})
	client, err := neonClient(s.neon)
	if err != nil {
		return err
	}
	s.svc = neonauth.New(client, s.pools, neonauth.UserDBConfig{Default: s.d.url, Results: cache})
	s.srv = s.server()
	if s.users, err = s.findUsersRoute(ctx); err != nil {
		return err
	}
	return nil
}

// reopen replaces the dashboard with a fresh one: after an index comes or
// goes, no cache may answer from before.
func (s *suite) reopen(ctx context.Context) error {
	s.shut()
	return s.open(ctx)
}

// shut stops the dashboard.
func (s *suite) shut() {
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
	if s.neon != nil {
		s.neon.Close()
		s.neon = nil
	}
	if s.pools != nil {
		s.pools.Close()
		s.pools = nil
	}
}

func (s *suite) close(ctx context.Context) {
	s.shut()
	s.bare.Close(ctx)
}

// ref names the benchmark's integration to the Neon Auth service as the
// users routes do: Stack Auth by project, Better Auth by branch.
func (s *suite) ref() neonauth.Ref {
	r := neonauth.Ref{ProjectID: benchProject, Provider: authprovider.Provider(s.d.gen)}
	if r.Provider.BranchLevel() {
		r.BranchID = benchBranch
	}
	return r
}

// query returns a case side running sql on the plain connection the way
// psql does (values interpolated client-side, simple protocol) and reading
// every row.
func (s *suite) query(sql string, args ...any) func(context.Context) error {
	return func(ctx context.Context) error { return runBare(ctx, s.bare, sql, args...) }
}

// runBare runs sql on conn as psql does and reads every row.
func runBare(ctx context.Context, conn *pgx.Conn, sql string, args ...any) error {
	rows, err := conn.Query(ctx, sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
	if err != nil {
		return err
	}
	for rows.Next() {
		if _, err := rows.Values(); err != nil {
			rows.Close()
			return err
		}
	}
	return rows.Err()
}

// browse returns a case side reading one page and checking its size.
func (s *suite) browse(req db.PageRequest, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		p, err := s.b.Browse(ctx, req)
		if err == nil && len(p.Users) != want {
			err = fmt.Errorf("page has %d users, want %d", len(p.Users), want)
		}
		return err
	}
}

// fresh returns a browser with an empty cache, to time uncached answers.
func (s *suite) fresh() *db.UserBrowser { return db.NewUserBrowser(s.pool, s.d.gen, db.NewCache(0)) }
