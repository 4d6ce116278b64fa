package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Better Auth's session timing defaults: sessions last expiresIn (7 days,
// one day when not remembered), are extended once updateAge (1 day) has
// passed since they were last extended, and count as fresh for freshAge
// (1 day).
const (
	sessionExpiresIn    = sessionMaxAge * time.Second
	sessionDontRemember = 24 * time.Hour
	sessionUpdateAge    = 24 * time.Hour
	sessionFreshAge     = 24 * time.Hour
)

// baUser is a row of neon_auth."user" with the admin plugin's columns.
type baUser struct {
	ID            string
	Name          string
	Email         string
	EmailVerified bool
	Image         *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Role          *string
	Banned        *bool
	BanReason     *string
	BanExpires    *time.Time
}

// userCols is the one column list of neon_auth."user" the routes read, in
// dest's order; u is the table's alias.
const userCols = `u.id::text, u.name, u.email, u."emailVerified", u.image, u."createdAt", u."updatedAt", u.role, u.banned, u."banReason", u."banExpires"`

func (u *baUser) dest() []any {
	return []any{&u.ID, &u.Name, &u.Email, &u.EmailVerified, &u.Image, &u.CreatedAt, &u.UpdatedAt, &u.Role, &u.Banned, &u.BanReason, &u.BanExpires}
}

// json is the user as Better Auth answers it (parseUserOutput).
func (u *baUser) json() map[string]any {
	return map[string]any{
		"id": u.ID, "name": u.Name, "email": u.Email, "emailVerified": u.EmailVerified, "image": u.Image,
		"createdAt": baTime(u.CreatedAt), "updatedAt": baTime(u.UpdatedAt),
		"role": u.Role, "banned": u.Banned, "banReason": u.BanReason, "banExpires": baTimePtr(u.BanExpires),
	}
}

// baSession is a row of neon_auth.session.
type baSession struct {
	ID                   string
	ExpiresAt            time.Time
	Token                string
	CreatedAt            time.Time
	UpdatedAt            time.Time
	IPAddress            *string
	UserAgent            *string
	UserID               string
	ImpersonatedBy       *string
	ActiveOrganizationID *string
}

// sessionCols is the one column list of neon_auth.session, in dest's order;
// s is the table's alias.
const sessionCols = `s.id::text, s."expiresAt", s.token, s."createdAt", s."updatedAt", s."ipAddress", s."userAgent", s."userId"::text, s."impersonatedBy", s."activeOrganizationId"`

func (s *baSession) dest() []any {
	return []any{&s.ID, &s.ExpiresAt, &s.Token, &s.CreatedAt, &s.UpdatedAt, &s.IPAddress, &s.UserAgent, &s.UserID, &s.ImpersonatedBy, &s.ActiveOrganizationID}
}

// json is the session as Better Auth answers it (parseSessionOutput).
func (s *baSession) json() map[string]any {
	return map[string]any{
		"id": s.ID, "expiresAt": baTime(s.ExpiresAt), "token": s.Token,
		"createdAt": baTime(s.CreatedAt), "updatedAt": baTime(s.UpdatedAt),
		"ipAddress": s.IPAddress, "userAgent": s.UserAgent, "userId": s.UserID,
		"impersonatedBy": s.ImpersonatedBy, "activeOrganizationId": s.ActiveOrganizationID,
	}
}

// newSessionToken is Better Auth's generateId(32): 32 letters and digits.
func newSessionToken() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		// 62 letters: the modulo's bias over 256 values is what Better Auth's
		// generator avoids by rejection; it is immaterial for a sandbox.
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// createSession signs a user in, after the admin plugin's check: a banned
// user is refused unless the ban has expired, which lifts it.
func (ba *baInstance) createSession(ctx context.Context, r *http.Request, userID string, dontRemember bool) (*baSession, error) {
	var banned bool
	var banExpires *time.Time
	err := ba.pool.QueryRow(ctx, `SELECT coalesce(banned, false), "banExpires" FROM neon_auth."user" WHERE id = $1`, userID).Scan(&banned, &banExpires)
	if err != nil {
		return nil, fmt.Errorf("read the user's ban: %w", err)
	}
	if banned {
		if banExpires == nil || !banExpires.Before(time.Now()) {
			return nil, baBanned
		}
		if _, err := ba.pool.Exec(ctx, `UPDATE neon_auth."user" SET banned = false, "banReason" = NULL, "banExpires" = NULL, "updatedAt" = now() WHERE id = $1`, userID); err != nil {
			return nil, fmt.Errorf("lift an expired ban: %w", err)
		}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	life := sessionExpiresIn
	if dontRemember {
		life = sessionDontRemember
	}
	ip, ua := clientIP(r), r.UserAgent()
	s := &baSession{ID: uuid.NewString(), ExpiresAt: now.Add(life), Token: newSessionToken(), CreatedAt: now, UpdatedAt: now, UserID: userID}
	if ip != "" {
		s.IPAddress = &ip
	}
	if ua != "" {
		s.UserAgent = &ua
	}
	_, err = ba.pool.Exec(ctx, `INSERT INTO neon_auth.session (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
		VALUES ($1, $2, $3, $4, $4, $5, $6, $7)`, s.ID, s.ExpiresAt, s.Token, s.CreatedAt, s.IPAddress, s.UserAgent, s.UserID)
	if err != nil {
		return nil, fmt.Errorf("create a session: %w", err)
	}
	return s, nil
}

// currentSession reads the request's session from its signed cookie, as
// getSession does: nil (and the cookie expired) when there is none or it
// has expired, and a session due for it extended by another expiresIn.
func (ba *baInstance) currentSession(ctx context.Context, w http.ResponseWriter, r *http.Request) (*baSession, *baUser, error) {
	token := ba.signedCookie(r, cookieSessionToken)
	if token == "" {
		return nil, nil, nil
	}
	var s baSession
	var u baUser
	err := ba.pool.QueryRow(ctx, `SELECT `+sessionCols+`, `+userCols+`
		FROM neon_auth.session s JOIN neon_auth."user" u ON u.id = s."userId" WHERE s.token = $1`, token).
		Scan(append(s.dest(), u.dest()...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		ba.deleteSessionCookie(w)
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read the session: %w", err)
	}
	now := time.Now()
	if s.ExpiresAt.Before(now) {
		ba.deleteSessionCookie(w)
		if _, err := ba.pool.Exec(ctx, `DELETE FROM neon_auth.session WHERE token = $1`, token); err != nil {
			return nil, nil, fmt.Errorf("delete an expired session: %w", err)
		}
		return nil, nil, nil
	}
	dontRemember := ba.signedCookie(r, cookieDontRemember) != ""
	if !dontRemember && !s.ExpiresAt.Add(-sessionExpiresIn).Add(sessionUpdateAge).After(now) {
		s.ExpiresAt = now.UTC().Add(sessionExpiresIn).Truncate(time.Millisecond)
		s.UpdatedAt = now.UTC().Truncate(time.Millisecond)
		if _, err := ba.pool.Exec(ctx, `UPDATE neon_auth.session SET "expiresAt" = $2, "updatedAt" = $3 WHERE token = $1`, token, s.ExpiresAt, s.UpdatedAt); err != nil {
			return nil, nil, fmt.Errorf("extend the session: %w", err)
		}
		ba.setSessionCookie(w, token, false)
	}
	return &s, &u, nil
}

// requireSession is sessionMiddleware: 401 without a live session.
func (ba *baInstance) requireSession(ctx context.Context, w http.ResponseWriter, r *http.Request) (*baSession, *baUser, error) {
	s, u, err := ba.currentSession(ctx, w, r)
	if err != nil {
		return nil, nil, err
	}
	if s == nil {
		return nil, nil, baUnauthorized
	}
	return s, u, nil
}

// checkPost is Better Auth's origin check on every POST: a request with
// cookies must come from a trusted origin, and a callbackURL must point at
// one.
func (ba *baInstance) checkPost(r *http.Request, body map[string]any) error {
	if err := ba.checkOrigin(r, false); err != nil {
		return err
	}
	cb, _ := body["callbackURL"].(string)
	return ba.checkCallbackURL(cb)
}

func (s *Sandbox) baGetSession(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	sess, u, err := ba.currentSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	if sess == nil {
		baJSON(w, http.StatusOK, nil)
		return nil
	}
	// The JWT plugin hands every session read a fresh token.
	jwt, err := ba.issueJWT(r.Context(), u)
	if err != nil {
		return err
	}
	w.Header().Set("set-auth-jwt", jwt)
	baJSON(w, http.StatusOK, map[string]any{"session": sess.json(), "user": u.json()})
	return nil
}

// baListSessions lists the user's live sessions, except those of an
// impersonating admin (the admin plugin hides them), to a fresh session.
func (s *Sandbox) baListSessions(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	sess, _, err := ba.requireSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	if time.Since(sess.CreatedAt) >= sessionFreshAge {
		return baSessionNotFresh
	}
	rows, err := ba.pool.Query(r.Context(), `SELECT `+sessionCols+` FROM neon_auth.session s
		WHERE s."userId" = $1 AND s."expiresAt" > now() AND s."impersonatedBy" IS NULL ORDER BY s."createdAt"`, sess.UserID)
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (map[string]any, error) {
		var v baSession
		err := row.Scan(v.dest()...)
		return v.json(), err
	})
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	if list == nil {
		list = []map[string]any{}
	}
	baJSON(w, http.StatusOK, list)
	return nil
}

// baRevokeSession ends one of the user's own sessions by its token.
func (s *Sandbox) baRevokeSession(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	body, err := baDecode(r)
	if err != nil {
		return err
	}
	if err := ba.checkPost(r, body); err != nil {
		return err
	}
	token, err := baString(body, "token", true)
	if err != nil {
		return err
	}
	sess, _, err := ba.requireSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	if _, err := ba.pool.Exec(r.Context(), `DELETE FROM neon_auth.session WHERE token = $1 AND "userId" = $2`, token, sess.UserID); err != nil {
		return fmt.Errorf("revoke a session: %w", err)
	}
	if token == sess.Token {
		ba.deleteSessionCookie(w)
	}
	baJSON(w, http.StatusOK, map[string]bool{"status": true})
	return nil
}

// baRevokeSessions ends every session of the user, this one included.
func (s *Sandbox) baRevokeSessions(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	return s.baRevokeWhere(w, r, ba, false)
}

// baRevokeOtherSessions ends every session of the user but this one.
func (s *Sandbox) baRevokeOtherSessions(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	return s.baRevokeWhere(w, r, ba, true)
}

func (s *Sandbox) baRevokeWhere(w http.ResponseWriter, r *http.Request, ba *baInstance, keepThis bool) error {
	body, err := baDecode(r)
	if err != nil {
		return err
	}
	if err := ba.checkPost(r, body); err != nil {
		return err
	}
	sess, _, err := ba.requireSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	keep := ""
	if keepThis {
		keep = sess.Token
	}
	if _, err := ba.pool.Exec(r.Context(), `DELETE FROM neon_auth.session WHERE "userId" = $1 AND token <> $2`, sess.UserID, keep); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	if !keepThis {
		ba.deleteSessionCookie(w)
	}
	baJSON(w, http.StatusOK, map[string]bool{"status": true})
	return nil
}

// baSignOut ends the request's session and expires its cookie; without one
// it still answers success, as Better Auth does.
func (s *Sandbox) baSignOut(w http.ResponseWriter, r *http.Request, ba *baInstance) error {
	body, err := baDecode(r)
	if err != nil {
		return err
	}
	if err := ba.checkPost(r, body); err != nil {
		return err
	}
	if token := ba.signedCookie(r, cookieSessionToken); token != "" {
		if _, err := ba.pool.Exec(r.Context(), `DELETE FROM neon_auth.session WHERE token = $1`, token); err != nil {
			return fmt.Errorf("sign out: %w", err)
		}
	}
	ba.deleteSessionCookie(w)
	baJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
