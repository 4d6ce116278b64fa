package db

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// What the person panels of a Better Auth user read. Every statement names
// its columns: session.token and account's tokens and password hash are
// never selected, so no struct here can carry them.

// PersonSessionLimit bounds the sessions one user's panel lists; the rest
// are counted.
const PersonSessionLimit = 50

// PersonListLimit bounds the linked accounts and memberships one user's
// panels list; real users have a handful.
const PersonListLimit = 100

// personCountCap bounds how far the sessions beyond the listed ones are
// counted, so that a user with a runaway number of sessions costs a bounded
// index walk.
const personCountCap = 10000

// PersonAccount is one way a user signs in: a social provider's account or
// Better Auth's own email and password ("credential").
type PersonAccount struct {
	ProviderID string
	AccountID  string
	Scope      string
	// HasPassword says whether a password hash is set, computed in SQL:
	// the hash itself is never read.
	HasPassword bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PersonSession is one of a user's sessions, without its token.
type PersonSession struct {
	ID        string
	CreatedAt time.Time
	// UpdatedAt is when Better Auth last refreshed the session: the last
	// time it was seen in use.
	UpdatedAt            time.Time
	ExpiresAt            time.Time
	IPAddress            string
	UserAgent            string
	ImpersonatedBy       string
	ActiveOrganizationID string
	// Expired is set when ExpiresAt has passed by the database's clock:
	// Better Auth refuses the session, and deletes it when it meets it.
	Expired bool
}

// PersonSessions is a user's sessions, newest first, at most
// PersonSessionLimit of them.
type PersonSessions struct {
	Sessions []PersonSession
	// More counts the sessions beyond those listed, up to personCountCap.
	More int64
	// LastSignIn is when the newest session still in the table began: the
	// last sign-in the table remembers. Nil without sessions.
	LastSignIn *time.Time
}

// PersonMembership is a user's place in one organization.
type PersonMembership struct {
	OrganizationID string
	Name           string
	Slug           string
	Role           string
	JoinedAt       time.Time
}

// BanState is what the user row says about a ban.
type BanState struct {
	// Banned is the banned column as stored.
	Banned bool
	Reason string
	// Expires is when a timed ban lifts; nil for a permanent one.
	Expires *time.Time
	// Lifted is set for a ban whose expiry has passed by the database's
	// clock: Better Auth lets the user in again (and clears the ban at the
	// next sign-in), so it no longer counts.
	Lifted bool
}

// Active reports whether Better Auth refuses the user's sign-ins now.
func (s BanState) Active() bool { return s.Banned && !s.Lifted }

// personID checks that the browser reads Better Auth and that id is a uuid,
// which every Better Auth user id is. An id that is no uuid cannot exist:
// ErrNotFound without a query.
func (b *UserBrowser) personID(op, id string) (pgtype.UUID, error) {
	if err := b.check(op); err != nil {
		return pgtype.UUID{}, err
	}
	if b.gen != authprovider.BetterAuth {
		return pgtype.UUID{}, fmt.Errorf("db: %s on %s: only Better Auth keeps sessions, accounts and bans", op, b.target)
	}
	if err := checkText("id", id, maxIDLen); err != nil {
		return pgtype.UUID{}, err
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return pgtype.UUID{}, fmt.Errorf("db: %s on %s: %w", op, b.target, ErrNotFound)
	}
	return pgtype.UUID{Bytes: u, Valid: true}, nil
}

// PersonAccounts returns the user's linked accounts, oldest first, read
// through account_userId_idx.
func (b *UserBrowser) PersonAccounts(ctx context.Context, userID string) ([]PersonAccount, error) {
	const op = "linked accounts"
	id, err := b.personID(op, userID)
	if err != nil {
		return nil, err
	}
	rows, err := b.pool.Query(ctx, `SELECT "providerId", "accountId", coalesce(scope, ''), password IS NOT NULL, "createdAt", "updatedAt"
  FROM neon_auth.account WHERE "userId" = $1
 ORDER BY "createdAt", id LIMIT $2`, id, PersonListLimit)
	if err != nil {
		return nil, wrapErr(op, b.target, err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PersonAccount, error) {
		var a PersonAccount
		err := r.Scan(&a.ProviderID, &a.AccountID, &a.Scope, &a.HasPassword, &a.CreatedAt, &a.UpdatedAt)
		return a, err
	})
	return as, wrapErr(op, b.target, err)
}

// PersonSessions returns the user's sessions, newest first, expired ones
// included and marked, and counts the rest: two statements on
// session_userId_idx.
func (b *UserBrowser) PersonSessions(ctx context.Context, userID string) (PersonSessions, error) {
	const op = "user sessions"
	id, err := b.personID(op, userID)
	if err != nil {
		return PersonSessions{}, err
	}
	rows, err := b.pool.Query(ctx, `SELECT id::text, "createdAt", "updatedAt", "expiresAt",
       coalesce("ipAddress", ''), coalesce("userAgent", ''), coalesce("impersonatedBy", ''),
       coalesce("activeOrganizationId", ''), "expiresAt" <= now()
  FROM neon_auth.session WHERE "userId" = $1
 ORDER BY "createdAt" DESC, id DESC LIMIT $2`, id, PersonSessionLimit+1)
	if err != nil {
		return PersonSessions{}, wrapErr(op, b.target, err)
	}
	ss, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PersonSession, error) {
		var s PersonSession
		err := r.Scan(&s.ID, &s.CreatedAt, &s.UpdatedAt, &s.ExpiresAt, &s.IPAddress, &s.UserAgent,
			&s.ImpersonatedBy, &s.ActiveOrganizationID, &s.Expired)
		return s, err
	})
	if err != nil {
		return PersonSessions{}, wrapErr(op, b.target, err)
	}
	out := PersonSessions{Sessions: ss}
	if len(ss) > 0 {
		at := ss[0].CreatedAt
		out.LastSignIn = &at
	}
	if len(ss) > PersonSessionLimit {
		out.Sessions = ss[:PersonSessionLimit]
		var n int64
		err = b.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM neon_auth.session WHERE "userId" = $1 LIMIT $2) s`,
			id, PersonSessionLimit+personCountCap).Scan(&n)
		if err != nil {
			return PersonSessions{}, wrapErr(op, b.target, err)
		}
		out.More = n - PersonSessionLimit
	}
	return out, nil
}

// PersonMemberships returns the organizations the user belongs to, in the
// order joined, read through member_userId_idx and organization's key.
func (b *UserBrowser) PersonMemberships(ctx context.Context, userID string) ([]PersonMembership, error) {
	const op = "memberships"
	id, err := b.personID(op, userID)
	if err != nil {
		return nil, err
	}
	rows, err := b.pool.Query(ctx, `SELECT o.id::text, o.name, o.slug, m.role, m."createdAt"
  FROM neon_auth.member m JOIN neon_auth.organization o ON o.id = m."organizationId"
 WHERE m."userId" = $1
 ORDER BY m."createdAt", m.id LIMIT $2`, id, PersonListLimit)
	if err != nil {
		return nil, wrapErr(op, b.target, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PersonMembership, error) {
		var m PersonMembership
		err := r.Scan(&m.OrganizationID, &m.Name, &m.Slug, &m.Role, &m.JoinedAt)
		return m, err
	})
	return ms, wrapErr(op, b.target, err)
}

// PersonBan returns the user's ban state, or ErrNotFound when no user has
// the id: one primary-key read.
func (b *UserBrowser) PersonBan(ctx context.Context, userID string) (BanState, error) {
	const op = "ban state"
	id, err := b.personID(op, userID)
	if err != nil {
		return BanState{}, err
	}
	var s BanState
	var reason *string
	err = b.pool.QueryRow(ctx, `SELECT coalesce(banned, false), "banReason", "banExpires",
       coalesce(banned, false) AND "banExpires" IS NOT NULL AND "banExpires" <= now()
  FROM neon_auth."user" WHERE id = $1`, id).Scan(&s.Banned, &reason, &s.Expires, &s.Lifted)
	if err != nil {
		return BanState{}, wrapErr(op, b.target, err)
	}
	if reason != nil {
		s.Reason = *reason
	}
	return s, nil
}
