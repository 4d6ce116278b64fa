package usersbench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

// ratioTarget and fastTarget are the targets most cases carry.
func ratioTarget(x float64) *Target { return &Target{MaxRatio: x} }

var fastTarget = &Target{MaxP99: 5 * time.Millisecond}

// browseCases times the page reads: by keyset at any depth, against the bare
// keyset statement, plus the OFFSET statements keyset paging replaces.
func (s *suite) browseCases(indexed bool) []*Case {
	order := fmt.Sprintf("ORDER BY %s DESC, id DESC LIMIT 50", s.created)
	keyset := fmt.Sprintf("SELECT %s FROM %s WHERE (%s, id) < ($1, $2) %s", s.cols, s.table, s.created, order)
	target := ratioTarget(1.3)
	if indexed {
		target = fastTarget
	}
	pages := s.d.rows / 50
	return []*Case{
		{Name: "browse page 1", Target: target,
			Ours: s.browse(db.PageRequest{}, 50),
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s %s", s.cols, s.table, order))},
		{Name: fmt.Sprintf("browse page %d (after cursor)", pages/2+1), Target: target,
			Ours: s.browse(db.PageRequest{After: s.b.Cursor(s.mid)}, 50),
			Bare: s.query(keyset, s.mid.CreatedAt, s.mid.ID)},
		{Name: fmt.Sprintf("browse page %d, the last (after cursor)", pages), Target: target,
			Ours: s.browse(db.PageRequest{After: s.b.Cursor(s.beforeLast)}, min(50, s.d.rows-(pages-1)*50)),
			Bare: s.query(keyset, s.beforeLast.CreatedAt, s.beforeLast.ID)},
		{Name: fmt.Sprintf("browse page %d (before cursor)", pages/2), Target: target,
			Ours: s.browse(db.PageRequest{Before: s.b.Cursor(s.mid)}, 50),
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s WHERE (%s, id) > ($1, $2) ORDER BY %s, id LIMIT 50",
				s.cols, s.table, s.created, s.created), s.mid.CreatedAt, s.mid.ID)},
		{Name: "jump to a date (middle)", Target: target,
			Ours: s.browse(db.PageRequest{At: s.midTime}, 50),
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s WHERE %s <= $1 %s", s.cols, s.table, s.created, order), s.midTime)},
		{Name: "OFFSET page 1 (baseline)",
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s %s OFFSET 0", s.cols, s.table, order))},
		{Name: fmt.Sprintf("OFFSET page %d (baseline)", pages),
			Bare: s.query(fmt.Sprintf("SELECT %s FROM %s %s OFFSET %d", s.cols, s.table, order, (pages-1)*50))},
	}
}

// filterCases times the filters against one bare scan (or, where a page of
// many matches is the point, the bare filtered keyset statement).
func (s *suite) filterCases(indexed bool) []*Case {
	order := fmt.Sprintf("ORDER BY %s DESC, id DESC LIMIT 50", s.created)
	scan := func(where string) string { return fmt.Sprintf("SELECT %s FROM %s WHERE %s", s.cols, s.table, where) }
	pageTarget := ratioTarget(1.3)
	if indexed {
		pageTarget = fastTarget
	}
	cases := []*Case{
		{Name: "exact id", Target: fastTarget,
			Ours: s.browse(db.PageRequest{Filter: db.Filter{ID: s.someID}}, 1),
			Bare: s.query(scan("id = $1"), s.someID)},
		{Name: "user detail", Target: fastTarget,
			Ours: func(ctx context.Context) error { _, err := s.b.Detail(ctx, s.someID); return err },
			Bare: s.query(fmt.Sprintf("SELECT * FROM %s WHERE id = $1", s.table), s.someID)},
		{Name: "exact email (one scan)", Target: ratioTarget(1.3),
			Ours: s.browse(db.PageRequest{Filter: db.Filter{Email: strings.ToUpper(s.someEmail)}}, 1),
			Bare: s.query(scan("lower(email) = lower($1)"), strings.ToUpper(s.someEmail))},
		{Name: "search, 1 match (one scan)", Target: ratioTarget(1.3),
			Ours: s.browse(db.PageRequest{Filter: db.Filter{Search: s.rareSearch}}, 1),
			Bare: s.query(scan("email ILIKE $1 OR name ILIKE $1"), "%"+s.rareSearch+"%")},
		{Name: "search, every user matches (page 1)", Target: pageTarget,
			Ours: s.browse(db.PageRequest{Filter: db.Filter{Search: "example"}}, 50),
			Bare: s.query(scan("email ILIKE $1 OR name ILIKE $1 ")+order, "%example%")},
	}
	switch s.d.gen {
	case db.GenerationStack:
		cases = append(cases, &Case{Name: "status deleted (page 1)", Target: ratioTarget(1.3),
			Ours: s.browse(db.PageRequest{Filter: db.Filter{Status: db.StatusDeleted}}, min(50, s.d.seeded/20)),
			Bare: s.query(scan("deleted_at IS NOT NULL ") + order)})
	case db.GenerationBetterAuth:
		cases = append(cases, &Case{Name: "status banned (page 1)", Target: ratioTarget(1.3),
			Ours: s.browse(db.PageRequest{Filter: db.Filter{Status: db.StatusBanned}}, min(50, s.d.seeded/200)),
			Bare: s.query(scan("banned IS TRUE ") + order)},
			&Case{Name: "role admin (page 1)", Target: pageTarget,
				Ours: s.browse(db.PageRequest{Filter: db.Filter{Role: "admin"}}, min(50, s.d.seeded/100)),
				Bare: s.query(scan("role = 'admin' ") + order)})
	}
	return cases
}

// countCases times counts and the signups chart, uncached (a fresh cache
// each run) and cached.
func (s *suite) countCases() []*Case {
	last := seedStart.Add(seedSpan).Truncate(24 * time.Hour)
	from, to := last.AddDate(-1, 0, 0), last
	chartSQL, chartArgs := s.b.SignupsSQL(from, to, db.BucketDay)
	return []*Case{
		{Name: "count, estimate",
			Ours: func(ctx context.Context) error { _, err := s.b.Count(ctx, db.Filter{}, false); return err },
			Bare: s.query(fmt.Sprintf("SELECT reltuples FROM pg_class WHERE oid = '%s'::regclass", s.table))},
		{Name: "count, exact (uncached)", Target: ratioTarget(1.3), Runs: 9,
			Ours: func(ctx context.Context) error { _, err := s.fresh().Count(ctx, db.Filter{}, true); return err },
			Bare: s.query("SELECT count(*) FROM " + s.table)},
		{Name: "count, exact (cached)", Target: fastTarget,
			Ours: func(ctx context.Context) error { _, err := s.b.Count(ctx, db.Filter{}, true); return err }},
		{Name: "signups chart, 365 days (uncached)", Target: ratioTarget(1.3), Runs: 9,
			Ours: func(ctx context.Context) error { _, err := s.fresh().Signups(ctx, from, to, db.BucketDay); return err },
			Bare: s.query(chartSQL, chartArgs...)},
		{Name: "signups chart, 365 days (cached)", Target: fastTarget,
			Ours: func(ctx context.Context) error { _, err := s.b.Signups(ctx, from, to, db.BucketDay); return err }},
	}
}
