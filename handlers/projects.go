package handlers

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

const (
	// projectsPageSize is how many projects one page lists.
	projectsPageSize = 25
	// maxProjectsPageSize caps ?limit=.
	maxProjectsPageSize = 100
	// authLookups bounds the concurrent per-row Neon Auth lookups, leaving
	// room in Neon's rate budget for everyone else using the dashboard.
	authLookups = 8
	// maxSearchLen bounds the search text sent to Neon.
	maxSearchLen = 256
)

// neonID is the shape of Neon's project and branch ids (the spec's pattern).
var neonID = regexp.MustCompile(`^[a-z0-9-]{1,60}$`)

// errNoProject answers ids that cannot be Neon project ids without asking Neon.
var errNoProject = echo.NewHTTPError(http.StatusNotFound, "There is no project with that id.")

// projectIDParam returns the :id route parameter once it looks like a Neon id.
func projectIDParam(c echo.Context) (string, error) {
	id := c.Param("id")
	if !neonID.MatchString(id) {
		return "", errNoProject
	}
	return id, nil
}

// listProjects serves the projects page. htmx searches get the list, htmx
// "load more" clicks the next rows only.
func (h *Handler) listProjects(c echo.Context) error {
	q := cut(strings.TrimSpace(c.QueryParam("q")), maxSearchLen)
	cursor := c.QueryParam("cursor")
	limit := projectsPageSize
	if v := c.QueryParam("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= maxProjectsPageSize {
			limit = n
		}
	}
	list := h.projectList(c.Request().Context(), q, cursor, limit)
	status := http.StatusOK
	if list.Problem != nil {
		status = list.Problem.Status
	}
	if isHTMX(c) {
		if c.Request().Header.Get("HX-Target") == "more-row" && list.Problem == nil {
			return h.render(c, status, views.ProjectRowsView(list))
		}
		list.FirstURL = ""
		return h.render(c, status, views.ProjectListView(list))
	}
	return h.render(c, status, views.ProjectsView(h.chrome(c, "Projects"), views.ProjectsPage{List: list}))
}

// projectList reads one page of projects and, concurrently, each project's
// Neon Auth: its project-level integrations and its default branch's
// branch-level auth. Other branches are left to the project page, which keeps
// a row's cost to three reads however many branches the project has. A
// failed lookup marks its row; it never fails the page.
func (h *Handler) projectList(ctx context.Context, q, cursor string, limit int) views.ProjectList {
	list := views.ProjectList{Query: q}
	page, err := h.Auth.Projects(ctx, neonauth.ListProjectsOptions{Search: q, Cursor: cursor, Limit: limit})
	if err != nil {
		p := h.panelProblem(err, "Could not list projects")
		list.Problem = &p
		return list
	}
	list.Rows = make([]views.ProjectRow, len(page.Projects))
	var g errgroup.Group
	g.SetLimit(authLookups)
	for i, p := range page.Projects {
		list.Rows[i] = views.ProjectRow{ID: p.ID, Name: p.Name, Region: p.RegionID, CreatedAt: p.CreatedAt}
		row := &list.Rows[i]
		g.Go(func() error {
			found := h.Auth.DiscoverDefault(ctx, p.ID)
			if err := found.Err(); err != nil {
				prob := h.panelProblem(err, "Could not read Neon Auth state")
				row.AuthProblem = &prob
				return nil
			}
			for _, in := range found.Integrations() {
				row.Auth = append(row.Auth, views.AuthBadge{
					Provider:       in.AuthProvider,
					OwnedBy:        string(in.OwnedBy),
					TransferStatus: string(in.TransferStatus),
				})
			}
			return nil
		})
	}
	_ = g.Wait()

	// Neon returns a cursor even with the last page; a short page is the end.
	if page.Cursor != "" && page.Cursor != cursor && len(page.Projects) >= limit {
		list.MoreURL = projectsURL(q, page.Cursor, limit)
	}
	if cursor != "" {
		list.FirstURL = projectsURL(q, "", limit)
	}
	return list
}

func projectsURL(q, cursor string, limit int) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if limit != projectsPageSize {
		v.Set("limit", strconv.Itoa(limit))
	}
	if len(v) == 0 {
		return "/projects"
	}
	return "/projects?" + v.Encode()
}

// panelProblem describes a failure that one panel or form shows in place: a
// read that degrades only that panel, or a change Neon did not make, shown in
// its form so nothing the person typed is lost. Unexpected errors are logged
// here, since they never reach the error handler.
func (h *Handler) panelProblem(err error, title string) views.Problem {
	if errors.Is(err, neonauth.ErrNoIntegration) {
		return views.Problem{
			Title:   title + ": no Neon Auth integration",
			Message: "The project has no integration for this provider any more; reload the project page.",
			Status:  http.StatusNotFound,
		}
	}
	if usersDBFailure(err) {
		// The users table, not Neon: say which database and what to check,
		// with the 503 of a database that cannot be used.
		p := h.dbProblem(err, "")
		p.Title = title + ": " + p.Title
		return p
	}
	p, expected := problemFor(err)
	switch {
	case errors.Is(err, neonauth.ErrOutcomeUnknown):
		// Not "could not ...": the change may well have been made.
		return p
	case errors.Is(err, context.Canceled):
		p.Message = "The request was cancelled."
	case !expected:
		h.logger().Error(title, "err", err)
	}
	p.Title = title + ": " + p.Title
	return p
}

// usersDBFailure reports a failure to use an integration's users table,
// which dbProblem explains.
func usersDBFailure(err error) bool {
	var located *neonauth.UserDBError
	return errors.As(err, &located) || errors.Is(err, neonauth.ErrUnreachable) ||
		errors.Is(err, neonauth.ErrSchemaMissing) || errors.Is(err, neonauth.ErrBadConnString)
}

// projectData is everything the project page reads from Neon, fetched in
// parallel; each part fails on its own.
type projectData struct {
	project    *neonauth.Project
	projectErr error

	branches    []neonauth.Branch
	branchesErr error

	// integrations are the project-level integrations and, once
	// branchStates are read, the branch-level ones found on the branches.
	integrations []neonauth.Integration
	// integrationsErr is why the project-level integrations could not be
	// listed.
	integrationsErr error

	// branch is the one the enable form shows (the default unless picked).
	branch     *neonauth.Branch
	databases  []neonauth.Database
	roles      []neonauth.Role
	optionsErr error

	// branchStates is every branch's Neon Auth (read by loadProject only).
	branchStates []neonauth.BranchState
}

// loadProjectSummary reads the project, its project-level integrations and
// its branches in parallel: what the confirmation pages (transfer, new SDK
// keys, both Stack Auth only) show, without the enable form's databases and
// roles or any branch's auth. The branches only name a card's branch, so a
// failed list leaves the card showing the id.
func (h *Handler) loadProjectSummary(ctx context.Context, projectID string) *projectData {
	return h.fetchProject(ctx, projectID, nil)
}

// loadProject reads what loadProjectSummary does and, once the branches are
// known, the picked (or default) branch's databases and roles and every
// branch's Neon Auth, again in parallel.
func (h *Handler) loadProject(ctx context.Context, projectID, pickBranch string) *projectData {
	return h.fetchProject(ctx, projectID, func(d *projectData) {
		h.loadBranchDetails(ctx, projectID, pickBranch, d)
	})
}

// fetchProject reads the project, its project-level integrations and its
// branches in parallel, then runs withBranches (when set) once the branches
// are listed, and adds the branch-level integrations it found.
func (h *Handler) fetchProject(ctx context.Context, projectID string, withBranches func(*projectData)) *projectData {
	d := &projectData{}
	var g errgroup.Group
	g.Go(func() error {
		d.project, d.projectErr = h.Auth.Project(ctx, projectID)
		return nil
	})
	g.Go(func() error {
		d.integrations, d.integrationsErr = h.Auth.LegacyIntegrations(ctx, projectID)
		return nil
	})
	g.Go(func() error {
		d.branches, d.branchesErr = h.Auth.Branches(ctx, projectID)
		if d.branchesErr == nil && withBranches != nil {
			withBranches(d)
		}
		return nil
	})
	_ = g.Wait()
	d.integrations = neonauth.MergeIntegrations(d.integrations, d.branchStates)
	return d
}

// loadBranchDetails picks the enable form's branch (the default unless
// pickBranch names another) and reads its databases and roles, and every
// branch's Neon Auth, in parallel.
func (h *Handler) loadBranchDetails(ctx context.Context, projectID, pickBranch string, d *projectData) {
	d.branch = neonauth.DefaultBranch(d.branches)
	for i := range d.branches {
		if d.branches[i].ID == pickBranch {
			d.branch = &d.branches[i]
		}
	}
	if d.branch == nil {
		return
	}
	var g errgroup.Group
	g.Go(func() error {
		d.databases, d.roles, d.optionsErr = h.branchOptionLists(ctx, projectID, d.branch.ID)
		return nil
	})
	g.Go(func() error {
		d.branchStates = h.Auth.BranchStates(ctx, projectID, d.branches)
		return nil
	})
	_ = g.Wait()
}

// branchOptionLists reads a branch's databases and roles in parallel.
func (h *Handler) branchOptionLists(ctx context.Context, projectID, branchID string) ([]neonauth.Database, []neonauth.Role, error) {
	var (
		dbs          []neonauth.Database
		roles        []neonauth.Role
		dbErr, rlErr error
		g            errgroup.Group
	)
	g.Go(func() error { dbs, dbErr = h.Auth.Databases(ctx, projectID, branchID); return nil })
	g.Go(func() error { roles, rlErr = h.Auth.Roles(ctx, projectID, branchID); return nil })
	_ = g.Wait()
	return dbs, roles, errors.Join(dbErr, rlErr)
}

// showProject serves Project → Neon Auth. ?branch= picks the enable form's
// branch (its databases and roles are listed); without JavaScript, posting a
// database the branch lacks re-renders the form with that branch's lists.
func (h *Handler) showProject(c echo.Context) error {
	id, err := projectIDParam(c)
	if err != nil {
		return err
	}
	d := h.loadProject(c.Request().Context(), id, c.QueryParam("branch"))
	if d.projectErr != nil {
		return d.projectErr
	}
	m := h.projectPage(c, d)
	return h.render(c, http.StatusOK, views.ProjectView(h.chrome(c, d.project.Name, projectCrumbs(d.project)...), m))
}

func projectCrumbs(p *neonauth.Project) []views.Crumb {
	return []views.Crumb{{Label: "Projects", Href: "/projects"}, {Label: p.Name}}
}

// projectPage shapes the loaded data for the page, with every form in its
// pristine state; handlers then mark the part their request changed.
func (h *Handler) projectPage(c echo.Context, d *projectData) views.ProjectPage {
	token := CSRFToken(c)
	p := d.project
	m := views.ProjectPage{
		Project:  views.ProjectInfo{ID: p.ID, Name: p.Name, Region: p.RegionID, PgVersion: p.PgVersion, CreatedAt: p.CreatedAt},
		CanWrite: IdentityFrom(c).CanWrite(),
	}
	m.Integrations = h.authPanel(p.ID, d, m.CanWrite)
	m.Enable = h.enableForm(p.ID, token, d)
	if d.integrationsErr == nil {
		for _, in := range d.integrations {
			m.Deletes = append(m.Deletes, views.DeleteForm{
				ProjectID:   p.ID,
				ProjectName: p.Name,
				CSRFToken:   token,
				Provider:    in.AuthProvider,
				BranchID:    in.BranchID,
				BranchName:  branchName(d.branches, in.BranchID),
			})
		}
		// In the order of the branch table: the default branch's first.
		if def := neonauth.DefaultBranch(d.branches); def != nil {
			onDefault := func(f views.DeleteForm) int {
				if f.BranchID == def.ID {
					return 0
				}
				return 1
			}
			slices.SortStableFunc(m.Deletes, func(a, b views.DeleteForm) int { return cmp.Compare(onDefault(a), onDefault(b)) })
		}
	}
	return m
}

// authPanel is the project's whole Neon Auth state: the project-level
// integrations' cards and every branch's Neon Auth.
func (h *Handler) authPanel(projectID string, d *projectData, canWrite bool) views.IntegrationsPanel {
	panel := h.integrationsPanel(projectID, d)
	panel.Branches = h.branchTable(projectID, d)
	panel.CanWrite = canWrite
	for i := range panel.Cards {
		// Viewers may look at a transfer's state but not start one.
		panel.Cards[i].CanTransfer = panel.Cards[i].CanTransfer && canWrite
		panel.Cards[i].CanRenewKeys = canWrite && panel.Cards[i].Provider.HasTransfer()
	}
	return panel
}

// integrationsPanel is the cards of the project-level integrations. The
// branch-level ones are rows of the branch table, which says everything a
// card would.
func (h *Handler) integrationsPanel(projectID string, d *projectData) views.IntegrationsPanel {
	panel := views.IntegrationsPanel{ProjectID: projectID}
	if d.integrationsErr != nil {
		p := h.panelProblem(d.integrationsErr, "Could not list integrations")
		panel.Problem = &p
		return panel
	}
	for _, in := range d.integrations {
		provider := in.AuthProvider
		if provider.BranchLevel() {
			continue
		}
		panel.Cards = append(panel.Cards, views.IntegrationCard{
			ProjectID:             projectID,
			Provider:              provider,
			AuthProviderProjectID: in.AuthProviderProjectID,
			BranchID:              in.BranchID,
			OwnedBy:               string(in.OwnedBy),
			TransferStatus:        string(in.TransferStatus),
			CreatedAt:             in.CreatedAt,
			CanTransfer: provider.HasTransfer() &&
				in.OwnedBy == neonauth.OwnedByNeon && in.TransferStatus != neonauth.TransferFinished,
		})
	}
	return panel
}

// branchName is the branch's name, or its id when the branches are unknown.
func branchName(bs []neonauth.Branch, id string) string {
	for _, b := range bs {
		if b.ID == id {
			return b.Name
		}
	}
	return id
}
