package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// ErrShuttingDown is the cause the server cancels still-running requests
// with when it shuts down. Their handlers fail with context.Canceled, and the
// error handler answers 503 instead of dropping them as abandoned by the
// browser.
var ErrShuttingDown = errors.New("server is shutting down")

// shutdownRetryAfter is the Retry-After sent while shutting down: about the
// time a replacement process takes to start.
const shutdownRetryAfter = 5 * time.Second

// shuttingDown reports whether c's request was cancelled by the server's
// shutdown.
func shuttingDown(c echo.Context) bool {
	return errors.Is(context.Cause(c.Request().Context()), ErrShuttingDown)
}

// overloadProblem describes the failures that mean "not now, soon": a shutdown
// in progress and a Neon call shed by the client-side rate limiter. Both are a
// 503 with a Retry-After, so the browser, a proxy or a script knows when to
// try again; retry is that delay.
func overloadProblem(err error) (p views.Problem, retry time.Duration, ok bool) {
	var shed *neonapi.ShedError
	switch {
	case errors.Is(err, ErrShuttingDown):
		return views.Problem{
			Title:   "The dashboard is restarting",
			Message: "It is shutting down and could not finish this request. Reload the page in a few seconds.",
			Status:  http.StatusServiceUnavailable,
		}, shutdownRetryAfter, true
	case errors.As(err, &shed):
		retry = max(shed.RetryAfter(), time.Second)
		return views.Problem{
			Title: "The dashboard is busy",
			Message: "Too many requests to Neon are waiting for the dashboard's share of Neon's rate limit. " +
				"Nothing was sent to Neon. Try again in " + retryAfterSeconds(retry) + " s.",
			Status: http.StatusServiceUnavailable,
		}, retry, true
	}
	return views.Problem{}, 0, false
}

// retryAfterSeconds is d as Retry-After's whole seconds, rounded up.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

// setRetryAfter adds Retry-After to an overload answer.
func setRetryAfter(c echo.Context, err error) {
	if _, retry, ok := overloadProblem(err); ok {
		c.Response().Header().Set("Retry-After", retryAfterSeconds(retry))
	}
}

// defaultRetryAfter gives a 503 page without a Retry-After of its own, such as
// a panel whose Neon read was shed, the queue's bound as the hint: by then
// the limiter has room again.
func defaultRetryAfter(c echo.Context, status int) {
	hdr := c.Response().Header()
	if status == http.StatusServiceUnavailable && hdr.Get("Retry-After") == "" {
		hdr.Set("Retry-After", retryAfterSeconds(neonapi.DefaultMaxQueueWait))
	}
}
