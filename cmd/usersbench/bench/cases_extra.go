package bench

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// extraCases are the rest of the users browser: paging backwards, jumping
// to a date, the OFFSET paging keyset replaces, filters, counts, the
// signups chart, and the other users routes over HTTP.
func (s *suite) extraCases(ctx context.Context) []*Case {
	order := fmt.Sprintf("ORDER BY %s DESC, id DESC LIMIT 50", s.created)
	pages := s.d.rows / 50
	cases := []*Case{
		s.bareCase(ctx, &Case{Name: fmt.Sprintf("browse page %d (before cursor)", pages/2),
			Ours: s.browse(db.PageRequest{Before: s.b.Cursor(s.mid)}, 50)},
			fmt.Sprintf("SELECT %s FROM %s WHERE (%s, id) > ($1, $2) ORDER BY %s, id LIMIT 50", s.cols, s.table, s.created, s.created),
			s.mid.CreatedAt, s.mid.ID),
		s.bareCase(ctx, &Case{Name: "jump to a date (middle)", Ours: s.browse(db.PageRequest{At: s.midTime}, 50)},
			fmt.Sprintf("SELECT %s FROM %s WHERE %s <= $1 %s", s.cols, s.table, s.created, order), s.midTime),
		{Name: "OFFSET page 1 (baseline)",
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s %s OFFSET 0", s.cols, s.table, order))},
		{Name: fmt.Sprintf("OFFSET page %d (baseline)", pages),
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s %s OFFSET %d", s.cols, s.table, order, (pages-1)*50))},
	}
	cases = append(cases, s.filterCases(ctx)...)
	cases = append(cases, s.countCases(ctx)...)
	return append(cases, s.httpExtraCases(ctx)...)
}

// filterCases time the filters against one bare scan (or, where a page of
// many matches is the point, the bare filtered keyset statement).
func (s *suite) filterCases(ctx context.Context) []*Case {
	order := fmt.Sprintf("ORDER BY %s DESC, id DESC LIMIT 50", s.created)
	scan := func(where string) string { return fmt.Sprintf("SELECT %s FROM %s WHERE %s", s.cols, s.table, where) }
	cases := []*Case{
		s.bareCase(ctx, &Case{Name: "exact id", Ours: s.browse(db.PageRequest{Filter: db.Filter{ID: s.someID}}, 1)},
			scan("id = $1"), s.someID),
		s.bareCase(ctx, &Case{Name: "user detail",
			Ours: func(ctx context.Context) error { _, err := s.b.Detail(ctx, s.someID); return err }},
			fmt.Sprintf("SELECT * FROM %s WHERE id = $1", s.table), s.someID),
		s.bareCase(ctx, &Case{Name: "exact email", Ours: s.browse(db.PageRequest{Filter: db.Filter{Email: strings.ToUpper(s.someEmail)}}, 1)},
			scan("lower(email) = lower($1)"), strings.ToUpper(s.someEmail)),
		s.bareCase(ctx, &Case{Name: "search, 1 match", Ours: s.browse(db.PageRequest{Filter: db.Filter{Search: s.rareSearch}}, 1)},
			scan("email ILIKE $1 OR name ILIKE $1"), "%"+s.rareSearch+"%"),
		s.bareCase(ctx, &Case{Name: "search, every user matches (page 1)", Ours: s.browse(db.PageRequest{Filter: db.Filter{Search: "example"}}, 50)},
			scan("email ILIKE $1 OR name ILIKE $1 ")+order, "%example%"),
	}
	switch s.d.gen {
	case authprovider.Stack:
		cases = append(cases, s.bareCase(ctx, &Case{Name: "status deleted (page 1)",
			Ours: s.browse(db.PageRequest{Filter: db.Filter{Status: db.StatusDeleted}}, min(50, s.d.seeded/20))},
			scan("deleted_at IS NOT NULL ")+order))
	case authprovider.BetterAuth:
		cases = append(cases, s.bareCase(ctx, &Case{Name: "status banned (page 1)",
			Ours: s.browse(db.PageRequest{Filter: db.Filter{Status: db.StatusBanned}}, min(50, s.d.seeded/200))},
			scan("banned IS TRUE ")+order),
			s.bareCase(ctx, &Case{Name: "role admin (page 1)",
				Ours: s.browse(db.PageRequest{Filter: db.Filter{Role: "admin"}}, min(50, s.d.seeded/100))},
				scan("role = 'admin' ")+order))
	}
	return cases
}

// countCases times counts and the signups chart, uncached (a fresh cache
// each run) and cached.
func (s *suite) countCases(ctx context.Context) []*Case {
	last := seedStart.Add(seedSpan).Truncate(24 * time.Hour)
	from, to := last.AddDate(-1, 0, 0), last
	chartSQL, chartArgs := s.b.SignupsSQL(from, to, db.BucketDay)
	exact := s.bareCase(ctx, &Case{Name: "count, exact (uncached)", Runs: 9,
		Ours: func(ctx context.Context) error { _, err := s.fresh().Count(ctx, db.Filter{}, true); return err }},
		"SELECT count(*) FROM "+s.table)
	chart := s.bareCase(ctx, &Case{Name: "signups chart, 365 days (uncached)", Runs: 9,
		Ours: func(ctx context.Context) error { _, err := s.fresh().Signups(ctx, from, to, db.BucketDay); return err }},
		chartSQL, chartArgs...)
	return []*Case{
		{Name: "count, estimate",
			Ours: func(ctx context.Context) error { _, err := s.b.Count(ctx, db.Filter{}, false); return err },
			Bare: s.query(fmt.Sprintf("SELECT reltuples FROM pg_class WHERE oid = '%s'::regclass", s.table))},
		exact,
		{Name: "count, exact (cached)", Target: fastTarget,
			Ours: func(ctx context.Context) error { _, err := s.b.Count(ctx, db.Filter{}, true); return err }},
		chart,
		{Name: "signups chart, 365 days (cached)", Target: fastTarget,
			Ours: func(ctx context.Context) error { _, err := s.b.Signups(ctx, from, to, db.BucketDay); return err }},
	}
}

// httpExtraCases time the other users routes over HTTP against the bare
// SQL behind each: what a person waits for, handler stack and render
// included.
func (s *suite) httpExtraCases(ctx context.Context) []*Case {
	scan := func(where string) string { return fmt.Sprintf("SELECT %s FROM %s WHERE %s", s.cols, s.table, where) }
	first := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s DESC, id DESC LIMIT 50", s.cols, s.table, s.created)
	exportQ, exportErr := s.b.ExportQuery(db.Filter{}, db.ExportCSV)
	cases := []*Case{
		s.bareCase(ctx, &Case{Name: "HTTP users page shell (full page)",
			Ours: fetch(s.srv, s.users.url("", nil), false, `id="users-browser"`)}, first),
		s.bareCase(ctx, &Case{Name: "HTTP user detail (exact id)",
			Ours: fetch(s.srv, s.users.url(url.PathEscape(s.someID)+"/detail", nil), false, `data-testid="user-detail"`)},
			fmt.Sprintf("SELECT * FROM %s WHERE id = $1", s.table), s.someID),
		s.bareCase(ctx, &Case{Name: "HTTP search, 1 match (htmx)",
			Ours: fetch(s.srv, s.users.url("browse", url.Values{"q": {s.rareSearch}}), true, s.rareSearch)},
			scan("email ILIKE $1 OR name ILIKE $1"), "%"+s.rareSearch+"%"),
	}
	if s.d.gen == authprovider.BetterAuth {
		cases = append(cases, s.bareCase(ctx, &Case{Name: "HTTP exact id in the search box (htmx)",
			Ours: fetch(s.srv, s.users.url("browse", url.Values{"q": {s.someID}}), true, s.someID)},
			scan("id = $1"), s.someID))
	}
	return append(cases, &Case{Name: fmt.Sprintf("HTTP export csv, all %d rows (vs psql \\copy)", s.d.rows), Runs: 5,
		Ours: fetch(s.srv, s.users.url("export", url.Values{"format": {"csv"}}), false, "id,email,"),
		Bare: func(ctx context.Context) error {
			if exportErr != nil {
				return exportErr
			}
			return psqlCopy(ctx, s.d.url, exportQ, db.ExportOptions(db.ExportCSV))
		}})
}
