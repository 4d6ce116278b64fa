package handlers

import (
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/web"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// render writes component with status. It renders into a buffer first so a
// failing component produces a clean error page instead of half a page.
func (h *Handler) render(c echo.Context, status int, component templ.Component) error {
	defaultRetryAfter(c, status)
	defaultTooManyRetryAfter(c, status)
	return web.Render(c, status, component)
}

// isHTMX reports whether the request came from htmx and so wants a fragment.
func isHTMX(c echo.Context) bool { return web.IsHTMX(c) }

// chrome builds the layout's view model for the current request. It consumes
// the pending flash messages, so call it once per rendered page, before the
// body is written.
func (h *Handler) chrome(c echo.Context, title string, crumbs ...views.Crumb) views.Chrome {
	ch := h.Security.Chrome(c, title)
	ch.Demo = h.Settings.Demo
	ch.Flashes = h.popFlashes(c)
	ch.Crumbs = crumbs
	h.freshnessChrome(c, &ch)
	return ch
}

// redirect answers a successful form post: htmx follows HX-Redirect with a full
// page load (so the flash shows), plain browsers follow the 303.
func redirect(c echo.Context, url string) error { return web.Redirect(c, url) }

// cut truncates s to at most n bytes without splitting a character.
func cut(s string, n int) string { return web.Cut(s, n) }

// requestID is the id the security middleware gave this request.
func requestID(c echo.Context) string { return neonauth.RequestIDFrom(c.Request().Context()) }
