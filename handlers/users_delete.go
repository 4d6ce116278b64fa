package handlers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// deleteUserForm serves GET /projects/:id/users/:uid/delete, the confirmation step.
func (h *Handler) deleteUserForm(c echo.Context) error {
	s, f, err := deleteUserRequest(c)
	if err != nil {
		return err
	}
	// The email only helps the person recognise the user: without the
	// database the step still works.
	_ = h.readUsers(c.Request().Context(), s.ref(), func(ctx context.Context, dir neonauth.UserDirectory) error {
		u, err := dir.Get(ctx, f.UserID)
		f.Email = u.Email
		return err
	})
	return h.renderActivity(c, s, views.UserActivity{Delete: &f}, http.StatusOK)
}

// deleteUser serves POST /projects/:id/users/:uid/delete: with the
// confirmation ticked it has Neon delete the user and starts watching the
// database for the deletion.
func (h *Handler) deleteUser(c echo.Context) error {
	s, f, err := deleteUserRequest(c)
	if err != nil {
		return err
	}
	uid := f.UserID
	if c.FormValue("confirm") != "yes" {
		f.ConfirmError = "Tick the box to confirm the deletion."
		return h.renderActivity(c, s, views.UserActivity{Delete: &f}, http.StatusUnprocessableEntity)
	}
	if err := h.Auth.DeleteUser(c.Request().Context(), s.ref(), uid); err != nil {
		defer keepAnswering(c)()
		// Whether Neon deleted it shows in the table: the sync check looks.
		look := h.pendingCheck(s, uid, views.WatchDelete, time.Now())
		p := h.changeProblem(c, err, "Could not delete the user", views.SyncPageURL(look), "Check the users table for the deletion")
		f.Problem = &p
		return h.renderActivity(c, s, views.UserActivity{Delete: &f}, p.Status)
	}
	h.Auth.UsersChanged(c.Request().Context(), s.ref())
	check := h.pendingCheck(s, uid, views.WatchDelete, time.Now())
	if !isHTMX(c) {
		h.addFlash(c, FlashSuccess, fmt.Sprintf("Deleted user %s; watching the database for the deletion.", uid))
		return c.Redirect(http.StatusSeeOther, views.SyncPageURL(check))
	}
	return h.render(c, http.StatusOK, views.UserActivityView(views.UserActivity{Check: &check}))
}

// renderActivity answers with the activity slot's content to htmx, or the whole
// page with it filled in otherwise.
func (h *Handler) renderActivity(c echo.Context, s usersScope, a views.UserActivity, status int) error {
	if isHTMX(c) {
		return h.render(c, status, views.UserActivityView(a))
	}
	d, err := h.buildUsersPage(c, &s, "")
	if err != nil {
		return err
	}
	d.page.Activity = &a
	if d.page.Problem != nil {
		status = d.status
	}
	return h.render(c, status, views.UsersPageView(d.page))
}

// deleteUserRequest reads the route of a user deletion, refuses people whose
// role can only look, and returns the pristine confirmation form.
func deleteUserRequest(c echo.Context) (usersScope, views.DeleteUserForm, error) {
	s, uid, err := parseUserRoute(c)
	if err == nil {
		err = requireWrite(c)
	}
	if err != nil {
		return s, views.DeleteUserForm{}, err
	}
	return s, views.DeleteUserForm{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID, UserID: uid, CSRFToken: CSRFToken(c)}, nil
}
