package neonauth

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// WebhookForm is where the branch's auth events are posted
// (NeonAuthWebhookConfig): every field of the spec's object. The spec has no
// signing secret for it.
type WebhookForm struct {
	Enabled bool
	URL     string
	Events  []string
	// TimeoutSeconds is as typed; empty leaves Neon's default.
	TimeoutSeconds string
}

// WebhookFormFrom is the form showing Neon's configuration.
func WebhookFormFrom(c *neonapi.WebhookConfig) WebhookForm {
	f := WebhookForm{Enabled: c.Enabled, URL: c.WebhookURL}
	for _, e := range c.EnabledEvents {
		f.Events = append(f.Events, string(e))
	}
	if c.TimeoutSeconds != 0 {
		f.TimeoutSeconds = strconv.Itoa(c.TimeoutSeconds)
	}
	return f
}

// webhookURLField checks the endpoint: an absolute http(s) URL without
// credentials, required when the webhook is on.
func webhookURLField(errs FieldErrors, raw string, required bool) {
	if raw == "" {
		if required {
			errs.add("webhook_url", "Enter the URL Neon should post events to, or turn the webhook off.")
		}
		return
	}
	u, err := url.Parse(raw)
	switch {
	case utf8.RuneCountInString(raw) > maxDomainLen:
		errs.add("webhook_url", "This URL is too long.")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		errs.add("webhook_url", "Enter an https:// URL, e.g. https://api.example.com/hooks/neon-auth.")
	case u.User != nil:
		errs.add("webhook_url", "Leave credentials out of the URL.")
	case strings.ContainsAny(raw, " \t"):
		errs.add("webhook_url", "A URL has no spaces.")
	}
}

// UpdateWebhooks replaces the branch's webhook configuration with the form
// (updateNeonAuthWebhookConfig, a PUT: every field is sent).
func (s *SettingsService) UpdateWebhooks(ctx context.Context, bs *BranchSettings, f WebhookForm) error {
	errs := FieldErrors{}
	webhookURLField(errs, f.URL, f.Enabled)
	cfg := neonapi.WebhookConfig{Enabled: f.Enabled, WebhookURL: f.URL, EnabledEvents: []neonapi.WebhookEvent{}}
	for _, e := range f.Events {
		ev := neonapi.WebhookEvent(e)
		if !slices.Contains(neonapi.WebhookEvents, ev) {
			errs.add("enabled_events", "Pick events from the list.")
			continue
		}
		if !slices.Contains(cfg.EnabledEvents, ev) {
			cfg.EnabledEvents = append(cfg.EnabledEvents, ev)
		}
	}
	if t := optionalInt(errs, "timeout_seconds", f.TimeoutSeconds, 1, 10); t != nil {
		cfg.TimeoutSeconds = *t
	}
	return change(bs, errs, "the webhook settings were saved", func() error {
		_, err := s.neon.UpdateWebhookConfig(ctx, bs.ProjectID, bs.BranchID, cfg)
		return err
	})
}

// ApplicationForm is the branch's general Neon Auth settings
// (NeonAuthConfigUpdate): the application name used in auth emails.
type ApplicationForm struct {
	Name string
}

// UpdateApplication saves the application name (updateNeonAuthConfig).
func (s *SettingsService) UpdateApplication(ctx context.Context, bs *BranchSettings, f ApplicationForm) error {
	errs := FieldErrors{}
	textField(errs, "name", f.Name, true, 256)
	return change(bs, errs, "the application name was saved", func() error {
		_, err := s.neon.UpdateAuthConfig(ctx, bs.ProjectID, bs.BranchID, neonapi.AuthConfigUpdate{Name: f.Name})
		return err
	})
}
