package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// outcomeProblem tells a person that a change reached Neon but no usable
// answer came back: the change may or may not have been made, so the page
// must claim neither, and must not invite doing it again, which could make
// it twice. It carries the request id for Neon support; the handler adds
// where to check (withCheck). A missing answer is a gateway timeout when none
// came in time, otherwise a bad gateway.
func outcomeProblem(e *neonauth.OutcomeUnknownError) views.Problem {
	p := views.Problem{RequestID: e.RequestID, Status: http.StatusBadGateway}
	const check = "Check whether it happened before doing anything else: sending it again could make the change twice."
	switch e.Reason() {
	case neonauth.AnswerIncomplete:
		p.Title = "Outcome unknown: Neon's answer was incomplete"
		p.Message = fmt.Sprintf("Neon answered that it succeeded, but without %s, so the dashboard cannot tell whether %s. %s",
			fieldList(e.Fields()), e.Change, check)
	case neonauth.ConnectionDropped:
		p.Title = "Outcome unknown: the connection to Neon dropped"
		p.Message = fmt.Sprintf("The request reached Neon, then the connection closed before an answer came, so the dashboard cannot tell whether %s. %s", e.Change, check)
	case neonauth.NoAnswerInTime:
		p.Title = "Outcome unknown: Neon's answer took too long"
		p.Message = fmt.Sprintf("The request reached Neon, but no answer came in time, so the dashboard cannot tell whether %s. %s", e.Change, check)
		p.Status = http.StatusGatewayTimeout
	default:
		p.Title = "Outcome unknown: Neon's answer could not be read"
		p.Message = fmt.Sprintf("Neon answered, but not in a form the dashboard could read, so it cannot tell whether %s. %s", e.Change, check)
	}
	return p
}

// fieldList names the members an answer lacked for a sentence: "id", or
// "pub_client_key and secret_server_key".
func fieldList(fields []string) string {
	switch len(fields) {
	case 0:
		return "what the dashboard needs"
	case 1:
		return fields[0]
	}
	return strings.Join(fields[:len(fields)-1], ", ") + " and " + fields[len(fields)-1]
}

// withCheck points a problem whose outcome is unknown at where the person can
// see whether the change happened; other problems pass unchanged.
func withCheck(p views.Problem, err error, href, label string) views.Problem {
	if errors.Is(err, neonauth.ErrOutcomeUnknown) {
		p.Check = &views.Link{Href: href, Label: label}
	}
	return p
}

// changeProblem is what a form shows when Neon did not make a change, or may
// have: the failure, titled title unless the outcome is unknown, with where
// to check (href, label) when it is, and a Retry-After when Neon asked to
// wait. Call keepAnswering first, so that the answer can still be rendered.
func (h *Handler) changeProblem(c echo.Context, err error, title, href, label string) views.Problem {
	setNeonRetryAfter(c, err)
	noteUnknownOutcome(c, err)
	return withCheck(h.panelProblem(err, title), err, href, label)
}

// noteUnknownOutcome marks the audit line of a change whose outcome is
// unknown, which would otherwise read as a plain failure.
func noteUnknownOutcome(c echo.Context, err error) {
	if errors.Is(err, neonauth.ErrOutcomeUnknown) {
		identity.AddAuditAttrs(c, slog.Bool("outcome_unknown", true))
	}
}

// answerBudget is how long a handler may still take to answer about a change
// once the request's own time has run out, as when Neon's answer to it never
// came: the person must learn that it may have happened. It fits within the
// time the server allows for an answer past the request's deadline.
const answerBudget = 5 * time.Second

// keepAnswering gives c's request a fresh deadline of answerBudget when its
// own has passed, so that the form or page about a change still renders
// instead of a bare timeout. Call the returned function when done.
func keepAnswering(c echo.Context) context.CancelFunc {
	ctx := c.Request().Context()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return func() {}
	}
	fresh, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerBudget)
	c.SetRequest(c.Request().WithContext(fresh))
	return cancel
}
