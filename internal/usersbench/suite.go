package usersbench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/neonauth-admin/dashboard/db"
)

// suite is one seeded table with what its cases share: the dashboard's
// browser over a real pool, and a plain connection for the bare SQL.
type suite struct {
	name    string
	d       *database
	pool    *pgxpool.Pool
	b       *db.UserBrowser
	bare    *pgx.Conn
	table   string // qualified table
	created string // quoted created column
	cols    string // what a person would select: id, email, name, created
	// page positions: the row ending the middle page, and the row ending
	// the page before the last.
	mid, beforeLast db.UserRow
	// known values for filters
	someID, someEmail, rareSearch string
	midTime                       time.Time
}

func newSuite(ctx context.Context, d *database, pool *pgxpool.Pool, cache *db.Cache) (*suite, error) {
	bare, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return nil, err
	}
	s := &suite{d: d, pool: pool, bare: bare, b: db.NewUserBrowser(pool, d.gen, cache), table: d.gen.Table()}
	s.created, s.cols = "created_at", "id, email, name, created_at"
	if d.gen == db.GenerationBetterAuth {
		s.created, s.cols = `"createdAt"`, `id, email, name, "createdAt"`
	}
	pages := d.rows / 50
	for _, p := range []struct {
		into *db.UserRow
		page int
	}{{&s.mid, pages / 2}, {&s.beforeLast, pages - 1}} {
		if *p.into, err = s.rowAt(ctx, p.page*50-1); err != nil {
			return nil, err
		}
	}
	s.someID, s.someEmail, s.midTime = s.mid.ID, s.mid.Email, s.mid.CreatedAt
	n := d.rows / 2
	if n%97 == 0 { // users_sync leaves every 97th email empty
		n++
	}
	s.rareSearch = fmt.Sprintf("user%d@", n)
	return s, nil
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

// query returns a case side running sql on the plain connection the way
// psql does (values interpolated client-side, simple protocol) and reading
// every row.
func (s *suite) query(sql string, args ...any) func(context.Context) error {
	return func(ctx context.Context) error {
		rows, err := s.bare.Query(ctx, sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
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

func (s *suite) close(ctx context.Context) { s.bare.Close(ctx) }
