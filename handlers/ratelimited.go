package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// defaultNeonRetryAfter is the Retry-After of a 429 whose cause gave none:
// Neon's limit refills 700 requests a minute, so a few seconds free room.
const defaultNeonRetryAfter = 5 * time.Second

// neonRetryAfter is how long to wait before asking Neon again after err: the
// Retry-After of Neon's 429, or defaultNeonRetryAfter when Neon sent none or
// the client-side limiter refused. ok is false for other errors.
func neonRetryAfter(err error) (d time.Duration, ok bool) {
	var apiErr *neonauth.APIError
	var shed *neonauth.ShedError
	switch {
	case errors.As(err, &shed):
		return max(shed.RetryAfter(), time.Second), true
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests:
		if apiErr.RetryAfter > 0 {
			return apiErr.RetryAfter, true
		}
		return defaultNeonRetryAfter, true
	case errors.As(err, &apiErr):
		return 0, false
	case errors.Is(err, neonauth.ErrRateLimited):
		return defaultNeonRetryAfter, true
	}
	return 0, false
}

// setNeonRetryAfter passes a rate limit on: an answer about a Neon call
// refused for the rate carries Retry-After, so the browser, a proxy or a
// script knows when to ask again. Handlers that show the failure in a panel
// or form call it too.
func setNeonRetryAfter(c echo.Context, err error) {
	if d, ok := neonRetryAfter(err); ok && c.Response().Header().Get("Retry-After") == "" {
		c.Response().Header().Set("Retry-After", retryAfterSeconds(d))
	}
}

// defaultTooManyRetryAfter gives a 429 without a Retry-After of its own the
// default one.
func defaultTooManyRetryAfter(c echo.Context, status int) {
	if status == http.StatusTooManyRequests && c.Response().Header().Get("Retry-After") == "" {
		c.Response().Header().Set("Retry-After", retryAfterSeconds(defaultNeonRetryAfter))
	}
}
