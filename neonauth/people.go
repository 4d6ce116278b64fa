package neonauth

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// ErrPeopleOverride refuses a change (a ban, a revocation) to a branch whose
// database comes from an operator's override (DATABASE_URL, or one per
// project): every branch of the project shares it, so a change meant for
// one branch could land in another's database.
var ErrPeopleOverride = errors.New("neonauth: the users database is an override shared by every branch, so changes are refused")

// OpenPeople returns the Better Auth tables of the branch r names, through
// the same connection as its users browser. Stack Auth is
// ErrNoPeopleTables. Through an override, reads work and every change is
// ErrPeopleOverride.
func (s *Service) OpenPeople(ctx context.Context, r Ref) (People, error) {
	b, source, err := s.users.openBrowser(ctx, r)
	if err != nil {
		return nil, err
	}
	if b.Provider() != authprovider.BetterAuth {
		return nil, fmt.Errorf("%s: %w", b.Target(), ErrNoPeopleTables)
	}
	if source != SourceNeon {
		return readOnlyPeople{People: b, source: source}, nil
	}
	return b, nil
}

// readOnlyPeople is People through an override: its reads pass, its
// changes are refused.
type readOnlyPeople struct {
	People
	source string
}

func (p readOnlyPeople) refuse() error {
	return fmt.Errorf("%s (%s): %w", p.Target(), p.source, ErrPeopleOverride)
}

// Ban is refused.
func (p readOnlyPeople) Ban(context.Context, string, string, *time.Time) (int64, error) {
	return 0, p.refuse()
}

// Unban is refused.
func (p readOnlyPeople) Unban(context.Context, string) error { return p.refuse() }

// RevokeSession is refused.
func (p readOnlyPeople) RevokeSession(context.Context, string) error { return p.refuse() }

// RevokeUserSessions is refused.
func (p readOnlyPeople) RevokeUserSessions(context.Context, string) (int64, error) {
	return 0, p.refuse()
}

// RevokeMatchingSessions is refused.
func (p readOnlyPeople) RevokeMatchingSessions(context.Context, SessionFilter, func(int64)) (int64, error) {
	return 0, p.refuse()
}
