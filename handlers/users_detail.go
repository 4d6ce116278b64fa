package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// userDetail serves GET /projects/:id/users/:uid/detail: every column of
// one user as the table holds it, its raw_json, its sync timeline and the
// actions that apply to it.
func (h *Handler) userDetail(c echo.Context) error {
	s, uid, err := parseUserRoute(c)
	if err != nil {
		return err
	}
	info, problem, err := h.loadIntegration(c.Request().Context(), &s)
	if err != nil {
		return err
	}
	canWrite := IdentityFrom(c).CanWrite()
	p := views.UserDetailPage{
		Chrome:    h.chrome(c, uid+" · "+info.projectName, append(usersCrumbs(s, info, true), views.Crumb{Label: uid})...),
		Header:    usersHeader(s, info),
		UserID:    uid,
		CanWrite:  canWrite,
		CSRFToken: CSRFToken(c),
		Problem:   problem,
	}
	status := http.StatusOK
	if problem != nil {
		return h.render(c, cmpStatus(problem.Status, http.StatusBadGateway), views.UserDetailPageView(p))
	}
	err = h.readBrowser(c.Request().Context(), info.ref(s), func(ctx context.Context, br neonauth.UserBrowser) error {
		p.Header.Database, p.Header.Table = br.Target(), br.Provider().Table()
		d, err := br.Detail(ctx, uid)
		if err != nil {
			return err
		}
		p.User = &views.UserDetail{UserRow: userRow(d.User), RawJSON: d.RawJSON}
		for _, col := range d.Columns {
			p.User.Columns = append(p.User.Columns, views.DetailColumn{Name: col.Name, Value: col.Value, Null: col.Null})
		}
		for _, ev := range d.Timeline {
			p.User.Timeline = append(p.User.Timeline, views.TimelineEvent{Kind: ev.Kind, At: ev.At})
		}
		return nil
	})
	if err == nil {
		p.Header.Counts = h.headerCounts(c.Request().Context(), s)
	}
	switch {
	case errors.Is(err, neonauth.ErrUserNotFound):
		status = http.StatusNotFound
		p.Problem = &views.Problem{Title: "No such user", Message: "The users table has no row with this id.", Status: status}
	case err != nil:
		prob := h.dbProblem(err, info.integration.DBName)
		p.Problem, status = &prob, prob.Status
	}
	if p.User != nil && p.Problem == nil {
		p.Person = h.personPanels(c, s, uid, info.integration.DBName)
		p.Audit = h.userAuditPanel(c, s.projectID, uid)
	}
	return h.render(c, status, views.UserDetailPageView(p))
}
