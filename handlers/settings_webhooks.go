package handlers

import (
	"context"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// webhooksPage is the Webhooks page as Neon has it.
func (h *Handler) webhooksPage(c echo.Context, bs *neonauth.BranchSettings) views.WebhooksPage {
	f := settingsFrame(c, bs, neonauth.GroupWebhooks)
	card := views.WebhooksCard{Frame: f, Load: h.loadProblem(bs.Webhooks.Err, "the webhook settings")}
	if w := bs.Webhooks.Value; w != nil {
		card.Form = neonauth.WebhookFormFrom(w)
	}
	return views.WebhooksPage{Frame: f, Webhooks: card}
}

// updateWebhooks replaces the webhook configuration with the form.
func (h *Handler) updateWebhooks(c echo.Context) error {
	form := neonauth.WebhookForm{
		Enabled:        checked(c, "enabled"),
		URL:            strings.TrimSpace(c.FormValue("webhook_url")),
		TimeoutSeconds: strings.TrimSpace(c.FormValue("timeout_seconds")),
	}
	if params, err := c.FormParams(); err == nil {
		form.Events = params["enabled_events"]
	}
	typed := map[string]string{"webhook_url": form.URL, "timeout_seconds": form.TimeoutSeconds, "enabled_events": strings.Join(form.Events, " ")}
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupWebhooks,
		refused: "Neon did not save the webhook settings",
		typed:   typed,
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			return "Webhook settings saved.", h.AuthSettings.UpdateWebhooks(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.webhooksPage(c, bs)
			if !fresh {
				m.Webhooks.Form = neonauth.WebhookForm{
					Enabled: form.Enabled, URL: shown(form.URL), Events: form.Events, TimeoutSeconds: shown(form.TimeoutSeconds),
				}
			}
			m.Webhooks.State = st
			return h.settingsAnswer(c, status, bs, neonauth.GroupWebhooks, views.WebhooksCardView(m.Webhooks),
				func(ch views.Chrome) templ.Component { return views.SettingsWebhooksView(ch, m) })
		},
	})
}
