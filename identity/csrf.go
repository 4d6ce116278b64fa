package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// csrfHeader is the header htmx requests carry the token in (static/app.js
// copies it from <meta name="csrf-token">); plain forms send the _csrf field.
const csrfHeader = "X-CSRF-Token"

// csrfFormField is the form field plain forms carry the token in.
const csrfFormField = "_csrf"

// csrfCookieName holds the browser's CSRF session: a random value, not the
// token. Over HTTPS it is __Host-csrf.
const csrfCookieName = "csrf"

// csrfCookieMaxAge is how long a rendered form stays submittable.
const csrfCookieMaxAge = 12 * time.Hour

// csrfSessionBytes is the size of the per-browser random value.
const csrfSessionBytes = 32

// newCSRFKeys derives the token keys from the session keys, newest first:
// tokens are made with the first and accepted under any, so rotating
// SESSION_KEYS does not expire open forms. Without session keys a key for
// this process is made.
func newCSRFKeys(sessionKeys SessionKeys) [][]byte {
	if len(sessionKeys) == 0 {
		k := make([]byte, MinSessionKeyBytes)
		_, _ = rand.Read(k)
		sessionKeys = SessionKeys{k}
	}
	keys := make([][]byte, len(sessionKeys))
	for i, k := range sessionKeys {
		keys[i] = deriveKey(k, "csrf token", 32)
	}
	return keys
}

// csrfToken is the HMAC of the browser's CSRF session and the person it
// belongs to. Knowing the cookie is not enough to make it, and a token made
// for one person or browser fails for any other.
func csrfToken(key []byte, session, binding string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("neonauth-admin csrf\x00"))
	m.Write([]byte(session))
	m.Write([]byte{0})
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfBinding names who the request is from, for the token: the identity's
// user and email, or the anonymous local admin.
func csrfBinding(c echo.Context) string {
	id, ok := c.Get(identityKey).(Identity)
	if !ok {
		return ""
	}
	if id.Anonymous {
		return "anonymous"
	}
	return "user\x00" + id.User + "\x00" + id.Email
}

// csrfSession reads the browser's CSRF session value, if it has a
// well-formed one.
func csrfSession(c echo.Context, secure bool) (string, bool) {
	ck, err := c.Cookie(cookieName(csrfCookieName, secure))
	if err != nil {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(b) != csrfSessionBytes {
		return "", false
	}
	return ck.Value, true
}

// csrfMiddleware protects every state-changing request with a token bound to
// the browser and the person: HMAC, under a key derived from SESSION_KEYS,
// of a random per-browser value (kept in an HttpOnly, SameSite=Lax cookie)
// and the identity. The token is read from the X-CSRF-Token header or the
// _csrf field of the form body, never from the URL. Browsers that send
// Sec-Fetch-Site are also judged by it: same-origin passes, cross-site is
// refused outright, anything else must show the token. Any refusal is a
// 403 page.
func (s *Security) csrfMiddleware() echo.MiddlewareFunc {
	keys := newCSRFKeys(s.cfg.SessionKeys)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if s.public(c) {
				return next(c)
			}
			secure := s.isHTTPS(c)
			session, ok := csrfSession(c, secure)
			if !ok {
				session = randomToken()
			}
			binding := csrfBinding(c)
			if Mutating(c.Request().Method) && !s.csrfPasses(c, keys, ok, session, binding) {
				return s.deny(c, http.StatusForbidden, denyCSRF)
			}
			c.SetCookie(&http.Cookie{
				Name: cookieName(csrfCookieName, secure), Value: session, Path: "/",
				Expires: time.Now().Add(csrfCookieMaxAge), MaxAge: int(csrfCookieMaxAge / time.Second),
				HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
			})
			c.Set(csrfKey, csrfToken(keys[0], session, binding))
			// The page carries a token for this cookie; caches must not share it.
			c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
			return next(c)
		}
	}
}

// csrfPasses decides a state-changing request. hadSession says whether the
// browser sent a well-formed CSRF cookie.
func (s *Security) csrfPasses(c echo.Context, keys [][]byte, hadSession bool, session, binding string) bool {
	r := c.Request()
	switch r.Header.Get(echo.HeaderSecFetchSite) {
	case "same-origin":
		// Only the dashboard's own pages can make the browser say so.
		return true
	case "cross-site":
		return false
	}
	if rule, ok := s.rule(c); ok && rule.Access == AnyRole && binding == "" {
		// Signing out without a session: there is nobody to act for, and
		// clearing a dead cookie is all the route can do.
		return true
	}
	if !hadSession {
		return false
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		// The body only: r.FormValue would also read the URL, where tokens
		// leak into logs and Referer headers.
		got = r.PostFormValue(csrfFormField)
	}
	if got == "" {
		return false
	}
	for _, k := range keys {
		if hmac.Equal([]byte(got), []byte(csrfToken(k, session, binding))) {
			return true
		}
	}
	return false
}
