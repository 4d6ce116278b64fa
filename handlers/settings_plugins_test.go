package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/neonapi"
)

func TestSettingsPluginsSaveEveryField(t *testing.T) {
	a, rec := newSettingsApp(t)
	page := a.get(a.settingsPath("plugins"))
	page.wantStatus(t, http.StatusOK)
	if page.value("organization-organization_limit") != "10" || page.value("magic-link-expires_in") != "5" || page.value("phone-number-otp_expires_in") != "300" {
		t.Fatalf("page does not show Neon's defaults:\n%.3000s", page.Body)
	}
	org := a.htmxPost(a.settingsPath("plugins/organization"), url.Values{
		"organization_limit": {"3"}, "membership_limit": {"25"}, "creator_role": {"admin"}, "send_invitation_email": {"on"},
	})
	org.wantStatus(t, http.StatusOK)
	if org.byTestID("organization-saved").Length() != 1 || org.value("organization-membership_limit") != "25" {
		t.Errorf("answer:\n%s", org.Body)
	}
	a.followRedirect(t, a.postForm(a.settingsPath("plugins/magic-link"), url.Values{"enabled": {"on"}, "expires_in": {"1440"}}), a.settingsPath("plugins"))
	a.htmxPost(a.settingsPath("plugins/phone-number"), url.Values{"enabled": {"on"}, "otp_expires_in": {"600"}}).wantStatus(t, http.StatusOK)

	ctx := context.Background()
	plugins, err := a.Neon.GetPluginConfigs(ctx, a.projectID, a.project.BranchID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (neonapi.OrganizationConfig{Enabled: false, OrganizationLimit: 3, MembershipLimit: 25, CreatorRole: "admin", SendInvitationEmail: true}); *plugins.Organization != want {
		t.Errorf("organization = %+v, want %+v", *plugins.Organization, want)
	}
	if want := (neonapi.MagicLinkConfig{Enabled: true, ExpiresIn: 1440, DisableSignUp: true}); *plugins.MagicLink != want {
		t.Errorf("magic link = %+v, want %+v", *plugins.MagicLink, want)
	}
	phone, err := a.Neon.GetPhoneNumberPlugin(ctx, a.projectID, a.project.BranchID)
	if err != nil || *phone != (neonapi.PhoneNumberConfig{Enabled: true, OTPExpiresIn: 600}) {
		t.Errorf("phone number = %+v, %v", phone, err)
	}
	if w := rec.writes(); len(w) != 3 {
		t.Errorf("writes = %v", w)
	}
}

func TestSettingsPluginsBadInputAndRefusals(t *testing.T) {
	a, rec := newSettingsApp(t)
	for _, tc := range []struct {
		name, path string
		values     url.Values
		status     int
		fields     []string
	}{
		{"organization limits and role", "plugins/organization", url.Values{"organization_limit": {"0"}, "membership_limit": {"1.5"}, "creator_role": {"god"}}, 422,
			[]string{"organization-organization_limit", "organization-membership_limit", "organization-creator_role"}},
		{"organization limit beyond int32", "plugins/organization", url.Values{"organization_limit": {"2147483648"}, "membership_limit": {"1"}, "creator_role": {"owner"}}, 422,
			[]string{"organization-organization_limit"}},
		{"magic link lifetime", "plugins/magic-link", url.Values{"expires_in": {"2000"}}, 422, []string{"magic-link-expires_in"}},
		{"magic link lifetime missing", "plugins/magic-link", url.Values{"expires_in": {""}}, 422, []string{"magic-link-expires_in"}},
		{"phone code lifetime", "plugins/phone-number", url.Values{"otp_expires_in": {"30"}}, 422, []string{"phone-number-otp_expires_in"}},
		{"NUL in a limit", "plugins/organization", url.Values{"organization_limit": {"1\x00"}, "membership_limit": {"1"}, "creator_role": {"owner"}}, 400,
			[]string{"organization-organization_limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.htmxPost(a.settingsPath(tc.path), tc.values)
			r.wantStatus(t, tc.status)
			for _, f := range tc.fields {
				wantFieldError(t, r, f)
			}
			wantNoWrites(t, rec)
		})
	}
	kept := a.postForm(a.settingsPath("plugins/magic-link"), url.Values{"expires_in": {"2000"}, "enabled": {"on"}})
	if kept.value("magic-link-expires_in") != "2000" || !kept.isChecked("magic-link-enabled") || kept.byTestID("settings-organization").Length() != 1 {
		t.Error("the no-JS refusal lost what was typed, or is not the whole page")
	}
	wantNoWrites(t, rec)

	for _, path := range []string{"plugins/organization", "plugins/magic-link", "plugins/phone-number"} {
		rec.failNextWrite()
		r := a.htmxPost(a.settingsPath(path), url.Values{"organization_limit": {"7"}, "membership_limit": {"7"}, "creator_role": {"owner"}, "expires_in": {"7"}, "otp_expires_in": {"70"}})
		wantNeonProblem(t, r, http.StatusLocked)
	}
	plugins, _ := a.Neon.GetPluginConfigs(context.Background(), a.projectID, a.project.BranchID)
	if plugins.Organization.OrganizationLimit != 10 || plugins.MagicLink.ExpiresIn != 5 {
		t.Errorf("Neon changed although it refused: %+v %+v", *plugins.Organization, *plugins.MagicLink)
	}
}

func TestSettingsWebhooks(t *testing.T) {
	a, rec := newSettingsApp(t)
	r := a.htmxPost(a.settingsPath("webhooks"), url.Values{
		"enabled": {"on"}, "webhook_url": {"https://api.example.com/hooks/auth"},
		"enabled_events": {"user.created", "send.otp", "user.created"}, "timeout_seconds": {"9"},
	})
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("webhooks-saved").Length() != 1 || !r.isChecked("webhooks-event-send-otp") || r.isChecked("webhooks-event-send-magic-link") {
		t.Errorf("answer:\n%s", r.Body)
	}
	got, err := a.Neon.GetWebhookConfig(context.Background(), a.projectID, a.project.BranchID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Enabled || got.WebhookURL != "https://api.example.com/hooks/auth" || got.TimeoutSeconds != 9 ||
		!slices.Equal(got.EnabledEvents, []neonapi.WebhookEvent{"user.created", "send.otp"}) {
		t.Errorf("Neon has %+v", got)
	}
	rec.writes()

	bad := a.postForm(a.settingsPath("webhooks"), url.Values{"enabled": {"on"}, "timeout_seconds": {"11"}, "enabled_events": {"user.deleted"}})
	bad.wantStatus(t, http.StatusUnprocessableEntity)
	for _, f := range []string{"webhooks-webhook_url", "webhooks-timeout_seconds", "webhooks-enabled_events"} {
		if bad.text("field-error-"+f) == "" {
			t.Errorf("no message next to %s", f)
		}
	}
	wantFieldError(t, bad, "webhooks-timeout_seconds")
	if bad.value("webhooks-timeout_seconds") != "11" {
		t.Error("timeout not kept")
	}
	wantNoWrites(t, rec)

	rec.failNextWrite()
	off := a.htmxPost(a.settingsPath("webhooks"), url.Values{"webhook_url": {"https://api.example.com/hooks/auth"}})
	wantNeonProblem(t, off, http.StatusLocked)
	if got, _ := a.Neon.GetWebhookConfig(context.Background(), a.projectID, a.project.BranchID); !got.Enabled {
		t.Error("Neon turned the webhook off although it refused")
	}
}

func TestSettingsApplication(t *testing.T) {
	a, rec := newSettingsApp(t)
	page := a.get(a.settingsPath("application"))
	page.wantStatus(t, http.StatusOK)
	if page.value("application-name") == "" || page.text("application-base-url") == "" {
		t.Fatalf("page:\n%.3000s", page.Body)
	}
	r := a.followRedirect(t, a.postForm(a.settingsPath("application"), url.Values{"name": {"  Acme Cloud  "}}), a.settingsPath("application"))
	if r.value("application-name") != "Acme Cloud" || !strings.Contains(r.text("flash"), "saved") {
		t.Errorf("after saving: name %q, flash %q", r.value("application-name"), r.text("flash"))
	}
	in, err := a.Neon.GetBranchAuth(context.Background(), a.projectID, a.project.BranchID)
	if err != nil || in.Name != "Acme Cloud" {
		t.Fatalf("Neon's name = %v, %v", in, err)
	}
	rec.writes()
	for _, name := range []string{"", strings.Repeat("é", 257)} {
		bad := a.htmxPost(a.settingsPath("application"), url.Values{"name": {name}})
		bad.wantStatus(t, http.StatusUnprocessableEntity)
		wantFieldError(t, bad, "application-name")
		if bad.value("application-name") != name {
			t.Error("typed name not kept")
		}
	}
	wantNoWrites(t, rec)
	rec.failNextWrite()
	wantNeonProblem(t, a.htmxPost(a.settingsPath("application"), url.Values{"name": {"Other"}}), http.StatusLocked)
}
