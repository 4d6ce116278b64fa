package handlers

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestSettingsSecretsAndAudit changes every settings group as an admin
// behind the real security middleware, through both htmx and plain posts,
// refused and accepted. Each change leaves one audit line with its own
// action and, where Neon was asked, Neon's status and request id. The OAuth
// client secrets and SMTP passwords typed never come back: not in the answer
// to the form that set them, a later page, a header or cookie, a log line or
// the audit log.
func TestSettingsSecretsAndAudit(t *testing.T) {
	logs, audit := &lockedBuffer{}, &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := &neonRecorder{}
	a := newTestApp(t,
		withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: identity.AuditTransport(rec)})),
		withHandler(func(h *Handler) {
			cfg := secAuthConfig(t)
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
			sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", Logger: logger, AuditLog: audit})
			if err != nil {
				t.Fatal(err)
			}
			h.Security, h.Logger = sec, logger
		}))
	rec.sb = a.Sandbox
	a.enableBetterAuth()
	browser := &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.Client.Transport = browser
	a.get(a.settingsPath("domains")).wantStatus(t, http.StatusOK)

	secrets := []string{"oauth-secret-S1-a8f2", "oauth-secret-S2-b913", "smtp-pass-S3-c7d4", "smtp-pass-S4-d0e5", "oauth-secret-S5-e1f6", "smtp-pass-S6-f2a7"}
	smtp := func(password string) url.Values {
		v := smtpValues(password)
		v.Set("recipient_email", "ops@example.com")
		return v
	}
	steps := []struct {
		path   string
		values url.Values
		htmx   bool
		fail   bool // Neon refuses the write
		action string
		status int
		neon   float64 // Neon's status; 0: not asked
	}{
		{"sign-in/oauth", url.Values{"provider": {"github"}, "credentials": {"own"}, "client_id": {"gh"}, "client_secret": {secrets[0]}}, true, false, "auth.oauth.add", 200, 200},
		{"sign-in/oauth/github", url.Values{"client_id": {"gh"}, "client_secret": {secrets[1]}}, false, false, "auth.oauth.update", 303, 200},
		{"email", smtp(secrets[2]), true, false, "auth.email.update", 200, 200},
		{"email/test", smtp(secrets[3]), false, false, "auth.email.test", 200, 200},
		{"sign-in/oauth", url.Values{"provider": {"vercel"}, "credentials": {"own"}, "client_secret": {secrets[4]}}, true, false, "auth.oauth.add", 422, 0},
		{"email", smtp(secrets[5]), true, true, "auth.email.update", 423, 423},
		{"domains", url.Values{"domain": {"https://app.example.com"}}, true, false, "auth.domains.add", 200, 201},
		{"domains/remove", url.Values{"domain": {"https://app.example.com"}}, false, false, "auth.domains.remove", 303, 200},
		{"domains/localhost", url.Values{}, true, false, "auth.localhost.update", 200, 200},
		{"sign-in/email-password", url.Values{"email_verification_method": {"link"}, "enabled": {"on"}}, true, false, "auth.email_password.update", 200, 200},
		{"sign-in/oauth/github/remove", url.Values{}, true, false, "auth.oauth.remove", 200, 200},
		{"plugins/organization", url.Values{"organization_limit": {"2"}, "membership_limit": {"2"}, "creator_role": {"owner"}}, true, false, "auth.plugins.organization", 200, 200},
		{"plugins/magic-link", url.Values{"expires_in": {"10"}}, true, false, "auth.plugins.magic_link", 200, 200},
		{"plugins/phone-number", url.Values{"otp_expires_in": {"abc"}}, true, false, "auth.plugins.phone_number", 422, 0},
		{"webhooks", url.Values{}, false, false, "auth.webhooks.update", 303, 200},
		{"application", url.Values{"name": {"Audited"}}, true, false, "auth.application.update", 200, 200},
	}
	for _, s := range steps {
		if s.fail {
			rec.failNextWrite()
		}
		a.post(a.settingsPath(s.path), s.values, s.htmx).wantStatus(t, s.status)
	}
	for _, g := range settingsGroups {
		a.get(a.settingsPath(g.path)).wantStatus(t, http.StatusOK)
	}
	a.get("/projects/"+a.projectID).wantStatus(t, http.StatusOK)

	lines, posts := audit.Lines(t), postsOf(browser.exchanges())
	if len(lines) != len(steps) || len(posts) != len(steps) {
		t.Fatalf("%d audit lines for %d posts, want %d:\n%s", len(lines), len(posts), len(steps), audit)
	}
	for i, s := range steps {
		line, id := lines[i], posts[i].header.Get(echo.HeaderXRequestID)
		if line["action"] != s.action || line["status"] != float64(s.status) || line["actor"] != adminEmail ||
			line["project"] != a.projectID || line["branch"] != a.project.BranchID || line["request_id"] != id {
			t.Errorf("line %d = %v, want %s with status %d", i, line, s.action, s.status)
		}
		if s.neon == 0 {
			if _, asked := line["neon_status"]; asked || line["outcome"] != "error" {
				t.Errorf("line %d (%s): Neon asked or outcome %v for a refused form", i, s.action, line["outcome"])
			}
			continue
		}
		if line["neon_status"] != s.neon || line["neon_request_id"] != id || id == "" {
			t.Errorf("line %d (%s): neon_status %v neon_request_id %v, want %v and %q", i, s.action, line["neon_status"], line["neon_request_id"], s.neon, id)
		}
	}
	if line := lines[1]; line["target"] != "provider=github" {
		t.Errorf("OAuth update target = %v", line["target"])
	}

	for _, secret := range secrets {
		for _, x := range browser.exchanges() {
			if strings.Contains(x.body, secret) || strings.Contains(headerText(x.header), secret) {
				t.Errorf("%s %s answers with a secret (%.14s…)", x.method, x.path, secret)
			}
		}
		if strings.Contains(logs.String(), secret) || strings.Contains(audit.String(), secret) {
			t.Errorf("the logs carry a secret (%.14s…)", secret)
		}
	}
	t.Logf("%d bytes of logs and %d of audit log searched", len(logs.String()), len(audit.String()))
}
