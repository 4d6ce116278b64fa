package handlers

import (
	"context"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// pluginsPage is the Plugins page as Neon has it. The organization and
// magic link plugins come from getNeonAuthPluginConfigs, the phone number
// plugin from its own read.
func (h *Handler) pluginsPage(c echo.Context, bs *neonauth.BranchSettings) views.PluginsPage {
	f := settingsFrame(c, bs, neonauth.GroupPlugins)
	load := h.loadProblem(bs.Plugins.Err, "the plugins")
	m := views.PluginsPage{
		Frame:        f,
		Organization: views.OrganizationCard{Frame: f, Load: load},
		MagicLink:    views.MagicLinkCard{Frame: f, Load: load},
		PhoneNumber:  views.PhoneNumberCard{Frame: f, Load: h.loadProblem(bs.PhoneNumber.Err, "the phone number plugin")},
	}
	if p := bs.Plugins.Value; p != nil {
		m.Organization.Form, m.Organization.Missing = neonauth.OrganizationFormFrom(p.Organization), p.Organization == nil
		m.MagicLink.Form, m.MagicLink.Missing = neonauth.MagicLinkFormFrom(p.MagicLink), p.MagicLink == nil
	}
	m.PhoneNumber.Form = neonauth.PhoneNumberFormFrom(bs.PhoneNumber.Value)
	return m
}

// answerPlugins renders one plugin's card (htmx) or the page.
func (h *Handler) answerPlugins(c echo.Context, status int, bs *neonauth.BranchSettings, m views.PluginsPage, card templ.Component) error {
	return h.settingsAnswer(c, status, bs, neonauth.GroupPlugins, card,
		func(ch views.Chrome) templ.Component { return views.SettingsPluginsView(ch, m) })
}

// updateOrganization saves the organization plugin.
func (h *Handler) updateOrganization(c echo.Context) error {
	form := neonauth.OrganizationForm{
		Enabled:             checked(c, "enabled"),
		OrganizationLimit:   strings.TrimSpace(c.FormValue("organization_limit")),
		MembershipLimit:     strings.TrimSpace(c.FormValue("membership_limit")),
		CreatorRole:         c.FormValue("creator_role"),
		SendInvitationEmail: checked(c, "send_invitation_email"),
	}
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupPlugins,
		refused: "Neon did not save the organization plugin",
		typed: map[string]string{
			"organization_limit": form.OrganizationLimit, "membership_limit": form.MembershipLimit, "creator_role": form.CreatorRole,
		},
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			return "Organization plugin saved.", h.AuthSettings.UpdateOrganization(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.pluginsPage(c, bs)
			if !fresh {
				m.Organization.Form = form
				m.Organization.Form.OrganizationLimit = shown(form.OrganizationLimit)
				m.Organization.Form.MembershipLimit = shown(form.MembershipLimit)
				m.Organization.Form.CreatorRole = shown(form.CreatorRole)
			}
			m.Organization.State = st
			return h.answerPlugins(c, status, bs, m, views.OrganizationCardView(m.Organization))
		},
	})
}

// updateMagicLink saves the magic link plugin.
func (h *Handler) updateMagicLink(c echo.Context) error {
	form := neonauth.MagicLinkForm{
		Enabled:     checked(c, "enabled"),
		ExpiresIn:   strings.TrimSpace(c.FormValue("expires_in")),
		AllowSignUp: checked(c, "allow_sign_up"),
	}
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupPlugins,
		refused: "Neon did not save the magic link plugin",
		typed:   map[string]string{"expires_in": form.ExpiresIn},
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			return "Magic link plugin saved.", h.AuthSettings.UpdateMagicLink(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.pluginsPage(c, bs)
			if !fresh {
				m.MagicLink.Form = form
				m.MagicLink.Form.ExpiresIn = shown(form.ExpiresIn)
			}
			m.MagicLink.State = st
			return h.answerPlugins(c, status, bs, m, views.MagicLinkCardView(m.MagicLink))
		},
	})
}

// updatePhoneNumber saves the phone number plugin.
func (h *Handler) updatePhoneNumber(c echo.Context) error {
	form := neonauth.PhoneNumberForm{
		Enabled:      checked(c, "enabled"),
		OTPExpiresIn: strings.TrimSpace(c.FormValue("otp_expires_in")),
	}
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupPlugins,
		refused: "Neon did not save the phone number plugin",
		typed:   map[string]string{"otp_expires_in": form.OTPExpiresIn},
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			return "Phone number plugin saved.", h.AuthSettings.UpdatePhoneNumber(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.pluginsPage(c, bs)
			if !fresh {
				m.PhoneNumber.Form = form
				m.PhoneNumber.Form.OTPExpiresIn = shown(form.OTPExpiresIn)
			}
			m.PhoneNumber.State = st
			return h.answerPlugins(c, status, bs, m, views.PhoneNumberCardView(m.PhoneNumber))
		},
	})
}
