package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// projectUsers guards a project-level users route. Better Auth's users
// belong to a branch, so a request for them on the project's route (a link
// made before users were per branch, or the users page without a provider
// on a project without Stack Auth) is redirected to the branch's route:
// permanently when it names the branch (?branch=), temporarily when the
// branch was picked here (the default branch if it has Neon Auth, else the
// first that has it), since that pick can change.
func (h *Handler) projectUsers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := projectIDParam(c)
		if err != nil {
			return err
		}
		v := c.FormValue("provider")
		p, _ := authprovider.Parse(v)
		if !p.BranchLevel() {
			if v != "" || c.Request().Method != http.MethodGet || c.Path() != "/projects/:id/users" {
				return next(c)
			}
			// The page without a provider: Stack Auth when the project has
			// it (and when the list cannot be read, the page says so).
			ins, err := h.Auth.LegacyIntegrations(c.Request().Context(), id)
			if err != nil || slices.ContainsFunc(ins, func(in neonauth.Integration) bool { return !in.AuthProvider.BranchLevel() }) {
				return next(c)
			}
		}
		hint := c.FormValue("branch")
		if hint != "" {
			if _, err := checkedBranchID(hint); err != nil {
				return err
			}
		}
		branchID, err := h.Auth.UsersBranch(c.Request().Context(), id, hint)
		if errors.Is(err, neonauth.ErrNoIntegration) {
			return echo.NewHTTPError(http.StatusNotFound, "No branch of this project has branch-level Neon Auth (Better Auth). Enable it on the project page first.")
		}
		if err != nil {
			return err
		}
		return c.Redirect(redirectStatus(c.Request().Method, hint != ""), branchUsersTarget(c, id, branchID))
	}
}

// branchUsersTarget is the request's URL moved under the branch's users
// route, without the parameters the path now carries.
func branchUsersTarget(c echo.Context, projectID, branchID string) string {
	u := c.Request().URL
	rest := strings.TrimPrefix(u.EscapedPath(), "/projects/"+projectID+"/users")
	q := u.Query()
	q.Del("provider")
	q.Del("branch")
	at := views.UsersAt{ProjectID: projectID, Provider: authprovider.BetterAuth, BranchID: branchID}
	target := at.Path("") + rest
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return target
}

// redirectStatus keeps the method (and a form's body) across the redirect,
// and says whether the move is for good.
func redirectStatus(method string, permanent bool) int {
	get := method == http.MethodGet || method == http.MethodHead
	switch {
	case get && permanent:
		return http.StatusMovedPermanently
	case get:
		return http.StatusFound
	case permanent:
		return http.StatusPermanentRedirect
	}
	return http.StatusTemporaryRedirect
}
