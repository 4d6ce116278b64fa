package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/neonapi"
)

func TestSettingsEmailAndPasswordSavesEveryField(t *testing.T) {
	a, rec := newSettingsApp(t)
	page := a.get(a.settingsPath("sign-in"))
	page.wantStatus(t, http.StatusOK)
	if !page.isChecked("email-password-enabled") || !page.isChecked("email-password-email_verification_method-otp") {
		t.Fatalf("the page does not show Neon's defaults:\n%.3000s", page.Body)
	}
	// Every field flipped from the sandbox's defaults.
	r := a.htmxPost(a.settingsPath("sign-in/email-password"), url.Values{
		"email_verification_method":          {"otp"},
		"require_email_verification":         {"on"},
		"send_verification_email_on_sign_up": {"on"},
		"send_verification_email_on_sign_in": {"on"},
	})
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("email-password-saved").Length() != 1 || r.isChecked("email-password-enabled") || !r.isChecked("email-password-require_email_verification") {
		t.Errorf("answer:\n%s", r.Body)
	}
	got, err := a.Neon.GetEmailAndPasswordConfig(context.Background(), a.projectID, a.project.BranchID)
	if err != nil {
		t.Fatal(err)
	}
	want := neonapi.EmailAndPasswordConfig{
		Enabled: false, EmailVerificationMethod: "otp", RequireEmailVerification: true, AutoSignInAfterVerification: false,
		SendVerificationEmailOnSignUp: true, SendVerificationEmailOnSignIn: true, DisableSignUp: true,
	}
	if *got != want {
		t.Errorf("Neon has %+v, want %+v", *got, want)
	}
	if w := rec.writes(); len(w) != 1 {
		t.Errorf("writes = %v", w)
	}

	// Bad input: nothing sent, the choice kept.
	bad := a.postForm(a.settingsPath("sign-in/email-password"), url.Values{"email_verification_method": {"sms"}, "enabled": {"on"}})
	bad.wantStatus(t, http.StatusUnprocessableEntity)
	wantFieldError(t, bad, "email-password-email_verification_method")
	if !bad.isChecked("email-password-enabled") {
		t.Error("the checkbox ticked is not kept")
	}
	wantNoWrites(t, rec)

	// Neon's refusal: links need the branch's own email server.
	refused := a.htmxPost(a.settingsPath("sign-in/email-password"), url.Values{"email_verification_method": {"link"}, "enabled": {"on"}})
	wantNeonProblem(t, refused, http.StatusUnprocessableEntity)
	if !strings.Contains(refused.text("api-error-message"), "email server") || !refused.isChecked("email-password-email_verification_method-link") {
		t.Errorf("Neon's message or the choice is missing:\n%s", refused.Body)
	}
}

// oauthProviders is what Neon has, by id.
func (a *testApp) oauthProviders(t *testing.T) map[neonapi.OAuthProviderID]neonapi.OAuthProvider {
	t.Helper()
	list, err := a.Neon.ListOAuthProviders(context.Background(), a.projectID, a.project.BranchID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[neonapi.OAuthProviderID]neonapi.OAuthProvider{}
	for _, p := range list {
		out[p.ID] = p
	}
	return out
}

func TestSettingsOAuthProviders(t *testing.T) {
	a, rec := newSettingsApp(t)
	const secret = "gh-client-secret-7f3a9c"
	add := a.htmxPost(a.settingsPath("sign-in/oauth"), url.Values{
		"provider": {"github"}, "credentials": {"own"}, "client_id": {"gh-client"}, "client_secret": {secret},
	})
	add.wantStatus(t, http.StatusOK)
	row := add.Doc.Find(`[data-testid="oauth-row"][data-provider="github"]`)
	if row.Length() != 1 || strings.TrimSpace(row.Find(`[data-testid="oauth-credentials"]`).Text()) != "own credentials" {
		t.Fatalf("github row:\n%s", add.Body)
	}
	if got := strings.TrimSpace(add.text("oauth-github-client_secret-state")); got != "set" {
		t.Errorf("secret state = %q, want set", got)
	}
	if strings.Contains(add.Body, secret) || add.value("oauth-github-client_secret") != "" {
		t.Error("the client secret is in the page")
	}
	if p := a.oauthProviders(t)[neonapi.OAuthGitHub]; p.Type != neonapi.OAuthStandard || p.ClientID != "gh-client" {
		t.Errorf("Neon has github %+v", p)
	}

	// A new client id with the secret left empty keeps the secret.
	upd := a.postForm(a.settingsPath("sign-in/oauth/github"), url.Values{"client_id": {"gh-client-2"}, "client_secret": {""}})
	upd = a.followRedirect(t, upd, a.settingsPath("sign-in"))
	if !strings.Contains(upd.text("flash"), "GitHub") || upd.value("oauth-github-client_id") != "gh-client-2" {
		t.Errorf("after update: flash %q, client id %q", upd.text("flash"), upd.value("oauth-github-client_id"))
	}
	if p := a.oauthProviders(t)[neonapi.OAuthGitHub]; p.Type != neonapi.OAuthStandard || p.ClientID != "gh-client-2" {
		t.Errorf("Neon has github %+v after the update", p)
	}

	// Google, on shared credentials, moves to its own app.
	a.htmxPost(a.settingsPath("sign-in/oauth/google"), url.Values{"client_id": {"g-client"}, "client_secret": {"g-secret-1"}}).wantStatus(t, http.StatusOK)
	if p := a.oauthProviders(t)[neonapi.OAuthGoogle]; p.Type != neonapi.OAuthStandard || p.ClientID != "g-client" {
		t.Errorf("Neon has google %+v", p)
	}

	rm := a.htmxPost(a.settingsPath("sign-in/oauth/github/remove"), url.Values{})
	rm.wantStatus(t, http.StatusOK)
	if rm.Doc.Find(`[data-provider="github"]`).Length() != 0 || rm.byTestID("oauth-saved").Length() != 1 {
		t.Errorf("after removal:\n%s", rm.Body)
	}
	if _, ok := a.oauthProviders(t)[neonapi.OAuthGitHub]; ok {
		t.Error("Neon still has github")
	}
	if w := rec.writes(); len(w) != 4 {
		t.Errorf("writes = %v, want add, two updates, remove", w)
	}
}

func TestSettingsOAuthBadInput(t *testing.T) {
	a, rec := newSettingsApp(t)
	for _, tc := range []struct {
		name   string
		path   string
		values url.Values
		status int
		field  string
	}{
		{"own without a secret", "sign-in/oauth", url.Values{"provider": {"github"}, "credentials": {"own"}, "client_id": {"x"}}, 422, "oauth-add-client_secret"},
		{"own without a client id", "sign-in/oauth", url.Values{"provider": {"github"}, "credentials": {"own"}, "client_secret": {"s"}}, 422, "oauth-add-client_id"},
		{"shared with a client id", "sign-in/oauth", url.Values{"provider": {"google"}, "credentials": {"shared"}, "client_id": {"x"}}, 422, "oauth-add-client_id"},
		{"a tenant for github", "sign-in/oauth", url.Values{"provider": {"github"}, "credentials": {"own"}, "client_id": {"x"}, "client_secret": {"s"}, "microsoft_tenant_id": {"common"}}, 422, "oauth-add-microsoft_tenant_id"},
		{"unknown provider", "sign-in/oauth", url.Values{"provider": {"myspace"}, "credentials": {"shared"}}, 422, "oauth-add-provider"},
		{"NUL in the client id", "sign-in/oauth", url.Values{"provider": {"github"}, "credentials": {"own"}, "client_id": {"a\x00b"}, "client_secret": {"s"}}, 400, "oauth-add-client_id"},
		{"shared to own without a secret", "sign-in/oauth/google", url.Values{"client_id": {"x"}}, 422, "oauth-google-client_secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.htmxPost(a.settingsPath(tc.path), tc.values)
			r.wantStatus(t, tc.status)
			wantFieldError(t, r, tc.field)
			if id := tc.values.Get("client_id"); id != "" && strings.HasPrefix(tc.field, "oauth-add") && r.value("oauth-add-client_id") != shown(id) {
				t.Errorf("client id not kept: %q", r.value("oauth-add-client_id"))
			}
			wantNoWrites(t, rec)
		})
	}
	if len(a.oauthProviders(t)) != 1 {
		t.Errorf("Neon's providers changed: %v", a.oauthProviders(t))
	}
}

func TestSettingsOAuthNeonRefusals(t *testing.T) {
	a, rec := newSettingsApp(t)
	// The sandbox, like Neon, has shared credentials for some providers only.
	noShared := a.htmxPost(a.settingsPath("sign-in/oauth"), url.Values{"provider": {"vercel"}, "credentials": {"shared"}})
	wantNeonProblem(t, noShared, http.StatusUnprocessableEntity)
	if got, _ := noShared.Doc.Find(`#oauth-add-provider option[selected]`).Attr("value"); got != "vercel" {
		t.Errorf("picked provider not kept: %q", got)
	}
	dup := a.postForm(a.settingsPath("sign-in/oauth"), url.Values{"provider": {"google"}, "credentials": {"shared"}})
	wantNeonProblem(t, dup, http.StatusConflict)
	gone := a.htmxPost(a.settingsPath("sign-in/oauth/vercel/remove"), url.Values{})
	wantNeonProblem(t, gone, http.StatusNotFound)

	rec.writes()
	rec.failNextWrite()
	locked := a.htmxPost(a.settingsPath("sign-in/oauth/google"), url.Values{"client_id": {"g-client"}, "client_secret": {"g-secret"}})
	wantNeonProblem(t, locked, http.StatusLocked)
	row := locked.Doc.Find(`[data-provider="google"]`)
	if row.Find(`[data-testid="api-error"]`).Length() != 1 || locked.value("oauth-google-client_id") != "g-client" {
		t.Errorf("Neon's refusal is not in the google row, or the client id was lost:\n%s", locked.Body)
	}
	if locked.value("oauth-google-client_secret") != "" || strings.Contains(locked.Body, "g-secret") {
		t.Error("the secret came back after Neon refused it")
	}
}
