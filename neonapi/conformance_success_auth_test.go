package neonapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// The secrets the branch-level walk-through sends; no answer may carry them.
const (
	oauthSecretValue = "gh-client-secret-conformance-4711"
	smtpPasswordA    = "smtp-password-conformance-a"
	smtpPasswordB    = "smtp-password-conformance-b"
)

// testBranchAuthSuccesses walks through the branch-level Neon Auth
// configuration on a fresh Better Auth branch, each operation answering with
// a success and the next read showing what the last write did.
func testBranchAuthSuccesses(t *testing.T, c *conformance) {
	b := conformanceProject(t, c, "conformance-branch-auth")
	p, br := b.project, b.branch
	must(t, c, "createNeonAuth", func(ctx context.Context) (*neonapi.IntegrationKeys, error) {
		return c.client.EnableBranchAuth(ctx, p, br, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth})
	})

	cfg := must(t, c, "updateNeonAuthConfig", func(ctx context.Context) (*neonapi.AuthConfig, error) {
		return c.client.UpdateAuthConfig(ctx, p, br, neonapi.AuthConfigUpdate{Name: "Conformance App"})
	})
	in := must(t, c, "getNeonAuth", func(ctx context.Context) (*neonapi.Integration, error) { return c.client.GetBranchAuth(ctx, p, br) })
	if cfg.Name != "Conformance App" || in.Name != "Conformance App" {
		t.Errorf("updateNeonAuthConfig: answered %q, getNeonAuth shows %q; want Conformance App", cfg.Name, in.Name)
	}

	walkDomains(t, c, p, br)
	walkOAuth(t, c, p, br)
	walkEmail(t, c, p, br)
	walkPlugins(t, c, p, br)

	// No answer carries a secret that was sent, and the recorded email has no
	// password.
	for _, r := range []struct{ op, sub string }{
		{"listBranchNeonAuthOauthProviders", "/oauth_providers"},
		{"getNeonAuthEmailProvider", "/email_provider"},
		{"getNeonAuthPluginConfigs", "/plugins"},
	} {
		status, body := c.sendRead(t, r.op, rawRequest{"GET", "/projects/" + p + "/branches/" + br + "/auth" + r.sub, ""}, true, "")
		for _, secret := range []string{oauthSecretValue, smtpPasswordA, smtpPasswordB} {
			if status != http.StatusOK || strings.Contains(string(body), secret) {
				t.Errorf("%s: status %d, body %s; want 200 without the secret %q", r.op, status, body, secret)
			}
		}
	}
}

func walkDomains(t *testing.T, c *conformance, p, br string) {
	better := authprovider.BetterAuth
	must(t, c, "addBranchNeonAuthTrustedDomain", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.AddTrustedDomain(ctx, p, br, neonapi.AddTrustedDomainRequest{Domain: "https://App.Example.com/", AuthProvider: better})
	})
	must(t, c, "addBranchNeonAuthTrustedDomain", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.AddTrustedDomain(ctx, p, br, neonapi.AddTrustedDomainRequest{Domain: "http://localhost:3000", AuthProvider: better})
	})
	domains := must(t, c, "listBranchNeonAuthTrustedDomains", func(ctx context.Context) ([]neonapi.TrustedDomain, error) {
		return c.client.ListTrustedDomains(ctx, p, br)
	})
	want := []neonapi.TrustedDomain{{Domain: "https://app.example.com", AuthProvider: better}, {Domain: "http://localhost:3000", AuthProvider: better}}
	if !slices.Equal(domains, want) {
		t.Errorf("listBranchNeonAuthTrustedDomains: %+v, want %+v", domains, want)
	}
	must(t, c, "deleteBranchNeonAuthTrustedDomain", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.DeleteTrustedDomains(ctx, p, br, neonapi.DeleteTrustedDomainsRequest{AuthProvider: better, Domains: []string{"https://app.example.com"}})
	})
	domains = must(t, c, "listBranchNeonAuthTrustedDomains", func(ctx context.Context) ([]neonapi.TrustedDomain, error) {
		return c.client.ListTrustedDomains(ctx, p, br)
	})
	if len(domains) != 1 || domains[0].Domain != "http://localhost:3000" {
		t.Errorf("after deleting https://app.example.com: %+v, want only http://localhost:3000", domains)
	}

	allow := must(t, c, "getNeonAuthAllowLocalhost", func(ctx context.Context) (bool, error) { return c.client.GetAllowLocalhost(ctx, p, br) })
	updated := must(t, c, "updateNeonAuthAllowLocalhost", func(ctx context.Context) (bool, error) {
		return c.client.UpdateAllowLocalhost(ctx, p, br, false)
	})
	again := must(t, c, "getNeonAuthAllowLocalhost", func(ctx context.Context) (bool, error) { return c.client.GetAllowLocalhost(ctx, p, br) })
	if !allow || updated || again {
		t.Errorf("allow_localhost: default %t, after turning it off %t then %t; want true, false, false", allow, updated, again)
	}
}

func walkOAuth(t *testing.T, c *conformance, p, br string) {
	list := must(t, c, "listBranchNeonAuthOauthProviders", func(ctx context.Context) ([]neonapi.OAuthProvider, error) {
		return c.client.ListOAuthProviders(ctx, p, br)
	})
	if len(list) != 1 || list[0].ID != neonapi.OAuthGoogle || list[0].Type != neonapi.OAuthShared {
		t.Errorf("default OAuth providers: %+v, want Google with shared credentials", list)
	}
	added := must(t, c, "addBranchNeonAuthOauthProvider", func(ctx context.Context) (*neonapi.OAuthProvider, error) {
		return c.client.AddOAuthProvider(ctx, p, br, neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGitHub, ClientID: "gh-client", ClientSecret: neonapi.NewSecret(oauthSecretValue)})
	})
	if added.ID != neonapi.OAuthGitHub || added.Type != neonapi.OAuthStandard || added.ClientID != "gh-client" || added.ClientSecret.IsSet() {
		t.Errorf("addBranchNeonAuthOauthProvider: %+v (secret set %t), want github standard gh-client and no secret", added, added.ClientSecret.IsSet())
	}
	updated := must(t, c, "updateBranchNeonAuthOauthProvider", func(ctx context.Context) (*neonapi.OAuthProvider, error) {
		return c.client.UpdateOAuthProvider(ctx, p, br, neonapi.OAuthGitHub, neonapi.UpdateOAuthProviderRequest{ClientID: "gh-client-2"})
	})
	if updated.ClientID != "gh-client-2" || updated.Type != neonapi.OAuthStandard {
		t.Errorf("updateBranchNeonAuthOauthProvider: %+v, want client gh-client-2, still standard", updated)
	}
	must(t, c, "deleteBranchNeonAuthOauthProvider", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.DeleteOAuthProvider(ctx, p, br, neonapi.OAuthGoogle)
	})
	list = must(t, c, "listBranchNeonAuthOauthProviders", func(ctx context.Context) ([]neonapi.OAuthProvider, error) {
		return c.client.ListOAuthProviders(ctx, p, br)
	})
	if len(list) != 1 || list[0].ID != neonapi.OAuthGitHub || list[0].ClientID != "gh-client-2" {
		t.Errorf("after deleting google: %+v, want only github", list)
	}
}

func walkEmail(t *testing.T, c *conformance, p, br string) {
	ep := must(t, c, "getNeonAuthEmailAndPasswordConfig", func(ctx context.Context) (*neonapi.EmailAndPasswordConfig, error) {
		return c.client.GetEmailAndPasswordConfig(ctx, p, br)
	})
	if !ep.Enabled || ep.EmailVerificationMethod != neonapi.EmailVerificationOTP || ep.RequireEmailVerification {
		t.Errorf("default email and password: %+v, want enabled, otp, no required verification", ep)
	}
	server := must(t, c, "getNeonAuthEmailProvider", func(ctx context.Context) (*neonapi.EmailServer, error) {
		return c.client.GetEmailProvider(ctx, p, br)
	})
	if server.Type != neonapi.EmailServerShared {
		t.Errorf("default email provider: %+v, want shared", server)
	}
	own := neonapi.EmailServer{Type: neonapi.EmailServerStandard, Host: "smtp.example.com", Port: 587, Username: "mailer",
		Password: neonapi.NewSecret(smtpPasswordA), SenderEmail: "auth@example.com", SenderName: "Example"}
	set := must(t, c, "updateNeonAuthEmailProvider", func(ctx context.Context) (*neonapi.EmailServer, error) {
		return c.client.UpdateEmailProvider(ctx, p, br, own)
	})
	if set.Type != neonapi.EmailServerStandard || set.Host != own.Host || set.Port != 587 || set.Password.IsSet() {
		t.Errorf("updateNeonAuthEmailProvider: %+v (password set %t), want the standard server without its password", set, set.Password.IsSet())
	}
	// Links need the branch's own server, which it now has.
	ep = must(t, c, "updateNeonAuthEmailAndPasswordConfig", func(ctx context.Context) (*neonapi.EmailAndPasswordConfig, error) {
		return c.client.UpdateEmailAndPasswordConfig(ctx, p, br, neonapi.EmailAndPasswordConfigUpdate{
			EmailVerificationMethod: new(neonapi.EmailVerificationLink), RequireEmailVerification: new(true)})
	})
	if ep.EmailVerificationMethod != neonapi.EmailVerificationLink || !ep.RequireEmailVerification || !ep.Enabled {
		t.Errorf("updateNeonAuthEmailAndPasswordConfig: %+v, want link, required, still enabled", ep)
	}

	c.sb.ClearEmails()
	req := testEmail("admin@example.com")
	req.Password = neonapi.NewSecret(smtpPasswordB)
	sent := must(t, c, "sendNeonAuthTestEmail", func(ctx context.Context) (*neonapi.SendTestEmailResult, error) {
		return c.client.SendTestEmail(ctx, p, br, req)
	})
	emails := c.sb.Emails()
	if !sent.Success || len(emails) != 1 || emails[0].To != "admin@example.com" || emails[0].From != req.SenderEmail || emails[0].BranchID != br {
		t.Errorf("sendNeonAuthTestEmail: %+v, recorded %+v; want one message to admin@example.com", sent, emails)
	}
	req.Host = "smtp.unreachable.invalid"
	failed := must(t, c, "sendNeonAuthTestEmail", func(ctx context.Context) (*neonapi.SendTestEmailResult, error) {
		return c.client.SendTestEmail(ctx, p, br, req)
	})
	if failed.Success || failed.ErrorMessage == "" || len(c.sb.Emails()) != 1 {
		t.Errorf("sendNeonAuthTestEmail to an unreachable server: %+v, want a failure with a message and nothing recorded", failed)
	}
}

func walkPlugins(t *testing.T, c *conformance, p, br string) {
	all := must(t, c, "getNeonAuthPluginConfigs", func(ctx context.Context) (*neonapi.PluginConfigs, error) {
		return c.client.GetPluginConfigs(ctx, p, br)
	})
	if all.Organization == nil || !all.Organization.Enabled || all.MagicLink == nil || all.MagicLink.Enabled ||
		all.EmailProvider == nil || all.EmailProvider.Type != neonapi.EmailServerStandard || all.AllowLocalhost == nil || *all.AllowLocalhost {
		t.Errorf("getNeonAuthPluginConfigs: %+v, want the organization plugin on, magic links off, the standard server, no localhost", all)
	}
	org := must(t, c, "updateNeonAuthOrganizationPlugin", func(ctx context.Context) (*neonapi.OrganizationConfig, error) {
		return c.client.UpdateOrganizationPlugin(ctx, p, br, neonapi.OrganizationConfigUpdate{MembershipLimit: new(50), CreatorRole: new(neonapi.CreatorRoleAdmin)})
	})
	if org.MembershipLimit != 50 || org.CreatorRole != "admin" || org.OrganizationLimit != 10 {
		t.Errorf("updateNeonAuthOrganizationPlugin: %+v, want 50 members, admin, the organization limit unchanged at 10", org)
	}
	link := must(t, c, "updateNeonAuthMagicLinkPlugin", func(ctx context.Context) (*neonapi.MagicLinkConfig, error) {
		return c.client.UpdateMagicLinkPlugin(ctx, p, br, neonapi.MagicLinkConfigUpdate{Enabled: new(true), ExpiresIn: new(15)})
	})
	if !link.Enabled || link.ExpiresIn != 15 {
		t.Errorf("updateNeonAuthMagicLinkPlugin: %+v, want enabled for 15 minutes", link)
	}
	phone := must(t, c, "getNeonAuthPhoneNumberPlugin", func(ctx context.Context) (*neonapi.PhoneNumberConfig, error) {
		return c.client.GetPhoneNumberPlugin(ctx, p, br)
	})
	phone2 := must(t, c, "updateNeonAuthPhoneNumberPlugin", func(ctx context.Context) (*neonapi.PhoneNumberConfig, error) {
		return c.client.UpdatePhoneNumberPlugin(ctx, p, br, neonapi.PhoneNumberConfigUpdate{Enabled: new(true), OTPExpiresIn: new(120)})
	})
	if phone.Enabled || phone.OTPExpiresIn != 300 || !phone2.Enabled || phone2.OTPExpiresIn != 120 {
		t.Errorf("phone number plugin: default %+v, updated %+v; want off/300 then on/120", phone, phone2)
	}

	hook := must(t, c, "getNeonAuthWebhookConfig", func(ctx context.Context) (*neonapi.WebhookConfig, error) {
		return c.client.GetWebhookConfig(ctx, p, br)
	})
	want := neonapi.WebhookConfig{Enabled: true, WebhookURL: "https://hooks.example.com/neon-auth",
		EnabledEvents: []neonapi.WebhookEvent{neonapi.WebhookUserCreated, neonapi.WebhookSendOTP}, TimeoutSeconds: 3}
	set := must(t, c, "updateNeonAuthWebhookConfig", func(ctx context.Context) (*neonapi.WebhookConfig, error) {
		return c.client.UpdateWebhookConfig(ctx, p, br, want)
	})
	got := must(t, c, "getNeonAuthWebhookConfig", func(ctx context.Context) (*neonapi.WebhookConfig, error) {
		return c.client.GetWebhookConfig(ctx, p, br)
	})
	if hook.Enabled || set.WebhookURL != want.WebhookURL || got.WebhookURL != want.WebhookURL || !got.Enabled ||
		!slices.Equal(got.EnabledEvents, want.EnabledEvents) || got.TimeoutSeconds != 3 {
		t.Errorf("webhooks: default %+v, set %+v, read back %+v; want off, then %+v", hook, set, got, want)
	}
}
