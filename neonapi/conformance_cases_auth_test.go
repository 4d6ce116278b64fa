package neonapi_test

import (
	"context"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// branchAuthCases are the branch-level Neon Auth configuration operations.
func branchAuthCases() []opCase {
	better := authprovider.BetterAuth
	auth := func(in target) string { return "/projects/" + in.project + "/branches/" + in.branch + "/auth" }
	get := func(op, sub string, call func(ctx context.Context, c *neonapi.Client, in target) error) opCase {
		return opCase{op: op, scoped: true, call: call, raw: func(in target) rawRequest { return rawRequest{"GET", auth(in) + sub, ""} }}
	}
	write := func(op, method, sub, body string, call func(ctx context.Context, c *neonapi.Client, in target) error) opCase {
		return opCase{op: op, scoped: true, call: call, raw: func(in target) rawRequest { return rawRequest{method, auth(in) + sub, body} }}
	}
	secret := neonapi.NewSecret("conformance-client-secret")
	return []opCase{
		write("updateNeonAuthConfig", "PATCH", "/config", `{"name":"Conformance"}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdateAuthConfig(ctx, in.project, in.branch, neonapi.AuthConfigUpdate{Name: "Conformance"}))
		}),
		get("listBranchNeonAuthTrustedDomains", "/domains", func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.ListTrustedDomains(ctx, in.project, in.branch))
		}),
		write("addBranchNeonAuthTrustedDomain", "POST", "/domains", `{"domain":"https://refused.example.com","auth_provider":"better_auth"}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return c.AddTrustedDomain(ctx, in.project, in.branch, neonapi.AddTrustedDomainRequest{Domain: "https://refused.example.com", AuthProvider: better})
		}),
		write("deleteBranchNeonAuthTrustedDomain", "DELETE", "/domains", `{"auth_provider":"better_auth","domains":[{"domain":"https://refused.example.com"}]}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return c.DeleteTrustedDomains(ctx, in.project, in.branch, neonapi.DeleteTrustedDomainsRequest{AuthProvider: better, Domains: []string{"https://refused.example.com"}})
		}),
		get("getNeonAuthAllowLocalhost", "/allow_localhost", func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.GetAllowLocalhost(ctx, in.project, in.branch))
		}),
		write("updateNeonAuthAllowLocalhost", "PATCH", "/allow_localhost", `{"allow_localhost":false}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdateAllowLocalhost(ctx, in.project, in.branch, false))
		}),
		get("listBranchNeonAuthOauthProviders", "/oauth_providers", func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.ListOAuthProviders(ctx, in.project, in.branch))
		}),
		write("addBranchNeonAuthOauthProvider", "POST", "/oauth_providers", `{"id":"github","client_id":"cid","client_secret":"cs"}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.AddOAuthProvider(ctx, in.project, in.branch, neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGitHub, ClientID: "cid", ClientSecret: secret}))
		}),
		write("updateBranchNeonAuthOauthProvider", "PATCH", "/oauth_providers/github", `{"client_id":"cid2"}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdateOAuthProvider(ctx, in.project, in.branch, neonapi.OAuthGitHub, neonapi.UpdateOAuthProviderRequest{ClientID: "cid2"}))
		}),
		write("deleteBranchNeonAuthOauthProvider", "DELETE", "/oauth_providers/github", "", func(ctx context.Context, c *neonapi.Client, in target) error {
			return c.DeleteOAuthProvider(ctx, in.project, in.branch, neonapi.OAuthGitHub)
		}),
		get("getNeonAuthEmailAndPasswordConfig", "/email_and_password", func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.GetEmailAndPasswordConfig(ctx, in.project, in.branch))
		}),
		write("updateNeonAuthEmailAndPasswordConfig", "PATCH", "/email_and_password", `{"require_email_verification":true}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdateEmailAndPasswordConfig(ctx, in.project, in.branch, neonapi.EmailAndPasswordConfigUpdate{RequireEmailVerification: new(true)}))
		}),
		get("getNeonAuthEmailProvider", "/email_provider", func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.GetEmailProvider(ctx, in.project, in.branch))
		}),
		write("updateNeonAuthEmailProvider", "PATCH", "/email_provider", `{"type":"shared"}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdateEmailProvider(ctx, in.project, in.branch, neonapi.EmailServer{Type: neonapi.EmailServerShared}))
		}),
		write("sendNeonAuthTestEmail", "POST", "/send_test_email", `{"host":"smtp.example.com","port":587,"username":"u","password":"p","sender_email":"auth@example.com","sender_name":"App","recipient_email":"to@example.com"}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.SendTestEmail(ctx, in.project, in.branch, testEmail("to@example.com")))
		}),
		get("getNeonAuthPluginConfigs", "/plugins", func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.GetPluginConfigs(ctx, in.project, in.branch))
		}),
		write("updateNeonAuthOrganizationPlugin", "PATCH", "/plugins/organization", `{"membership_limit":50}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdateOrganizationPlugin(ctx, in.project, in.branch, neonapi.OrganizationConfigUpdate{MembershipLimit: new(50)}))
		}),
		write("updateNeonAuthMagicLinkPlugin", "PATCH", "/plugins/magic-link", `{"enabled":true}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdateMagicLinkPlugin(ctx, in.project, in.branch, neonapi.MagicLinkConfigUpdate{Enabled: new(true)}))
		}),
		get("getNeonAuthPhoneNumberPlugin", "/plugins/phone-number", func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.GetPhoneNumberPlugin(ctx, in.project, in.branch))
		}),
		write("updateNeonAuthPhoneNumberPlugin", "PATCH", "/plugins/phone-number", `{"otp_expires_in":120}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdatePhoneNumberPlugin(ctx, in.project, in.branch, neonapi.PhoneNumberConfigUpdate{OTPExpiresIn: new(120)}))
		}),
		get("getNeonAuthWebhookConfig", "/webhooks", func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.GetWebhookConfig(ctx, in.project, in.branch))
		}),
		write("updateNeonAuthWebhookConfig", "PUT", "/webhooks", `{"enabled":false}`, func(ctx context.Context, c *neonapi.Client, in target) error {
			return errOf(c.UpdateWebhookConfig(ctx, in.project, in.branch, neonapi.WebhookConfig{}))
		}),
	}
}

// testEmail is a valid test email request to the given recipient.
func testEmail(to string) neonapi.SendTestEmailRequest {
	return neonapi.SendTestEmailRequest{
		Host: "smtp.example.com", Port: 587, Username: "mailer", Password: neonapi.NewSecret("smtp-password-conformance"),
		SenderEmail: "auth@example.com", SenderName: "Conformance", RecipientEmail: to,
	}
}
