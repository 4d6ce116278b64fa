package neonapi_test

import (
	"context"
	"errors"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestBranchAuthOperations checks the branch-level Neon Auth configuration
// methods on the wire: escaped paths, the JSON bodies (secrets revealed only
// there) and the decoded answers.
func TestBranchAuthOperations(t *testing.T) {
	ctx := context.Background()
	const auth = "/projects/p%2F1/branches/br-1/auth"
	p, b := "p/1", "br-1"
	secret := neonapi.NewSecret("cs-1")
	runOpTests(t, []opTest{
		{name: "updateNeonAuthConfig", method: "PATCH", path: auth + "/config", body: `{"name":"App"}`, status: 200, resp: `{"name":"App"}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateAuthConfig(ctx, p, b, neonapi.AuthConfigUpdate{Name: "App"})
			}, want: &neonapi.AuthConfig{Name: "App"}},
		{name: "listBranchNeonAuthTrustedDomains", method: "GET", path: auth + "/domains", status: 200,
			resp: `{"domains":[{"domain":"https://a.example.com","auth_provider":"better_auth"}]}`,
			call: func(c *neonapi.Client) (any, error) { return c.ListTrustedDomains(ctx, p, b) },
			want: []neonapi.TrustedDomain{{Domain: "https://a.example.com", AuthProvider: authprovider.BetterAuth}}},
		{name: "addBranchNeonAuthTrustedDomain", method: "POST", path: auth + "/domains", status: 201,
			body: `{"domain":"https://a.example.com","auth_provider":"better_auth"}`,
			call: func(c *neonapi.Client) (any, error) {
				return nil, c.AddTrustedDomain(ctx, p, b, neonapi.AddTrustedDomainRequest{Domain: "https://a.example.com", AuthProvider: authprovider.BetterAuth})
			}},
		{name: "deleteBranchNeonAuthTrustedDomain", method: "DELETE", path: auth + "/domains", status: 200,
			body: `{"auth_provider":"better_auth","domains":[{"domain":"https://a.example.com"},{"domain":"https://b.example.com"}]}`,
			call: func(c *neonapi.Client) (any, error) {
				return nil, c.DeleteTrustedDomains(ctx, p, b, neonapi.DeleteTrustedDomainsRequest{AuthProvider: authprovider.BetterAuth, Domains: []string{"https://a.example.com", "https://b.example.com"}})
			}},
		{name: "getNeonAuthAllowLocalhost", method: "GET", path: auth + "/allow_localhost", status: 200, resp: `{"allow_localhost":true}`,
			call: func(c *neonapi.Client) (any, error) { return c.GetAllowLocalhost(ctx, p, b) }, want: true},
		{name: "updateNeonAuthAllowLocalhost sends false", method: "PATCH", path: auth + "/allow_localhost", body: `{"allow_localhost":false}`,
			status: 200, resp: `{"allow_localhost":false}`,
			call: func(c *neonapi.Client) (any, error) { return c.UpdateAllowLocalhost(ctx, p, b, false) }, want: false},
		{name: "listBranchNeonAuthOauthProviders keeps a returned secret wrapped", method: "GET", path: auth + "/oauth_providers", status: 200,
			resp: `{"providers":[{"id":"google","type":"shared"},{"id":"github","type":"standard","client_id":"cid","client_secret":"cs-9"}]}`,
			call: func(c *neonapi.Client) (any, error) { return c.ListOAuthProviders(ctx, p, b) },
			want: []neonapi.OAuthProvider{{ID: "google", Type: "shared"}, {ID: "github", Type: "standard", ClientID: "cid", ClientSecret: neonapi.NewSecret("cs-9")}}},
		{name: "addBranchNeonAuthOauthProvider sends the secret", method: "POST", path: auth + "/oauth_providers", status: 200,
			body: `{"id":"microsoft","client_id":"cid","client_secret":"cs-1","microsoft_tenant_id":"t-1"}`,
			resp: `{"id":"microsoft","type":"standard","client_id":"cid"}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.AddOAuthProvider(ctx, p, b, neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthMicrosoft, ClientID: "cid", ClientSecret: secret, MicrosoftTenantID: "t-1"})
			}, want: &neonapi.OAuthProvider{ID: "microsoft", Type: "standard", ClientID: "cid"}},
		{name: "addBranchNeonAuthOauthProvider with shared credentials", method: "POST", path: auth + "/oauth_providers", status: 200,
			body: `{"id":"google"}`, resp: `{"id":"google","type":"shared"}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.AddOAuthProvider(ctx, p, b, neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGoogle})
			}, want: &neonapi.OAuthProvider{ID: "google", Type: "shared"}},
		{name: "updateBranchNeonAuthOauthProvider", method: "PATCH", path: auth + "/oauth_providers/github", status: 200,
			body: `{"client_secret":"cs-1"}`, resp: `{"id":"github","type":"standard","client_id":"cid"}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateOAuthProvider(ctx, p, b, neonapi.OAuthGitHub, neonapi.UpdateOAuthProviderRequest{ClientSecret: secret})
			}, want: &neonapi.OAuthProvider{ID: "github", Type: "standard", ClientID: "cid"}},
		{name: "deleteBranchNeonAuthOauthProvider", method: "DELETE", path: auth + "/oauth_providers/vercel", status: 200,
			call: func(c *neonapi.Client) (any, error) {
				return nil, c.DeleteOAuthProvider(ctx, p, b, neonapi.OAuthVercel)
			}},
		{name: "updateNeonAuthEmailAndPasswordConfig sends only what is set", method: "PATCH", path: auth + "/email_and_password",
			body: `{"enabled":false,"email_verification_method":"link"}`, status: 200,
			resp: `{"enabled":false,"email_verification_method":"link","require_email_verification":true,"auto_sign_in_after_verification":true,"send_verification_email_on_sign_up":false,"send_verification_email_on_sign_in":false,"disable_sign_up":false}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateEmailAndPasswordConfig(ctx, p, b, neonapi.EmailAndPasswordConfigUpdate{Enabled: new(false), EmailVerificationMethod: new(neonapi.EmailVerificationLink)})
			}, want: &neonapi.EmailAndPasswordConfig{EmailVerificationMethod: "link", RequireEmailVerification: true, AutoSignInAfterVerification: true}},
		{name: "updateNeonAuthEmailProvider standard sends every field", method: "PATCH", path: auth + "/email_provider", status: 200,
			body: `{"type":"standard","host":"smtp.example.com","port":465,"username":"u","password":"pw-1","sender_email":"a@example.com","sender_name":"A"}`,
			resp: `{"type":"standard","host":"smtp.example.com","port":465,"username":"u","password":"","sender_email":"a@example.com","sender_name":"A"}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateEmailProvider(ctx, p, b, neonapi.EmailServer{Type: neonapi.EmailServerStandard, Host: "smtp.example.com", Port: 465, Username: "u",
					Password: neonapi.NewSecret("pw-1"), SenderEmail: "a@example.com", SenderName: "A"})
			}, want: &neonapi.EmailServer{Type: "standard", Host: "smtp.example.com", Port: 465, Username: "u", SenderEmail: "a@example.com", SenderName: "A"}},
		{name: "updateNeonAuthEmailProvider shared sends only the sender", method: "PATCH", path: auth + "/email_provider", status: 200,
			body: `{"type":"shared","sender_name":"A"}`, resp: `{"type":"shared","sender_name":"A"}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateEmailProvider(ctx, p, b, neonapi.EmailServer{Type: neonapi.EmailServerShared, SenderName: "A"})
			}, want: &neonapi.EmailServer{Type: "shared", SenderName: "A"}},
		{name: "sendNeonAuthTestEmail", method: "POST", path: auth + "/send_test_email", status: 200,
			body: `{"host":"h","port":25,"username":"u","password":"pw-2","sender_email":"a@example.com","sender_name":"A","recipient_email":"r@example.com"}`,
			resp: `{"success":false,"error_message":"timeout"}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.SendTestEmail(ctx, p, b, neonapi.SendTestEmailRequest{Host: "h", Port: 25, Username: "u", Password: neonapi.NewSecret("pw-2"),
					SenderEmail: "a@example.com", SenderName: "A", RecipientEmail: "r@example.com"})
			}, want: &neonapi.SendTestEmailResult{ErrorMessage: "timeout"}},
		{name: "getNeonAuthPluginConfigs", method: "GET", path: auth + "/plugins", status: 200,
			resp: `{"magic_link":{"enabled":true,"expires_in":10,"disable_sign_up":false},"allow_localhost":false}`,
			call: func(c *neonapi.Client) (any, error) { return c.GetPluginConfigs(ctx, p, b) },
			want: &neonapi.PluginConfigs{MagicLink: &neonapi.MagicLinkConfig{Enabled: true, ExpiresIn: 10}, AllowLocalhost: new(false)}},
		{name: "updateNeonAuthOrganizationPlugin", method: "PATCH", path: auth + "/plugins/organization", status: 200,
			body: `{"organization_limit":3,"creator_role":"admin"}`,
			resp: `{"enabled":true,"organization_limit":3,"membership_limit":100,"creator_role":"admin","send_invitation_email":false}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateOrganizationPlugin(ctx, p, b, neonapi.OrganizationConfigUpdate{OrganizationLimit: new(3), CreatorRole: new("admin")})
			},
			want: &neonapi.OrganizationConfig{Enabled: true, OrganizationLimit: 3, MembershipLimit: 100, CreatorRole: "admin"}},
		{name: "updateNeonAuthMagicLinkPlugin", method: "PATCH", path: auth + "/plugins/magic-link", status: 200,
			body: `{"expires_in":1440}`, resp: `{"enabled":false,"expires_in":1440,"disable_sign_up":false}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateMagicLinkPlugin(ctx, p, b, neonapi.MagicLinkConfigUpdate{ExpiresIn: new(1440)})
			}, want: &neonapi.MagicLinkConfig{ExpiresIn: 1440}},
		{name: "getNeonAuthPhoneNumberPlugin", method: "GET", path: auth + "/plugins/phone-number", status: 200, resp: `{"enabled":true}`,
			call: func(c *neonapi.Client) (any, error) { return c.GetPhoneNumberPlugin(ctx, p, b) }, want: &neonapi.PhoneNumberConfig{Enabled: true}},
		{name: "updateNeonAuthPhoneNumberPlugin", method: "PATCH", path: auth + "/plugins/phone-number", status: 200,
			body: `{"enabled":false,"otp_expires_in":60}`, resp: `{"enabled":false,"otp_expires_in":60}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdatePhoneNumberPlugin(ctx, p, b, neonapi.PhoneNumberConfigUpdate{Enabled: new(false), OTPExpiresIn: new(60)})
			}, want: &neonapi.PhoneNumberConfig{OTPExpiresIn: 60}},
		{name: "updateNeonAuthWebhookConfig", method: "PUT", path: auth + "/webhooks", status: 200,
			body: `{"enabled":true,"webhook_url":"https://h.example.com","enabled_events":["user.created"],"timeout_seconds":10}`,
			resp: `{"enabled":true,"webhook_url":"https://h.example.com","enabled_events":["user.created"],"timeout_seconds":10}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.UpdateWebhookConfig(ctx, p, b, neonapi.WebhookConfig{Enabled: true, WebhookURL: "https://h.example.com", EnabledEvents: []neonapi.WebhookEvent{neonapi.WebhookUserCreated}, TimeoutSeconds: 10})
			}, want: &neonapi.WebhookConfig{Enabled: true, WebhookURL: "https://h.example.com", EnabledEvents: []neonapi.WebhookEvent{"user.created"}, TimeoutSeconds: 10}},
	})
}

// TestCoreOperations checks the account, shared project, branch, database,
// role and operation log methods on the wire.
func TestCoreOperations(t *testing.T) {
	ctx := context.Background()
	runOpTests(t, []opTest{
		{name: "getCurrentUserInfo", method: "GET", path: "/users/me", status: 200,
			resp: `{"id":"u-1","email":"a@example.com","name":"A","last_name":"B","image":"","login":"a","plan":"free_v3","projects_limit":10,"branches_limit":20,"active_seconds_limit":0,"max_autoscaling_limit":2,"auth_accounts":[{"email":"a@example.com","name":"A","image":"","login":"a","provider":"github"}]}`,
			call: func(c *neonapi.Client) (any, error) { return c.GetCurrentUser(ctx) },
			want: &neonapi.CurrentUser{ID: "u-1", Email: "a@example.com", Name: "A", LastName: "B", Login: "a", Plan: "free_v3", ProjectsLimit: 10, BranchesLimit: 20, MaxAutoscalingLimit: 2,
				AuthAccounts: []neonapi.AuthAccount{{Email: "a@example.com", Name: "A", Provider: "github"}}}},
		{name: "listSharedProjects", method: "GET", path: "/projects/shared", query: "cursor=p-0&limit=2&search=x+y", status: 200,
			resp: `{"projects":[{"id":"p-1","name":"n","owner_id":"o-2","effective_project_permission":"CAN_VIEW"}],"pagination":{"cursor":"p-1"}}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.ListSharedProjects(ctx, neonapi.ListSharedProjectsOptions{Cursor: "p-0", Limit: 2, Search: "x y"})
			}, want: &neonapi.ProjectsPage{Projects: []neonapi.Project{{ID: "p-1", Name: "n", OwnerID: "o-2", Permission: "CAN_VIEW"}}, Cursor: "p-1"}},
		{name: "listProjectOperations", method: "GET", path: "/projects/p-1/operations", query: "cursor=op-9&limit=1000", status: 200,
			resp: `{"operations":[{"id":"op-1","project_id":"p-1","action":"create_branch","status":"finished","failures_count":0,"created_at":"` + ts + `","updated_at":"` + ts + `","total_duration_ms":5}],"pagination":{"cursor":"op-1"}}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.ListOperations(ctx, "p-1", neonapi.ListOperationsOptions{Cursor: "op-9", Limit: 1000})
			}, want: &neonapi.OperationsPage{Operations: []neonapi.Operation{{ID: "op-1", ProjectID: "p-1", Action: "create_branch", Status: "finished", CreatedAt: tsTime, UpdatedAt: tsTime, TotalDurationMS: 5}}, Cursor: "op-1"}},
		{name: "getProjectBranch escapes the ids", method: "GET", path: "/projects/p-1/branches/br%2F1", status: 200,
			resp: `{"branch":{"id":"br-1","name":"dev","parent_id":"br-0"},"annotation":{"object":{"type":"console/branch","id":"br-1"},"value":{}}}`,
			call: func(c *neonapi.Client) (any, error) { return c.GetBranch(ctx, "p-1", "br/1") },
			want: &neonapi.Branch{ID: "br-1", Name: "dev", ParentID: "br-0"}},
		{name: "createProjectBranch without options sends no body", method: "POST", path: "/projects/p-1/branches", status: 201,
			resp: `{"branch":{"id":"br-2","name":"b2"},"endpoints":[],"operations":[],"roles":[],"databases":[]}`,
			call: func(c *neonapi.Client) (any, error) {
				created, err := c.CreateBranch(ctx, "p-1", neonapi.CreateBranchRequest{})
				return created.Branch.ID, err
			}, want: "br-2"},
		{name: "createProjectBranch with options", method: "POST", path: "/projects/p-1/branches", status: 201,
			body: `{"branch":{"parent_id":"br-0","name":"dev","protected":true,"init_source":"schema-only"},"endpoints":[{"type":"read_write","autoscaling_limit_max_cu":4}]}`,
			resp: `{"branch":{"id":"br-3","name":"dev"},"endpoints":[{"id":"ep-1","type":"read_write"}],"operations":[],"roles":[],"databases":[],"connection_uris":[{"connection_uri":"postgresql://r:pw@h/db","connection_parameters":{"database":"db","role":"r","host":"h","pooler_host":"h","password":"pw"}}]}`,
			call: func(c *neonapi.Client) (any, error) {
				created, err := c.CreateBranch(ctx, "p-1", neonapi.CreateBranchRequest{ParentID: "br-0", Name: "dev", Protected: true, InitSource: "schema-only",
					Endpoints: []neonapi.BranchEndpointOptions{{Type: neonapi.EndpointReadWrite, AutoscalingLimitMaxCU: 4}}})
				if err != nil {
					return nil, err
				}
				u := created.ConnectionURIs[0]
				return []string{created.Endpoints[0].ID, u.ConnectionURI.Reveal(), u.Parameters.Password.Reveal(), u.ConnectionURI.String()}, nil
			}, want: []string{"ep-1", "postgresql://r:pw@h/db", "pw", "[REDACTED]"}},
		{name: "listProjectBranchEndpoints", method: "GET", path: "/projects/p-1/branches/br-1/endpoints", status: 200,
			resp: `{"endpoints":[{"id":"ep-1","branch_id":"br-1","type":"read_only","autoscaling_limit_min_cu":0.25}]}`,
			call: func(c *neonapi.Client) (any, error) { return c.ListBranchEndpoints(ctx, "p-1", "br-1") },
			want: []neonapi.Endpoint{{ID: "ep-1", BranchID: "br-1", Type: neonapi.EndpointReadOnly, AutoscalingLimitMinCU: 0.25}}},
		{name: "getProjectBranchDatabase escapes the name", method: "GET", path: "/projects/p-1/branches/br-1/databases/my%20db", status: 200,
			resp: `{"database":{"id":3,"branch_id":"br-1","name":"my db","owner_name":"o"}}`,
			call: func(c *neonapi.Client) (any, error) { return c.GetDatabase(ctx, "p-1", "br-1", "my db") },
			want: &neonapi.Database{ID: 3, BranchID: "br-1", Name: "my db", OwnerName: "o"}},
		{name: "createProjectBranchDatabase", method: "POST", path: "/projects/p-1/branches/br-1/databases", status: 201,
			body: `{"database":{"name":"app","owner_name":"o"}}`, resp: `{"database":{"id":4,"name":"app","owner_name":"o"},"operations":[]}`,
			call: func(c *neonapi.Client) (any, error) {
				return c.CreateDatabase(ctx, "p-1", "br-1", neonapi.CreateDatabaseRequest{Name: "app", OwnerName: "o"})
			}, want: &neonapi.CreatedDatabase{Database: neonapi.Database{ID: 4, Name: "app", OwnerName: "o"}, Operations: []neonapi.Operation{}}},
		{name: "createProjectBranchRole keeps the password wrapped", method: "POST", path: "/projects/p-1/branches/br-1/roles", status: 201,
			body: `{"role":{"name":"app","no_login":true}}`, resp: `{"role":{"name":"app","password":"generated"},"operations":[]}`,
			call: func(c *neonapi.Client) (any, error) {
				created, err := c.CreateRole(ctx, "p-1", "br-1", neonapi.CreateRoleRequest{Name: "app", NoLogin: true})
				if err != nil {
					return nil, err
				}
				return []string{created.Role.Name, created.Role.Password.Reveal(), created.Role.Password.String()}, nil
			}, want: []string{"app", "generated", "[REDACTED]"}},
	})
}

// TestNewInvalidArgumentsSendNothing checks that the new methods refuse
// missing ids and out-of-spec values before sending anything.
func TestNewInvalidArgumentsSendNothing(t *testing.T) {
	ctx := context.Background()
	c, rec := newTestClient(t, reply(200, `{}`))
	calls := map[string]error{
		"GetBranch":                  errOf(c.GetBranch(ctx, "", "b")),
		"CreateBranch":               errOf(c.CreateBranch(ctx, "", neonapi.CreateBranchRequest{})),
		"ListBranchEndpoints":        errOf(c.ListBranchEndpoints(ctx, "p", "")),
		"GetDatabase":                errOf(c.GetDatabase(ctx, "p", "b", "")),
		"CreateDatabase":             errOf(c.CreateDatabase(ctx, "p", "b", neonapi.CreateDatabaseRequest{Name: "d"})),
		"CreateRole":                 errOf(c.CreateRole(ctx, "p", "b", neonapi.CreateRoleRequest{})),
		"ListOperations":             errOf(c.ListOperations(ctx, "p", neonapi.ListOperationsOptions{Limit: -1})),
		"ListSharedProjects":         errOf(c.ListSharedProjects(ctx, neonapi.ListSharedProjectsOptions{Limit: 401})),
		"ListTrustedDomains":         errOf(c.ListTrustedDomains(ctx, "p", "")),
		"AddTrustedDomain":           c.AddTrustedDomain(ctx, "p", "b", neonapi.AddTrustedDomainRequest{AuthProvider: "better_auth"}),
		"DeleteTrustedDomains":       c.DeleteTrustedDomains(ctx, "p", "b", neonapi.DeleteTrustedDomainsRequest{AuthProvider: "better_auth", Domains: []string{""}}),
		"UpdateOAuthProvider":        errOf(c.UpdateOAuthProvider(ctx, "p", "b", "", neonapi.UpdateOAuthProviderRequest{})),
		"UpdateEmailProvider shared": errOf(c.UpdateEmailProvider(ctx, "p", "b", neonapi.EmailServer{Type: "shared", Password: neonapi.NewSecret("x")})),
		"UpdateEmailAndPassword":     errOf(c.UpdateEmailAndPasswordConfig(ctx, "p", "b", neonapi.EmailAndPasswordConfigUpdate{EmailVerificationMethod: new(neonapi.EmailVerificationMethod("sms"))})),
		"UpdateOrganizationPlugin":   errOf(c.UpdateOrganizationPlugin(ctx, "p", "b", neonapi.OrganizationConfigUpdate{CreatorRole: new("member")})),
		"GetWebhookConfig":           errOf(c.GetWebhookConfig(ctx, "", "b")),
	}
	for name, err := range calls {
		if !errors.Is(err, neonapi.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if n := rec.count(); n != 0 {
		t.Errorf("server saw %d requests for invalid calls, want 0", n)
	}
}
