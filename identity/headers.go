package identity

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// ContentSecurityPolicy allows nothing inline and nothing from elsewhere:
// scripts, styles and images come from the dashboard itself, so injected
// markup cannot run script, and no other site may frame the dashboard.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// hstsValue leaves subdomains out: other services under the same company
// domain may still be on plain HTTP, and that is not the dashboard's call.
const hstsValue = "max-age=31536000"

// ResponseMarker is a header on every answer the dashboard itself gives,
// errors included. static/app.js swaps an htmx answer into the page only
// when it carries it: an answer without it came from someone else, such as
// the sign-in proxy's login page after the proxy session ended in another
// tab, and the whole page is reloaded instead, so the proxy's sign-in runs
// in the window rather than inside a panel.
const ResponseMarker = "X-Neon-Auth-Dashboard"

// secureHeaders sets the static headers through echo's Secure middleware. Its
// own HSTS switch believes X-Forwarded-Proto from anyone, so HSTS is added
// separately, for requests isHTTPS vouches for.
var secureHeaders = middleware.SecureWithConfig(middleware.SecureConfig{
	ContentTypeNosniff:    "nosniff",
	XFrameOptions:         "DENY",
	ContentSecurityPolicy: ContentSecurityPolicy,
	ReferrerPolicy:        "no-referrer",
})

// headers adds the security headers to every response, errors included. Pages
// default to Cache-Control: no-store because some show a secret once; the
// static handler replaces it for its immutable assets.
func (s *Security) headers(next echo.HandlerFunc) echo.HandlerFunc {
	h := secureHeaders(next)
	return func(c echo.Context) error {
		hdr := c.Response().Header()
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
		hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
		hdr.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		hdr.Set(echo.HeaderCacheControl, "no-store")
		hdr.Set(ResponseMarker, "1")
		if s.isHTTPS(c) {
			hdr.Set(echo.HeaderStrictTransportSecurity, hstsValue)
		}
		return h(c)
	}
}

// bodyLimit refuses bodies over MaxRequestBody with 413.
func (s *Security) bodyLimit() echo.MiddlewareFunc {
	return middleware.BodyLimit(MaxRequestBody)
}
