package neonapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Operation is one step Neon ran or runs on a project (the spec's Operation):
// creating a branch, starting a compute, applying a configuration.
type Operation struct {
	ID              string    `json:"id"`
	ProjectID       string    `json:"project_id"`
	BranchID        string    `json:"branch_id,omitempty"`
	EndpointID      string    `json:"endpoint_id,omitempty"`
	Action          string    `json:"action"`
	Status          string    `json:"status"`
	Error           string    `json:"error,omitempty"`
	FailuresCount   int       `json:"failures_count"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	TotalDurationMS int       `json:"total_duration_ms"`
}

// ListOperationsOptions are the query parameters of listProjectOperations.
type ListOperationsOptions struct {
	Cursor string
	// Limit is the page size, 1 to 1000; zero leaves Neon's default.
	Limit int
}

// OperationsPage is one page of listProjectOperations.
type OperationsPage struct {
	Operations []Operation
	// Cursor is the value to pass as ListOperationsOptions.Cursor for the
	// next page; empty when Neon sent none.
	Cursor string
}

// maxOperationsLimit is the largest page listProjectOperations accepts.
const maxOperationsLimit = 1000

// ListOperations returns one page of a project's operations, newest first
// (operationId listProjectOperations).
func (c *Client) ListOperations(ctx context.Context, projectID string, opts ListOperationsOptions) (*OperationsPage, error) {
	const op = "listProjectOperations"
	if err := require(op, "project id", projectID); err != nil {
		return nil, err
	}
	if opts.Limit < 0 || opts.Limit > maxOperationsLimit {
		return nil, fmt.Errorf("%w: %s: limit %d is outside 1..%d", ErrInvalidArgument, op, opts.Limit, maxOperationsLimit)
	}
	q := url.Values{}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	var out struct {
		Operations []Operation `json:"operations"`
		Pagination *struct {
			Cursor string `json:"cursor"`
		} `json:"pagination"`
	}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/projects/" + seg(projectID) + "/operations", query: q, out: &out}); err != nil {
		return nil, err
	}
	page := &OperationsPage{Operations: out.Operations}
	if out.Pagination != nil {
		page.Cursor = out.Pagination.Cursor
	}
	return page, nil
}
