package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// wantRequired checks how a field says it is required: "always" is
// "(required)" in its label and the required attribute; any other text is
// the case it is required in, said in its label without the attribute (the
// field may be left empty otherwise); "" is an optional field, unmarked.
func wantRequired(t *testing.T, page *testResponse, id, want string) {
	t.Helper()
	field := page.Doc.Find("#" + id)
	if field.Length() != 1 {
		t.Errorf("no field %s", id)
		return
	}
	mark := strings.TrimSpace(page.Doc.Find(`label[for="` + id + `"] .required`).Text())
	_, required := field.Attr("required")
	aria, _ := field.Attr("aria-required")
	switch want {
	case "always":
		if mark != "(required)" || !required || aria != "true" {
			t.Errorf("%s: mark %q, required %t, aria-required %q; want (required), required, true", id, mark, required, aria)
		}
	case "":
		if mark != "" || required {
			t.Errorf("%s: marked %q (required %t), want an optional field", id, mark, required)
		}
	default:
		if mark != "(required for "+want+")" || required {
			t.Errorf("%s: mark %q, required %t; want (required for %s) without the attribute", id, mark, required, want)
		}
	}
}

// wantRequiredChoice checks a radio group says it is required.
func wantRequiredChoice(t *testing.T, page *testResponse, testID string) {
	t.Helper()
	set := page.byTestID(testID)
	if got := strings.TrimSpace(set.Find("legend .required").Text()); got != "(required)" {
		t.Errorf("%s: legend mark %q, want (required)", testID, got)
	}
	radios := set.Find(`input[type="radio"]`)
	if radios.Length() == 0 || radios.Length() != radios.Filter("[required]").Length() {
		t.Errorf("%s: %d radios, %d required", testID, radios.Length(), radios.Filter("[required]").Length())
	}
}

// TestSettingsFormsMarkRequiredFields: every settings form says which
// fields it needs, and in which case when it needs them in one only.
func TestSettingsFormsMarkRequiredFields(t *testing.T) {
	a, _ := newSettingsApp(t)
	const smtp, app = "your own SMTP server", "your own OAuth app"
	for group, fields := range map[string]map[string]string{
		"domains": {"domains-domain": "always"},
		"sign-in": {
			"oauth-add-provider": "always", "oauth-add-client_id": app, "oauth-add-client_secret": app, "oauth-add-microsoft_tenant_id": "",
			// Google starts on Neon's shared credentials: its form moves it
			// to an app of the owner's, which takes both.
			"oauth-google-client_id": "always", "oauth-google-client_secret": "always",
		},
		"email": {
			"email-server-sender_email": smtp, "email-server-sender_name": smtp, "email-server-host": smtp, "email-server-port": smtp,
			"email-server-username": smtp, "email-server-password": smtp, "email-test-recipient_email": "a test email",
		},
		"plugins": {
			"organization-organization_limit": "always", "organization-membership_limit": "always",
			"magic-link-expires_in": "always", "phone-number-otp_expires_in": "",
		},
		"webhooks":    {"webhooks-webhook_url": "sending events", "webhooks-timeout_seconds": ""},
		"application": {"application-name": "always"},
	} {
		page := a.get(a.settingsPath(group))
		page.wantStatus(t, http.StatusOK)
		for id, want := range fields {
			wantRequired(t, page, id, want)
		}
		if page.Doc.Find("form[data-testid]").Not(`[autocomplete="off"]`).Filter(`[hx-post]`).Length() != 0 {
			t.Errorf("%s: a settings form lets the browser restore what was typed over what Neon holds", group)
		}
	}
	signIn := a.get(a.settingsPath("sign-in"))
	wantRequiredChoice(t, signIn, "email-password-email_verification_method")
	wantRequiredChoice(t, signIn, "oauth-add-credentials")
	wantRequiredChoice(t, a.get(a.settingsPath("email")), "email-server-type")
	wantRequiredChoice(t, a.get(a.settingsPath("plugins")), "organization-creator_role")

	// Once Neon holds a secret, leaving it empty keeps it: no longer required.
	a.htmxPost(a.settingsPath("email"), smtpValues("smtp-pass-1")).wantStatus(t, http.StatusOK)
	a.htmxPost(a.settingsPath("sign-in/oauth/google"), url.Values{"client_id": {"g-1"}, "client_secret": {"g-secret-1"}}).wantStatus(t, http.StatusOK)
	wantRequired(t, a.get(a.settingsPath("email")), "email-server-password", "")
	signIn = a.get(a.settingsPath("sign-in"))
	wantRequired(t, signIn, "oauth-google-client_secret", "")
	wantRequired(t, signIn, "oauth-google-client_id", "always")
}

// refusedForm is a settings form posted with a mistake: the answer is 422,
// and shows everything typed again, but never a secret.
type refusedForm struct {
	name, group, path string
	values            url.Values
	// kept checks the form shown again.
	kept func(t *testing.T, r *testResponse)
	// secret is the id of a write-only field typed into, whose note must
	// ask for it again; "" for a form without one.
	secret string
}

// refusedForms are every settings form with values typed and one mistake.
var refusedForms = []refusedForm{
	{
		name: "trusted domain", group: "domains", path: "domains",
		values: url.Values{"domain": {"app.example.com/path"}},
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"domains-domain": "app.example.com/path"})
		},
	},
	{
		name: "email and password", group: "sign-in", path: "sign-in/email-password",
		values: url.Values{"email_verification_method": {"sms"}, "require_email_verification": {"on"}, "send_verification_email_on_sign_in": {"on"}},
		kept: func(t *testing.T, r *testResponse) {
			wantChecked(t, r, map[string]bool{
				"email-password-enabled": false, "email-password-require_email_verification": true,
				"email-password-send_verification_email_on_sign_in": true, "email-password-auto_sign_in_after_verification": false,
			})
		},
	},
	{
		name: "OAuth provider added", group: "sign-in", path: "sign-in/oauth",
		values: url.Values{"provider": {"github"}, "credentials": {"own"}, "client_id": {"gh-typed"}, "client_secret": {"gh-secret-typed"}, "microsoft_tenant_id": {"contoso"}},
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"oauth-add-client_id": "gh-typed", "oauth-add-microsoft_tenant_id": "contoso", "oauth-add-client_secret": ""})
			wantChecked(t, r, map[string]bool{"oauth-add-credentials-own": true})
			if v, _ := r.byTestID("oauth-add-provider").Find("option[selected]").Attr("value"); v != "github" {
				t.Errorf("provider kept = %q, want github", v)
			}
		},
		secret: "oauth-add-client_secret",
	},
	{
		name: "OAuth credentials", group: "sign-in", path: "sign-in/oauth/google",
		values: url.Values{"client_id": {""}, "client_secret": {"google-secret-typed"}},
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"oauth-google-client_id": "", "oauth-google-client_secret": ""})
		},
		secret: "oauth-google-client_secret",
	},
	{
		name: "own SMTP server", group: "email", path: "email",
		values: func() url.Values {
			v := smtpValues("smtp-pass-typed")
			v.Set("sender_name", "")
			v.Set("recipient_email", "ops@example.com")
			return v
		}(),
		kept: func(t *testing.T, r *testResponse) {
			wantChecked(t, r, map[string]bool{"email-server-type-standard": true})
			wantValues(t, r, map[string]string{
				"email-server-host": "smtp.example.com", "email-server-port": "587", "email-server-username": "mailer",
				"email-server-sender_email": "auth@example.com", "email-server-sender_name": "", "email-server-password": "",
				"email-test-recipient_email": "ops@example.com",
			})
		},
		secret: "email-server-password",
	},
	{
		name: "test email", group: "email", path: "email/test",
		values: smtpValues("smtp-pass-typed"),
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"email-server-host": "smtp.example.com", "email-server-sender_name": "Example Auth"})
		},
		secret: "email-server-password",
	},
	{
		name: "organization plugin", group: "plugins", path: "plugins/organization",
		values: url.Values{"organization_limit": {"0"}, "membership_limit": {"42"}, "creator_role": {"admin"}, "send_invitation_email": {"on"}},
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"organization-organization_limit": "0", "organization-membership_limit": "42"})
			wantChecked(t, r, map[string]bool{"organization-enabled": false, "organization-creator_role-admin": true, "organization-send_invitation_email": true})
		},
	},
	{
		name: "magic link plugin", group: "plugins", path: "plugins/magic-link",
		values: url.Values{"enabled": {"on"}, "expires_in": {"2000"}},
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"magic-link-expires_in": "2000"})
			wantChecked(t, r, map[string]bool{"magic-link-enabled": true, "magic-link-allow_sign_up": false})
		},
	},
	{
		name: "phone number plugin", group: "plugins", path: "plugins/phone-number",
		values: url.Values{"enabled": {"on"}, "otp_expires_in": {"30"}},
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"phone-number-otp_expires_in": "30"})
			wantChecked(t, r, map[string]bool{"phone-number-enabled": true})
		},
	},
	{
		name: "webhooks", group: "webhooks", path: "webhooks",
		values: url.Values{"enabled": {"on"}, "webhook_url": {""}, "enabled_events": {"user.created", "send.otp"}, "timeout_seconds": {"7"}},
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"webhooks-webhook_url": "", "webhooks-timeout_seconds": "7"})
			wantChecked(t, r, map[string]bool{"webhooks-enabled": true, "webhooks-event-user-created": true, "webhooks-event-send-otp": true, "webhooks-event-user-before-create": false})
		},
	},
	{
		name: "application name", group: "application", path: "application",
		values: url.Values{"name": {strings.Repeat("n", 300)}},
		kept: func(t *testing.T, r *testResponse) {
			wantValues(t, r, map[string]string{"application-name": strings.Repeat("n", 300)})
		},
	},
}

// TestSettingsRefusedSaveKeepsWhatWasTyped: a form refused for a mistake
// comes back with everything typed (with htmx and without), except secrets,
// which are never shown back: their field says so and asks again. Neon is
// not asked.
func TestSettingsRefusedSaveKeepsWhatWasTyped(t *testing.T) {
	a, rec := newSettingsApp(t)
	for _, f := range refusedForms {
		for _, htmx := range []bool{true, false} {
			t.Run(f.name+map[bool]string{true: "", false: " without JavaScript"}[htmx], func(t *testing.T) {
				r := a.post(a.settingsPath(f.path), f.values, htmx)
				r.wantStatus(t, http.StatusUnprocessableEntity)
				if r.Doc.Find(`[aria-invalid="true"]`).Length() == 0 {
					t.Errorf("no field is marked at fault:\n%.3000s", r.Body)
				}
				if !htmx && r.byTestID("settings-tabs").Length() != 1 {
					t.Error("the no-JS answer is not the whole page")
				}
				f.kept(t, r)
				for _, typed := range []string{"smtp-pass-typed", "gh-secret-typed", "google-secret-typed"} {
					if strings.Contains(r.Body, typed) {
						t.Errorf("the secret %q came back in the answer", typed)
					}
				}
				notes := r.Doc.Find(`[data-testid$="-retype"]`)
				if f.secret == "" {
					if notes.Length() != 0 {
						t.Errorf("a form without a secret typed asks for one again: %q", notes.Text())
					}
					return
				}
				note := r.byTestID(f.secret + "-retype")
				if notes.Length() != 1 || !strings.HasPrefix(note.Text(), "For safety, the ") || !strings.HasSuffix(note.Text(), " you typed was not kept: type it again.") {
					t.Errorf("%s: note %q (%d notes), want one asking for the secret again", f.secret, note.Text(), notes.Length())
				}
				if d, _ := r.Doc.Find("#" + f.secret).Attr("aria-describedby"); !strings.Contains(d, "hint-"+f.secret) {
					t.Errorf("%s does not point at its note: aria-describedby %q", f.secret, d)
				}
			})
		}
	}
	wantNoWrites(t, rec)

	// Saved, the secret's field has nothing to ask again.
	r := a.htmxPost(a.settingsPath("email"), smtpValues("smtp-pass-saved"))
	r.wantStatus(t, http.StatusOK)
	if r.Doc.Find(`[data-testid$="-retype"]`).Length() != 0 {
		t.Error("a saved form asks for its secret again")
	}
}
