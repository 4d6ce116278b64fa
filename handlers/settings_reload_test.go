package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// savedForm is one settings form saved, then checked on the group's page
// loaded afresh: the next visit shows what Neon holds now, not what the
// page showed before the save.
type savedForm struct {
	name   string
	group  string // the group's page, below the branch's settings
	path   string // where the form posts
	values url.Values
	// shows checks the page of the next visit.
	shows func(t *testing.T, page *testResponse)
}

// wantValues checks the values of the inputs with the ids given.
func wantValues(t *testing.T, page *testResponse, want map[string]string) {
	t.Helper()
	for id, v := range want {
		if got := page.value(id); got != v {
			t.Errorf("%s = %q, want %q", id, got, v)
		}
	}
}

// wantChecked checks whether the checkboxes and radios with the ids given
// are checked.
func wantChecked(t *testing.T, page *testResponse, want map[string]bool) {
	t.Helper()
	for id, on := range want {
		if got := page.isChecked(id); got != on {
			t.Errorf("%s checked = %t, want %t", id, got, on)
		}
	}
}

// savedForms are every settings form with values other than Neon's
// defaults, and what the page shows once they are saved.
var savedForms = []savedForm{
	{
		name: "trusted domain", group: "domains", path: "domains",
		values: url.Values{"domain": {"https://app.example.com"}},
		shows: func(t *testing.T, page *testResponse) {
			if page.Doc.Find(`[data-testid="domain-row"][data-domain="https://app.example.com"]`).Length() != 1 {
				t.Errorf("the domain is not listed: %q", page.text("settings-domains"))
			}
			wantValues(t, page, map[string]string{"domains-domain": ""})
		},
	},
	{
		name: "localhost", group: "domains", path: "domains/localhost",
		values: url.Values{},
		shows: func(t *testing.T, page *testResponse) {
			wantChecked(t, page, map[string]bool{"localhost-allow_localhost": false})
		},
	},
	{
		name: "email and password", group: "sign-in", path: "sign-in/email-password",
		values: url.Values{
			"email_verification_method": {"otp"}, "require_email_verification": {"on"},
			"send_verification_email_on_sign_up": {"on"}, "send_verification_email_on_sign_in": {"on"},
		},
		shows: func(t *testing.T, page *testResponse) {
			wantChecked(t, page, map[string]bool{
				"email-password-enabled": false, "email-password-allow_sign_up": false,
				"email-password-email_verification_method-otp": true, "email-password-require_email_verification": true,
				"email-password-send_verification_email_on_sign_up": true, "email-password-send_verification_email_on_sign_in": true,
				"email-password-auto_sign_in_after_verification": false,
			})
		},
	},
	{
		name: "OAuth provider added", group: "sign-in", path: "sign-in/oauth",
		values: url.Values{"provider": {"github"}, "credentials": {"own"}, "client_id": {"gh-client-7"}, "client_secret": {"gh-secret-7"}},
		shows: func(t *testing.T, page *testResponse) {
			row := page.Doc.Find(`[data-testid="oauth-row"][data-provider="github"]`)
			if got := strings.TrimSpace(row.Find(`[data-testid="oauth-credentials"]`).Text()); got != "own credentials" {
				t.Errorf("GitHub row credentials = %q, want own credentials", got)
			}
			wantValues(t, page, map[string]string{"oauth-github-client_id": "gh-client-7", "oauth-github-client_secret": ""})
			if got := strings.TrimSpace(page.text("oauth-github-client_secret-state")); got != "set" {
				t.Errorf("GitHub secret state = %q, want set", got)
			}
		},
	},
	{
		name: "OAuth credentials changed", group: "sign-in", path: "sign-in/oauth/google",
		values: url.Values{"client_id": {"google-client-9"}, "client_secret": {"google-secret-9"}},
		shows: func(t *testing.T, page *testResponse) {
			wantValues(t, page, map[string]string{"oauth-google-client_id": "google-client-9"})
			row := page.Doc.Find(`[data-testid="oauth-row"][data-provider="google"]`)
			if got := strings.TrimSpace(row.Find(`[data-testid="oauth-credentials"]`).Text()); got != "own credentials" {
				t.Errorf("Google row credentials = %q, want own credentials", got)
			}
		},
	},
	{
		name: "own SMTP server", group: "email", path: "email",
		values: smtpValues("smtp-pass-reload"),
		shows: func(t *testing.T, page *testResponse) {
			wantChecked(t, page, map[string]bool{"email-server-type-standard": true, "email-server-type-shared": false})
			wantValues(t, page, map[string]string{
				"email-server-host": "smtp.example.com", "email-server-port": "587", "email-server-username": "mailer",
				"email-server-sender_email": "auth@example.com", "email-server-sender_name": "Example Auth", "email-server-password": "",
			})
			if got := strings.TrimSpace(page.text("email-server-password-state")); got != "set" {
				t.Errorf("password state = %q, want set", got)
			}
		},
	},
	{
		name: "organization plugin", group: "plugins", path: "plugins/organization",
		values: url.Values{"organization_limit": {"7"}, "membership_limit": {"42"}, "creator_role": {"admin"}, "send_invitation_email": {"on"}},
		shows: func(t *testing.T, page *testResponse) {
			wantValues(t, page, map[string]string{"organization-organization_limit": "7", "organization-membership_limit": "42"})
			wantChecked(t, page, map[string]bool{
				"organization-enabled": false, "organization-creator_role-admin": true, "organization-send_invitation_email": true,
			})
		},
	},
	{
		name: "magic link plugin", group: "plugins", path: "plugins/magic-link",
		values: url.Values{"enabled": {"on"}, "expires_in": {"30"}},
		shows: func(t *testing.T, page *testResponse) {
			wantValues(t, page, map[string]string{"magic-link-expires_in": "30"})
			wantChecked(t, page, map[string]bool{"magic-link-enabled": true, "magic-link-allow_sign_up": false})
		},
	},
	{
		name: "phone number plugin", group: "plugins", path: "plugins/phone-number",
		values: url.Values{"enabled": {"on"}, "otp_expires_in": {"120"}},
		shows: func(t *testing.T, page *testResponse) {
			wantValues(t, page, map[string]string{"phone-number-otp_expires_in": "120"})
			wantChecked(t, page, map[string]bool{"phone-number-enabled": true})
		},
	},
	{
		name: "webhooks", group: "webhooks", path: "webhooks",
		values: url.Values{
			"enabled": {"on"}, "webhook_url": {"https://hooks.example.com/neon"},
			"enabled_events": {"user.created", "send.otp"}, "timeout_seconds": {"7"},
		},
		shows: func(t *testing.T, page *testResponse) {
			wantValues(t, page, map[string]string{"webhooks-webhook_url": "https://hooks.example.com/neon", "webhooks-timeout_seconds": "7"})
			wantChecked(t, page, map[string]bool{
				"webhooks-enabled": true, "webhooks-event-user-created": true, "webhooks-event-send-otp": true,
				"webhooks-event-user-before-create": false,
			})
		},
	},
	{
		name: "application name", group: "application", path: "application",
		values: url.Values{"name": {"Renamed App"}},
		shows: func(t *testing.T, page *testResponse) {
			wantValues(t, page, map[string]string{"application-name": "Renamed App"})
		},
	},
}

// TestSettingsNextVisitShowsWhatWasSaved saves every settings form through
// the real sandbox, with htmx and without, then loads the group's page again
// as a next visit would. The dashboard reads through the read cache as it
// is configured by default (two minutes, Neon Auth reads fresh for fifteen),
// and the page was read before the save, so an answer kept across the save
// would show.
func TestSettingsNextVisitShowsWhatWasSaved(t *testing.T) {
	for _, htmx := range []bool{true, false} {
		for _, f := range savedForms {
			name := f.name
			if !htmx {
				name += " without JavaScript"
			}
			t.Run(name, func(t *testing.T) {
				a := newTestApp(t, withCache(2*time.Minute), withNeonClient("test-key", neonapi.WithFreshness(15*time.Minute)))
				a.enableBetterAuth()
				a.get(a.settingsPath(f.group)).wantStatus(t, http.StatusOK)
				r := a.post(a.settingsPath(f.path), f.values, htmx)
				if htmx {
					r.wantStatus(t, http.StatusOK)
				} else {
					r = a.followRedirect(t, r, a.settingsPath(f.group))
				}
				if r.text("flash") == "" && r.Doc.Find(`[data-testid$="-saved"]`).Length() == 0 {
					t.Fatalf("no confirmation of the save:\n%.3000s", r.Body)
				}
				page := a.get(a.settingsPath(f.group))
				page.wantStatus(t, http.StatusOK)
				f.shows(t, page)
			})
		}
	}
}
