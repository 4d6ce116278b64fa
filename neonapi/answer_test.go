package neonapi_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestIncompleteAnswers checks that a successful answer missing what the
// dashboard relies on, or carrying an id it cannot use, is an error naming
// the members at fault, with the request id, and never a zero value.
func TestIncompleteAnswers(t *testing.T) {
	ctx := context.Background()
	stack := neonapi.TransferRequest{ProjectID: "p-1", AuthProvider: authprovider.Stack}
	tests := []struct {
		name string
		resp string
		call func(c *neonapi.Client) error
		want []string // the members named, missing then invalid
	}{
		{"projects list without projects", `{}`,
			func(c *neonapi.Client) error { return errOf(c.ListProjects(ctx, neonapi.ListProjectsOptions{})) },
			[]string{"projects"}},
		{"projects list with null projects", `{"projects":null}`,
			func(c *neonapi.Client) error { return errOf(c.ListProjects(ctx, neonapi.ListProjectsOptions{})) },
			[]string{"projects"}},
		{"a project without an id", `{"projects":[{"id":"p-1"},{"name":"x"}]}`,
			func(c *neonapi.Client) error { return errOf(c.ListProjects(ctx, neonapi.ListProjectsOptions{})) },
			[]string{"projects[1].id"}},
		{"getProject answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.GetProject(ctx, "p-1")) },
			[]string{"project"}},
		{"created user without an id", `{}`,
			func(c *neonapi.Client) error {
				return errOf(c.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: "p-1", AuthProvider: "stack", Email: "a@example.com"}))
			},
			[]string{"id"}},
		{"created user with an empty id", `{"id":""}`,
			func(c *neonapi.Client) error {
				return errOf(c.CreateBranchUser(ctx, "p-1", "br-1", neonapi.CreateBranchUserRequest{Email: "a@example.com"}))
			},
			[]string{"id"}},
		{"created user whose id is a path", `{"id":"../../../projects"}`,
			func(c *neonapi.Client) error {
				return errOf(c.CreateBranchUser(ctx, "p-1", "br-1", neonapi.CreateBranchUserRequest{Email: "a@example.com"}))
			},
			[]string{"id"}},
		{"new SDK keys answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.CreateSDKKeys(ctx, stack)) },
			[]string{"auth_provider_project_id", "jwks_url", "pub_client_key", "secret_server_key"}},
		{"new SDK keys without the secret", `{"auth_provider":"stack","auth_provider_project_id":"ap","pub_client_key":"pck","secret_server_key":"","jwks_url":"https://j"}`,
			func(c *neonapi.Client) error { return errOf(c.CreateSDKKeys(ctx, stack)) },
			[]string{"secret_server_key"}},
		{"Better Auth enabled without its base URL", `{"auth_provider":"better_auth","auth_provider_project_id":"ap","jwks_url":"https://j"}`,
			func(c *neonapi.Client) error {
				return errOf(c.EnableBranchAuth(ctx, "p-1", "br-1", neonapi.EnableBranchAuthRequest{AuthProvider: authprovider.BetterAuth}))
			},
			[]string{"base_url"}},
		{"getNeonAuth answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.GetBranchAuth(ctx, "p-1", "br-1")) },
			[]string{"auth_provider", "branch_id", "db_name"}},
		{"connection URI answered {}", `{}`,
			func(c *neonapi.Client) error {
				return errOf(c.GetConnectionURI(ctx, "p-1", neonapi.ConnectionURIOptions{DatabaseName: "d", RoleName: "r"}))
			},
			[]string{"uri"}},
		{"transfer URL that is not a web address", `{"url":"javascript:alert(1)"}`,
			func(c *neonapi.Client) error { return errOf(c.TransferOwnership(ctx, stack)) },
			[]string{"url"}},
		{"trusted domains answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.ListTrustedDomains(ctx, "p-1", "br-1")) },
			[]string{"domains"}},
		{"allow_localhost answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.GetAllowLocalhost(ctx, "p-1", "br-1")) },
			[]string{"allow_localhost"}},
		{"email and password answered without enabled", `{"email_verification_method":"otp","require_email_verification":true,"auto_sign_in_after_verification":true,"send_verification_email_on_sign_up":true,"send_verification_email_on_sign_in":false,"disable_sign_up":false}`,
			func(c *neonapi.Client) error { return errOf(c.GetEmailAndPasswordConfig(ctx, "p-1", "br-1")) },
			[]string{"enabled"}},
		{"email provider answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.GetEmailProvider(ctx, "p-1", "br-1")) },
			[]string{"type"}},
		{"OAuth provider without its type", `{"providers":[{"id":"google"}]}`,
			func(c *neonapi.Client) error { return errOf(c.ListOAuthProviders(ctx, "p-1", "br-1")) },
			[]string{"providers[0].type"}},
		{"webhooks answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.GetWebhookConfig(ctx, "p-1", "br-1")) },
			[]string{"enabled"}},
		{"plugins with a phone number plugin lacking enabled", `{"phone_number":{}}`,
			func(c *neonapi.Client) error { return errOf(c.GetPluginConfigs(ctx, "p-1", "br-1")) },
			[]string{"phone_number.enabled"}},
		{"branches answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.ListBranches(ctx, "p-1")) },
			[]string{"branches"}},
		{"integrations answered {}", `{}`,
			func(c *neonapi.Client) error { return errOf(c.ListIntegrations(ctx, "p-1")) },
			[]string{"data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, reply(200, tt.resp))
			err := tt.call(c)
			var reqErr *neonapi.RequestError
			var incomplete *neonapi.IncompleteAnswerError
			if !errors.As(err, &reqErr) || !errors.As(err, &incomplete) {
				t.Fatalf("err = %v, want a RequestError wrapping an IncompleteAnswerError", err)
			}
			if !errors.Is(err, neonapi.ErrIncompleteAnswer) || !errors.Is(err, neonapi.ErrInvalidResponse) {
				t.Errorf("err = %v, want ErrIncompleteAnswer and ErrInvalidResponse", err)
			}
			if errors.Is(err, neonapi.ErrUnavailable) || errors.Is(err, neonapi.ErrNoAnswer) {
				t.Errorf("err = %v: an answer came, so Neon is neither unavailable nor silent", err)
			}
			if reqErr.RequestID == "" || !reqErr.Sent {
				t.Errorf("RequestError = %+v, want the request id and Sent", reqErr)
			}
			got := incomplete.Fields()
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("fields at fault = %v, want %v", got, want)
			}
			if write := reqErr.Method != "GET"; neonapi.OutcomeUnknown(err) != write {
				t.Errorf("OutcomeUnknown = %t, want %t for %s", neonapi.OutcomeUnknown(err), write, reqErr.Method)
			}
		})
	}
}

// TestCompleteAnswersPass checks answers that carry what is needed, empty
// lists and false settings included, and the ids Neon really uses.
func TestCompleteAnswersPass(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		resp string
		call func(c *neonapi.Client) error
	}{
		{"an empty projects list", `{"projects":[]}`,
			func(c *neonapi.Client) error { return errOf(c.ListProjects(ctx, neonapi.ListProjectsOptions{})) }},
		{"a UUID user id", `{"id":"3f2b8c1e-5d4a-4b6e-9f10-2a3b4c5d6e7f"}`,
			func(c *neonapi.Client) error {
				return errOf(c.CreateBranchUser(ctx, "p-1", "br-1", neonapi.CreateBranchUserRequest{Email: "a@example.com"}))
			}},
		{"a Better Auth user id", `{"id":"Xk3pQ9vT2mLw8ZrB_a-1"}`,
			func(c *neonapi.Client) error {
				return errOf(c.CreateBranchUser(ctx, "p-1", "br-1", neonapi.CreateBranchUserRequest{Email: "a@example.com"}))
			}},
		{"allow_localhost false", `{"allow_localhost":false}`,
			func(c *neonapi.Client) error { return errOf(c.GetAllowLocalhost(ctx, "p-1", "br-1")) }},
		{"plugins without any plugin", `{}`,
			func(c *neonapi.Client) error { return errOf(c.GetPluginConfigs(ctx, "p-1", "br-1")) }},
		{"webhooks off", `{"enabled":false}`,
			func(c *neonapi.Client) error { return errOf(c.GetWebhookConfig(ctx, "p-1", "br-1")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, reply(200, tt.resp))
			if err := tt.call(c); err != nil {
				t.Fatalf("err = %v, want success", err)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"br-cool-darkness-123": true, "3f2b8c1e-5d4a-4b6e-9f10-2a3b4c5d6e7f": true, "Xk3pQ9vT_2": true,
		"": false, "../x": false, "..": false, "a/b": false, "a b": false, "-x": false, "a%2Fb": false,
		"x\n": false, string(make([]byte, 129)): false,
	} {
		if got := neonapi.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %t, want %t", id, got, want)
		}
	}
}
