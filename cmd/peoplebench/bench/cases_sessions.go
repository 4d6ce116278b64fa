package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
)

// sessionsTarget is what a sessions page must achieve: about the bare
// keyset statement's cost, and with the advised index a p99 under 5 ms.
func sessionsTarget(indexed bool) *Target {
	t := &Target{MaxRatio: 1.3}
	if indexed {
		t.MaxP99 = 5 * time.Millisecond
	}
	return t
}

// scanRuns caps the runs of a case whose statement scans a table: a
// handful say what it costs. sortRuns caps a sessions page without the
// index, which sorts every active session, and the join to its user, each
// time.
const (
	scanRuns = 5
	sortRuns = 3
)

// sessionsPage is one page the sessions cases read: the dashboard's
// request, the cursor the bare keyset statement starts after ("" from the
// start), and the session the page must open with.
type sessionsPage struct {
	name      string
	req       db.SessionPageRequest
	after     string
	wantFirst string
}

// sessionCases time the sessions view's first page and a page deep in it
// through the cursor the dashboard handed out, against the bare keyset
// statement (SessionsSQL) reading the same rows, and the last page against
// the first page's statement in reverse order, which reads the oldest
// sessions as the dashboard does.
func (s *suite) sessionCases(ctx context.Context, indexed bool) []*Case {
	pages := []sessionsPage{{"sessions view: first page", db.SessionPageRequest{}, "", s.newestSession}}
	if s.deepAfter != "" {
		pages = append(pages, sessionsPage{fmt.Sprintf("sessions view: page %d (cursor)", s.deepPage),
			db.SessionPageRequest{After: s.deepAfter}, s.deepAfter, s.deepFirst})
	}
	pages = append(pages, sessionsPage{fmt.Sprintf("sessions view: last page (%s)", thousands(int64(s.lastPage))),
		db.SessionPageRequest{Last: true}, "", s.lastFirst})
	var cases []*Case
	for _, p := range pages {
		c := &Case{Name: p.name, Target: sessionsTarget(indexed)}
		if !indexed {
			c.Runs = sortRuns
		}
		sql, args, err := s.b.SessionsSQL(db.SessionFilter{}, pageSize, p.after)
		if err == nil && p.req.Last {
			sql, err = reversed(sql)
		}
		if err != nil {
			c.Ours = func(context.Context) error { return fmt.Errorf("SessionsSQL: %w", err) }
			cases = append(cases, c)
			continue
		}
		c.Plan = s.planOf(ctx, sql, args...)
		c.Bare = s.bare(pgx.QueryExecModeExec, sql, args...)
		c.Ours = func(ctx context.Context) error {
			page, err := s.b.BrowseSessions(ctx, p.req)
			switch {
			case err != nil:
				return err
			case len(page.Sessions) != pageSize:
				return fmt.Errorf("page of %d sessions, want %d", len(page.Sessions), pageSize)
			case page.Sessions[0].ID != p.wantFirst:
				return fmt.Errorf("page opens with session %s, want %s", page.Sessions[0].ID, p.wantFirst)
			}
			return nil
		}
		cases = append(cases, c)
	}
	return cases
}

// reversed turns the first page's statement into the last page's: the same
// statement ordered oldest first.
func reversed(sql string) (string, error) {
	const newest, oldest = `ORDER BY s."createdAt" DESC, s.id DESC`, `ORDER BY s."createdAt" ASC, s.id ASC`
	if strings.Count(sql, newest) != 1 {
		return "", fmt.Errorf("the sessions statement has no single %q to reverse", newest)
	}
	return strings.Replace(sql, newest, oldest, 1), nil
}
