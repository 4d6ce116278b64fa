package neonapi

import (
	"context"
	"net/http"
	"time"
)

// Role is a Postgres role on a branch.
type Role struct {
	BranchID  string `json:"branch_id"`
	Name      string `json:"name" neon:"required"`
	Protected bool   `json:"protected"`
	// Password is set only in the answer that created the role, when Neon
	// generated one.
	Password  Secret    `json:"password,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ListRoles returns the Postgres roles of a branch (operationId
// listProjectBranchRoles).
func (c *Client) ListRoles(ctx context.Context, projectID, branchID string) ([]Role, error) {
	const op = "listProjectBranchRoles"
	if err := require(op, "project id", projectID, "branch id", branchID); err != nil {
		return nil, err
	}
	var out struct {
		Roles []Role `json:"roles" neon:"required"`
	}
	path := branchPath(projectID, branchID) + "/roles"
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, out: &out}); err != nil {
		return nil, err
	}
	return out.Roles, nil
}

// CreateRoleRequest is the role of RoleCreateRequest.
type CreateRoleRequest struct {
	Name string `json:"name"`
	// NoLogin makes a role that cannot log in, for ownership only.
	NoLogin bool `json:"no_login,omitempty"`
}

// CreatedRole is what createProjectBranchRole returns (RoleOperations).
type CreatedRole struct {
	Role       Role        `json:"role"`
	Operations []Operation `json:"operations"`
}

// CreateRole creates a Postgres role on a branch (operationId
// createProjectBranchRole). The answer's Role.Password is the only time Neon
// shows the password.
func (c *Client) CreateRole(ctx context.Context, projectID, branchID string, req CreateRoleRequest) (*CreatedRole, error) {
	const op = "createProjectBranchRole"
	if err := require(op, "project id", projectID, "branch id", branchID, "role name", req.Name); err != nil {
		return nil, err
	}
	body := struct {
		Role CreateRoleRequest `json:"role"`
	}{req}
	var out CreatedRole
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: branchPath(projectID, branchID) + "/roles", body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
