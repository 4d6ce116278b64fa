package handlers

import (
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/static"
)

// compressMinLength is the smallest answer worth compressing: below it the
// gzip framing eats most of the gain.
const compressMinLength = 1024

// compressPages gzips the dashboard's own HTML (pages, fragments, error
// pages). Assets are left alone, since they are compressed at build time, and
// so is /metrics, which compresses itself.
//
// gzhttp takes a compressor only once an answer's first bytes are written, and
// returns it when the answer ends. Pages are rendered into a buffer and
// written at the end, so a compressor is held for microseconds, not for the
// whole request: a few hundred requests waiting on Neon hold none. (Echo's
// own Gzip middleware takes one, about a megabyte each, as each request
// starts.)
//
// Pages carry the CSRF token next to text the request chose (a search
// query), which is what a BREACH attack needs: an attacker who can make a
// browser send requests and watch the encrypted sizes learns the token byte
// by byte. Such requests come from another site, and browsers say so in
// Sec-Fetch-Site; only requests the browser vouches for as same-origin or
// typed by the person ("none") are compressed.
func compressPages() echo.MiddlewareFunc {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinLength),
		gzhttp.CompressionLevel(gzip.BestSpeed),
		gzhttp.ContentTypes([]string{"text/html"}),
		gzhttp.EnableZstd(false),
	)
	if err != nil {
		panic(err) // the options above are constant and valid
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := c.Request().URL.Path
			if strings.HasPrefix(p, static.Prefix) || p == faviconPath || p == metricsPath {
				return next(c)
			}
			res := c.Response()
			res.Header().Add(echo.HeaderVary, "Sec-Fetch-Site")
			switch c.Request().Header.Get("Sec-Fetch-Site") {
			case "same-origin", "none":
			default:
				res.Header().Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
				return next(c)
			}
			orig := res.Writer
			wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				res.Writer = w
				// Errors are answered here, while the compressor is in
				// place; after it closes, nothing may be written through it.
				if err := next(c); err != nil {
					c.Error(err)
				}
			})).ServeHTTP(orig, c.Request())
			res.Writer = orig
			return nil
		}
	}
}
