package handlers

import (
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/neonauth-admin/dashboard/static"
)

// compressMinLength is the smallest answer worth compressing: below it the
// gzip framing eats most of the gain.
const compressMinLength = 1024

// compressPages gzips the dashboard's own answers (pages, fragments, error
// pages) through echo's Gzip middleware. Assets are left alone, since they
// are compressed at build time, and so is /metrics, which compresses itself.
//
// Pages carry the CSRF token next to text the request chose (a search
// query), which is what a BREACH attack needs: an attacker who can make a
// browser send requests and watch the encrypted sizes learns the token byte
// by byte. Such requests come from another site, and browsers say so in
// Sec-Fetch-Site; only requests the browser vouches for as same-origin or
// typed by the person ("none") are compressed.
func compressPages() echo.MiddlewareFunc {
	gz := middleware.GzipWithConfig(middleware.GzipConfig{MinLength: compressMinLength})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		zipped := gz(next)
		return func(c echo.Context) error {
			p := c.Request().URL.Path
			if strings.HasPrefix(p, static.Prefix) || p == faviconPath || p == metricsPath {
				return next(c)
			}
			hdr := c.Response().Header()
			hdr.Add(echo.HeaderVary, "Sec-Fetch-Site")
			switch c.Request().Header.Get("Sec-Fetch-Site") {
			case "same-origin", "none":
				return zipped(c) // adds Vary: Accept-Encoding
			}
			hdr.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
			return next(c)
		}
	}
}
