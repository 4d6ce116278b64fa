package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// Defaults Neon creates with every project, preselected in the enable form.
const (
	defaultDatabase = "neondb"
	defaultRole     = "neondb_owner"
)

// defaultProvider is the provider the enable form preselects: branch-level
// Better Auth, the generation Neon recommends, whatever the project runs
// already. A project with Stack Auth gets Better Auth too: Stack Auth is
// enabled once per project, so offering it again would only earn a
// conflict, and a branch-level integration is what Neon advises adding.
const defaultProvider = authprovider.BetterAuth

// enableForm is the pristine enable form for the loaded branch.
func (h *Handler) enableForm(projectID, token string, d *projectData) views.EnableForm {
	f := views.EnableForm{
		ProjectID: projectID,
		CSRFToken: token,
		Provider:  defaultProvider,
	}
	if d.branchesErr != nil {
		p := h.panelProblem(d.branchesErr, "Could not list branches")
		f.Problem = &p
		return f
	}
	for _, b := range d.branches {
		label := b.Name
		if b.Default {
			label += " (default)"
		}
		f.Branches = append(f.Branches, views.Option{Value: b.ID, Label: label})
	}
	if d.branch != nil {
		f.Branch = d.branch.ID
	}
	f.Fields = h.branchFields(d.databases, d.roles, d.optionsErr)
	f.Fields.Provider = f.Provider
	return f
}

// branchFields fills the database and role selects, preselecting Neon's
// defaults (neondb, neondb_owner) when the branch has them.
func (h *Handler) branchFields(dbs []neonauth.Database, roles []neonauth.Role, err error) views.BranchFields {
	var f views.BranchFields
	if err != nil {
		p := h.panelProblem(err, "Could not list the branch’s databases and roles")
		f.Problem = &p
	}
	for _, d := range dbs {
		f.Databases = append(f.Databases, views.Option{Value: d.Name, Label: d.Name})
		if d.Name == defaultDatabase || f.Database == "" {
			f.Database = pick(f.Database, d.Name, defaultDatabase)
		}
	}
	for _, r := range roles {
		f.Roles = append(f.Roles, views.Option{Value: r.Name, Label: r.Name})
		if r.Name == defaultRole || f.Role == "" {
			f.Role = pick(f.Role, r.Name, defaultRole)
		}
	}
	return f
}

// pick keeps the preferred value once seen, else the first candidate.
func pick(current, candidate, preferred string) string {
	if current == preferred {
		return current
	}
	if candidate == preferred || current == "" {
		return candidate
	}
	return current
}

// branchOptions serves the database and role selects for a branch, swapped
// into the enable form when its branch select changes. The form sends the
// provider picked along, which decides whether the role applies.
func (h *Handler) branchOptions(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	branchID := c.Param("branch")
	if !neonID.MatchString(branchID) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no branch with that id.")
	}
	if !isHTMX(c) {
		// A browser that opened the link itself gets the page the lists belong to.
		return c.Redirect(http.StatusSeeOther, views.ProjectURL(projectID)+"?branch="+url.QueryEscape(branchID))
	}
	dbs, roles, err := h.branchOptionLists(c.Request().Context(), projectID, branchID)
	f := h.branchFields(dbs, roles, err)
	f.Provider = defaultProvider
	if p, ok := authprovider.Parse(c.QueryParam("provider")); ok {
		f.Provider = p
	}
	status := http.StatusOK
	if f.Problem != nil {
		status = f.Problem.Status
	}
	return h.render(c, status, views.BranchFieldsView(f))
}

// enableInput is the enable form as posted.
type enableInput struct {
	Provider, Branch, Database, Role string
}

// readEnableInput reads the enable form. A role is taken for Stack Auth
// alone: the form does not send one for branch-level Neon Auth, and one
// posted all the same (by hand, or by a page from before) plays no part. It
// is then dropped from the request too, since the audit line names the role
// a request posted.
func readEnableInput(c echo.Context) enableInput {
	in := enableInput{
		Provider: strings.TrimSpace(c.FormValue("provider")),
		Branch:   strings.TrimSpace(c.FormValue("branch_id")),
		Database: strings.TrimSpace(c.FormValue("database")),
		Role:     strings.TrimSpace(c.FormValue("role")),
	}
	if p, ok := authprovider.Parse(in.Provider); ok && !views.RoleApplies(p) {
		in.Role = ""
		dropFormValue(c.Request(), "role")
	}
	return in
}

// dropFormValue removes a field from a request's parsed form, so that
// nothing read after the handler sees it.
func dropFormValue(r *http.Request, name string) {
	r.Form.Del(name)
	r.PostForm.Del(name)
	if r.MultipartForm != nil {
		delete(r.MultipartForm.Value, name)
	}
}

// enableIntegration enables Neon Auth with the provider picked; the Neon Auth
// service knows which endpoint that takes. The keys appear in this response
// only: no redirect, nothing stored, never cached.
func (h *Handler) enableIntegration(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	in := readEnableInput(c)
	ctx := c.Request().Context()
	d := h.loadProject(ctx, projectID, in.Branch)
	if d.projectErr != nil {
		return d.projectErr
	}
	m := h.projectPage(c, d)
	form := &m.Enable
	if status := checkEnable(form, d, in); status != 0 {
		return h.renderEnableForm(c, status, d, m)
	}
	provider := authprovider.Provider(in.Provider)
	// The service creates a role for project-level Neon Auth only.
	keys, err := h.Auth.Enable(ctx, neonauth.EnableRequest{
		ProjectID:    projectID,
		Provider:     provider,
		BranchID:     in.Branch,
		DatabaseName: in.Database,
		RoleName:     form.Fields.Role,
	})
	if err != nil {
		defer keepAnswering(c)()
		// Shown in the form, so the person's choices stay for another try.
		setNeonRetryAfter(c, err)
		noteUnknownOutcome(c, err)
		p := h.enableProblem(err, provider, d)
		form.Problem = &p
		return h.renderEnableForm(c, p.Status, d, m)
	}
	// The secret is in this response only: keep it out of every cache.
	c.Response().Header().Set("Cache-Control", "no-store")
	result := keysResult(projectID, provider, keys)
	result.BranchID, result.BranchName, result.Database = in.Branch, d.branch.Name, in.Database
	// Read the auth state again so the new card shows; the cache dropped it.
	h.reloadAuth(ctx, projectID, d)
	h.logger().Info("neon auth enabled", "project", projectID, "provider", provider, "branch", in.Branch)
	if isHTMX(c) {
		panel := h.authPanel(projectID, d, IdentityFrom(c).CanWrite())
		panel.OOB = true
		return h.render(c, http.StatusCreated, views.EnableResponse(result, panel))
	}
	fresh := h.projectPage(c, d)
	fresh.Result = &result
	return h.render(c, http.StatusOK, views.ProjectView(h.chrome(c, d.project.Name, projectCrumbs(d.project)...), fresh))
}

// checkEnable checks the posted form against what Neon listed, keeping what
// was posted in form, and returns the status a refusal answers with (0: the
// form is fine). Without the branch list nothing could be checked; the form
// then says why.
func checkEnable(form *views.EnableForm, d *projectData, in enableInput) int {
	if refuseUnstorable(map[*string]string{
		&form.Errors.Provider:    in.Provider,
		&form.Errors.Branch:      in.Branch,
		&form.Fields.DatabaseErr: in.Database,
		&form.Fields.RoleErr:     in.Role,
	}) {
		return http.StatusBadRequest
	}
	provider, valid := authprovider.Parse(in.Provider)
	if valid {
		form.Provider, form.Fields.Provider = provider, provider
	} else {
		form.Errors.Provider = "Pick " + authprovider.Stack.Name() + " or " + authprovider.BetterAuth.Name() + "."
	}
	invalid := !valid
	if d.branchesErr == nil {
		if d.branch == nil || d.branch.ID != in.Branch {
			form.Errors.Branch = "Pick one of this project’s branches."
			invalid = true
		} else if d.optionsErr == nil {
			invalid = checkBranchFields(&form.Fields, d.branch.Name, provider, in) || invalid
		}
	}
	switch {
	case form.Problem != nil:
		return form.Problem.Status
	case form.Fields.Problem != nil:
		return form.Fields.Problem.Status
	case invalid:
		return http.StatusUnprocessableEntity
	}
	return 0
}

// checkBranchFields checks the database and role against the branch's lists,
// reporting whether either is wrong. Only a project-level integration is
// created as a role; for branch-level Neon Auth the role is not read.
func checkBranchFields(f *views.BranchFields, branch string, provider authprovider.Provider, in enableInput) (invalid bool) {
	if !hasOption(f.Databases, in.Database) {
		f.DatabaseErr = fmt.Sprintf("Pick a database of branch %s.", branch)
		invalid = true
	} else {
		f.Database = in.Database
	}
	switch {
	case !views.RoleApplies(provider) || in.Role == "":
	case !hasOption(f.Roles, in.Role):
		f.RoleErr = fmt.Sprintf("Pick a role of branch %s.", branch)
		invalid = true
	default:
		f.Role = in.Role
	}
	return invalid
}

// enableProblem explains why Neon did not enable Neon Auth, naming where it
// already is on a conflict.
func (h *Handler) enableProblem(err error, provider authprovider.Provider, d *projectData) views.Problem {
	p := h.panelProblem(err, "Neon did not enable Neon Auth")
	if errors.Is(err, neonauth.ErrConflict) {
		p.Title = fmt.Sprintf("Neon Auth is already enabled with %s on this project", provider.Name())
		if provider.BranchLevel() {
			p.Title = fmt.Sprintf("Neon Auth is already enabled on branch %s", d.branch.Name)
		}
	}
	return withCheck(p, err, views.ProjectURL(d.project.ID), "See the project’s Neon Auth now")
}

// keysResult is the once-only keys panel of a response that issued keys;
// provider stands in when Neon's answer does not name one.
func keysResult(projectID string, provider authprovider.Provider, keys *neonauth.IntegrationKeys) views.EnableResult {
	return views.EnableResult{
		ProjectID:             projectID,
		Provider:              cmp.Or(keys.AuthProvider, provider),
		AuthProviderProjectID: keys.AuthProviderProjectID,
		PubClientKey:          keys.PubClientKey,
		SecretServerKey:       keys.SecretServerKey,
		JWKSURL:               keys.JWKSURL,
		SchemaName:            keys.SchemaName,
		TableName:             keys.TableName,
		BaseURL:               keys.BaseURL,
	}
}

// reloadAuth reads the project-level integrations and every branch's Neon
// Auth again, in parallel, after a change to them.
func (h *Handler) reloadAuth(ctx context.Context, projectID string, d *projectData) {
	var (
		legacy []neonauth.Integration
		g      errgroup.Group
	)
	g.Go(func() error {
		legacy, d.integrationsErr = h.Auth.LegacyIntegrations(ctx, projectID)
		return nil
	})
	g.Go(func() error {
		d.branchStates = h.Auth.BranchStates(ctx, projectID, d.branches)
		return nil
	})
	_ = g.Wait()
	d.integrations = neonauth.MergeIntegrations(legacy, d.branchStates)
}

// renderEnableForm answers a refused enable: the form alone for htmx, else the
// whole page, with the person's choices kept.
func (h *Handler) renderEnableForm(c echo.Context, status int, d *projectData, m views.ProjectPage) error {
	if isHTMX(c) {
		return h.render(c, status, views.EnableFormView(m.Enable))
	}
	return h.render(c, status, views.ProjectView(h.chrome(c, d.project.Name, projectCrumbs(d.project)...), m))
}

func hasOption(opts []views.Option, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}
