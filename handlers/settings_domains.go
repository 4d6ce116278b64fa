package handlers

import (
	"context"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// domainsPage is the Domains page as Neon has it.
func (h *Handler) domainsPage(c echo.Context, bs *neonauth.BranchSettings) views.DomainsPage {
	f := settingsFrame(c, bs, neonauth.GroupDomains)
	m := views.DomainsPage{
		Frame:     f,
		Domains:   views.DomainsCard{Frame: f, Load: h.loadProblem(bs.Domains.Err, "the trusted domains")},
		Localhost: views.LocalhostCard{Frame: f, Allow: bs.AllowLocalhost.Value, Load: h.loadProblem(bs.AllowLocalhost.Err, "the localhost setting")},
	}
	for _, d := range bs.Domains.Value {
		m.Domains.Domains = append(m.Domains.Domains, d.Domain)
	}
	return m
}

// answerDomains renders the domains card (htmx) or the page.
func (h *Handler) answerDomains(c echo.Context, status int, bs *neonauth.BranchSettings, m views.DomainsPage) error {
	return h.settingsAnswer(c, status, bs, neonauth.GroupDomains, views.DomainsCardView(m.Domains),
		func(ch views.Chrome) templ.Component { return views.SettingsDomainsView(ch, m) })
}

// addTrustedDomain adds the typed origin to the branch's trusted domains.
func (h *Handler) addTrustedDomain(c echo.Context) error {
	domain := strings.TrimSpace(c.FormValue("domain"))
	var added string
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupDomains,
		refused: "Neon did not add the domain",
		typed:   map[string]string{"domain": domain},
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			var err error
			added, err = h.AuthSettings.AddTrustedDomain(ctx, bs, domain)
			return "Trusted domain " + added + " added.", err
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.domainsPage(c, bs)
			if !fresh {
				m.Domains.NewDomain = shown(domain)
			}
			m.Domains.State = st
			return h.answerDomains(c, status, bs, m)
		},
	})
}

// removeTrustedDomain removes one listed domain.
func (h *Handler) removeTrustedDomain(c echo.Context) error {
	domain := c.FormValue("domain")
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupDomains,
		refused: "Neon did not remove the domain",
		typed:   map[string]string{"domain": domain},
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			return "Trusted domain " + domain + " removed.", h.AuthSettings.RemoveTrustedDomain(ctx, bs, domain)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, _ bool) error {
			m := h.domainsPage(c, bs)
			m.Domains.State = st
			return h.answerDomains(c, status, bs, m)
		},
	})
}

// setAllowLocalhost turns localhost access on or off.
func (h *Handler) setAllowLocalhost(c echo.Context) error {
	allow := checked(c, "allow_localhost")
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupDomains,
		refused: "Neon did not change the localhost setting",
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			msg := "Localhost is no longer allowed."
			if allow {
				msg = "Localhost is allowed."
			}
			return msg, h.AuthSettings.SetAllowLocalhost(ctx, bs, allow)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.domainsPage(c, bs)
			if !fresh {
				m.Localhost.Allow = allow
			}
			m.Localhost.State = st
			return h.settingsAnswer(c, status, bs, neonauth.GroupDomains, views.LocalhostCardView(m.Localhost),
				func(ch views.Chrome) templ.Component { return views.SettingsDomainsView(ch, m) })
		},
	})
}
