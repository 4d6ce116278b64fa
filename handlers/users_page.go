package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

func (h *Handler) latestLimit() int {
	if h.Settings.LatestUsers > 0 {
		return h.Settings.LatestUsers
	}
	return neonauth.DefaultLatestUsers
}

// integrationInfo is what the users page learns from Neon about the project.
type integrationInfo struct {
	projectName string
	integration neonapi.Integration
}

// ref names the integration with where it lives, so opening its users table
// needs no second lookup.
func (i integrationInfo) ref(s usersScope) neonauth.Ref {
	return neonauth.Ref{ProjectID: s.projectID, Provider: s.provider, BranchID: i.integration.BranchID, DBName: i.integration.DBName}
}

// loadIntegration fetches the project and its integration for scope (choosing
// the first integration when no provider was given). A *views.Problem result
// means the integration cannot be shown; a plain error (project not found) goes
// to the error page.
func (h *Handler) loadIntegration(ctx context.Context, s *usersScope) (integrationInfo, *views.Problem, error) {
	var (
		wg      sync.WaitGroup
		project *neonapi.Project
		projErr error
	)
	wg.Go(func() { project, projErr = h.Neon.GetProject(ctx, s.projectID) })
	ins, insErr := h.Neon.ListIntegrations(ctx, s.projectID)
	wg.Wait()

	info := integrationInfo{projectName: s.projectID}
	if projErr != nil {
		if errors.Is(projErr, neonapi.ErrNotFound) {
			return info, nil, projErr
		}
		p := h.panelProblem(projErr, "Could not read the project")
		return info, &p, nil
	}
	info.projectName = project.Name
	if insErr != nil {
		p := h.panelProblem(insErr, "Could not list the Neon Auth integrations")
		return info, &p, nil
	}
	for _, in := range ins {
		p := neonauth.Provider(in.AuthProvider)
		if s.provider == "" && p.Valid() {
			s.provider = p
		}
		if p == s.provider {
			info.integration = in
			return info, nil, nil
		}
	}
	p := views.Problem{
		Title:   "No Neon Auth integration",
		Message: fmt.Sprintf("Project %s has no %s integration. Enable Neon Auth on the project page first.", s.projectID, s.provider.Label()),
		Status:  http.StatusNotFound,
	}
	if s.provider == "" {
		p.Message = fmt.Sprintf("Project %s has no Neon Auth integration. Enable Neon Auth on the project page first.", s.projectID)
	}
	return info, &p, nil
}

// userRow is the view of a db.User.
func userRow(u db.User) views.UserRow {
	return views.UserRow{
		ID:        u.ID,
		Email:     u.Email,
		Name:      u.Name,
		CreatedAt: u.CreatedAt,
		UpdatedAt: u.UpdatedAt,
		DeletedAt: u.DeletedAt,
		Role:      u.Role,
	}
}

// usersPageData is the full users page and the status to answer it with.
type usersPageData struct {
	page   views.UsersPage
	status int
}

// buildUsersPage loads the header, the latest users and the counts. Database
// failures land in the panels; only an unknown project is an error.
func (h *Handler) buildUsersPage(c echo.Context, s *usersScope, query string) (*usersPageData, error) {
	info, problem, err := h.loadIntegration(c.Request().Context(), s)
	if err != nil {
		return nil, err
	}
	d := &usersPageData{status: http.StatusOK}
	p := &d.page
	p.Chrome = h.chrome(c, "Users · "+info.projectName,
		views.Crumb{Label: "Projects", Href: "/projects"},
		views.Crumb{Label: info.projectName, Href: "/projects/" + s.projectID},
		views.Crumb{Label: "Users"},
	)
	p.Header = views.UsersHeader{
		ProjectID:   s.projectID,
		ProjectName: info.projectName,
		Provider:    s.provider,
		BranchID:    info.integration.BranchID,
		DBName:      info.integration.DBName,
	}
	if problem != nil {
		p.Problem = problem
		d.status = cmpStatus(problem.Status, http.StatusBadGateway)
		return d, nil
	}
	canWrite := IdentityFrom(c).CanWrite()
	p.Create = views.CreateUserForm{ProjectID: s.projectID, Provider: s.provider, CSRFToken: CSRFToken(c), CanWrite: canWrite}
	p.Lookup = views.UserLookup{ProjectID: s.projectID, Provider: s.provider, Query: query}
	p.Latest = h.latestPanel(c, *s)
	if query != "" && checkLookup(&p.Lookup) == http.StatusBadRequest {
		// A query no email or id can be is refused; a blank one is not
		// worth a failing status on the page it was typed into.
		d.status = http.StatusBadRequest
	}
	h.readUsersPanels(c.Request().Context(), p, info, *s)
	return d, nil
}

// readUsersPanels fills the panels that read the users table: the header's
// database, table and counts, the latest users and the lookup's answer.
func (h *Handler) readUsersPanels(ctx context.Context, p *views.UsersPage, info integrationInfo, s usersScope) {
	dbName := info.integration.DBName
	err := h.readUsers(ctx, info.ref(s), func(ctx context.Context, dir neonauth.UserDirectory) error {
		table := dir.Generation().Table()
		p.Header.Database, p.Header.Table = dir.Target(), table
		p.Latest.Table, p.Lookup.Table = table, table
		p.Header.Counts = countUsers(ctx, dir)
		if p.Header.Counts.Estimated {
			// Large enough to be estimated is large enough that the newest
			// rows may cost a scan: the page goes out first, they follow.
			p.Latest.Deferred = true
		} else if err := readLatest(ctx, dir, &p.Latest); err != nil {
			prob := h.dbProblem(err, dbName)
			p.Latest.Problem = &prob
		}
		if p.Lookup.Query != "" && p.Lookup.QueryError == "" {
			h.lookupInto(ctx, dir, &p.Lookup, dbName)
		}
		return nil
	})
	if err == nil {
		return
	}
	prob := h.dbProblem(err, dbName)
	p.Latest.Problem = &prob
	if p.Lookup.Query != "" && p.Lookup.QueryError == "" {
		p.Lookup.Searched, p.Lookup.Problem = true, &prob
	}
	var dbErr *neonauth.UserDBError
	if errors.As(err, &dbErr) {
		p.Header.Database = dbErr.Target
	}
}

// latestPanel is the pristine table of latest users for s.
func (h *Handler) latestPanel(c echo.Context, s usersScope) views.LatestUsers {
	return views.LatestUsers{ProjectID: s.projectID, Provider: s.provider, Limit: h.latestLimit(), CanWrite: IdentityFrom(c).CanWrite(), CSRFToken: CSRFToken(c)}
}

// readLatest fills l's rows from the table.
func readLatest(ctx context.Context, dir neonauth.UserDirectory, l *views.LatestUsers) error {
	users, err := dir.Latest(ctx, l.Limit)
	if err != nil {
		return err
	}
	l.Rows = make([]views.UserRow, len(users))
	for i, u := range users {
		l.Rows[i] = userRow(u)
	}
	return nil
}

// totaler is a users table that can estimate its size instead of scanning
// it; the service's tables are, test doubles need not be.
type totaler interface {
	Totals(ctx context.Context) (neonauth.UserTotals, error)
}

// countUsers reads the table's size, estimated on large tables; a failure
// leaves the counts unknown, since the panels beside them already say what
// is wrong.
func countUsers(ctx context.Context, dir neonauth.UserDirectory) views.UserCounts {
	if t, ok := dir.(totaler); ok {
		n, err := t.Totals(ctx)
		if err != nil {
			return views.UserCounts{}
		}
		return views.UserCounts{Known: true, Total: int(n.Total), Deleted: int(n.Deleted), Estimated: n.Estimated}
	}
	total, deleted, err := dir.Count(ctx)
	if err != nil {
		return views.UserCounts{}
	}
	return views.UserCounts{Known: true, Total: total, Deleted: deleted}
}

// cmpStatus is status, or fallback when the problem did not set one.
func cmpStatus(status, fallback int) int {
	if status == 0 {
		return fallback
	}
	return status
}

// usersPage serves GET /projects/:id/users.
func (h *Handler) usersPage(c echo.Context) error {
	s, err := parseUsersScope(c, false)
	if err != nil {
		return err
	}
	d, err := h.buildUsersPage(c, &s, c.QueryParam("q"))
	if err != nil {
		return err
	}
	return h.render(c, d.status, views.UsersPageView(d.page))
}

// latestUsers serves GET /projects/:id/users/latest, the refreshable table,
// with the header's counts swapped out of band. A users database that cannot
// be read answers with its status (503 while it is down), so the failure is
// not mistaken for an empty table.
func (h *Handler) latestUsers(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, views.UsersURL(s.projectID, s.provider))
	}
	l := h.latestPanel(c, s)
	l.Counts = &views.UserCounts{}
	err = h.readUsers(c.Request().Context(), s.ref(), func(ctx context.Context, dir neonauth.UserDirectory) error {
		l.Table = dir.Generation().Table()
		*l.Counts = countUsers(ctx, dir)
		return readLatest(ctx, dir, &l)
	})
	status := http.StatusOK
	if err != nil {
		prob := h.dbProblem(err, "")
		l.Problem = &prob
		status = prob.Status
	}
	return h.render(c, status, views.LatestUsersFragment(l))
}
