package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// smtpValues is the email form for the branch's own server.
func smtpValues(password string) url.Values {
	return url.Values{
		"type": {"standard"}, "host": {"smtp.example.com"}, "port": {"587"}, "username": {"mailer"},
		"password": {password}, "sender_email": {"auth@example.com"}, "sender_name": {"Example Auth"},
	}
}

func TestSettingsEmailServer(t *testing.T) {
	a, rec := newSettingsApp(t)
	const password = "smtp-pass-4d2e81"
	page := a.get(a.settingsPath("email"))
	page.wantStatus(t, http.StatusOK)
	if !page.isChecked("email-server-type-shared") || strings.TrimSpace(page.text("email-server-password-state")) != "not set" {
		t.Fatalf("page does not show Neon's shared server:\n%.3000s", page.Body)
	}

	r := a.htmxPost(a.settingsPath("email"), smtpValues(password))
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("email-server-saved").Length() != 1 || strings.TrimSpace(r.text("email-server-password-state")) != "set" {
		t.Errorf("answer:\n%s", r.Body)
	}
	if strings.Contains(r.Body, password) || r.value("email-server-password") != "" {
		t.Error("the SMTP password is in the page")
	}
	want := neonapi.EmailServer{Type: "standard", Host: "smtp.example.com", Port: 587, Username: "mailer", SenderEmail: "auth@example.com", SenderName: "Example Auth"}
	got, err := a.Neon.GetEmailProvider(context.Background(), a.projectID, a.project.BranchID)
	if err != nil || *got != want {
		t.Fatalf("Neon has %+v, %v; want %+v", got, err, want)
	}

	// Saved again without the password: Neon keeps it; a new sender shows.
	again := smtpValues("")
	again.Set("sender_name", "Renamed")
	r = a.followRedirect(t, a.postForm(a.settingsPath("email"), again), a.settingsPath("email"))
	if r.value("email-server-sender_name") != "Renamed" || r.text("flash") == "" {
		t.Errorf("after the no-JS save: sender %q, flash %q", r.value("email-server-sender_name"), r.text("flash"))
	}
	rec.writes()

	// Back to the shared server is refused while links are the method.
	if _, err := a.Neon.UpdateEmailAndPasswordConfig(context.Background(), a.projectID, a.project.BranchID,
		neonapi.EmailAndPasswordConfigUpdate{EmailVerificationMethod: new(neonapi.EmailVerificationLink)}); err != nil {
		t.Fatal(err)
	}
	refused := a.htmxPost(a.settingsPath("email"), url.Values{"type": {"shared"}, "sender_email": {"noreply@example.com"}})
	wantNeonProblem(t, refused, http.StatusUnprocessableEntity)
	if !refused.isChecked("email-server-type-shared") || refused.value("email-server-sender_email") != "noreply@example.com" {
		t.Error("the choice or the sender is not kept after Neon refused")
	}
}

func TestSettingsEmailServerBadInput(t *testing.T) {
	a, rec := newSettingsApp(t)
	for _, tc := range []struct {
		name   string
		edit   func(v url.Values)
		status int
		fields []string
	}{
		{"first switch without a password", func(v url.Values) { v.Del("password") }, 422, []string{"email-server-password"}},
		{"everything wrong at once", func(v url.Values) {
			v.Set("host", "smtp://mail.example.com")
			v.Set("port", "abc")
			v.Set("sender_email", "Example <auth@example.com>")
			v.Set("sender_name", " ")
			v.Set("username", "")
		}, 422, []string{"email-server-host", "email-server-port", "email-server-sender_email", "email-server-sender_name", "email-server-username"}},
		{"port out of range", func(v url.Values) { v.Set("port", "70000") }, 422, []string{"email-server-port"}},
		{"no server type", func(v url.Values) { v.Del("type") }, 422, []string{"email-server-type"}},
		{"invalid UTF-8 in the host", func(v url.Values) { v.Set("host", "smtp\xff.example.com") }, 400, []string{"email-server-host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := smtpValues("pw-never-shown")
			tc.edit(v)
			r := a.postForm(a.settingsPath("email"), v)
			r.wantStatus(t, tc.status)
			for _, f := range tc.fields {
				wantFieldError(t, r, f)
			}
			if got := r.value("email-server-username"); got != v.Get("username") {
				t.Errorf("username not kept: %q", got)
			}
			if strings.Contains(r.Body, "pw-never-shown") {
				t.Error("the password came back in the refusal")
			}
			wantNoWrites(t, rec)
		})
	}
	if got, _ := a.Neon.GetEmailProvider(context.Background(), a.projectID, a.project.BranchID); got.Type != neonapi.EmailServerShared {
		t.Errorf("Neon switched to %q after refused forms", got.Type)
	}
}

func TestSettingsTestEmail(t *testing.T) {
	a, rec := newSettingsApp(t)
	v := smtpValues("test-pass-99")
	v.Set("recipient_email", "ops@example.com")
	sent := a.htmxPost(a.settingsPath("email/test"), v)
	sent.wantStatus(t, http.StatusOK)
	if got, _ := sent.byTestID("email-test-result").Attr("data-sent"); got != "true" {
		t.Fatalf("no sent outcome:\n%s", sent.Body)
	}
	if sent.value("email-server-host") != "smtp.example.com" || sent.value("email-test-recipient_email") != "ops@example.com" {
		t.Error("the SMTP settings tried are not kept in the form")
	}
	if strings.Contains(sent.Body, "test-pass-99") {
		t.Error("the password is in the page")
	}
	// The button posts itself, not its form: the form's hx-disabled-elt
	// ("find button") would search inside the button and fail in htmx.
	if got, _ := sent.byTestID("email-test-submit").Attr("hx-disabled-elt"); got != "this" {
		t.Errorf("test email button hx-disabled-elt = %q, want this", got)
	}
	emails := a.Sandbox.Emails()
	if len(emails) != 1 || emails[0].To != "ops@example.com" || emails[0].SMTPHost != "smtp.example.com" || emails[0].From != "auth@example.com" {
		t.Errorf("sandbox sent %+v", emails)
	}
	if got, _ := a.Neon.GetEmailProvider(context.Background(), a.projectID, a.project.BranchID); got.Type != neonapi.EmailServerShared {
		t.Error("a test email saved the server")
	}

	// An unreachable server: the outcome says so, in place, without JS too.
	v.Set("host", "smtp.example.invalid")
	failed := a.postForm(a.settingsPath("email/test"), v)
	failed.wantStatus(t, http.StatusOK)
	if got, _ := failed.byTestID("email-test-result").Attr("data-sent"); got != "false" || !strings.Contains(failed.text("email-test-error"), "no such host") {
		t.Errorf("failure outcome:\n%s", failed.Body)
	}
	if failed.byTestID("settings-tabs").Length() != 1 {
		t.Error("the no-JS answer is not the whole page")
	}
	rec.writes()

	noRecipient := a.htmxPost(a.settingsPath("email/test"), smtpValues("p"))
	noRecipient.wantStatus(t, http.StatusUnprocessableEntity)
	wantFieldError(t, noRecipient, "email-test-recipient_email")
	noPassword := smtpValues("")
	noPassword.Set("recipient_email", "ops@example.com")
	r := a.htmxPost(a.settingsPath("email/test"), noPassword)
	r.wantStatus(t, http.StatusUnprocessableEntity)
	wantFieldError(t, r, "email-server-password")
	wantNoWrites(t, rec)

	rec.failNextWrite()
	v.Set("host", "smtp.example.com")
	wantNeonProblem(t, a.htmxPost(a.settingsPath("email/test"), v), http.StatusLocked)
	if len(a.Sandbox.Emails()) != 1 {
		t.Errorf("%d emails sent, want still 1", len(a.Sandbox.Emails()))
	}
}
