package handlers

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// Role names are what Better Auth's admin plugin and access-control roles
// look like: lowercase, starting with a letter, short. The control offers
// user and admin; other names pass too, so a custom role the table already
// holds can be kept, and are checked here because Neon's API only insists on
// one role or more. Better Auth stores several roles comma-separated, so a
// comma-separated list is accepted and sent as that many roles.
var roleName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// maxRoles bounds a role list; real users hold one or two.
const maxRoles = 8

// parseRoles validates a submitted role value and returns its roles, in
// order and without repeats, or a message for the field.
func parseRoles(v string) ([]string, string) {
	if strings.TrimSpace(v) == "" {
		return nil, "Choose a role."
	}
	var roles []string
	for part := range strings.SplitSeq(v, ",") {
		r := strings.TrimSpace(part)
		if !roleName.MatchString(r) {
			return nil, "A role is a lowercase name such as user or admin (a letter, then up to 31 letters, digits, - or _); separate several with commas."
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(roles) > maxRoles {
		return nil, fmt.Sprintf("At most %d roles at once.", maxRoles)
	}
	return roles, ""
}

// setUserRole serves POST /projects/:id/users/:uid/role: it sets a user's
// role through the Neon Auth service and watches the database until the role
// column shows it. Only providers whose users have roles (Better Auth) take
// one.
func (h *Handler) setUserRole(c echo.Context) error {
	s, uid, err := parseUserRoute(c)
	if err != nil {
		return err
	}
	if !s.provider.HasRoles() {
		return echo.NewHTTPError(http.StatusBadRequest, "Roles can be set only for Better Auth (branch-level) users.")
	}
	f := views.RoleForm{
		ProjectID: s.projectID,
		Provider:  s.provider,
		BranchID:  s.branchID,
		UserID:    uid,
		CSRFToken: CSRFToken(c),
		Role:      shown(c.FormValue("role")),
	}
	f.Current, f.Email = h.currentRole(c.Request().Context(), s, uid)
	roles, msg := parseRoles(c.FormValue("role"))
	if msg != "" {
		f.RoleError = msg
		return h.renderRoleForm(c, s, f, http.StatusUnprocessableEntity)
	}
	// The role column holds the roles as the sandbox and Better Auth write
	// them: comma-separated, in the order sent.
	role := strings.Join(roles, ",")
	if err := h.Auth.SetUserRole(c.Request().Context(), s.ref(), uid, roles); err != nil {
		defer keepAnswering(c)()
		look := h.pendingCheck(s, uid, views.WatchRole, time.Now())
		look.Role = role
		p := h.changeProblem(c, err, "Could not change the role", views.SyncPageURL(look), "Check the users table for the role")
		f.Problem = &p
		return h.renderRoleForm(c, s, f, p.Status)
	}
	h.Auth.UsersChanged(c.Request().Context(), s.ref())
	check := h.pendingCheck(s, uid, views.WatchRole, time.Now())
	check.Role = role
	if !isHTMX(c) {
		h.addFlash(c, FlashSuccess, fmt.Sprintf("Role change to %s sent for user %s; watching the database for it.", check.Role, uid))
		return c.Redirect(http.StatusSeeOther, views.SyncPageURL(check))
	}
	f.Role = check.Role
	return h.render(c, http.StatusOK, views.RoleChangeSent(f, check))
}

// currentRole reads the user's role and email as the table holds them, so a
// refused form still shows the truth; a failed read leaves them empty.
func (h *Handler) currentRole(ctx context.Context, s usersScope, uid string) (role, email string) {
	_ = h.readUsers(ctx, s.ref(), func(ctx context.Context, dir neonauth.UserDirectory) error {
		u, err := dir.Get(ctx, uid)
		if err == nil {
			role, email = u.Role, u.Email
		}
		return err
	})
	return role, email
}

// renderRoleForm answers a role change that did not go through: the control
// alone to htmx, which swaps it in place, or the whole page with the control
// in the activity slot, what was chosen kept.
func (h *Handler) renderRoleForm(c echo.Context, s usersScope, f views.RoleForm, status int) error {
	if isHTMX(c) {
		return h.render(c, status, views.RoleFormView(f))
	}
	return h.renderActivity(c, s, views.UserActivity{Role: &f}, status)
}
