package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// maxLookupLen bounds a lookup: no email or user id is longer.
const maxLookupLen = 256

// checkLookup validates l.Query before it reaches the database, marking l as
// searched. It returns the status a refused query answers with: 422 for an
// empty one, 400 for one no email or id can be (too long, or holding a NUL
// byte or invalid UTF-8, which Postgres would refuse with an error), 0 when
// the query can be looked up.
func checkLookup(l *views.UserLookup) int {
	q := strings.TrimSpace(l.Query)
	l.Query, l.Searched = shown(q), true
	switch {
	case q == "":
		l.QueryError = "Enter an email address or a user id (at most 256 characters)."
		return http.StatusUnprocessableEntity
	case unstorable(q):
		l.QueryError = unstorableMessage
		return http.StatusBadRequest
	case utf8.RuneCountInString(q) > maxLookupLen:
		l.QueryError = "Enter an email address or a user id (at most 256 characters)."
		return http.StatusBadRequest
	}
	return 0
}

// lookupInto runs the "check sync" query for l.Query, checked by checkLookup.
func (h *Handler) lookupInto(ctx context.Context, dir neonauth.UserDirectory, l *views.UserLookup, dbName string) {
	u, err := dir.Find(ctx, l.Query)
	switch {
	case err == nil:
		row := userRow(u)
		l.Row = &row
	case errors.Is(err, neonauth.ErrUserNotFound):
	default:
		prob := h.dbProblem(err, dbName)
		l.Problem = &prob
	}
}

// usersLookup serves GET /projects/:id/users/lookup: the "check sync" box
// alone for htmx, the whole page otherwise. A refused query answers 4xx, a
// users database that cannot be read its own status (503 while it is down).
func (h *Handler) usersLookup(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return h.usersPage(c)
	}
	l := views.UserLookup{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID, Query: c.QueryParam("q")}
	if status := checkLookup(&l); status != 0 {
		return h.render(c, status, views.UserLookupSection(l))
	}
	err = h.readUsers(c.Request().Context(), s.ref(), func(ctx context.Context, dir neonauth.UserDirectory) error {
		l.Table = dir.Provider().Table()
		h.lookupInto(ctx, dir, &l, "")
		return nil
	})
	status := http.StatusOK
	switch {
	case err != nil:
		prob := h.dbProblem(err, "")
		l.Problem = &prob
		status = prob.Status
	case l.Problem != nil:
		status = l.Problem.Status
	}
	return h.render(c, status, views.UserLookupSection(l))
}
