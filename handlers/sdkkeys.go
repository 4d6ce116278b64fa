package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// errNoStackKeys answers the new-keys page on projects without a stack
// integration.
var errNoStackKeys = echo.NewHTTPError(http.StatusNotFound, "This project has no Stack Auth integration, so there are no SDK keys to replace.")

// keysProvider is the provider the new SDK keys routes are for: the one
// whose auth project Neon manages and can issue keys for.
var keysProvider = authprovider.Transferable()

// sdkKeysPage loads what the new SDK keys page shows: the project and its
// Stack Auth card, nil when the list has none or could not be read (then
// d.integrationsErr says why).
func (h *Handler) sdkKeysPage(c echo.Context) (*projectData, views.SDKKeysPage, error) {
	d, card, err := h.transferableCard(c)
	if err != nil {
		return nil, views.SDKKeysPage{}, err
	}
	return d, views.SDKKeysPage{
		ProjectID:   d.project.ID,
		ProjectName: d.project.Name,
		CSRFToken:   CSRFToken(c),
		CanWrite:    IdentityFrom(c).CanWrite(),
		Card:        card,
	}, nil
}

// confirmSDKKeys asks before issuing new SDK keys.
func (h *Handler) confirmSDKKeys(c echo.Context) error {
	d, m, err := h.sdkKeysPage(c)
	if err != nil {
		return err
	}
	if d.integrationsErr != nil {
		return d.integrationsErr
	}
	if m.Card == nil {
		return errNoStackKeys
	}
	return h.render(c, http.StatusOK, views.SDKKeysView(h.chrome(c, "New SDK keys", stepCrumbs(d.project, "New SDK keys")...), m))
}

// createSDKKeys issues new SDK keys for the project's Stack Auth integration.
// Like enabling, the keys appear in this response only: no redirect, no
// flash, nothing stored, never cached. Neon, not the possibly cached
// integration list, decides whether there is an integration to issue keys
// for, so its 404 is shown with its request id.
func (h *Handler) createSDKKeys(c echo.Context) error {
	d, m, err := h.sdkKeysPage(c)
	if err != nil {
		return err
	}
	answer := func(status int) error {
		if isHTMX(c) {
			return h.render(c, status, views.SDKKeysPanel(m))
		}
		return h.render(c, status, views.SDKKeysView(h.chrome(c, "New SDK keys", stepCrumbs(d.project, "New SDK keys")...), m))
	}
	if c.FormValue("understand") != "yes" {
		m.Err = "Tick the box to confirm before Neon issues new keys."
		return answer(http.StatusUnprocessableEntity)
	}
	keys, err := h.Auth.CreateSDKKeys(c.Request().Context(), neonauth.Ref{ProjectID: m.ProjectID, Provider: keysProvider})
	if err != nil {
		defer keepAnswering(c)()
		// New keys, if issued, show on the project page as the integration's;
		// their secret is gone either way, so it offers issuing again.
		problem := h.changeProblem(c, err, "Neon did not issue new keys", views.ProjectURL(m.ProjectID), "See the project’s Stack Auth integration now")
		m.Problem = &problem
		return answer(problem.Status)
	}
	h.logger().Info("neon auth sdk keys created", "project", m.ProjectID)
	// The secret is in this response only: keep it out of every cache.
	c.Response().Header().Set("Cache-Control", "no-store")
	result := keysResult(m.ProjectID, keysProvider, keys)
	result.Renewed = true
	m.Result = &result
	if isHTMX(c) {
		return answer(http.StatusCreated)
	}
	return answer(http.StatusOK)
}
