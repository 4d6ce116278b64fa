package handlers

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// deleteIntegration removes an integration, once the person has typed the
// project's name: the Neon Auth service deletes a project-level one or
// disables branch-level auth on its branch.
func (h *Handler) deleteIntegration(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	provider, ok := authprovider.Parse(c.Param("provider"))
	if !ok {
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
	form.Typed = shown(c.FormValue("confirm_name"))
	form.DeleteData = c.FormValue("delete_data") == "true" || c.FormValue("delete_data") == "on"

	if unstorable(c.FormValue("confirm_name")) {
		form.Err = unstorableMessage
		return h.renderDeleteForm(c, http.StatusBadRequest, d, m, form)
	}
	if strings.TrimSpace(form.Typed) != d.project.Name {
		form.Err = fmt.Sprintf("Type the project name exactly as shown (%s) to confirm.", d.project.Name)
		return h.renderDeleteForm(c, http.StatusUnprocessableEntity, d, m, form)
	}
	ref := neonauth.Ref{ProjectID: projectID, Provider: provider, BranchID: in.BranchID, DBName: in.DBName}
	if err := h.Auth.Disable(ctx, ref, form.DeleteData); err != nil {
		defer keepAnswering(c)()
		p := h.changeProblem(c, err, "Neon did not delete the integration", views.ProjectURL(projectID), "See the project’s Neon Auth now")
		form.Problem = &p
		return h.renderDeleteForm(c, p.Status, d, m, form)
	}
	h.logger().Info("neon auth deleted", "project", projectID, "provider", provider, "branch", in.BranchID, "delete_data", form.DeleteData)
	msg := fmt.Sprintf("Neon Auth with %s was removed from %s; the neon_auth schema and its users were kept.", provider.Name(), d.project.Name)
	if form.DeleteData {
		msg = fmt.Sprintf("Neon Auth with %s was removed from %s, and the neon_auth schema with all synced users was dropped.", provider.Name(), d.project.Name)
	}
	h.addFlash(c, FlashSuccess, msg)
	return redirect(c, views.ProjectURL(projectID))
}

// deleteFormFor returns the page's delete form for an integration.
func deleteFormFor(forms []views.DeleteForm, in *neonauth.Integration) *views.DeleteForm {
	for i := range forms {
		if forms[i].Provider == in.AuthProvider && forms[i].BranchID == in.BranchID {
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
