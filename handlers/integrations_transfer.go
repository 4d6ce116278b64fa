package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// errNoStack answers transfers on projects without a stack integration.
var errNoStack = echo.NewHTTPError(http.StatusNotFound, "This project has no Stack Auth integration to transfer.")

// findIntegration returns the project's integration of a provider, on branch
// when branch is set.
func findIntegration(ints []neonauth.Integration, provider authprovider.Provider, branch string) *neonauth.Integration {
	for i := range ints {
		if authprovider.Provider(ints[i].AuthProvider) == provider && (branch == "" || ints[i].BranchID == branch) {
			return &ints[i]
		}
	}
	return nil
}

// transferableCard loads what a confirmation step about the project's
// transferable integration (Stack Auth: transfer, new SDK keys) shows: the
// project and that integration's card. The card is nil when the project has
// no such integration or its integrations could not be listed; then
// d.integrationsErr says which.
func (h *Handler) transferableCard(c echo.Context) (*projectData, *views.IntegrationCard, error) {
	projectID, err := projectIDParam(c)
	if err != nil {
		return nil, nil, err
	}
	d := h.loadProjectSummary(c.Request().Context(), projectID)
	if d.projectErr != nil {
		return nil, nil, d.projectErr
	}
	if d.integrationsErr != nil {
		return d, nil, nil
	}
	for _, in := range d.integrations {
		if in.AuthProvider.HasTransfer() {
			panel := h.integrationsPanel(projectID, &projectData{integrations: []neonauth.Integration{in}, branches: d.branches})
			return d, &panel.Cards[0], nil
		}
	}
	return d, nil, nil
}

// stepCrumbs are the breadcrumbs of a step below the project page.
func stepCrumbs(p *neonauth.Project, step string) []views.Crumb {
	return []views.Crumb{
		{Label: "Projects", Href: "/projects"},
		{Label: p.Name, Href: views.ProjectURL(p.ID)},
		{Label: step},
	}
}

// transferPage loads what the transfer confirmation shows.
func (h *Handler) transferPage(c echo.Context) (*projectData, views.TransferConfirmPage, error) {
	d, card, err := h.transferableCard(c)
	switch {
	case err != nil:
		return nil, views.TransferConfirmPage{}, err
	case d.integrationsErr != nil:
		return nil, views.TransferConfirmPage{}, d.integrationsErr
	case card == nil:
		return nil, views.TransferConfirmPage{}, errNoStack
	}
	return d, views.TransferConfirmPage{ProjectID: d.project.ID, ProjectName: d.project.Name, CSRFToken: CSRFToken(c), Card: card}, nil
}

// confirmTransfer asks before starting an ownership transfer.
func (h *Handler) confirmTransfer(c echo.Context) error {
	d, m, err := h.transferPage(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.TransferConfirmView(h.chrome(c, "Transfer ownership", stepCrumbs(d.project, "Transfer ownership")...), m))
}

// transferOwnership starts the transfer and shows Stack Auth's claim URL. The
// URL lets whoever opens it claim the auth project, so it is rendered in this
// response only, never put in a flash.
func (h *Handler) transferOwnership(c echo.Context) error {
	d, m, err := h.transferPage(c)
	if err != nil {
		return err
	}
	chrome := func() views.Chrome {
		return h.chrome(c, "Transfer ownership", stepCrumbs(d.project, "Transfer ownership")...)
	}
	if c.FormValue("understand") != "yes" {
		m.Err = "Tick the box to confirm you understand where ownership goes."
		return h.render(c, http.StatusUnprocessableEntity, views.TransferConfirmView(chrome(), m))
	}
	ctx := c.Request().Context()
	res, err := h.Auth.TransferOwnership(ctx, neonauth.Ref{ProjectID: m.ProjectID, Provider: m.Card.Provider})
	if err != nil {
		defer keepAnswering(c)()
		p := h.changeProblem(c, err, "Neon did not start the transfer", views.ProjectURL(m.ProjectID), "See the integration’s transfer status now")
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
