package handlers

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// branchReadinessBadge serves a branch's readiness badge for its row on the
// project page, which loads it after the page so that the nine settings
// reads behind it never hold the page up. A failure answers with the status
// the error page would have (the layout's htmx config swaps 4xx and 5xx
// answers too) and an "unavailable" badge whose tooltip carries Neon's
// message and request id, so one branch's failure stays in its row.
//
// The reads are background work: the client-side rate limiter lets them out
// only from budget no page is waiting for, and refuses them at once
// otherwise. The badge then answers 503 with Retry-After and a slot that asks
// again by itself once (see busyBadge), rather than holding a request and a
// connection while it waits for room.
func (h *Handler) branchReadinessBadge(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	branchID, err := checkedBranchID(c.Param("branch"))
	if err != nil {
		return err
	}
	readinessURL := views.ReadinessURL(projectID, branchID)
	ctx := neonauth.BackgroundReads(c.Request().Context(), neonauth.SettingsReads)
	r, err := h.Checks.BranchReadiness(ctx, projectID, branchID)
	var none *neonauth.NoBranchAuthError
	switch {
	case errors.As(err, &none):
		p := views.Problem{Title: "Branch-level Neon Auth is not enabled on this branch", Status: http.StatusNotFound}
		return h.render(c, p.Status, views.ReadinessBadgeFragment(readinessURL, nil, &p))
	case err != nil:
		if p, retry, ok := overloadProblem(err); ok {
			return h.busyBadge(c, readinessURL, p, retry)
		}
		p := h.panelProblem(err, "Could not read the settings")
		return h.render(c, p.Status, views.ReadinessBadgeFragment(readinessURL, nil, &p))
	}
	return h.render(c, http.StatusOK, views.ReadinessBadgeFragment(readinessURL, &r.Summary, nil))
}

// busyBadge answers a badge that was not read because the dashboard is busy
// (see overloadProblem): 503 with retry as Retry-After, and a slot that asks
// again once, after retry and a random part of it again, so that the badges
// of one page, refused together, do not all come back at the same moment. A
// badge refused on that second try waits for a click: a dashboard that stays
// busy is not asked forever by every open page.
func (h *Handler) busyBadge(c echo.Context, readinessURL string, p views.Problem, retry time.Duration) error {
	retry = (retry + time.Second - 1).Truncate(time.Second) // as Retry-After says it
	c.Response().Header().Set("Retry-After", retryAfterSeconds(retry))
	b := views.BusyBadge{ReadinessURL: readinessURL, Problem: p}
	if c.QueryParam("retry") == "" {
		b.Delay = retry + rand.N(retry)
	}
	return h.render(c, p.Status, views.ReadinessBadgeBusy(b))
}
