package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// ErrSessionNotFound reports that no session has the id asked for: it ended,
// or was revoked, before the request reached it.
var ErrSessionNotFound = errors.New("session not found")

// SessionsIndex is the name of the index that serves the sessions view's
// order, and SessionsIndexSQL the statement that builds it. Better Auth
// creates only an index on "userId", so without this one every page of
// sessions sorts the whole table; with it, a page reads a page of index
// entries at any depth. It is built CONCURRENTLY, so the app keeps signing
// people in and out while it is built.
const (
	SessionsIndex    = "session_createdAt_id_idx"
	SessionsIndexSQL = `CREATE INDEX CONCURRENTLY IF NOT EXISTS "session_createdAt_id_idx" ON neon_auth.session ("createdAt" DESC, id DESC)`
)

// Session is one row of a branch's neon_auth.session as the sessions view
// shows it, with its user's email and name. The session's token is never
// read: whoever holds it is signed in.
type Session struct {
	ID        string
	UserID    string
	UserEmail string // "" when the user row is gone
	UserName  string
	CreatedAt time.Time
	// LastActiveAt is "updatedAt": Better Auth moves it when it refreshes
	// the session.
	LastActiveAt time.Time
	ExpiresAt    time.Time
	// Expired is "expiresAt" <= now() by the database's clock.
	Expired              bool
	IPAddress            string
	UserAgent            string
	ImpersonatedBy       string // the admin's user id when impersonated
	ActiveOrganizationID string
}

// Limits on session filter values, far above any real address or header.
const (
	maxIPLen        = 64
	maxUserAgentLen = 256
)

// SessionFilter selects the sessions a page, count or revocation covers.
// Set fields combine with AND; the zero filter selects every active session.
type SessionFilter struct {
	// User is a user id (uuid) or an exact email address.
	User string
	// IP is an exact address, or the start of one when it ends in "." or
	// ":" ("10.0.", "2001:db8:").
	IP string
	// UserAgent matches a case-insensitive substring of the user agent; %
	// and _ match themselves.
	UserAgent string
	// Impersonated keeps only sessions an admin opened as the user.
	Impersonated bool
	// CreatedFrom keeps sessions created at or after it; CreatedBefore
	// those created before it. Zero leaves that end open.
	CreatedFrom, CreatedBefore time.Time
	// IncludeExpired keeps expired sessions too; by default only those
	// whose "expiresAt" is still ahead are selected.
	IncludeExpired bool
}

// IPPrefix reports whether f.IP is the start of an address rather than a
// whole one.
func (f SessionFilter) IPPrefix() bool {
	return strings.HasSuffix(f.IP, ".") || strings.HasSuffix(f.IP, ":")
}

// UserIsID reports whether f.User names a user by id rather than by email.
func (f SessionFilter) UserIsID() bool {
	_, err := uuid.Parse(f.User)
	return f.User != "" && err == nil
}

// normalize trims the filter's text, checks it, and returns an *InputError
// naming the first bad field.
func (f SessionFilter) normalize() (SessionFilter, error) {
	f.User = strings.TrimSpace(f.User)
	f.IP = strings.ToLower(strings.TrimSpace(f.IP))
	f.UserAgent = strings.TrimSpace(f.UserAgent)
	for _, c := range []struct {
		field, value string
		max          int
	}{{"user", f.User, maxEmailLen}, {"ip", f.IP, maxIPLen}, {"ua", f.UserAgent, maxUserAgentLen}} {
		if err := checkText(c.field, c.value, c.max); err != nil {
			return SessionFilter{}, err
		}
	}
	if f.User != "" {
		if u, err := uuid.Parse(f.User); err == nil {
			f.User = u.String()
		} else if !strings.Contains(f.User, "@") {
			return SessionFilter{}, inputErr("user", "must be a user id (a uuid) or an email address")
		}
	}
	for _, r := range f.IP {
		if !strings.ContainsRune("0123456789abcdef.:", r) {
			return SessionFilter{}, inputErr("ip", "must be an IP address, or the start of one such as 10.0. or 2001:db8:")
		}
	}
	for _, c := range []struct {
		field string
		t     time.Time
	}{{"from", f.CreatedFrom}, {"to", f.CreatedBefore}} {
		if !c.t.IsZero() && (c.t.Year() < 1 || c.t.Year() > 9999) {
			return SessionFilter{}, inputErr(c.field, "must be a date between the years 1 and 9999")
		}
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedFrom.Before(f.CreatedBefore) {
		return SessionFilter{}, inputErr("to", "must not be before the start date")
	}
	return f, nil
}

// where returns the predicates of f, which normalize has checked, over the
// session table aliased s. The user's email is matched through a subquery,
// so that counts and deletes need no join: as typed or lower-cased, since
// Better Auth stores emails lower-cased under a unique index.
func (f SessionFilter) where(a *sqlArgs) []string {
	var w []string
	switch {
	case f.UserIsID():
		w = append(w, `s."userId" = `+a.text(f.User, "uuid"))
	case f.User != "":
		p := a.text(f.User, "text")
		w = append(w, fmt.Sprintf(`s."userId" IN (SELECT id FROM neon_auth."user" WHERE email IN (%s, lower(%s)))`, p, p))
	}
	switch {
	case f.IPPrefix():
		w = append(w, `s."ipAddress" LIKE `+a.text(likePrefix(f.IP), "text"))
	case f.IP != "":
		w = append(w, `s."ipAddress" = `+a.text(f.IP, "text"))
	}
	if f.UserAgent != "" {
		w = append(w, `s."userAgent" ILIKE `+a.text(likeContains(f.UserAgent), "text"))
	}
	if f.Impersonated {
		w = append(w, `s."impersonatedBy" <> ''`)
	}
	if !f.CreatedFrom.IsZero() {
		w = append(w, `s."createdAt" >= `+a.time(f.CreatedFrom))
	}
	if !f.CreatedBefore.IsZero() {
		w = append(w, `s."createdAt" < `+a.time(f.CreatedBefore))
	}
	if !f.IncludeExpired {
		w = append(w, `s."expiresAt" > now()`)
	}
	return w
}

// likePrefix returns the LIKE pattern matching values that start with s.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// sessionColumns is the one column list of a Session, in scanSession's
// order. It names every column it reads: never the token.
const sessionColumns = `s.id::text, s."userId"::text, coalesce(u.email, ''), coalesce(u.name, ''),
       s."createdAt", s."updatedAt", s."expiresAt", s."expiresAt" <= now(),
       coalesce(s."ipAddress", ''), coalesce(s."userAgent", ''), coalesce(s."impersonatedBy", ''),
       coalesce(s."activeOrganizationId", '')`

const sessionFrom = ` FROM neon_auth.session s LEFT JOIN neon_auth."user" u ON u.id = s."userId"`

func scanSession(r pgx.CollectableRow) (Session, error) {
	var s Session
	err := r.Scan(&s.ID, &s.UserID, &s.UserEmail, &s.UserName, &s.CreatedAt, &s.LastActiveAt, &s.ExpiresAt, &s.Expired,
		&s.IPAddress, &s.UserAgent, &s.ImpersonatedBy, &s.ActiveOrganizationID)
	return s, err
}

// SessionPageRequest asks for one page of sessions. At most one of After,
// Before and Last may be set; none asks for the newest sessions.
type SessionPageRequest struct {
	// Size is one of PageSizes; zero means DefaultPageSize.
	Size int
	// After is a SessionPage.Next cursor; Before a SessionPage.Prev one.
	After, Before string
	// Last asks for the oldest sessions.
	Last   bool
	Filter SessionFilter
}

// SessionPage is one page of sessions, newest first, paged as Page is.
type SessionPage struct {
	Sessions []Session
	Size     int
	// Next is the cursor of the following (older) page, "" on the last.
	Next string
	// Prev is the cursor of the preceding (newer) page, "" on the first.
	Prev string
	// Filter is the filter as applied: trimmed, ids normalized.
	Filter SessionFilter
}

// sessionCursorMark starts every sessions cursor, so that a users page's
// cursor is refused here rather than read as a place among sessions.
const sessionCursorMark = "s"

func sessionCursor(s Session) string {
	t := s.CreatedAt
	return sessionCursorMark + encodeCursor(authprovider.BetterAuth, position{created: &t, id: s.ID})
}

func decodeSessionCursor(field, c string) (position, error) {
	rest, ok := strings.CutPrefix(c, sessionCursorMark)
	if !ok {
		return position{}, inputErr(field, "is not a valid page cursor (not a sessions cursor); start again from the first page")
	}
	return decodeCursor(authprovider.BetterAuth, field, rest)
}

// checkSessions refuses a browser over a table without Better Auth's
// sessions.
func (b *UserBrowser) checkSessions(op string) error {
	if err := b.check(op); err != nil {
		return err
	}
	if b.gen != authprovider.BetterAuth {
		return fmt.Errorf("db: %s on %s: %w", op, b.target, ErrSchemaMissing)
	}
	return nil
}

// BrowseSessions returns one page of the sessions req.Filter selects, by
// keyset on ("createdAt" DESC, id DESC), so a page costs the same at any
// depth (with SessionsIndex) and stays put while new sessions arrive. Bad
// requests give an *InputError naming the field.
func (b *UserBrowser) BrowseSessions(ctx context.Context, req SessionPageRequest) (SessionPage, error) {
	const op = "browse sessions"
	if err := b.checkSessions(op); err != nil {
		return SessionPage{}, err
	}
	size := cmp.Or(req.Size, DefaultPageSize)
	if !slices.Contains(PageSizes, size) {
		return SessionPage{}, inputErr("size", "must be 50, 100 or 200")
	}
	f, err := req.Filter.normalize()
	if err != nil {
		return SessionPage{}, err
	}
	n := 0
	for _, on := range []bool{req.After != "", req.Before != "", req.Last} {
		if on {
			n++
		}
	}
	if n > 1 {
		return SessionPage{}, inputErr("cursor", "only one of after, before and last may be given")
	}
	var p SessionPage
	switch {
	case req.After != "":
		var pos position
		if pos, err = decodeSessionCursor("cursor", req.After); err != nil {
			return SessionPage{}, err
		}
		p, err = b.sessionsForward(ctx, f, size, &pos)
	case req.Before != "":
		var pos position
		if pos, err = decodeSessionCursor("cursor", req.Before); err != nil {
			return SessionPage{}, err
		}
		p, err = b.sessionsBackward(ctx, f, size, &pos)
	case req.Last:
		p, err = b.sessionsBackward(ctx, f, size, nil)
	default:
		p, err = b.sessionsForward(ctx, f, size, nil)
	}
	if err != nil {
		return SessionPage{}, wrapErr(op, b.target, err)
	}
	p.Size, p.Filter = size, f
	return p, nil
}

// SessionsSQL returns the keyset statement BrowseSessions runs for the page
// after the cursor after ("" for the first page) and its arguments, so the
// benchmark can time it bare.
func (b *UserBrowser) SessionsSQL(f SessionFilter, size int, after string) (string, []any, error) {
	f, err := f.normalize()
	if err != nil {
		return "", nil, err
	}
	var from *position
	if after != "" {
		pos, err := decodeSessionCursor("cursor", after)
		if err != nil {
			return "", nil, err
		}
		from = &pos
	}
	var a sqlArgs
	return sessionsPageSQL(&a, f, true, from, size), a.args, nil
}

// sessionsPageSQL reads up to limit sessions past from (from the newest,
// or the oldest when !newest, if nil) in the view's order, or its reverse.
func sessionsPageSQL(a *sqlArgs, f SessionFilter, newest bool, from *position, limit int) string {
	w := f.where(a)
	after, dir := "<", "DESC"
	if !newest {
		after, dir = ">", "ASC"
	}
	if from != nil {
		w = append(w, fmt.Sprintf(`(s."createdAt", s.id) %s (%s, %s)`, after, a.time(*from.created), a.text(from.id, "uuid")))
	}
	return fmt.Sprintf(`SELECT %s%s%s
 ORDER BY s."createdAt" %s, s.id %s
 LIMIT %d`, sessionColumns, sessionFrom, whereSQL(w), dir, dir, limit)
}

func (b *UserBrowser) readSessions(ctx context.Context, f SessionFilter, newest bool, from *position, limit int) ([]Session, error) {
	var a sqlArgs
	sql := sessionsPageSQL(&a, f, newest, from, limit)
	rows, err := b.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, a.args...)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanSession)
}

// sessionsForward reads the page just past after (the first when nil).
func (b *UserBrowser) sessionsForward(ctx context.Context, f SessionFilter, n int, after *position) (SessionPage, error) {
	rows, err := b.readSessions(ctx, f, true, after, n+1)
	if err != nil {
		return SessionPage{}, err
	}
	p := SessionPage{Sessions: rows}
	if len(rows) > n {
		p.Sessions = rows[:n]
		p.Next = sessionCursor(p.Sessions[n-1])
	}
	if after != nil && len(p.Sessions) > 0 {
		p.Prev = sessionCursor(p.Sessions[0])
	}
	return p, nil
}

// sessionsBackward reads the page just before before (the last page when
// nil), newest first; as with users, a short page going back is the first
// page, and a cursor at the newest session gives the first page.
func (b *UserBrowser) sessionsBackward(ctx context.Context, f SessionFilter, n int, before *position) (SessionPage, error) {
	rows, err := b.readSessions(ctx, f, false, before, n+1)
	if err != nil {
		return SessionPage{}, err
	}
	if len(rows) == 0 && before != nil {
		return b.sessionsForward(ctx, f, n, nil)
	}
	hasPrev := len(rows) > n
	rows = rows[:min(len(rows), n)]
	slices.Reverse(rows)
	p := SessionPage{Sessions: rows}
	if hasPrev {
		p.Prev = sessionCursor(rows[0])
	}
	if before != nil && len(rows) > 0 {
		p.Next = sessionCursor(rows[len(rows)-1])
	}
	return p, nil
}
