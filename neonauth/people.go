package neonauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// ErrNoPeopleTables reports a users table without Better Auth's other
// tables: Stack Auth's users_sync holds users only, with no sessions,
// linked accounts, bans or organizations.
var ErrNoPeopleTables = errors.New("neonauth: sessions, accounts and organizations exist for Better Auth only")

// People is what a branch's own Better Auth tables say about the people
// behind its users: their sessions, linked accounts, bans, organizations
// and activity. Neon's API has no call for any of it, so it is read from,
// and changed in, the branch's database directly. Each part is declared
// beside the code that serves it.
type People interface {
	Provider() authprovider.Provider
	Target() string
	PeopleSessions
	PeopleDetail
	PeopleOrganizations
	PeopleActivity
}

var _ People = (*db.UserBrowser)(nil)

// OpenPeople returns the Better Auth tables of the branch r names, through
// the same connection as its users browser. Stack Auth is
// ErrNoPeopleTables.
func (s *Service) OpenPeople(ctx context.Context, r Ref) (People, error) {
	b, err := s.users.OpenBrowser(ctx, r)
	if err != nil {
		return nil, err
	}
	if b.Provider() != authprovider.BetterAuth {
		return nil, fmt.Errorf("%s: %w", b.Target(), ErrNoPeopleTables)
	}
	return b, nil
}
