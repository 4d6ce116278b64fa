package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// logger returns the handler's logger, or a silent one when none is set.
func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// HTTPErrorHandler turns an error returned by a handler into a response: a
// helpful page (or htmx fragment) for expected failures, a generic 500 and one
// log line for anything else. Handlers that own a panel or form render their
// errors in place and never get here.
func (h *Handler) HTTPErrorHandler(err error, c echo.Context) {
	if shuttingDown(c) {
		err = ErrShuttingDown
	} else if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The browser went away; nobody is left to read an answer.
		return
	}
	p, expected := problemFor(err)
	if !expected {
		h.logger().Error("request failed",
			"method", c.Request().Method,
			"path", c.Request().URL.Path,
			"request_id", requestID(c),
			"err", err,
		)
	}
	if c.Response().Committed {
		// Part of an answer is out; a second one would only garble it.
		return
	}
	setRetryAfter(c, err)
	setNeonRetryAfter(c, err)
	if p.RequestID == "" && (p.Status == http.StatusBadGateway || p.Status == http.StatusGatewayTimeout) {
		// The id this request's Neon calls were sent with, so that a
		// timeout can be found in the dashboard's log and at Neon.
		p.RequestID = requestID(c)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	if ctx := c.Request().Context(); ctx.Err() != nil {
		// A request past its deadline still gets its error page; rendering
		// checks the context and would refuse.
		c.SetRequest(c.Request().WithContext(context.WithoutCancel(ctx)))
	}
	var rerr error
	if isHTMX(c) {
		rerr = h.render(c, p.Status, views.ErrorFragment(p))
	} else {
		rerr = h.render(c, p.Status, views.ErrorPage(h.chrome(c, statusTitle(p.Status)), p))
	}
	if rerr != nil {
		h.logger().Error("render error page", "err", rerr)
		_ = c.String(p.Status, http.StatusText(p.Status))
	}
}

// problemFor describes err for a person and picks the status to answer with.
// expected is false for failures nobody could act on from the browser; those
// get a generic message and are logged.
func problemFor(err error) (p views.Problem, expected bool) {
	var apiErr *neonauth.APIError
	var reqErr *neonauth.RequestError
	var httpErr *echo.HTTPError
	var unknown *neonauth.OutcomeUnknownError
	var incomplete *neonauth.IncompleteAnswerError
	if p, _, ok := overloadProblem(err); ok {
		return p, true
	}
	switch {
	case errors.As(err, &unknown):
		return outcomeProblem(unknown), true
	case errors.As(err, &apiErr):
		return neonProblem(apiErr), true
	case errors.As(err, &reqErr) && errors.As(err, &incomplete):
		return views.Problem{
			Title:     "Neon's answer was incomplete",
			Message:   "Neon answered without " + fieldList(incomplete.Fields()) + ", which the dashboard needs to show this, so it shows nothing rather than a guess. Reload in a moment; if it keeps happening, quote the request id to Neon support.",
			RequestID: reqErr.RequestID,
			Status:    http.StatusBadGateway,
		}, true
	case errors.As(err, &reqErr) && errors.Is(err, neonauth.ErrInvalidResponse):
		return views.Problem{
			Title:     "Neon's answer could not be read",
			Message:   "Neon answered with something the dashboard could not read. Try again in a moment; if it keeps happening, quote the request id to Neon support.",
			RequestID: reqErr.RequestID,
			Status:    http.StatusBadGateway,
		}, true
	case errors.As(err, &reqErr) && errors.Is(err, neonauth.ErrUnavailable):
		return views.Problem{
			Title:     "Neon did not answer",
			Message:   "The Neon API could not be reached or timed out. Try again in a moment.",
			RequestID: reqErr.RequestID,
			Status:    http.StatusBadGateway,
		}, true
	case errors.Is(err, neonauth.ErrRateLimited):
		return views.Problem{
			Title:   "Too many requests to Neon",
			Message: "The dashboard is holding back to stay under Neon's rate limit. Try again in a few seconds.",
			Status:  http.StatusTooManyRequests,
		}, true
	case errors.Is(err, neonauth.ErrQueryTimeout):
		return queryTimeoutProblem(), true
	case errors.Is(err, context.DeadlineExceeded):
		return views.Problem{
			Title:   "That took too long",
			Message: "The request timed out. Try again in a moment.",
			Status:  http.StatusGatewayTimeout,
		}, true
	case errors.As(err, &httpErr):
		msg := ""
		if s, ok := httpErr.Message.(string); ok && httpErr.Code < 500 {
			msg = s
		}
		if httpErr.Code >= 500 {
			return views.Problem{Title: "Something went wrong", Status: httpErr.Code}, false
		}
		return views.Problem{Title: statusTitle(httpErr.Code), Message: msg, Status: httpErr.Code}, true
	}
	return views.Problem{
		Title:   "Something went wrong",
		Message: "The dashboard hit an unexpected error. It has been logged.",
		Status:  http.StatusInternalServerError,
	}, false
}

// neonProblem maps a Neon refusal to what the dashboard answers. A 401/403 from
// Neon is about the dashboard's own API key, not the person's rights, so it is
// a bad gateway rather than a forbidden.
func neonProblem(e *neonauth.APIError) views.Problem {
	p := views.Problem{Message: e.Message, RequestID: e.RequestID}
	switch {
	case e.StatusCode == http.StatusNotFound:
		p.Title, p.Status = "Neon could not find that", http.StatusNotFound
	case e.StatusCode == http.StatusConflict:
		p.Title, p.Status = "Neon refused: conflict", http.StatusConflict
	case e.StatusCode == http.StatusLocked:
		p.Title, p.Status = "The project is busy", http.StatusLocked
		if p.Message == "" {
			p.Message = "Another operation is running on this project. Try again in a moment."
		}
	case e.StatusCode == http.StatusTooManyRequests:
		p.Title, p.Status = "Neon is rate limiting the dashboard", http.StatusTooManyRequests
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden:
		p.Title, p.Status = "Neon refused the dashboard's API key", http.StatusBadGateway
		if p.Message == "" {
			p.Message = "Check NEON_API_KEY: it may be revoked or lack access to this project."
		}
	case e.StatusCode >= 500:
		p.Title, p.Status = "Neon is having trouble", http.StatusBadGateway
	default:
		p.Title, p.Status = "Neon rejected the request", http.StatusUnprocessableEntity
	}
	return p
}

// statusTitle heads the error page for a status of the dashboard's own.
func statusTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusMethodNotAllowed:
		return "Method not allowed"
	}
	if status >= 500 {
		return "Error"
	}
	return http.StatusText(status)
}
