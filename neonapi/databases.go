package neonapi

import (
	"context"
	"net/http"
	"time"
)

// Database is a database on a branch.
type Database struct {
	ID        int64     `json:"id"`
	BranchID  string    `json:"branch_id"`
	Name      string    `json:"name"`
	OwnerName string    `json:"owner_name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ListDatabases returns the databases of a branch (operationId
// listProjectBranchDatabases).
func (c *Client) ListDatabases(ctx context.Context, projectID, branchID string) ([]Database, error) {
	const op = "listProjectBranchDatabases"
	if err := require(op, "project id", projectID, "branch id", branchID); err != nil {
		return nil, err
	}
	var out struct {
		Databases []Database `json:"databases"`
	}
	path := "/projects/" + seg(projectID) + "/branches/" + seg(branchID) + "/databases"
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, out: &out}); err != nil {
		return nil, err
	}
	return out.Databases, nil
}
