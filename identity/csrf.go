package identity

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// csrfHeader is the header htmx requests carry the token in (static/app.js
// copies it from <meta name="csrf-token">); plain forms send the _csrf field.
const csrfHeader = "X-CSRF-Token"

// csrfFormField is the form field plain forms carry the token in.
const csrfFormField = "_csrf"

// csrfCookieMaxAge is how long a rendered form stays submittable.
const csrfCookieMaxAge = 12 * time.Hour

// errCSRF marks a refusal by the CSRF middleware, as opposed to an error from
// the handler behind it.
var errCSRF = errors.New("csrf check failed")

// csrfMiddleware is echo's CSRF middleware: a random token in an HttpOnly,
// SameSite=Lax cookie that every state-changing request must echo in the
// X-CSRF-Token header or the _csrf field. Browsers that send Sec-Fetch-Site are
// also judged by it: same-origin passes, cross-site is refused outright, and
// same-site (a sibling subdomain) must still show the token. Over HTTPS the
// cookie is Secure and named __Host-csrf, so a sibling subdomain cannot plant
// a token of its choosing. Any refusal is a 403 page.
func (s *Security) csrfMiddleware() echo.MiddlewareFunc {
	build := func(secure bool) echo.MiddlewareFunc {
		return middleware.CSRFWithConfig(middleware.CSRFConfig{
			Skipper:        s.public,
			TokenLookup:    "header:" + csrfHeader + ",form:" + csrfFormField,
			ContextKey:     csrfKey,
			CookieName:     cookieName("csrf", secure),
			CookiePath:     "/",
			CookieMaxAge:   int(csrfCookieMaxAge / time.Second),
			CookieHTTPOnly: true,
			CookieSecure:   secure,
			CookieSameSite: http.SameSiteLaxMode,
			ErrorHandler:   func(error, echo.Context) error { return errCSRF },
			AllowSecFetchSiteFunc: func(c echo.Context) (bool, error) {
				if c.Request().Header.Get(echo.HeaderSecFetchSite) == "same-site" {
					return false, nil // fall back to the token
				}
				return false, errCSRF
			},
		})
	}
	plain, secure := build(false), build(true)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		overHTTP, overHTTPS := plain(next), secure(next)
		return func(c echo.Context) error {
			h := overHTTP
			if s.isHTTPS(c) {
				h = overHTTPS
			}
			err := h(c)
			if errors.Is(err, errCSRF) {
				return s.deny(c, http.StatusForbidden, denyCSRF)
			}
			return err
		}
	}
}
