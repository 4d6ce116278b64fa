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
	Name      string    `json:"name" neon:"required"`
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
		Databases []Database `json:"databases" neon:"required"`
	}
	path := branchPath(projectID, branchID) + "/databases"
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, out: &out}); err != nil {
		return nil, err
	}
	return out.Databases, nil
}

// GetDatabase returns one database of a branch (operationId
// getProjectBranchDatabase).
func (c *Client) GetDatabase(ctx context.Context, projectID, branchID, name string) (*Database, error) {
	const op = "getProjectBranchDatabase"
	if err := require(op, "project id", projectID, "branch id", branchID, "database name", name); err != nil {
		return nil, err
	}
	var out struct {
		Database Database `json:"database" neon:"required"`
	}
	path := branchPath(projectID, branchID) + "/databases/" + seg(name)
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, out: &out}); err != nil {
		return nil, err
	}
	return &out.Database, nil
}

// CreateDatabaseRequest is the database of DatabaseCreateRequest.
type CreateDatabaseRequest struct {
	Name      string `json:"name"`
	OwnerName string `json:"owner_name"`
}

// CreatedDatabase is what createProjectBranchDatabase returns
// (DatabaseOperations).
type CreatedDatabase struct {
	Database   Database    `json:"database"`
	Operations []Operation `json:"operations"`
}

// CreateDatabase creates a database on a branch, owned by an existing role
// (operationId createProjectBranchDatabase).
func (c *Client) CreateDatabase(ctx context.Context, projectID, branchID string, req CreateDatabaseRequest) (*CreatedDatabase, error) {
	const op = "createProjectBranchDatabase"
	if err := require(op, "project id", projectID, "branch id", branchID, "database name", req.Name, "owner name", req.OwnerName); err != nil {
		return nil, err
	}
	body := struct {
		Database CreateDatabaseRequest `json:"database"`
	}{req}
	var out CreatedDatabase
	path := branchPath(projectID, branchID) + "/databases"
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: path, body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
