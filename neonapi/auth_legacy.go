package neonapi

import (
	"context"
	"net/http"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// CreateIntegrationRequest is the body of createNeonAuthIntegration
// (NeonAuthCreateIntegrationRequest).
type CreateIntegrationRequest struct {
	AuthProvider authprovider.Provider `json:"auth_provider"`
	ProjectID    string                `json:"project_id"`
	BranchID     string                `json:"branch_id"`
	DatabaseName string                `json:"database_name,omitempty"`
	// RoleName is deprecated in the spec but still shown by Neon's guide.
	RoleName string `json:"role_name,omitempty"`
}

// ListIntegrationsResponse is the body of listNeonAuthIntegrations.
type ListIntegrationsResponse struct {
	Data []Integration `json:"data" neon:"required"`
}

// CreateUserRequest is the body of createNeonAuthNewUser
// (NeonAuthCreateNewUserRequest).
type CreateUserRequest struct {
	ProjectID    string                `json:"project_id"`
	AuthProvider authprovider.Provider `json:"auth_provider"`
	Email        string                `json:"email"`
	Name         string                `json:"name,omitempty"`
}

// TransferRequest is the body of transferNeonAuthProviderProject and of
// createNeonAuthProviderSDKKeys.
type TransferRequest struct {
	ProjectID    string                `json:"project_id"`
	AuthProvider authprovider.Provider `json:"auth_provider"`
}

// TransferResponse carries the URL where the transfer is confirmed.
type TransferResponse struct {
	URL string `json:"url" neon:"required,url"`
}

// CreateIntegration creates a Neon-managed auth provider project for a branch's
// database (operationId createNeonAuthIntegration). The returned
// SecretServerKey is shown once and must not be stored or logged.
func (c *Client) CreateIntegration(ctx context.Context, req CreateIntegrationRequest) (*IntegrationKeys, error) {
	const op = "createNeonAuthIntegration"
	if err := require(op, "project id", req.ProjectID, "branch id", req.BranchID, "auth provider", string(req.AuthProvider)); err != nil {
		return nil, err
	}
	var out IntegrationKeys
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/projects/auth/create", body: req, out: &out, required: keysFor(req.AuthProvider)}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListIntegrations returns a project's active Neon Auth integrations
// (operationId listNeonAuthIntegrations).
func (c *Client) ListIntegrations(ctx context.Context, projectID string) ([]Integration, error) {
	const op = "listNeonAuthIntegrations"
	if err := require(op, "project id", projectID); err != nil {
		return nil, err
	}
	var out ListIntegrationsResponse
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/projects/" + seg(projectID) + "/auth/integrations", out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// CreateUser creates a user in a project's auth provider (operationId
// createNeonAuthNewUser). It is not retried once the request may have been
// received, so a failure does not rule out that the user exists.
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (*CreatedUser, error) {
	const op = "createNeonAuthNewUser"
	if err := require(op, "project id", req.ProjectID, "auth provider", string(req.AuthProvider), "email", req.Email); err != nil {
		return nil, err
	}
	var out CreatedUser
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/projects/auth/user", body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteUser deletes a user from a project's auth provider (operationId
// deleteNeonAuthUser).
func (c *Client) DeleteUser(ctx context.Context, projectID, userID string) error {
	const op = "deleteNeonAuthUser"
	if err := require(op, "project id", projectID, "user id", userID); err != nil {
		return err
	}
	return c.do(ctx, call{op: op, method: http.MethodDelete, path: "/projects/" + seg(projectID) + "/auth/users/" + seg(userID)})
}

// TransferOwnership starts moving a Neon-managed auth provider project to the
// user's own provider account and returns the URL that completes it (operationId
// transferNeonAuthProviderProject).
func (c *Client) TransferOwnership(ctx context.Context, req TransferRequest) (*TransferResponse, error) {
	const op = "transferNeonAuthProviderProject"
	if err := require(op, "project id", req.ProjectID, "auth provider", string(req.AuthProvider)); err != nil {
		return nil, err
	}
	var out TransferResponse
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/projects/auth/transfer_ownership", body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteIntegration removes a project's integration with provider p
// (operationId deleteNeonAuthIntegration). With deleteData the neon_auth schema
// is dropped as well; the body is sent only then, since the spec's default is to
// keep the data.
func (c *Client) DeleteIntegration(ctx context.Context, projectID string, p authprovider.Provider, deleteData bool) error {
	const op = "deleteNeonAuthIntegration"
	if err := require(op, "project id", projectID, "auth provider", string(p)); err != nil {
		return err
	}
	cl := call{op: op, method: http.MethodDelete, path: "/projects/" + seg(projectID) + "/auth/integration/" + seg(string(p))}
	if deleteData {
		cl.body = DeleteIntegrationRequest{DeleteData: true}
	}
	return c.do(ctx, cl)
}

// CreateSDKKeys issues a new pair of SDK keys for a project's auth provider
// (operationId createNeonAuthProviderSDKKeys). The secret key is shown once.
func (c *Client) CreateSDKKeys(ctx context.Context, req TransferRequest) (*IntegrationKeys, error) {
	const op = "createNeonAuthProviderSDKKeys"
	if err := require(op, "project id", req.ProjectID, "auth provider", string(req.AuthProvider)); err != nil {
		return nil, err
	}
	var out IntegrationKeys
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/projects/auth/keys", body: req, out: &out, required: keysFor(req.AuthProvider)}); err != nil {
		return nil, err
	}
	return &out, nil
}

// keysFor lists what an answer that issues keys must carry besides
// IntegrationKeys' own rules: for Stack Auth the pair of SDK keys, which is
// what the person came for and cannot be read again; for Better Auth the
// base URL its SDK talks to (Neon sends it no keys).
func keysFor(p authprovider.Provider) []string {
	if p == authprovider.BetterAuth {
		return []string{"base_url"}
	}
	return []string{"pub_client_key", "secret_server_key"}
}
