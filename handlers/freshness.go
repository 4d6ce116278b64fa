package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// NeonBudget reports the dashboard's spend of Neon's rate budget.
// *neonauth.Service is one.
type NeonBudget interface {
	NeonSpend() neonauth.Spend
}

// neonKeyBudget is Neon's rate budget per API key, shared by every tool
// that uses the key.
const neonKeyBudget = 700

// trackFreshness lets a page know whether its Neon reads were answered from
// stale answers being refreshed, so it can say "as of".
func trackFreshness(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, _ := neonauth.TrackFreshness(c.Request().Context())
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// freshnessChrome fills the layout's "as of" note and, for admins, the
// footer's spend of the Neon budget.
func (h *Handler) freshnessChrome(c echo.Context, ch *views.Chrome) {
	if asOf, stale := neonauth.FreshnessFrom(c.Request().Context()).AsOf(); stale {
		ch.AsOf = asOf
	}
	if h.Budget == nil || ch.Role != "admin" && !ch.Anonymous {
		return
	}
	s := h.Budget.NeonSpend()
	ch.NeonSpend = &views.NeonSpend{LastMinute: s.LastMinute, PerMinute: s.PerMinute, KeyPerMinute: neonKeyBudget, AllReplicas: s.Shared}
}
