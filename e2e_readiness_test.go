package main

import (
	"context"
	"encoding/json"
	"errors"
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

// What the readiness test types into the settings forms.
const (
	greenDomain      = "https://app.example.com"
	greenSMTPHost    = "smtp.launchpad.example.com"
	greenSMTPPort    = "587"
	greenSMTPUser    = "mailer"
	greenSender      = "auth@launchpad.example.com"
	greenRecipient   = "ops@launchpad.example.com"
	greenOAuthClient = "launchpad-google-client"
)

// TestE2EReadinessToGreen takes a fresh Better Auth branch from its first
// readiness check to ready, in a real browser and through the dashboard's
// links and forms alone: trust the app's domain, refuse localhost, give
// Google the app's own OAuth credentials, send auth emails through the app's
// own SMTP server (with a test email), and require verified addresses. Then
// Neon's API, not the dashboard, confirms every setting, and neither the
// client secret nor the SMTP password shows in a page or a log line.
func TestE2EReadinessToGreen(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)

	sb := startReadinessSandbox(t, dbURL)
	// The browser saves five settings and re-reads them within seconds, as
	// fast as no person does: through Neon's 700 calls a minute it would
	// meet the budget, which the budget's own tests cover. This test's
	// sandbox is its own and has no limit.
	dash := startDashboardEnv(t, dbURL, map[string]string{"NEON_API_KEY": sb.APIKey, "NEON_API_URL": sb.APIURL, "NEON_API_RATE": "100000"})
	f := &greenFlow{
		t: t,
		b: browsertest.New(t, browsertest.Options{
			Headers: map[string]string{"X-Forwarded-Email": e2eAdminEmail, "X-Forwarded-User": e2eAdminUser},
			Budget:  3 * time.Minute,
		}),
		oauthSecret:  "oauth-secret-" + randomSuffix() + randomSuffix(),
		smtpPassword: "smtp-password-" + randomSuffix() + randomSuffix(),
	}

	// The one URL typed: the project page. Everything after is a link.
	f.b.Follow("open the project", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+sb.projectID))
	f.openReadiness(sb)
	f.fixDomains()
	f.fixSignIn()
	f.fixEmail()
	f.checkReady()
	if p := f.b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported errors:\n  %s", strings.Join(p, "\n  "))
	}

	sb.checkSettings(t)
	for name, s := range f.secrets() {
		if strings.Contains(dash.logs.String(), s) || strings.Contains(sb.logs.String(), s) {
			t.Errorf("the %s is in the server's log", name)
		}
	}
}

// greenFlow is the browser's way through the settings forms, with the
// secrets it types.
type greenFlow struct {
	t                         *testing.T
	b                         *browsertest.Browser
	oauthSecret, smtpPassword string
}

// secrets are the values typed that must never come back.
func (f *greenFlow) secrets() map[string]string {
	return map[string]string{"OAuth client secret": f.oauthSecret, "SMTP password": f.smtpPassword}
}

// noSecrets fails the test if the page, as the browser holds it now, has a
// secret typed into a form.
func (f *greenFlow) noSecrets(step string) {
	f.t.Helper()
	html := browsertest.Get(f.b, step+": read the page", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	for name, s := range f.secrets() {
		if strings.Contains(html, s) {
			f.b.Fail(step, fmt.Errorf("the %s typed in the browser is in the page", name))
		}
	}
}

// openReadiness follows the new branch's readiness link from the project
// page and checks the branch starts with what Neon sets by default.
func (f *greenFlow) openReadiness(sb *readinessSandbox) {
	f.t.Helper()
	row := chromedp.CSS(`[data-testid="branch-row"][data-branch-id="` + sb.branchID + `"]`)
	f.b.Run("find the new branch", browsertest.WaitText(row+` [data-testid="branch-provider"]`, "Better Auth"))
	f.b.Follow("open the branch's readiness", http.StatusOK, chromedp.Click(row+` [data-testid="branch-readiness-link"]`))
	f.b.Run("wait for the checks", browsertest.WaitText(browsertest.TestID("readiness-branch"), sb.branchName))
	start := readinessStatuses(f.b)
	for key, want := range map[string]string{
		"trusted-domains": "red", "localhost": "amber", "oauth-credentials": "red",
		"email-provider": "amber", "email-verification": "amber", "webhooks": "info",
	} {
		if start[key] != want {
			f.b.Fail("check the first readiness", fmt.Errorf("%s is %q, want %q (all: %v)", key, start[key], want, start))
		}
	}
	f.b.Run("check the summary", browsertest.WaitAttr(browsertest.TestID("readiness-summary"), "data-status", "red"))
}

// fixDomains follows the trusted domains item's fix link, trusts the app
// and refuses localhost.
func (f *greenFlow) fixDomains() {
	f.t.Helper()
	id := browsertest.TestID
	f.b.Follow("fix the trusted domains", http.StatusOK, chromedp.Click(id("readiness-item-trusted-domains")+` [data-testid="readiness-fix"]`))
	f.b.Run("add the app's domain",
		chromedp.SendKeys(id("domains-domain"), greenDomain),
		chromedp.Click(id("domains-submit")),
		browsertest.Visible(chromedp.CSS(`[data-testid="domain-row"][data-domain="`+greenDomain+`"]`)),
	)
	setSwitch(f.b, "localhost-allow_localhost", false)
	f.b.Run("refuse localhost", chromedp.Click(id("localhost-submit")), browsertest.Visible(id("localhost-saved")))
}

// fixSignIn moves Google to the app's own OAuth client and requires
// verified addresses.
func (f *greenFlow) fixSignIn() {
	f.t.Helper()
	id := browsertest.TestID
	f.b.Follow("open the sign-in settings", http.StatusOK, chromedp.Click(id("settings-tab-sign-in")))
	google := chromedp.CSS(`[data-testid="oauth-row"][data-provider="google"]`)
	f.b.Run("give Google own credentials",
		browsertest.WaitText(google+` [data-testid="oauth-credentials"]`, "shared"),
		chromedp.SendKeys(id("oauth-google-client_id"), greenOAuthClient),
		chromedp.SendKeys(id("oauth-google-client_secret"), f.oauthSecret),
		chromedp.Click(id("oauth-google-submit")),
		browsertest.Visible(id("oauth-google-saved")),
		browsertest.WaitText(google+` [data-testid="oauth-credentials"]`, "own credentials"),
	)
	f.noSecrets("save Google's credentials")
	setSwitch(f.b, "email-password-enabled", true)
	setSwitch(f.b, "email-password-require_email_verification", true)
	f.b.Run("require email verification", chromedp.Click(id("email-password-submit")), browsertest.Visible(id("email-password-saved")))
}

// fixEmail saves the app's own SMTP server, then tries it with a test email
// whose outcome shows in the form.
func (f *greenFlow) fixEmail() {
	f.t.Helper()
	id := browsertest.TestID
	f.b.Follow("open the email settings", http.StatusOK, chromedp.Click(id("settings-tab-email")))
	f.b.Run("set the own SMTP server",
		chromedp.Click(chromedp.ID("email-server-type-standard")),
		chromedp.SendKeys(id("email-server-sender_email"), greenSender),
		chromedp.SendKeys(id("email-server-sender_name"), "Launchpad"),
		chromedp.SendKeys(id("email-server-host"), greenSMTPHost),
		chromedp.SendKeys(id("email-server-port"), greenSMTPPort),
		chromedp.SendKeys(id("email-server-username"), greenSMTPUser),
		chromedp.SendKeys(id("email-server-password"), f.smtpPassword),
		chromedp.Click(id("email-server-submit")),
		browsertest.Visible(id("email-server-saved")),
	)
	f.noSecrets("save the email server")
	f.b.Run("send a test email",
		// Neon never gives a saved password back, so the test needs it again.
		chromedp.SendKeys(id("email-server-password"), f.smtpPassword),
		chromedp.SendKeys(id("email-test-recipient_email"), greenRecipient),
		chromedp.Click(id("email-test-submit")),
		browsertest.WaitAttr(id("email-test-result"), "data-sent", "true"),
		browsertest.WaitText(id("email-test-result"), greenRecipient),
	)
	f.noSecrets("send a test email")
}

// checkReady goes back to the checklist by the settings page's link and
// expects every item green or info, the summary ready, and no axe violation in either colour scheme.
func (f *greenFlow) checkReady() {
	f.t.Helper()
	id := browsertest.TestID
	f.b.Follow("open the readiness again", http.StatusOK, chromedp.Click(id("settings-readiness")))
	f.b.Run("wait for the checks", browsertest.WaitAttr(id("readiness-summary"), "data-status", "green"))
	for key, status := range readinessStatuses(f.b) {
		if status != "green" && status != "info" {
			f.b.Fail("check the final readiness", fmt.Errorf("%s is still %s", key, status))
		}
	}
	if got := browsertest.Get(f.b, "read the summary", chromedp.TextContent(id("readiness-summary"))); !strings.Contains(got, "Ready") {
		f.b.Fail("check the summary", fmt.Errorf("summary %q does not say ready", strings.TrimSpace(got)))
	}
	f.noSecrets("readiness page")
	f.b.CheckAccessibility("branch readiness, all green")
}

// readinessStatuses maps the readiness page's item keys to their status.
func readinessStatuses(b *browsertest.Browser) map[string]string {
	js := `Object.fromEntries([...document.querySelectorAll('[data-testid^="readiness-item-"]')]
		.map(li => [li.dataset.testid.slice("readiness-item-".length), li.dataset.status]))`
	got := browsertest.Get(b, "read the readiness items", chromedp.Evaluate[map[string]string](js))
	if len(got) < 6 {
		b.Fail("read the readiness items", fmt.Errorf("found %d items: %v", len(got), got))
	}
	return got
}

// setSwitch clicks the checkbox with data-testid testID unless it is already
// in the state wanted.
func setSwitch(b *browsertest.Browser, testID string, on bool) {
	sel := browsertest.TestID(testID)
	b.Run("wait for "+testID, browsertest.Visible(sel))
	js := fmt.Sprintf(`document.querySelector(%q).checked`, string(sel))
	if browsertest.Get(b, "read "+testID, chromedp.Evaluate[bool](js)) != on {
		b.Run("switch "+testID, chromedp.Click(sel))
	}
}

// readinessSandbox is the demo's Neon API sandbox, run by the test so that
// it can ask Neon what the dashboard changed, with a fresh Better Auth
// branch of the demo's launchpad project.
type readinessSandbox struct {
	*demo
	client     *neonapi.Client
	logs       *syncBuffer
	projectID  string
	branchID   string
	branchName string
}

// startReadinessSandbox starts and seeds the demo sandbox, then branches
// launchpad's default branch; the branch inherits Better Auth with the
// default branch's settings, or gets it enabled when it does not.
func startReadinessSandbox(t *testing.T, dbURL string) *readinessSandbox {
	t.Helper()
	ctx := t.Context()
	s := &readinessSandbox{logs: &syncBuffer{}}
	s.demo, s.client = startDemoAPI(t, dbURL, s.logs)
	s.projectID = demoProjectID(t, s.client, demoProjectBranchAuth)
	s.branchName = "release-" + randomSuffix()
	br, err := s.client.CreateBranch(ctx, s.projectID, neonapi.CreateBranchRequest{Name: s.branchName})
	if err != nil {
		t.Fatal(err)
	}
	s.branchID = br.Branch.ID
	if _, err := s.client.GetBranchAuth(ctx, s.projectID, s.branchID); errors.Is(err, neonapi.ErrNotFound) {
		_, err = s.client.EnableBranchAuth(ctx, s.projectID, s.branchID, neonapi.EnableBranchAuthRequest{
			AuthProvider: authprovider.BetterAuth, DatabaseName: br.Databases[0].Name,
		})
		if err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkSettings asks Neon for every setting the browser changed, and the
// sandbox for the test email it recorded.
func (s *readinessSandbox) checkSettings(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	p, b := s.projectID, s.branchID
	if ds, err := s.client.ListTrustedDomains(ctx, p, b); err != nil || len(ds) != 1 || ds[0].Domain != greenDomain {
		t.Errorf("trusted domains: %+v, %v; want only %s", ds, err, greenDomain)
	}
	if on, err := s.client.GetAllowLocalhost(ctx, p, b); err != nil || on {
		t.Errorf("allow localhost: %t, %v; want off", on, err)
	}
	ps, err := s.client.ListOAuthProviders(ctx, p, b)
	if err != nil || len(ps) == 0 {
		t.Errorf("OAuth providers: %+v, %v", ps, err)
	}
	for _, o := range ps {
		if o.Type != neonapi.OAuthStandard || (o.ID == neonapi.OAuthGoogle && o.ClientID != greenOAuthClient) {
			t.Errorf("OAuth provider %s: type %s, client id %q; want own credentials", o.ID, o.Type, o.ClientID)
		}
	}
	if e, err := s.client.GetEmailProvider(ctx, p, b); err != nil || e.Type != neonapi.EmailServerStandard || e.Host != greenSMTPHost || e.SenderEmail != greenSender {
		t.Errorf("email server: %+v, %v; want %s sending as %s", e, err, greenSMTPHost, greenSender)
	}
	if ep, err := s.client.GetEmailAndPasswordConfig(ctx, p, b); err != nil || !ep.Enabled || !ep.RequireEmailVerification {
		t.Errorf("email and password: %+v, %v; want verification required", ep, err)
	}
	s.checkTestEmail(t)
}

// checkTestEmail finds the test email in the sandbox's record of sent mail.
func (s *readinessSandbox) checkTestEmail(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.APIURL, "/api/v2")+"/_sandbox/emails", nil)
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list struct {
		Emails []struct {
			BranchID string `json:"branch_id"`
			To       string `json:"to"`
			SMTPHost string `json:"smtp_host"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /_sandbox/emails: %s, %v", res.Status, err)
	}
	for _, e := range list.Emails {
		if e.BranchID == s.branchID && e.To == greenRecipient && e.SMTPHost == greenSMTPHost {
			return
		}
	}
	t.Errorf("no test email to %s through %s on branch %s in %+v", greenRecipient, greenSMTPHost, s.branchID, list.Emails)
}
