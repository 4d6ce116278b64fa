package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/db"
)

// lastActiveTarget is what the "last active" column may add to a page of
// users, at the median.
var lastActiveTarget = &Target{MaxAdded: 2 * time.Millisecond}

// usersPageSQL is the users browser's first page as the dashboard builds it
// (the page's keys by the browse-order index, then its rows by primary key),
// written out bare, with the "last active" column (%s) or without it.
const usersPageSQL = `SELECT u.id::text, u.email, u.name, u."createdAt", u."updatedAt", u."emailVerified",
       coalesce(u.role, ''), coalesce(u.banned, false), coalesce(u.image, '')%s
  FROM (SELECT id, "createdAt" FROM neon_auth."user" ORDER BY "createdAt" DESC, id DESC LIMIT 51) k
  JOIN neon_auth."user" u ON u.id = k.id
 ORDER BY k."createdAt" DESC, k.id DESC`

// lastActiveColumn is the column as the users browser selects it: the
// latest "updatedAt" of the user's sessions.
const lastActiveColumn = `,
       (SELECT max(s."updatedAt") FROM neon_auth.session s WHERE s."userId" = u.id)`

// lastActiveCases time what the "last active" column costs a page of 50
// users: the dashboard's page (Browse, which selects it) against the bare
// statement without it, and the bare statement with it against the same
// without it.
func (s *suite) lastActiveCases(ctx context.Context) []*Case {
	with, without := fmt.Sprintf(usersPageSQL, lastActiveColumn), fmt.Sprintf(usersPageSQL, "")
	browse := func(ctx context.Context) error {
		p, err := s.b.Browse(ctx, db.PageRequest{})
		switch {
		case err != nil:
			return err
		case len(p.Users) != pageSize:
			return fmt.Errorf("page of %d users, want %d", len(p.Users), pageSize)
		case p.Users[0].ID != s.newestUser:
			return fmt.Errorf("page opens with user %s, want %s", p.Users[0].ID, s.newestUser)
		case p.Users[0].LastActiveAt == nil:
			return fmt.Errorf("user %s has sessions but no last active time", s.newestUser)
		}
		return nil
	}
	plan := s.planOf(ctx, with)
	return []*Case{
		{Name: "users page 1 (Browse, with last active) vs bare without the column", Ours: browse,
			Bare: s.bare(pgx.QueryExecModeExec, without), Target: lastActiveTarget, Plan: s.planOf(ctx, without)},
		{Name: "users page 1: bare with last active vs bare without", Ours: s.bare(pgx.QueryExecModeExec, with),
			Bare: s.bare(pgx.QueryExecModeExec, without), Target: lastActiveTarget, Plan: plan},
		{Name: "users page 1 (Browse) vs bare with last active", Ours: browse,
			Bare: s.bare(pgx.QueryExecModeExec, with), Plan: plan},
	}
}
