package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// integrationInfo is what the users pages learn from Neon about the scope:
// the project's name, the integration, and for a branch's users the branch
// and the project's other branches.
type integrationInfo struct {
	projectName string
	integration neonauth.Integration
	branch      neonauth.Branch
	branches    []neonauth.Branch
}

// ref names the integration with where it lives, so opening its users table
// needs no second lookup.
func (i integrationInfo) ref(s usersScope) neonauth.Ref {
	r := s.ref()
	if r.BranchID == "" {
		r.BranchID = i.integration.BranchID
	}
	if r.BranchID == i.integration.BranchID {
		r.DBName = i.integration.DBName
	}
	return r
}

// loadIntegration fetches the project and the integration s addresses: a
// branch's Neon Auth (getNeonAuth) for a branch's users, else the project's
// Stack Auth integration (choosing it when no provider was given). A
// *views.Problem result means the integration cannot be shown; a plain error
// (project or branch not found) goes to the error page.
func (h *Handler) loadIntegration(ctx context.Context, s *usersScope) (integrationInfo, *views.Problem, error) {
	var (
		wg      sync.WaitGroup
		project *neonauth.Project
		projErr error
	)
	wg.Go(func() { project, projErr = h.Auth.Project(ctx, s.projectID) })
	var (
		ins    []neonauth.Integration
		bu     neonauth.BranchUsers
		insErr error
	)
	if s.branchID != "" {
		bu, insErr = h.Auth.UsersOnBranch(ctx, s.projectID, s.branchID)
	} else {
		ins, insErr = h.Auth.Integrations(ctx, s.projectID)
	}
	wg.Wait()

	info := integrationInfo{projectName: s.projectID, branch: bu.Branch, branches: bu.Branches}
	if projErr != nil {
		if errors.Is(projErr, neonauth.ErrNotFound) {
			return info, nil, projErr
		}
		p := h.panelProblem(projErr, "Could not read the project")
		return info, &p, nil
	}
	info.projectName = project.Name
	if s.branchID != "" {
		return h.branchIntegration(s, info, bu, insErr)
	}
	if insErr != nil {
		p := h.panelProblem(insErr, "Could not list the Neon Auth integrations")
		return info, &p, nil
	}
	for _, in := range ins {
		p := in.AuthProvider
		if p.BranchLevel() {
			continue // a branch's users have the branch's own route
		}
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

// branchIntegration finishes loadIntegration for a branch's users.
func (h *Handler) branchIntegration(s *usersScope, info integrationInfo, bu neonauth.BranchUsers, err error) (integrationInfo, *views.Problem, error) {
	switch {
	case errors.Is(err, neonauth.ErrNotFound):
		return info, nil, errNoBranch
	case err != nil:
		p := h.panelProblem(err, "Could not read the branch's Neon Auth")
		return info, &p, nil
	case bu.Auth == nil:
		return info, &views.Problem{
			Title:   "No Neon Auth on this branch",
			Message: fmt.Sprintf("Branch %s has no branch-level Neon Auth (Better Auth), so it has no users here. Enable it on the project page, or pick a branch that has it.", branchLabel(bu.Branch)),
			Status:  http.StatusNotFound,
		}, nil
	}
	info.integration = *bu.Auth
	info.integration.BranchID = s.branchID
	return info, nil, nil
}

// branchLabel names a branch for a sentence: its name, else its id.
func branchLabel(b neonauth.Branch) string {
	if b.Name != "" {
		return b.Name
	}
	return b.ID
}

// userRow is the view of a neonauth.User.
func userRow(u neonauth.User) views.UserRow {
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

// buildUsersPage loads the header, the counts and, on a small table, the
// first page of users. Database failures land in the panels; only an unknown
// project or branch is an error.
func (h *Handler) buildUsersPage(c echo.Context, s *usersScope, query string) (*usersPageData, error) {
	info, problem, err := h.loadIntegration(c.Request().Context(), s)
	if err != nil {
		return nil, err
	}
	d := &usersPageData{status: http.StatusOK}
	p := &d.page
	p.Chrome = h.chrome(c, "Users · "+info.projectName, usersCrumbs(*s, info, false)...)
	p.Header = usersHeader(*s, info)
	if problem != nil {
		p.Problem = problem
		d.status = cmpStatus(problem.Status, http.StatusBadGateway)
		return d, nil
	}
	canWrite := IdentityFrom(c).CanWrite()
	p.Create = views.CreateUserForm{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID, CSRFToken: CSRFToken(c), CanWrite: canWrite}
	p.Lookup = views.UserLookup{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID, Query: query}
	if query != "" && checkLookup(&p.Lookup) == http.StatusBadRequest {
		// A query no email or id can be is refused; a blank one is not
		// worth a failing status on the page it was typed into.
		d.status = http.StatusBadRequest
	}
	small, prob := h.readUsersPanels(c.Request().Context(), p, info, *s)
	switch {
	case prob != nil:
		// The table's place says what is wrong with the database, and the
		// rest of the page still works.
		b := h.newBrowser(c, *s, views.BrowseQuery{})
		b.Problem = prob
		p.Browser = &b
	case small:
		// A small table's first page costs little: it comes with the page,
		// which then works without JavaScript too. A large one's loads after.
		b := h.newBrowser(c, *s, views.BrowseQuery{})
		h.fillBrowser(c.Request().Context(), *s, &b, true, false)
		p.Browser = &b
	}
	return d, nil
}

// usersCrumbs are the users pages' breadcrumbs; inside adds a link back to
// the users page for the pages below it.
func usersCrumbs(s usersScope, info integrationInfo, inside bool) []views.Crumb {
	out := []views.Crumb{
		{Label: "Projects", Href: "/projects"},
		{Label: info.projectName, Href: "/projects/" + s.projectID},
	}
	label := "Users"
	if s.branchID != "" {
		label = "Users of " + branchLabel(info.branch)
		if info.branch.ID == "" {
			label = "Users of " + s.branchID
		}
	}
	if inside {
		return append(out, views.Crumb{Label: label, Href: s.at().URL("", nil)})
	}
	return append(out, views.Crumb{Label: label})
}

// readUsersPanels fills the panels that read the users table: the header's
// database, table and counts and the lookup's answer. It reports whether the
// table is small enough to be counted exactly, or what keeps it from being
// read.
func (h *Handler) readUsersPanels(ctx context.Context, p *views.UsersPage, info integrationInfo, s usersScope) (small bool, problem *views.Problem) {
	dbName := info.integration.DBName
	err := h.readUsers(ctx, info.ref(s), func(ctx context.Context, dir neonauth.UserDirectory) error {
		table := dir.Provider().Table()
		p.Header.Database, p.Header.Table = dir.Target(), table
		p.Lookup.Table = table
		p.Header.Counts = countUsers(ctx, dir)
		small = p.Header.Counts.Known && !p.Header.Counts.Estimated
		if p.Lookup.Query != "" && p.Lookup.QueryError == "" {
			h.lookupInto(ctx, dir, &p.Lookup, dbName)
		}
		return nil
	})
	if err == nil {
		return small, nil
	}
	prob := h.dbProblem(err, dbName)
	if p.Lookup.Query != "" && p.Lookup.QueryError == "" {
		p.Lookup.Searched, p.Lookup.Problem = true, &prob
	}
	var dbErr *neonauth.UserDBError
	if errors.As(err, &dbErr) {
		p.Header.Database = dbErr.Target
	}
	return false, &prob
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
		return views.UserCounts{Known: true, Total: int(n.Total), Deleted: int(n.Deleted), Estimated: n.Estimated, DeletedUnknown: n.DeletedUnknown}
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
