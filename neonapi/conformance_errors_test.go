package neonapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/internal/specvalidate"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// testRetriedFaults checks that 503 and 423, which mean the request was not
// acted on, are repeated even for a POST or PUT.
func testRetriedFaults(t *testing.T, c *conformance, fx fixtures) {
	// 503 and 423 mean the request was not acted on, so even a POST or PUT
	// is repeated.
	tests := []struct {
		kind sandbox.FaultKind
		op   string
		call func(ctx context.Context) error
	}{
		{"503", "createBranchNeonAuthNewUser", func(ctx context.Context) error {
			_, err := c.client.CreateBranchUser(ctx, fx.branch.project, fx.branch.branch, neonapi.CreateBranchUserRequest{Email: "retried@example.com"})
			return err
		}},
		{"423", "updateNeonAuthUserRole", func(ctx context.Context) error {
			_, err := c.client.UpdateBranchUserRole(ctx, fx.branch.project, fx.branch.branch, fx.branch.user, []string{"member"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+string(tt.kind), func(t *testing.T) {
			c.sb.InjectFault(sandbox.Fault{Kind: tt.kind, Count: 1, PathContains: "/api/v2/"})
			mark := c.tr.Len()
			if _, err := c.call(t, tt.op, tt.call); err != nil {
				t.Fatalf("%s after one %s: %v", tt.op, tt.kind, err)
			}
			var statuses []int
			for _, ex := range c.tr.Since(mark) {
				statuses = append(statuses, ex.Status)
			}
			if len(statuses) != 2 || fmt.Sprint(statuses[0]) != string(tt.kind) || statuses[1] >= 300 {
				t.Errorf("%s: statuses %v, want the %s and then a success", tt.op, statuses, tt.kind)
			}
		})
	}
}

// testConflicts checks that duplicates answer 409.
func testConflicts(t *testing.T, c *conformance, fx fixtures) {
	tests := []struct {
		op   string
		call func(ctx context.Context) error
	}{
		{"createNeonAuthIntegration", func(ctx context.Context) error {
			_, err := c.once.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{AuthProvider: authprovider.Stack, ProjectID: fx.stack.project, BranchID: fx.stack.branch})
			return err
		}},
		{"createNeonAuth", func(ctx context.Context) error {
			_, err := c.once.EnableBranchAuth(ctx, fx.branch.project, fx.branch.branch, neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth})
			return err
		}},
		{"createNeonAuthNewUser", func(ctx context.Context) error {
			_, err := c.once.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: fx.stack.project, AuthProvider: authprovider.Stack, Email: "grace@example.com"})
			return err
		}},
		{"createBranchNeonAuthNewUser", func(ctx context.Context) error {
			_, err := c.once.CreateBranchUser(ctx, fx.branch.project, fx.branch.branch, neonapi.CreateBranchUserRequest{Email: "grace@example.com"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			id, err := c.call(t, tt.op, tt.call)
			wantAPIError(t, tt.op, err, http.StatusConflict, neonapi.ErrConflict, id)
		})
	}
}

// testInvalidRequests sends requests that break the spec, each in one way, and
// expects 400.
func testInvalidRequests(t *testing.T, c *conformance, fx fixtures) {
	// The typed client cannot send these, so they are written by hand;
	// each breaks the spec in one way only, on objects that exist.
	p, b := fx.stack.project, fx.stack.branch
	bp, bb, bu := fx.branch.project, fx.branch.branch, fx.branch.user
	branchAuth := "/projects/" + bp + "/branches/" + bb + "/auth"
	tests := []struct {
		name, op string
		req      rawRequest
		why      string // how the spec's validator words the violation
	}{
		{"limit below minimum", "listProjects", rawRequest{"GET", "/projects?limit=0", ""}, `parameter "limit" in query`},
		{"limit above maximum", "listProjects", rawRequest{"GET", "/projects?limit=401", ""}, `parameter "limit" in query`},
		{"project missing", "createProject", rawRequest{"POST", "/projects", `{}`}, `property "project" is missing`},
		{"pg_version not an integer", "createProject", rawRequest{"POST", "/projects", `{"project":{"name":"x","pg_version":"fifteen"}}`}, "/project/pg_version"},
		{"project id breaks pattern", "getProject", rawRequest{"GET", "/projects/Not_A_Project", ""}, `parameter "project_id" in path`},
		{"branch limit below minimum", "listProjectBranches", rawRequest{"GET", "/projects/" + p + "/branches?limit=0", ""}, `parameter "limit" in query`},
		{"branch id breaks pattern", "listProjectBranchDatabases", rawRequest{"GET", "/projects/" + p + "/branches/BR_1/databases", ""}, `parameter "branch_id" in path`},
		{"branch id breaks pattern", "listProjectBranchRoles", rawRequest{"GET", "/projects/" + p + "/branches/BR_1/roles", ""}, `parameter "branch_id" in path`},
		{"database_name missing", "getConnectionURI", rawRequest{"GET", "/projects/" + p + "/connection_uri?role_name=neondb_owner", ""}, `parameter "database_name" in query`},
		{"branch_id missing", "createNeonAuthIntegration", rawRequest{"POST", "/projects/auth/create", `{"auth_provider":"stack","project_id":"` + p + `"}`}, `property "branch_id" is missing`},
		{"unknown provider", "createNeonAuthIntegration", rawRequest{"POST", "/projects/auth/create", `{"auth_provider":"github","project_id":"` + p + `","branch_id":"` + b + `"}`}, "/auth_provider"},
		{"project id breaks pattern", "listNeonAuthIntegrations", rawRequest{"GET", "/projects/Not_A_Project/auth/integrations", ""}, `parameter "project_id" in path`},
		{"email not an email", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + p + `","auth_provider":"stack","email":"not-an-email"}`}, "/email"},
		{"empty name", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + p + `","auth_provider":"stack","email":"e@example.com","name":""}`}, "/name"},
		{"email too long", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + p + `","auth_provider":"stack","email":"` + strings.Repeat("e", 250) + `@example.com"}`}, "/email"},
		{"body not an object", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `[]`}, "request body has an error"},
		{"email missing", "createNeonAuthNewUser", rawRequest{"POST", "/projects/auth/user", `{"project_id":"` + p + `","auth_provider":"stack"}`}, `property "email" is missing`},
		{"project id breaks pattern", "deleteNeonAuthUser", rawRequest{"DELETE", "/projects/Not_A_Project/auth/users/" + fx.stack.user, ""}, `parameter "project_id" in path`},
		{"auth_provider missing", "transferNeonAuthProviderProject", rawRequest{"POST", "/projects/auth/transfer_ownership", `{"project_id":"` + p + `"}`}, `property "auth_provider" is missing`},
		{"delete_data not a boolean", "deleteNeonAuthIntegration", rawRequest{"DELETE", "/projects/" + p + "/auth/integration/stack", `{"delete_data":"yes"}`}, "/delete_data"},
		{"unknown provider in path", "deleteNeonAuthIntegration", rawRequest{"DELETE", "/projects/" + p + "/auth/integration/github", ""}, `parameter "auth_provider" in path`},
		{"project id breaks pattern", "createNeonAuthProviderSDKKeys", rawRequest{"POST", "/projects/auth/keys", `{"project_id":"Not_A_Project","auth_provider":"stack"}`}, "/project_id"},
		{"branch id breaks pattern", "getNeonAuth", rawRequest{"GET", "/projects/" + bp + "/branches/BR_1/auth", ""}, `parameter "branch_id" in path`},
		{"auth_provider missing", "createNeonAuth", rawRequest{"POST", branchAuth, `{}`}, `property "auth_provider" is missing`},
		{"unknown provider", "createNeonAuth", rawRequest{"POST", branchAuth, `{"auth_provider":"github"}`}, "/auth_provider"},
		{"delete_data not a boolean", "disableNeonAuth", rawRequest{"DELETE", branchAuth, `{"delete_data":1}`}, "/delete_data"},
		{"email missing", "createBranchNeonAuthNewUser", rawRequest{"POST", branchAuth + "/users", `{"name":"No Email"}`}, `property "email" is missing`},
		{"email not an email", "createBranchNeonAuthNewUser", rawRequest{"POST", branchAuth + "/users", `{"email":"not-an-email"}`}, "/email"},
		{"branch id breaks pattern", "deleteBranchNeonAuthUser", rawRequest{"DELETE", "/projects/" + bp + "/branches/BR_1/auth/users/" + bu, ""}, `parameter "branch_id" in path`},
		{"no roles", "updateNeonAuthUserRole", rawRequest{"PUT", branchAuth + "/users/" + bu + "/role", `{"roles":[]}`}, "/roles"},
		{"role not a string", "updateNeonAuthUserRole", rawRequest{"PUT", branchAuth + "/users/" + bu + "/role", `{"roles":[1]}`}, "/roles/0"},
		{"project id too long", "transferNeonAuthProviderProject", rawRequest{"POST", "/projects/auth/transfer_ownership", `{"project_id":"` + strings.Repeat("p", 61) + `","auth_provider":"stack"}`}, "/project_id"},
		{"empty name", "createBranchNeonAuthNewUser", rawRequest{"POST", branchAuth + "/users", `{"email":"e@example.com","name":""}`}, "/name"},
		{"limit not a number", "listProjects", rawRequest{"GET", "/projects?limit=ten", ""}, `parameter "limit" in query`},
		{"limit above maximum", "listProjectOperations", rawRequest{"GET", "/projects/" + p + "/operations?limit=1001", ""}, `parameter "limit" in query`},
		{"endpoint type unknown", "createProjectBranch", rawRequest{"POST", "/projects/" + p + "/branches", `{"endpoints":[{"type":"read_many"}]}`}, `doesn't match all schemas from "allOf"`},
		{"owner_name missing", "createProjectBranchDatabase", rawRequest{"POST", "/projects/" + p + "/branches/" + b + "/databases", `{"database":{"name":"x"}}`}, `property "owner_name" is missing`},
		{"name missing", "createProjectBranchRole", rawRequest{"POST", "/projects/" + p + "/branches/" + b + "/roles", `{"role":{}}`}, `property "name" is missing`},
		{"empty name", "updateNeonAuthConfig", rawRequest{"PATCH", branchAuth + "/config", `{"name":""}`}, "/name"},
		{"domain not a URI", "addBranchNeonAuthTrustedDomain", rawRequest{"POST", branchAuth + "/domains", `{"domain":"not a uri","auth_provider":"better_auth"}`}, "/domain"},
		{"domains missing", "deleteBranchNeonAuthTrustedDomain", rawRequest{"DELETE", branchAuth + "/domains", `{"auth_provider":"better_auth"}`}, `property "domains" is missing`},
		{"allow_localhost missing", "updateNeonAuthAllowLocalhost", rawRequest{"PATCH", branchAuth + "/allow_localhost", `{}`}, `property "allow_localhost" is missing`},
		{"unknown OAuth provider", "addBranchNeonAuthOauthProvider", rawRequest{"POST", branchAuth + "/oauth_providers", `{"id":"twitter"}`}, "/id"},
		{"unknown OAuth provider in path", "deleteBranchNeonAuthOauthProvider", rawRequest{"DELETE", branchAuth + "/oauth_providers/twitter", ""}, `parameter "oauth_provider_id" in path`},
		{"unknown verification method", "updateNeonAuthEmailAndPasswordConfig", rawRequest{"PATCH", branchAuth + "/email_and_password", `{"email_verification_method":"sms"}`}, "/email_verification_method"},
		{"server type missing", "updateNeonAuthEmailProvider", rawRequest{"PATCH", branchAuth + "/email_provider", `{"sender_email":"auth@example.com"}`}, "discriminator"},
		{"recipient missing", "sendNeonAuthTestEmail", rawRequest{"POST", branchAuth + "/send_test_email", `{"host":"smtp.example.com","port":587,"username":"u","password":"p","sender_email":"auth@example.com","sender_name":"A"}`}, `doesn't match all schemas from "allOf"`},
		{"organization limit zero", "updateNeonAuthOrganizationPlugin", rawRequest{"PATCH", branchAuth + "/plugins/organization", `{"organization_limit":0}`}, "/organization_limit"},
		{"expires_in below minimum", "updateNeonAuthMagicLinkPlugin", rawRequest{"PATCH", branchAuth + "/plugins/magic-link", `{"expires_in":1}`}, "/expires_in"},
		{"otp_expires_in above maximum", "updateNeonAuthPhoneNumberPlugin", rawRequest{"PATCH", branchAuth + "/plugins/phone-number", `{"otp_expires_in":601}`}, "/otp_expires_in"},
		{"enabled missing", "updateNeonAuthWebhookConfig", rawRequest{"PUT", branchAuth + "/webhooks", `{"webhook_url":"https://hooks.example.com"}`}, `property "enabled" is missing`},
		{"unknown event", "updateNeonAuthWebhookConfig", rawRequest{"PUT", branchAuth + "/webhooks", `{"enabled":false,"enabled_events":["user.deleted"]}`}, "/enabled_events/0"},
		{"pooled not a boolean", "getConnectionURI", rawRequest{"GET", "/projects/" + p + "/connection_uri?database_name=neondb&role_name=neondb_owner&pooled=maybe", ""}, `parameter "pooled" in query`},
		{"roles missing", "updateNeonAuthUserRole", rawRequest{"PUT", branchAuth + "/users/" + bu + "/role", `{}`}, `property "roles" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.name, func(t *testing.T) {
			if got := c.send(t, tt.op, tt.req, true, tt.why); got != http.StatusBadRequest {
				t.Errorf("%s %s (%s): status %d, want 400", tt.req.method, tt.req.path, tt.name, got)
			}
		})
	}
}

// testClientBadRequest checks that the client reports Neon's 400 as
// ErrBadRequest.
func testClientBadRequest(t *testing.T, c *conformance, fx fixtures) {
	// The client leaves the checking of values such as email addresses to
	// Neon; what it must do is report the refusal faithfully.
	tests := []struct {
		op   string
		call func(ctx context.Context) error
	}{
		{"createNeonAuthNewUser", func(ctx context.Context) error {
			_, err := c.once.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: fx.stack.project, AuthProvider: authprovider.Stack, Email: "not-an-email"})
			return err
		}},
		{"createBranchNeonAuthNewUser", func(ctx context.Context) error {
			_, err := c.once.CreateBranchUser(ctx, fx.branch.project, fx.branch.branch, neonapi.CreateBranchUserRequest{Email: "not-an-email"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			id, err := c.call(t, tt.op, func(ctx context.Context) error {
				return tt.call(specvalidate.ExpectInvalidRequest(ctx))
			})
			wantAPIError(t, tt.op, err, http.StatusBadRequest, neonapi.ErrBadRequest, id)
		})
	}
}

// testClientRefuses checks that the client stops input the spec forbids
// before sending anything.
func testClientRefuses(t *testing.T, c *conformance, fx fixtures) {
	// Sending these would break the spec; the client must stop them.
	mark := c.tr.Len()
	ctx := context.Background()
	if _, err := c.client.UpdateBranchUserRole(ctx, fx.branch.project, fx.branch.branch, fx.branch.user, nil); !errors.Is(err, neonapi.ErrInvalidArgument) {
		t.Errorf("UpdateBranchUserRole without roles: error %v, want ErrInvalidArgument", err)
	}
	if _, err := c.client.ListProjects(ctx, neonapi.ListProjectsOptions{Limit: 401}); !errors.Is(err, neonapi.ErrInvalidArgument) {
		t.Errorf("ListProjects with limit 401: error %v, want ErrInvalidArgument", err)
	}
	if _, err := c.client.GetProject(ctx, ""); !errors.Is(err, neonapi.ErrInvalidArgument) {
		t.Errorf("GetProject without id: error %v, want ErrInvalidArgument", err)
	}
	p, b := fx.branch.project, fx.branch.branch
	refused := map[string]error{
		"GetBranch without id":           errOf(c.client.GetBranch(ctx, p, "")),
		"ListOperations with limit 1001": errOf(c.client.ListOperations(ctx, p, neonapi.ListOperationsOptions{Limit: 1001})),
		"CreateBranch with a read_many endpoint": errOf(c.client.CreateBranch(ctx, p, neonapi.CreateBranchRequest{
			Endpoints: []neonapi.BranchEndpointOptions{{Type: "read_many"}}})),
		"UpdateAuthConfig without a name":         errOf(c.client.UpdateAuthConfig(ctx, p, b, neonapi.AuthConfigUpdate{})),
		"AddTrustedDomain without a provider":     c.client.AddTrustedDomain(ctx, p, b, neonapi.AddTrustedDomainRequest{Domain: "https://x.example.com"}),
		"AddOAuthProvider for twitter":            errOf(c.client.AddOAuthProvider(ctx, p, b, neonapi.AddOAuthProviderRequest{ID: "twitter"})),
		"DeleteOAuthProvider for twitter":         c.client.DeleteOAuthProvider(ctx, p, b, "twitter"),
		"UpdateEmailProvider without a type":      errOf(c.client.UpdateEmailProvider(ctx, p, b, neonapi.EmailServer{SenderEmail: "a@example.com"})),
		"SendTestEmail without a recipient":       errOf(c.client.SendTestEmail(ctx, p, b, testEmail(""))),
		"UpdateMagicLinkPlugin for 4 minutes":     errOf(c.client.UpdateMagicLinkPlugin(ctx, p, b, neonapi.MagicLinkConfigUpdate{ExpiresIn: new(4)})),
		"UpdateOrganizationPlugin for 0 members":  errOf(c.client.UpdateOrganizationPlugin(ctx, p, b, neonapi.OrganizationConfigUpdate{MembershipLimit: new(0)})),
		"UpdatePhoneNumberPlugin for 601 seconds": errOf(c.client.UpdatePhoneNumberPlugin(ctx, p, b, neonapi.PhoneNumberConfigUpdate{OTPExpiresIn: new(601)})),
		"UpdateWebhookConfig with an 11s timeout": errOf(c.client.UpdateWebhookConfig(ctx, p, b, neonapi.WebhookConfig{TimeoutSeconds: 11})),
		"UpdateWebhookConfig for user.deleted": errOf(c.client.UpdateWebhookConfig(ctx, p, b, neonapi.WebhookConfig{
			EnabledEvents: []neonapi.WebhookEvent{"user.deleted"}})),
	}
	for what, err := range refused {
		if !errors.Is(err, neonapi.ErrInvalidArgument) {
			t.Errorf("%s: error %v, want ErrInvalidArgument", what, err)
		}
	}
	for _, ex := range c.tr.Since(mark) {
		t.Errorf("sent %s although the input was refused", ex)
	}
}
