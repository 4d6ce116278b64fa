package handlers

import (
	"context"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// applicationPage is the Application page as Neon has it.
func (h *Handler) applicationPage(c echo.Context, bs *neonauth.BranchSettings) views.ApplicationPage {
	f := settingsFrame(c, bs, neonauth.GroupApplication)
	in := bs.Integration
	return views.ApplicationPage{Frame: f, Application: views.ApplicationCard{
		Frame: f, Form: neonauth.ApplicationForm{Name: in.Name},
		BaseURL: in.BaseURL, JWKSURL: in.JWKSURL, DBName: in.DBName, CreatedAt: in.CreatedAt,
	}}
}

// updateApplication saves the application name.
func (h *Handler) updateApplication(c echo.Context) error {
	form := neonauth.ApplicationForm{Name: strings.TrimSpace(c.FormValue("name"))}
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupApplication,
		refused: "Neon did not save the application name",
		typed:   map[string]string{"name": form.Name},
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			return "Application name saved.", h.AuthSettings.UpdateApplication(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.applicationPage(c, bs)
			if !fresh {
				m.Application.Form.Name = shown(form.Name)
			}
			m.Application.State = st
			return h.settingsAnswer(c, status, bs, neonauth.GroupApplication, views.ApplicationCardView(m.Application),
				func(ch views.Chrome) templ.Component { return views.SettingsApplicationView(ch, m) })
		},
	})
}
