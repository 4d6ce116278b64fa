package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestE2ECopySettingsToGreen makes launchpad's default branch production-
// ready through Neon's API, then, in a real browser, copies its settings to
// a fresh branch from the comparison page: the preview lists every change
// and asks for the two secrets Neon never returns, the copy is made in one
// confirmed step, and the fresh branch's readiness turns green. Neon's API
// confirms the copy, and neither secret shows in a page or a log line.
func TestE2ECopySettingsToGreen(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)

	sb := startReadinessSandbox(t, dbURL)
	mainID := readyDefaultBranch(t, sb)
	dash := startDashboardEnv(t, dbURL, map[string]string{"NEON_API_KEY": sb.APIKey, "NEON_API_URL": sb.APIURL})
	f := &greenFlow{
		t: t,
		b: browsertest.New(t, browsertest.Options{
			Headers: map[string]string{"X-Forwarded-Email": e2eAdminEmail, "X-Forwarded-User": e2eAdminUser},
			Budget:  3 * time.Minute,
		}),
		oauthSecret:  "oauth-secret-" + randomSuffix() + randomSuffix(),
		smtpPassword: "smtp-password-" + randomSuffix() + randomSuffix(),
	}
	id := browsertest.TestID

	f.b.Follow("open the comparison", http.StatusOK,
		chromedp.Navigate(dash.URL+"/projects/"+sb.projectID+"/auth/compare?a="+mainID+"&b="+sb.branchID+"&only=differences"))
	f.b.Run("see the differences only", browsertest.WaitText(id("compare-differences"), "settings differ"))
	if n := browsertest.Get(f.b, "count the same rows", chromedp.Evaluate[int](`document.querySelectorAll('[data-differs="false"]').length`)); n != 0 {
		f.b.Fail("only differences", fmt.Errorf("%d rows that are the same are shown", n))
	}
	f.b.CheckAccessibility("compare, only differences")

	f.b.Follow("open the copy preview", http.StatusOK, chromedp.Click(id("copy-a-to-b")))
	f.b.Run("see the changes", browsertest.WaitText(id("copy-count"), "to "+sb.branchName))
	for _, step := range []string{"copy-step-domain-add-https---app-example-com", "copy-step-email-server", "copy-step-email-password", "copy-step-oauth-google-update"} {
		f.b.Run("see "+step, browsertest.Visible(id(step)))
	}
	f.b.CheckAccessibility("copy preview")

	// Confirming without the secrets is refused, and nothing is copied.
	f.b.Follow("copy without the secrets", http.StatusUnprocessableEntity, chromedp.Click(id("copy-submit")))
	f.b.Run("see the password asked for", browsertest.Visible(id("field-error-copy-email_password")))
	if ds, err := sb.client.ListTrustedDomains(t.Context(), sb.projectID, sb.branchID); err != nil || len(ds) != 0 {
		t.Errorf("a refused copy trusted %+v (%v)", ds, err)
	}

	f.b.Run("type the secrets",
		chromedp.SendKeys(id("copy-email_password"), f.smtpPassword),
		chromedp.SendKeys(id("copy-oauth-google_client_secret"), f.oauthSecret))
	f.b.Follow("copy", http.StatusOK, chromedp.Click(id("copy-submit")))
	f.b.Run("see the copy done", browsertest.WaitText(id("copy-done"), "made on "+sb.branchName))
	f.noSecrets("copy result")
	f.b.CheckAccessibility("copy result")

	f.b.Follow("open the fresh branch's readiness", http.StatusOK, chromedp.Click(id("copy-readiness")))
	f.b.Run("wait for the checks", browsertest.WaitAttr(id("readiness-summary"), "data-status", "green"))
	for key, status := range readinessStatuses(f.b) {
		if status != "green" && status != "info" {
			f.b.Fail("check the readiness", fmt.Errorf("%s is still %s", key, status))
		}
	}
	f.noSecrets("readiness page")

	sb.checkCopied(t)
	for name, s := range f.secrets() {
		if strings.Contains(dash.logs.String(), s) || strings.Contains(sb.logs.String(), s) {
			t.Errorf("the %s is in the server's log", name)
		}
	}
}

// readyDefaultBranch configures launchpad's default branch for production
// through Neon's API (it was branched from before, so the fresh branch
// keeps Neon's defaults) and returns its id.
func readyDefaultBranch(t *testing.T, sb *readinessSandbox) string {
	t.Helper()
	ctx := t.Context()
	branches, err := sb.client.ListBranches(ctx, sb.projectID)
	if err != nil {
		t.Fatal(err)
	}
	var mainID string
	for _, b := range branches {
		if b.Default {
			mainID = b.ID
		}
	}
	p, on := sb.projectID, true
	for _, step := range []func() error{
		func() error {
			return sb.client.AddTrustedDomain(ctx, p, mainID, neonapi.AddTrustedDomainRequest{Domain: greenDomain, AuthProvider: authprovider.BetterAuth})
		},
		func() error { _, err := sb.client.UpdateAllowLocalhost(ctx, p, mainID, false); return err },
		func() error {
			_, err := sb.client.UpdateOAuthProvider(ctx, p, mainID, neonapi.OAuthGoogle, neonapi.UpdateOAuthProviderRequest{
				ClientID: greenOAuthClient, ClientSecret: neonapi.NewSecret("main-branch-google-secret"),
			})
			return err
		},
		func() error {
			_, err := sb.client.UpdateEmailProvider(ctx, p, mainID, neonapi.EmailServer{
				Type: neonapi.EmailServerStandard, Host: greenSMTPHost, Port: 587, Username: greenSMTPUser,
				Password: neonapi.NewSecret("main-branch-smtp-secret"), SenderEmail: greenSender, SenderName: "Launchpad",
			})
			return err
		},
		func() error {
			_, err := sb.client.UpdateEmailAndPasswordConfig(ctx, p, mainID, neonapi.EmailAndPasswordConfigUpdate{RequireEmailVerification: &on})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatalf("make the default branch ready: %v", err)
		}
	}
	return mainID
}

// checkCopied asks Neon for what the copy changed on the fresh branch.
func (s *readinessSandbox) checkCopied(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	p, b := s.projectID, s.branchID
	if ds, err := s.client.ListTrustedDomains(ctx, p, b); err != nil || len(ds) != 1 || ds[0].Domain != greenDomain {
		t.Errorf("trusted domains: %+v, %v; want only %s", ds, err, greenDomain)
	}
	if e, err := s.client.GetEmailProvider(ctx, p, b); err != nil || e.Type != neonapi.EmailServerStandard || e.Host != greenSMTPHost || e.SenderEmail != greenSender {
		t.Errorf("email server: %+v, %v; want %s sending as %s", e, err, greenSMTPHost, greenSender)
	}
	ps, err := s.client.ListOAuthProviders(ctx, p, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ps {
		if o.ID == neonapi.OAuthGoogle && (o.Type != neonapi.OAuthStandard || o.ClientID != greenOAuthClient) {
			t.Errorf("Google: type %s, client id %q; want own credentials %s", o.Type, o.ClientID, greenOAuthClient)
		}
	}
}
