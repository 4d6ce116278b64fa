package neonapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// testStateErrors sends spec-valid requests that the state or the values
// make Neon refuse: 400 for a bad domain, URL, port, email or a feature the
// provider lacks, 404 for what does not exist (a branch without Neon Auth
// included), 409 for a duplicate.
func testStateErrors(t *testing.T, c *conformance, fx fixtures) {
	plain := conformanceProject(t, c, "conformance-errors-plain") // no Neon Auth
	p, b := fx.branch.project, fx.branch.branch
	better, stack := authprovider.BetterAuth, authprovider.Stack
	must(t, c, "addBranchNeonAuthTrustedDomain", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.client.AddTrustedDomain(ctx, p, b, neonapi.AddTrustedDomainRequest{Domain: "https://dup.example.com", AuthProvider: better})
	})
	standard := func(port int, sender string) neonapi.EmailServer {
		return neonapi.EmailServer{Type: neonapi.EmailServerStandard, Host: "smtp.example.com", Port: port, Username: "u",
			Password: neonapi.NewSecret("smtp-password-errors"), SenderEmail: sender, SenderName: "Errors"}
	}
	badSender := testEmail("to@example.com")
	badSender.SenderEmail = "not-an-email"
	noPort := testEmail("to@example.com")
	noPort.Port = 0

	tests := []struct {
		name, op string
		status   int
		call     func(ctx context.Context, cl *neonapi.Client) error
	}{
		{"scheme not http", "addBranchNeonAuthTrustedDomain", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return cl.AddTrustedDomain(ctx, p, b, neonapi.AddTrustedDomainRequest{Domain: "ftp://files.example.com", AuthProvider: better})
		}},
		{"domain with a path", "addBranchNeonAuthTrustedDomain", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return cl.AddTrustedDomain(ctx, p, b, neonapi.AddTrustedDomainRequest{Domain: "https://example.com/callback", AuthProvider: better})
		}},
		{"provider not the branch's", "addBranchNeonAuthTrustedDomain", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return cl.AddTrustedDomain(ctx, p, b, neonapi.AddTrustedDomainRequest{Domain: "https://other.example.com", AuthProvider: stack})
		}},
		{"webhook URL not a URL", "updateNeonAuthWebhookConfig", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.UpdateWebhookConfig(ctx, p, b, neonapi.WebhookConfig{Enabled: true, WebhookURL: "hooks.example.com/x"}))
		}},
		{"SMTP port out of range", "updateNeonAuthEmailProvider", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.UpdateEmailProvider(ctx, p, b, standard(70000, "auth@example.com")))
		}},
		{"sender not an email", "updateNeonAuthEmailProvider", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.UpdateEmailProvider(ctx, p, b, standard(587, "not-an-email")))
		}},
		{"sender not an email", "sendNeonAuthTestEmail", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.SendTestEmail(ctx, p, b, badSender))
		}},
		{"port zero", "sendNeonAuthTestEmail", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.SendTestEmail(ctx, p, b, noPort))
		}},
		{"no shared GitHub credentials", "addBranchNeonAuthOauthProvider", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.AddOAuthProvider(ctx, p, b, neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGitHub}))
		}},
		{"links need an own server", "updateNeonAuthEmailAndPasswordConfig", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.UpdateEmailAndPasswordConfig(ctx, p, b, neonapi.EmailAndPasswordConfigUpdate{EmailVerificationMethod: new(neonapi.EmailVerificationLink)}))
		}},
		{"plugins need Better Auth", "getNeonAuthPluginConfigs", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.GetPluginConfigs(ctx, fx.stack.project, fx.stack.branch))
		}},
		{"bad cursor", "listProjectOperations", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.ListOperations(ctx, p, neonapi.ListOperationsOptions{Cursor: "not-a-cursor"}))
		}},
		{"bad cursor", "listSharedProjects", http.StatusBadRequest, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.ListSharedProjects(ctx, neonapi.ListSharedProjectsOptions{Cursor: "not-a-cursor"}))
		}},
		{"branch without Neon Auth", "getNeonAuthWebhookConfig", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.GetWebhookConfig(ctx, plain.project, plain.branch))
		}},
		{"branch without Neon Auth", "addBranchNeonAuthTrustedDomain", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return cl.AddTrustedDomain(ctx, plain.project, plain.branch, neonapi.AddTrustedDomainRequest{Domain: "https://x.example.com", AuthProvider: better})
		}},
		{"provider not configured", "updateBranchNeonAuthOauthProvider", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.UpdateOAuthProvider(ctx, p, b, neonapi.OAuthVercel, neonapi.UpdateOAuthProviderRequest{ClientID: "v"}))
		}},
		{"provider not configured", "deleteBranchNeonAuthOauthProvider", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return cl.DeleteOAuthProvider(ctx, p, b, neonapi.OAuthMicrosoft)
		}},
		{"domain not trusted", "deleteBranchNeonAuthTrustedDomain", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return cl.DeleteTrustedDomains(ctx, p, b, neonapi.DeleteTrustedDomainsRequest{AuthProvider: better, Domains: []string{"https://never.example.com"}})
		}},
		{"unknown branch", "getProjectBranch", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.GetBranch(ctx, p, "br-no-such-branch-404"))
		}},
		{"unknown parent", "createProjectBranch", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.CreateBranch(ctx, p, neonapi.CreateBranchRequest{ParentID: "br-no-such-branch-404"}))
		}},
		{"unknown database", "getProjectBranchDatabase", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.GetDatabase(ctx, p, b, "nodb"))
		}},
		{"unknown owner", "createProjectBranchDatabase", http.StatusNotFound, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.CreateDatabase(ctx, p, b, neonapi.CreateDatabaseRequest{Name: "orphan", OwnerName: "nobody"}))
		}},
		{"domain already trusted", "addBranchNeonAuthTrustedDomain", http.StatusConflict, func(ctx context.Context, cl *neonapi.Client) error {
			return cl.AddTrustedDomain(ctx, p, b, neonapi.AddTrustedDomainRequest{Domain: "https://DUP.example.com/", AuthProvider: better})
		}},
		{"provider already configured", "addBranchNeonAuthOauthProvider", http.StatusConflict, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.AddOAuthProvider(ctx, p, b, neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGoogle}))
		}},
		{"branch name taken", "createProjectBranch", http.StatusConflict, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.CreateBranch(ctx, p, neonapi.CreateBranchRequest{Name: "main"}))
		}},
		{"database exists", "createProjectBranchDatabase", http.StatusConflict, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.CreateDatabase(ctx, p, b, neonapi.CreateDatabaseRequest{Name: "neondb", OwnerName: "neondb_owner"}))
		}},
		{"role exists", "createProjectBranchRole", http.StatusConflict, func(ctx context.Context, cl *neonapi.Client) error {
			return errOf(cl.CreateRole(ctx, p, b, neonapi.CreateRoleRequest{Name: "neondb_owner"}))
		}},
	}
	sentinels := map[int]error{http.StatusBadRequest: neonapi.ErrBadRequest, http.StatusNotFound: neonapi.ErrNotFound, http.StatusConflict: neonapi.ErrConflict}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.name, func(t *testing.T) {
			id, err := c.call(t, tt.op, func(ctx context.Context) error { return tt.call(ctx, c.once) })
			wantAPIError(t, tt.op, err, tt.status, sentinels[tt.status], id)
		})
	}
}
