package neonapi

import (
	"context"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// CreateBranchUserRequest is the body of createBranchNeonAuthNewUser.
type CreateBranchUserRequest struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// EnableBranchAuthRequest is the body of createNeonAuth
// (EnableNeonAuthIntegrationRequest).
type EnableBranchAuthRequest struct {
	AuthProvider authprovider.Provider `json:"auth_provider"`
	DatabaseName string                `json:"database_name,omitempty"`
}

// UpdateUserRoleRequest is the body of updateNeonAuthUserRole.
type UpdateUserRoleRequest struct {
	Roles []string `json:"roles"`
}

// UpdateUserRoleResponse is the answer of updateNeonAuthUserRole.
type UpdateUserRoleResponse struct {
	ID string `json:"id"`
}

func branchAuthPath(projectID, branchID string) string {
	return branchPath(projectID, branchID) + "/auth"
}

// GetBranchAuth returns the Neon Auth integration of a branch (operationId
// getNeonAuth); errors.Is(err, ErrNotFound) when the branch has none.
func (c *Client) GetBranchAuth(ctx context.Context, projectID, branchID string) (*Integration, error) {
	const op = "getNeonAuth"
	if err := require(op, "project id", projectID, "branch id", branchID); err != nil {
		return nil, err
	}
	var out Integration
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: branchAuthPath(projectID, branchID), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EnableBranchAuth enables Neon Auth on a branch (operationId createNeonAuth).
// The secret key in the answer is shown once.
func (c *Client) EnableBranchAuth(ctx context.Context, projectID, branchID string, req EnableBranchAuthRequest) (*IntegrationKeys, error) {
	const op = "createNeonAuth"
	if err := require(op, "project id", projectID, "branch id", branchID, "auth provider", string(req.AuthProvider)); err != nil {
		return nil, err
	}
	var out IntegrationKeys
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: branchAuthPath(projectID, branchID), body: req, out: &out, required: keysFor(req.AuthProvider)}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DisableBranchAuth turns Neon Auth off for a branch (operationId
// disableNeonAuth). Like DeleteIntegration, the {"delete_data":true} body is sent
// only when deleteData is set.
func (c *Client) DisableBranchAuth(ctx context.Context, projectID, branchID string, deleteData bool) error {
	const op = "disableNeonAuth"
	if err := require(op, "project id", projectID, "branch id", branchID); err != nil {
		return err
	}
	cl := call{op: op, method: http.MethodDelete, path: branchAuthPath(projectID, branchID)}
	if deleteData {
		cl.body = DeleteIntegrationRequest{DeleteData: true}
	}
	return c.do(ctx, cl)
}

// CreateBranchUser creates a user in a branch's Neon Auth (operationId
// createBranchNeonAuthNewUser). Not retried once it may have been received.
func (c *Client) CreateBranchUser(ctx context.Context, projectID, branchID string, req CreateBranchUserRequest) (*CreatedUser, error) {
	const op = "createBranchNeonAuthNewUser"
	if err := require(op, "project id", projectID, "branch id", branchID, "email", req.Email); err != nil {
		return nil, err
	}
	var out CreatedUser
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: branchAuthPath(projectID, branchID) + "/users", body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteBranchUser deletes a user from a branch's Neon Auth (operationId
// deleteBranchNeonAuthUser).
func (c *Client) DeleteBranchUser(ctx context.Context, projectID, branchID, userID string) error {
	const op = "deleteBranchNeonAuthUser"
	if err := require(op, "project id", projectID, "branch id", branchID, "user id", userID); err != nil {
		return err
	}
	return c.do(ctx, call{op: op, method: http.MethodDelete, path: branchAuthPath(projectID, branchID) + "/users/" + seg(userID)})
}

// UpdateBranchUserRole replaces the roles of a branch Neon Auth user
// (operationId updateNeonAuthUserRole). The spec requires at least one role.
func (c *Client) UpdateBranchUserRole(ctx context.Context, projectID, branchID, userID string, roles []string) (*UpdateUserRoleResponse, error) {
	const op = "updateNeonAuthUserRole"
	if err := require(op, "project id", projectID, "branch id", branchID, "user id", userID); err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("%w: %s: at least one role is required", ErrInvalidArgument, op)
	}
	var out UpdateUserRoleResponse
	path := branchAuthPath(projectID, branchID) + "/users/" + seg(userID) + "/role"
	if err := c.do(ctx, call{op: op, method: http.MethodPut, path: path, body: UpdateUserRoleRequest{Roles: roles}, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// branchAuth sends one request to a path below a branch's /auth, after
// checking the ids that address it. secrets are revealed credentials in body.
func (c *Client) branchAuth(ctx context.Context, op, method, projectID, branchID, sub string, body, out any, secrets ...string) error {
	if err := require(op, "project id", projectID, "branch id", branchID); err != nil {
		return err
	}
	return c.do(ctx, call{op: op, method: method, path: branchAuthPath(projectID, branchID) + sub, body: body, out: out, secrets: secrets})
}

// AuthConfig is a branch's general Neon Auth settings (NeonAuthConfigResponse).
type AuthConfig struct {
	// Name is the application name shown in auth emails.
	Name string `json:"name" neon:"required"`
}

// AuthConfigUpdate is the body of updateNeonAuthConfig (NeonAuthConfigUpdate).
type AuthConfigUpdate struct {
	Name string `json:"name"`
}

// UpdateAuthConfig changes a branch's general Neon Auth settings: today the
// application name used in auth emails (operationId updateNeonAuthConfig).
func (c *Client) UpdateAuthConfig(ctx context.Context, projectID, branchID string, req AuthConfigUpdate) (*AuthConfig, error) {
	const op = "updateNeonAuthConfig"
	if n := utf8.RuneCountInString(req.Name); n < 1 || n > 256 {
		return nil, fmt.Errorf("%w: %s: name must be 1 to 256 characters long", ErrInvalidArgument, op)
	}
	var out AuthConfig
	if err := c.branchAuth(ctx, op, http.MethodPatch, projectID, branchID, "/config", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// checkRange rejects an optional integer outside [lo, hi], which the spec
// forbids and Neon would refuse.
func checkRange(op, field string, v *int, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return fmt.Errorf("%w: %s: %s %d is outside %d..%d", ErrInvalidArgument, op, field, *v, lo, hi)
	}
	return nil
}
