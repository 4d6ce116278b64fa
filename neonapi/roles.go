package neonapi

import (
	"context"
	"net/http"
	"time"
)

// Role is a Postgres role on a branch.
type Role struct {
	BranchID  string    `json:"branch_id"`
	Name      string    `json:"name"`
	Protected bool      `json:"protected"`
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
		Roles []Role `json:"roles"`
	}
	path := "/projects/" + seg(projectID) + "/branches/" + seg(branchID) + "/roles"
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, out: &out}); err != nil {
		return nil, err
	}
	return out.Roles, nil
}
