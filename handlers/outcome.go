package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// outcomeProblem tells a person that Neon's answer to a change could not be
// read: the change may or may not have been made, so the page must claim
// neither. It is a bad gateway, with the request id for Neon support.
func outcomeProblem(e *neonauth.OutcomeUnknownError) views.Problem {
	return views.Problem{
		Title:     "Outcome unknown: Neon's answer could not be read",
		Message:   fmt.Sprintf("Neon answered, but not in a form the dashboard could read, so it cannot tell whether %s. Check before trying again.", e.Change),
		RequestID: e.RequestID,
		Status:    http.StatusBadGateway,
	}
}

// withCheck points a problem whose outcome is unknown at where the person can
// see whether the change happened; other problems pass unchanged.
func withCheck(p views.Problem, err error, href, label string) views.Problem {
	if errors.Is(err, neonauth.ErrOutcomeUnknown) {
		p.Check = &views.Link{Href: href, Label: label}
	}
	return p
}
