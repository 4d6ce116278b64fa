package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// branchReadinessBadge serves a branch's readiness badge for its row on the
// project page, which loads it after the page so that the nine settings
// reads behind it never hold the page up. A failure answers with the status
// the error page would have (the layout's htmx config swaps 4xx and 5xx
// answers too) and an "unavailable" badge whose tooltip carries Neon's
// message and request id, so one branch's failure stays in its row.
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
	r, err := h.badgeReadiness(c.Request().Context(), projectID, branchID)
	var none *neonauth.NoBranchAuthError
	switch {
	case errors.As(err, &none):
		p := views.Problem{Title: "Branch-level Neon Auth is not enabled on this branch", Status: http.StatusNotFound}
		return h.render(c, p.Status, views.ReadinessBadgeFragment(readinessURL, nil, &p))
	case err != nil:
		p := h.panelProblem(err, "Could not read the settings")
		return h.render(c, p.Status, views.ReadinessBadgeFragment(readinessURL, nil, &p))
	}
	return h.render(c, http.StatusOK, views.ReadinessBadgeFragment(readinessURL, &r.Summary, nil))
}

// badgeQueueBudget is how long a badge may keep waiting for the client-side
// rate limiter. A cold project page whose branches all have Better Auth asks
// for eight reads a badge, all badges at once, more than the limiter's burst;
// the badges load after the page, so waiting a few seconds beats showing
// "unavailable".
const badgeQueueBudget = 10 * time.Second

// badgeReadiness is BranchReadiness, asked again while the client-side rate
// limiter sheds its reads. Each retry costs only the reads that were shed:
// the ones that went out are cached.
func (h *Handler) badgeReadiness(ctx context.Context, projectID, branchID string) (*neonauth.Readiness, error) {
	deadline := time.Now().Add(badgeQueueBudget)
	for {
		r, err := h.Checks.BranchReadiness(ctx, projectID, branchID)
		var shed *neonapi.ShedError
		if !errors.As(err, &shed) {
			return r, err
		}
		wait := max(shed.RetryAfter(), 10*time.Millisecond)
		if time.Until(deadline) < wait {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
	}
}
