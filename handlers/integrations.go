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

	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// Defaults Neon creates with every project, preselected in the enable form.
const (
	defaultDatabase = "neondb"
	defaultRole     = "neondb_owner"
)

// enableForm is the pristine enable form for the loaded branch.
func (h *Handler) enableForm(projectID, token string, d *projectData) views.EnableForm {
	f := views.EnableForm{
		ProjectID: projectID,
		CSRFToken: token,
		Provider:  string(suggestedProvider(d.integrations)),
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
	return f
}

// suggestedProvider preselects Stack Auth for a project without it, and Better
// Auth once Stack Auth is there: a project holds one Stack Auth integration, so
// offering it again would only earn a conflict.
func suggestedProvider(existing []neonapi.Integration) neonapi.AuthProvider {
	for _, in := range existing {
		if in.AuthProvider == neonapi.AuthProviderStack {
			return neonapi.AuthProviderBetterAuth
		}
	}
	return neonapi.AuthProviderStack
}

// branchFields fills the database and role selects, preselecting Neon's
// defaults (neondb, neondb_owner) when the branch has them.
func (h *Handler) branchFields(dbs []neonapi.Database, roles []neonapi.Role, err error) views.BranchFields {
	var f views.BranchFields
	if err != nil {
		p := h.panelProblem(err, "Could not list the branch’s databases and roles")
		f.Problem = &p
	}
	for _, db := range dbs {
		f.Databases = append(f.Databases, views.Option{Value: db.Name, Label: db.Name})
		if db.Name == defaultDatabase || f.Database == "" {
			f.Database = pick(f.Database, db.Name, defaultDatabase)
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
// into the enable form when its branch select changes.
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

// enableIntegration enables Neon Auth: project-level createNeonAuthIntegration
// for stack, branch-level createNeonAuth for better_auth. The keys appear in
// this response only: no redirect, nothing stored, never cached.
func (h *Handler) enableIntegration(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	if err := requireWrite(c); err != nil {
		return err
	}
	in := enableInput{
		Provider: strings.TrimSpace(c.FormValue("provider")),
		Branch:   strings.TrimSpace(c.FormValue("branch_id")),
		Database: strings.TrimSpace(c.FormValue("database")),
		Role:     strings.TrimSpace(c.FormValue("role")),
	}
	ctx := c.Request().Context()
	d := h.loadProject(ctx, projectID, in.Branch)
	if d.projectErr != nil {
		return d.projectErr
	}
	m := h.projectPage(c, d)
	form := &m.Enable

	// Keep what was posted, then check it against what Neon listed.
	provider := neonapi.AuthProvider(in.Provider)
	if provider == neonapi.AuthProviderStack || provider == neonapi.AuthProviderBetterAuth {
		form.Provider = in.Provider
	}
	invalid := false
	if provider != neonapi.AuthProviderStack && provider != neonapi.AuthProviderBetterAuth {
		form.Errors.Provider = "Pick Stack Auth or Better Auth."
		invalid = true
	}
	if d.branchesErr == nil {
		if d.branch == nil || d.branch.ID != in.Branch {
			form.Errors.Branch = "Pick one of this project’s branches."
			invalid = true
		} else if d.optionsErr == nil {
			if !hasOption(form.Fields.Databases, in.Database) {
				form.Fields.DatabaseErr = fmt.Sprintf("Pick a database of branch %s.", d.branch.Name)
				invalid = true
			} else {
				form.Fields.Database = in.Database
			}
			if provider == neonapi.AuthProviderStack && in.Role != "" && !hasOption(form.Fields.Roles, in.Role) {
				form.Fields.RoleErr = fmt.Sprintf("Pick a role of branch %s.", d.branch.Name)
				invalid = true
			} else if in.Role != "" {
				form.Fields.Role = in.Role
			}
		}
	}
	switch {
	case form.Problem != nil:
		// Without the branch list nothing could be checked; the form says why.
		return h.renderEnableForm(c, form.Problem.Status, d, m)
	case form.Fields.Problem != nil:
		return h.renderEnableForm(c, form.Fields.Problem.Status, d, m)
	case invalid:
		return h.renderEnableForm(c, http.StatusUnprocessableEntity, d, m)
	}

	var keys *neonapi.IntegrationKeys
	if provider == neonapi.AuthProviderStack {
		keys, err = h.Neon.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{
			AuthProvider: provider,
			ProjectID:    projectID,
			BranchID:     in.Branch,
			DatabaseName: in.Database,
			RoleName:     form.Fields.Role,
		})
	} else {
		keys, err = h.Neon.EnableBranchAuth(ctx, projectID, in.Branch, neonapi.EnableBranchAuthRequest{
			AuthProvider: provider,
			DatabaseName: in.Database,
		})
	}
	if err != nil {
		// Shown in the form, so the person's choices stay for another try.
		p := h.panelProblem(err, "Neon did not enable Neon Auth")
		if errors.Is(err, neonapi.ErrConflict) {
			p.Title = fmt.Sprintf("Neon Auth is already enabled with %s on this project", providerName(provider))
			if provider == neonapi.AuthProviderBetterAuth {
				p.Title = fmt.Sprintf("Neon Auth is already enabled on branch %s", d.branch.Name)
			}
		}
		form.Problem = &p
		return h.renderEnableForm(c, p.Status, d, m)
	}

	// The secret is in this response only: keep it out of every cache.
	c.Response().Header().Set("Cache-Control", "no-store")
	result := keysResult(projectID, provider, keys)
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

// keysResult is the once-only keys panel of a response that issued keys;
// provider stands in when Neon's answer does not name one.
func keysResult(projectID string, provider neonapi.AuthProvider, keys *neonapi.IntegrationKeys) views.EnableResult {
	return views.EnableResult{
		ProjectID:             projectID,
		Provider:              string(cmp.Or(keys.AuthProvider, provider)),
		AuthProviderProjectID: keys.AuthProviderProjectID,
		PubClientKey:          keys.PubClientKey,
		SecretServerKey:       keys.SecretServerKey,
		JWKSURL:               keys.JWKSURL,
		SchemaName:            keys.SchemaName,
		TableName:             keys.TableName,
		BaseURL:               keys.BaseURL,
	}
}

// reloadAuth reads the integrations and the default branch's auth again, in
// parallel, after a change to them.
func (h *Handler) reloadAuth(ctx context.Context, projectID string, d *projectData) {
	var g errgroup.Group
	g.Go(func() error {
		d.integrations, d.integrationsErr = h.Neon.ListIntegrations(ctx, projectID)
		return nil
	})
	if def := defaultBranch(d.branches); def != nil {
		g.Go(func() error {
			d.defaultAuth, d.defaultAuthErr = h.branchAuth(ctx, projectID, def.ID)
			return nil
		})
	}
	_ = g.Wait()
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

// findIntegration returns the project's integration of a provider, on branch
// when branch is set.
func findIntegration(ints []neonapi.Integration, provider neonapi.AuthProvider, branch string) *neonapi.Integration {
	for i := range ints {
		if ints[i].AuthProvider == provider && (branch == "" || ints[i].BranchID == branch) {
			return &ints[i]
		}
	}
	return nil
}

// errNoStack answers transfers on projects without a stack integration.
var errNoStack = echo.NewHTTPError(http.StatusNotFound, "This project has no Stack Auth integration to transfer.")

// transferPage loads what the transfer confirmation shows.
func (h *Handler) transferPage(c echo.Context) (*projectData, views.TransferConfirmPage, error) {
	projectID, err := projectIDParam(c)
	if err != nil {
		return nil, views.TransferConfirmPage{}, err
	}
	d := h.loadProjectSummary(c.Request().Context(), projectID)
	if d.projectErr != nil {
		return nil, views.TransferConfirmPage{}, d.projectErr
	}
	if d.integrationsErr != nil {
		return nil, views.TransferConfirmPage{}, d.integrationsErr
	}
	in := findIntegration(d.integrations, neonapi.AuthProviderStack, "")
	if in == nil {
		return nil, views.TransferConfirmPage{}, errNoStack
	}
	m := views.TransferConfirmPage{
		ProjectID:   projectID,
		ProjectName: d.project.Name,
		CSRFToken:   CSRFToken(c),
	}
	panel := h.integrationsPanel(projectID, &projectData{integrations: []neonapi.Integration{*in}, branches: d.branches})
	m.Card = &panel.Cards[0]
	return d, m, nil
}

func transferCrumbs(p *neonapi.Project) []views.Crumb {
	return []views.Crumb{
		{Label: "Projects", Href: "/projects"},
		{Label: p.Name, Href: views.ProjectURL(p.ID)},
		{Label: "Transfer ownership"},
	}
}

// confirmTransfer asks before starting an ownership transfer.
func (h *Handler) confirmTransfer(c echo.Context) error {
	d, m, err := h.transferPage(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.TransferConfirmView(h.chrome(c, "Transfer ownership", transferCrumbs(d.project)...), m))
}

// transferOwnership starts the transfer (transferNeonAuthProviderProject) and
// shows Stack Auth's claim URL. The URL lets whoever opens it claim the auth
// project, so it is rendered in this response only, never put in a flash.
func (h *Handler) transferOwnership(c echo.Context) error {
	if err := requireWrite(c); err != nil {
		return err
	}
	d, m, err := h.transferPage(c)
	if err != nil {
		return err
	}
	chrome := func() views.Chrome { return h.chrome(c, "Transfer ownership", transferCrumbs(d.project)...) }
	if c.FormValue("understand") != "yes" {
		m.Err = "Tick the box to confirm you understand where ownership goes."
		return h.render(c, http.StatusUnprocessableEntity, views.TransferConfirmView(chrome(), m))
	}
	ctx := c.Request().Context()
	res, err := h.Neon.TransferOwnership(ctx, neonapi.TransferRequest{ProjectID: m.ProjectID, AuthProvider: neonapi.AuthProviderStack})
	if err != nil {
		p := h.panelProblem(err, "Neon did not start the transfer")
		m.Problem = &p
		return h.render(c, p.Status, views.TransferConfirmView(chrome(), m))
	}
	h.logger().Info("neon auth transfer started", "project", m.ProjectID)
	c.Response().Header().Set("Cache-Control", "no-store")
	// Read again: the card should show the transfer as initiated.
	d = h.loadProject(ctx, m.ProjectID, "")
	if d.projectErr != nil {
		return d.projectErr
	}
	page := h.projectPage(c, d)
	page.Transfer = &views.TransferResult{URL: res.URL}
	return h.render(c, http.StatusOK, views.ProjectView(h.chrome(c, d.project.Name, projectCrumbs(d.project)...), page))
}

// deleteIntegration deletes a stack integration (deleteNeonAuthIntegration) or
// disables branch-level auth (disableNeonAuth), once the person has typed the
// project's name.
func (h *Handler) deleteIntegration(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	if err := requireWrite(c); err != nil {
		return err
	}
	provider := neonapi.AuthProvider(c.Param("provider"))
	if !provider.Valid() {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such auth provider.")
	}
	ctx := c.Request().Context()
	d := h.loadProject(ctx, projectID, "")
	if d.projectErr != nil {
		return d.projectErr
	}
	if d.integrationsErr != nil {
		return d.integrationsErr
	}
	in := findIntegration(d.integrations, provider, strings.TrimSpace(c.FormValue("branch_id")))
	if in == nil {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("This project has no %s integration.", provider))
	}
	m := h.projectPage(c, d)
	form := deleteFormFor(m.Deletes, in)
	form.Typed = c.FormValue("confirm_name")
	form.DeleteData = c.FormValue("delete_data") == "true" || c.FormValue("delete_data") == "on"

	if strings.TrimSpace(form.Typed) != d.project.Name {
		form.Err = fmt.Sprintf("Type the project name exactly as shown (%s) to confirm.", d.project.Name)
		return h.renderDeleteForm(c, http.StatusUnprocessableEntity, d, m, form)
	}
	if provider == neonapi.AuthProviderBetterAuth {
		err = h.Neon.DisableBranchAuth(ctx, projectID, in.BranchID, form.DeleteData)
	} else {
		err = h.Neon.DeleteIntegration(ctx, projectID, provider, form.DeleteData)
	}
	if err != nil {
		p := h.panelProblem(err, "Neon did not delete the integration")
		form.Problem = &p
		return h.renderDeleteForm(c, p.Status, d, m, form)
	}
	h.logger().Info("neon auth deleted", "project", projectID, "provider", provider, "branch", in.BranchID, "delete_data", form.DeleteData)
	msg := fmt.Sprintf("Neon Auth with %s was removed from %s; the neon_auth schema and its users were kept.", providerName(provider), d.project.Name)
	if form.DeleteData {
		msg = fmt.Sprintf("Neon Auth with %s was removed from %s, and the neon_auth schema with all synced users was dropped.", providerName(provider), d.project.Name)
	}
	h.addFlash(c, FlashSuccess, msg)
	return redirect(c, views.ProjectURL(projectID))
}

// deleteFormFor returns the page's delete form for an integration.
func deleteFormFor(forms []views.DeleteForm, in *neonapi.Integration) *views.DeleteForm {
	for i := range forms {
		if forms[i].Provider == string(in.AuthProvider) && forms[i].BranchID == in.BranchID {
			return &forms[i]
		}
	}
	return &views.DeleteForm{}
}

// renderDeleteForm answers a refused delete: the form alone for htmx, else the
// whole page.
func (h *Handler) renderDeleteForm(c echo.Context, status int, d *projectData, m views.ProjectPage, f *views.DeleteForm) error {
	if isHTMX(c) {
		return h.render(c, status, views.DeleteFormView(*f))
	}
	return h.render(c, status, views.ProjectView(h.chrome(c, d.project.Name, projectCrumbs(d.project)...), m))
}

// providerName names a provider in a sentence.
func providerName(p neonapi.AuthProvider) string {
	switch p {
	case neonapi.AuthProviderStack:
		return "Stack Auth"
	case neonapi.AuthProviderBetterAuth:
		return "Better Auth"
	}
	return string(p)
}
