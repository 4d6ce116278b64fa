package neonauth

import (
	"context"

	"github.com/neonauth-admin/dashboard/db"
)

// PeopleSessions is the part of People that serves sessions: the branch's
// neon_auth.session rows, paged and filtered, and their revocation. A
// revoked session's row is gone at once; the app may still accept it from
// its cookie cache for up to five minutes, Better Auth's default.
type PeopleSessions interface {
	BrowseSessions(ctx context.Context, req SessionPageRequest) (SessionPage, error)
	CountSessions(ctx context.Context, f SessionFilter, exact bool) (UserCount, error)
	CountMatchingSessions(ctx context.Context, f SessionFilter) (int64, error)
	RevokeSession(ctx context.Context, id string) error
	RevokeUserSessions(ctx context.Context, userID string) (int64, error)
	RevokeMatchingSessions(ctx context.Context, f SessionFilter, progress func(revoked int64)) (int64, error)
}

// The sessions vocabulary, so handlers need not import db.
type (
	Session            = db.Session
	SessionFilter      = db.SessionFilter
	SessionPage        = db.SessionPage
	SessionPageRequest = db.SessionPageRequest
)

// ErrSessionNotFound reports a session that no longer exists.
var ErrSessionNotFound = db.ErrSessionNotFound

// RevokeBatch is how many sessions one step of a revocation deletes.
const RevokeBatch = db.RevokeBatch

// SessionsIndex and SessionsIndexSQL name and build the index the sessions
// view's order needs on a large session table.
const (
	SessionsIndex    = db.SessionsIndex
	SessionsIndexSQL = db.SessionsIndexSQL
)
