// Package web holds the few response helpers that page handlers and the
// security middleware share, so both answer htmx and plain browsers alike.
package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// Render writes component with status. It renders into a buffer first so a
// failing component produces a clean error page instead of half a page.
func Render(c echo.Context, status int, component templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	// The same URL answers with a fragment or a page depending on HX-Request,
	// so shared caches must key on it.
	c.Response().Header().Add("Vary", "HX-Request")
	return c.HTMLBlob(status, buf.Bytes())
}

// IsHTMX reports whether the request came from htmx and so wants a fragment.
// History restores ask for the full page even though htmx sends them.
func IsHTMX(c echo.Context) bool {
	r := c.Request()
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// Redirect answers a successful form post: htmx follows HX-Redirect with a
// full page load (so a flash message shows), plain browsers follow the 303.
func Redirect(c echo.Context, url string) error {
	if IsHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// Cut truncates s to at most n bytes without splitting a character. It is for
// display and log text only, never for anything a decision rests on.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
