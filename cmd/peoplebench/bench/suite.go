package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/neonauth-admin/dashboard/db"
)

// pageSize is the page the sessions and users cases read.
const pageSize = db.DefaultPageSize

// deepPage is the sessions page read through the cursor besides the first
// and the last, where the branch has more pages than that.
const deepPage = 100

// activeSessions is the order the sessions view lists by default: active
// sessions, newest first.
const activeSessions = `SELECT id::text, "createdAt" FROM neon_auth.session WHERE "expiresAt" > now() ORDER BY "createdAt" DESC, id DESC`

// findRows reads the rows the cases start from (untimed set-up).
func (s *suite) findRows(ctx context.Context) error {
	// Half the people read are members of an organization, so that the
	// memberships panel joins; the other half are anyone.
	rows, err := s.pool.Query(ctx, `(SELECT "userId"::text FROM neon_auth.member ORDER BY random() LIMIT 100)
UNION ALL (SELECT id::text FROM neon_auth."user" ORDER BY random() LIMIT 100)`)
	if err != nil {
		return fmt.Errorf("pick people: %w", err)
	}
	if s.people, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fmt.Errorf("pick people: %w", err)
	}
	rand.Shuffle(len(s.people), func(i, j int) { s.people[i], s.people[j] = s.people[j], s.people[i] })
	if err := s.pool.QueryRow(ctx, `SELECT id::text FROM neon_auth."user" ORDER BY "createdAt" DESC, id DESC LIMIT 1`).Scan(&s.newestUser); err != nil {
		return fmt.Errorf("newest user: %w", err)
	}
	return s.findSessions(ctx)
}

// nextPerson moves the detail cases to the next of the people.
func (s *suite) nextPerson() {
	s.person = s.people[s.next%len(s.people)]
	s.next++
}

// sessionAt returns the active session at offset in the view's order.
func (s *suite) sessionAt(ctx context.Context, offset int) (string, time.Time, error) {
	var id string
	var at time.Time
	err := s.pool.QueryRow(ctx, activeSessions+" OFFSET $1 LIMIT 1", offset).Scan(&id, &at)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("session at %d: %w", offset, err)
	}
	return id, at, nil
}

// findSessions finds where the sessions pages open, and the cursor ending
// page 99 as the dashboard hands it out: from the first page of a filter
// ending just after page 99 starts, which is the same place, without
// walking 99 pages.
func (s *suite) findSessions(ctx context.Context) error {
	var active int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM neon_auth.session WHERE "expiresAt" > now()`).Scan(&active); err != nil {
		return err
	}
	s.lastPage = (active + pageSize - 1) / pageSize
	if s.lastPage < 3 {
		return fmt.Errorf("%d active sessions: too few for the sessions cases", active)
	}
	var err error
	if s.newestSession, _, err = s.sessionAt(ctx, 0); err != nil {
		return err
	}
	if s.lastPage > deepPage+1 {
		opens, at, err := s.sessionAt(ctx, (deepPage-2)*pageSize)
		if err != nil {
			return err
		}
		p, err := s.b.BrowseSessions(ctx, db.SessionPageRequest{Filter: db.SessionFilter{CreatedBefore: at.Add(time.Microsecond)}})
		if err != nil {
			return fmt.Errorf("page %d: %w", deepPage-1, err)
		}
		if len(p.Sessions) == 0 || p.Sessions[0].ID != opens || p.Next == "" {
			return fmt.Errorf("page %d does not open with session %s", deepPage-1, opens)
		}
		s.deepAfter, s.deepPage = p.Next, deepPage
		if s.deepFirst, _, err = s.sessionAt(ctx, (deepPage-1)*pageSize); err != nil {
			return err
		}
	}
	last, err := s.b.BrowseSessions(ctx, db.SessionPageRequest{Last: true})
	if err != nil || len(last.Sessions) == 0 {
		return fmt.Errorf("last page: %v", err)
	}
	s.lastFirst = last.Sessions[0].ID
	return nil
}

// bare returns a case side running sql on the dashboard's pool in mode and
// reading every row.
func (s *suite) bare(mode pgx.QueryExecMode, sql string, args ...any) func(context.Context) error {
	return func(ctx context.Context) error { return runBare(ctx, s.pool, mode, sql, args...) }
}

// runBare runs sql on pool and reads every row.
func runBare(ctx context.Context, pool *pgxpool.Pool, mode pgx.QueryExecMode, sql string, args ...any) error {
	rows, err := pool.Query(ctx, sql, append([]any{mode}, args...)...)
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

// planOf describes how Postgres runs sql: the first index it reads, or
// else its first scan.
func (s *suite) planOf(ctx context.Context, sql string, args ...any) string {
	var out string
	err := s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, append([]any{pgx.QueryExecModeExec}, args...)...).Scan(&out)
	if err != nil {
		return "EXPLAIN failed: " + err.Error()
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) == 0 {
		return "unreadable plan"
	}
	var scan, indexed string
	var walk func(n planNode)
	walk = func(n planNode) {
		if n.IndexName != "" && indexed == "" {
			indexed = n.NodeType + " " + n.IndexName
		}
		if strings.HasSuffix(n.NodeType, "Scan") && scan == "" {
			scan = n.NodeType
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	if indexed != "" {
		return indexed
	}
	return scan
}

// planNode is the part of a JSON plan node planOf reads.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

// thousands prints n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
