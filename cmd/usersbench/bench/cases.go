package bench

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// ratioTarget and fastTarget are the targets most cases carry.
func ratioTarget(x float64) *Target { return &Target{MaxRatio: x} }

var fastTarget = &Target{MaxP99: 5 * time.Millisecond}

// httpTarget is what a page answered over HTTP must achieve when an index
// serves its query: the same bound as the browse p99 under mixed load.
var httpTarget = &Target{MaxP99: 50 * time.Millisecond}

// bareCase fills in c's bare side: sql on the plain connection, its plan,
// and the target that plan calls for. Where an index serves the bare
// statement the dashboard must be fast in absolute terms (fast, or
// httpTarget over HTTP); where the statement scans the table it must cost
// about the same scan.
func (s *suite) bareCase(ctx context.Context, c *Case, sql string, args ...any) *Case {
	c.Bare = s.query(sql, args...)
	plan, indexed := s.planOf(ctx, sql, args...)
	c.Plan = plan
	switch {
	case !indexed:
		c.Target = ratioTarget(1.3)
	case strings.HasPrefix(c.Name, "HTTP "):
		c.Target = httpTarget
	default:
		c.Target = fastTarget
	}
	return c
}

// lookupCases time the "check a user" box as its handler runs it (the
// service opens the table, UserDirectory.Find looks the key up) against the
// bare lookup by id and by email.
func (s *suite) lookupCases(ctx context.Context) []*Case {
	byID := fmt.Sprintf("SELECT %s FROM %s WHERE id = $1", s.cols, s.table)
	email, byEmail := strings.ToUpper(s.lookupEmail), fmt.Sprintf("SELECT %s FROM %s WHERE lower(email) = lower($1)", s.cols, s.table)
	if s.d.gen == authprovider.BetterAuth {
		// Better Auth stores emails as given and keeps them unique.
		email, byEmail = s.lookupEmail, fmt.Sprintf("SELECT %s FROM %s WHERE email = $1", s.cols, s.table)
	}
	return []*Case{
		s.bareCase(ctx, &Case{Name: "check box by id (UserDirectory.Find)", Ours: s.find(s.lookupID)}, byID, s.lookupID),
		s.bareCase(ctx, &Case{Name: "check box by email (UserDirectory.Find)", Ours: s.find(email)}, byEmail, email),
	}
}

// find returns a case side looking key up as the lookup handler does and
// checking it found the suite's lookup user.
func (s *suite) find(key string) func(context.Context) error {
	return func(ctx context.Context) error {
		dir, err := s.svc.OpenUsers(ctx, s.ref())
		if err != nil {
			return err
		}
		u, err := dir.Find(ctx, key)
		if err == nil && u.ID != s.lookupID {
			err = fmt.Errorf("found %s, want %s", u.ID, s.lookupID)
		}
		return err
	}
}

// browseCases time the pages at depth, read by keyset, against the bare
// keyset statement: the first page (and the "latest users" panel, which
// reads it), pages 100 and 2,000 where the table has them, and the last.
func (s *suite) browseCases(ctx context.Context) []*Case {
	order := fmt.Sprintf("ORDER BY %s DESC, id DESC LIMIT %d", s.created, pageSize)
	first := fmt.Sprintf("SELECT %s FROM %s %s", s.cols, s.table, order)
	last := s.lastPage()
	cases := []*Case{
		s.bareCase(ctx, &Case{Name: "browse page 1", Ours: s.browse(db.PageRequest{}, min(pageSize, s.d.rows))}, first),
		s.bareCase(ctx, &Case{Name: "latest users (first page, UserDirectory.Latest)", Ours: s.latest()}, first),
	}
	for _, dp := range s.depths {
		cases = append(cases, s.bareCase(ctx, &Case{
			Name: fmt.Sprintf("browse page %s of %s", thousands(dp.page), thousands(last)),
			Ours: s.browse(db.PageRequest{After: s.b.Cursor(dp.after)}, pageSize),
		}, s.keysetSQL(), dp.after.CreatedAt, dp.after.ID))
	}
	return append(cases, s.bareCase(ctx, &Case{
		Name: fmt.Sprintf("browse last page (%s)", thousands(last)),
		Ours: s.browse(db.PageRequest{Last: true}, min(pageSize, s.d.rows)),
	}, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s, id LIMIT %d", s.cols, s.table, s.created, pageSize)))
}

// keysetSQL is the bare statement for the page after ($1, $2).
func (s *suite) keysetSQL() string {
	return fmt.Sprintf("SELECT %s FROM %s WHERE (%s, id) < ($1, $2) ORDER BY %s DESC, id DESC LIMIT %d",
		s.cols, s.table, s.created, s.created, pageSize)
}

// latest returns a case side reading the "latest users" panel as its
// handler does and checking it starts with the newest user.
func (s *suite) latest() func(context.Context) error {
	return func(ctx context.Context) error {
		dir, err := s.svc.OpenUsers(ctx, s.ref())
		if err != nil {
			return err
		}
		us, err := dir.Latest(ctx, neonauth.DefaultLatestUsers)
		if err == nil && (len(us) == 0 || us[0].ID != s.newest.ID) {
			err = fmt.Errorf("latest users do not start with the newest, %s", s.newest.ID)
		}
		return err
	}
}

// httpCases time the same reads through the dashboard's HTTP server, as
// the browser's htmx requests make them, against the same bare SQL.
func (s *suite) httpCases(ctx context.Context) []*Case {
	lookup := s.lookupCases(ctx)
	email := strings.ToUpper(s.lookupEmail)
	if s.d.gen == authprovider.BetterAuth {
		email = s.lookupEmail
	}
	cases := []*Case{
		{Name: "HTTP check box by id", Ours: fetch(s.srv, s.users.url("lookup", url.Values{"q": {s.lookupID}}), true, `data-testid="lookup-result"`, s.lookupID),
			Bare: lookup[0].Bare, Plan: lookup[0].Plan},
		{Name: "HTTP check box by email", Ours: fetch(s.srv, s.users.url("lookup", url.Values{"q": {email}}), true, `data-testid="lookup-result"`, s.lookupID),
			Bare: lookup[1].Bare, Plan: lookup[1].Plan},
	}
	for i, c := range cases {
		c.Target = httpTarget
		if lookup[i].Target.MaxRatio > 0 {
			c.Target = lookup[i].Target
		}
	}
	first := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s DESC, id DESC LIMIT %d", s.cols, s.table, s.created, pageSize)
	cases = append(cases, s.bareCase(ctx, &Case{Name: "HTTP browse page 1, the latest users (htmx)",
		Ours: fetch(s.srv, s.users.url("browse", nil), true, s.newest.ID)}, first))
	if len(s.depths) > 0 {
		dp := s.depths[len(s.depths)-1]
		cases = append(cases, s.bareCase(ctx, &Case{Name: fmt.Sprintf("HTTP browse page %s (htmx)", thousands(dp.page)),
			Ours: fetch(s.srv, s.users.url("browse", url.Values{"after": {s.b.Cursor(dp.after)}}), true, dp.first.ID)},
			s.keysetSQL(), dp.after.CreatedAt, dp.after.ID))
	}
	return cases
}

// thousands prints n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
