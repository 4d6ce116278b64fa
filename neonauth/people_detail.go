package neonauth

import (
	"context"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

// PeopleDetail is the part of People that serves one user's detail page:
// the accounts they sign in with, their sessions, their organizations and
// their ban, and the ban itself. None of it ever carries a token or a
// password hash.
type PeopleDetail interface {
	PersonAccounts(ctx context.Context, userID string) ([]PersonAccount, error)
	PersonSessions(ctx context.Context, userID string) (PersonSessions, error)
	PersonMemberships(ctx context.Context, userID string) ([]PersonMembership, error)
	PersonBan(ctx context.Context, userID string) (BanState, error)
	// Ban bans the user and deletes all their sessions in one transaction,
	// returning how many it deleted; expires nil is a permanent ban.
	Ban(ctx context.Context, userID, reason string, expires *time.Time) (int64, error)
	Unban(ctx context.Context, userID string) error
}

// What the user detail page shows of a Better Auth user.
type (
	PersonAccount    = db.PersonAccount
	PersonSession    = db.PersonSession
	PersonSessions   = db.PersonSessions
	PersonMembership = db.PersonMembership
	BanState         = db.BanState
)

// Bounds of a ban, checked before the database is asked.
const (
	MaxBanReason       = db.MaxBanReason
	MaxBanLength       = db.MaxBanLength
	PersonSessionLimit = db.PersonSessionLimit
)

// CheckBan validates a ban's reason and expiry as of now; see db.CheckBan.
func CheckBan(reason string, expires *time.Time, now time.Time) (string, error) {
	return db.CheckBan(reason, expires, now)
}
