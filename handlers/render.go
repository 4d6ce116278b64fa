package handlers

import (
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/views"
)

// render writes component with status. It renders into a buffer first so a
// failing component produces a clean error page instead of half a page.
func (h *Handler) render(c echo.Context, status int, component templ.Component) error {
	return renderBuffered(c, status, component)
}

// renderBuffered is render for the handlers and the security middleware alike.
func renderBuffered(c echo.Context, status int, component templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	// The same URL answers with a fragment or a page depending on HX-Request,
	// so shared caches must key on it.
	c.Response().Header().Add("Vary", "HX-Request")
	defaultRetryAfter(c, status)
	return c.HTMLBlob(status, buf.Bytes())
}

// isHTMX reports whether the request came from htmx and so wants a fragment.
// History restores ask for the full page even though htmx sends them.
func isHTMX(c echo.Context) bool {
	r := c.Request()
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// chrome builds the layout's view model for the current request. It consumes
// the pending flash messages, so call it once per rendered page, before the
// body is written.
func (h *Handler) chrome(c echo.Context, title string, crumbs ...views.Crumb) views.Chrome {
	id := IdentityFrom(c)
	ch := views.Chrome{
		Title:     title,
		User:      id.DisplayName(),
		Role:      string(id.Role),
		CanWrite:  id.CanWrite(),
		Anonymous: id.Anonymous,
		Demo:      h.Settings.Demo,
		CSRFToken: CSRFToken(c),
		Flashes:   h.popFlashes(c),
		Crumbs:    crumbs,
	}
	if h.Security != nil && !id.Anonymous {
		ch.SignOutURL, ch.SignOutPost = h.Security.SignOut()
	}
	return ch
}

// redirect answers a successful form post: htmx follows HX-Redirect with a full
// page load (so the flash shows), plain browsers follow the 303.
func redirect(c echo.Context, url string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}
