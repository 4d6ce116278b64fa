package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
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

// busyRetryAfter is the Retry-After of a busy users database: about the time
// the queries ahead take to finish on a lane that was full for its whole wait.
const busyRetryAfter = 2 * time.Second

// overloadProblem describes the failures that mean "not now, soon": a shutdown
// in progress, a Neon call shed by the client-side rate limiter and a users
// database whose lane stayed full. All are a 503 with a Retry-After, so the
// browser, a proxy or a script knows when to try again; retry is that delay.
func overloadProblem(err error) (p views.Problem, retry time.Duration, ok bool) {
	var shed *neonauth.ShedError
	var busy *neonauth.BusyError
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
	case errors.As(err, &busy):
		return busyProblem(busy), busyRetryAfter, true
	}
	return views.Problem{}, 0, false
}

// busyProblem explains a full lane. It is the database being in demand, not
// out of reach: nothing to check, only to retry.
func busyProblem(busy *neonauth.BusyError) views.Problem {
	if busy.Lane == neonauth.LaneExport {
		return views.Problem{
			Title:   "Another export is running",
			Message: "Another export from this users database is still running, and exports run one after another. Retry when it has finished.",
			Status:  http.StatusServiceUnavailable,
		}
	}
	return views.Problem{
		Title:   "The users database is busy",
		Message: "The users database is busy; retry in a few seconds. Other requests are using all of the dashboard's connections to it for this kind of work.",
		Status:  http.StatusServiceUnavailable,
	}
}

// queryTimeoutProblem explains a query the database stopped at the slow
// lane's statement timeout: the same request would take as long again, so
// the way forward is a narrower one.
func queryTimeoutProblem() views.Problem {
	return views.Problem{
		Title:   "That took too long",
		Message: "The database stopped this search or count because it ran past the time allowed for it. Narrow the filter (a longer search text, an exact email, a status or a role) and try again.",
		Status:  http.StatusGatewayTimeout,
	}
}

// dbContext bounds the database work behind one panel: timeout for work on
// the fast lane. Slow work (neonauth.WithSlowLane) is bounded by the slow
// lane's statement timeout and the request's deadline instead, so that the
// database stops a runaway search with a clear "narrow the filter" before a
// panel deadline would cut it off with a vaguer "timed out".
func dbContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if neonauth.OnSlowLane(ctx) {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
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
// a panel whose Neon read was shed or whose users database was busy, the
// longer of the two hints: by then the limiter has room again, and the
// queries ahead on the database have finished.
func defaultRetryAfter(c echo.Context, status int) {
	hdr := c.Response().Header()
	if status == http.StatusServiceUnavailable && hdr.Get("Retry-After") == "" {
		hdr.Set("Retry-After", retryAfterSeconds(max(neonauth.DefaultMaxQueueWait, busyRetryAfter)))
	}
}
