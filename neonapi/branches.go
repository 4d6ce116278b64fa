package neonapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Branch is the subset of a Neon branch the dashboard uses.
type Branch struct {
	ID           string    `json:"id"`
	ProjectID    string    `json:"project_id"`
	ParentID     string    `json:"parent_id,omitempty"`
	Name         string    `json:"name"`
	CurrentState string    `json:"current_state"`
	Default      bool      `json:"default"`
	Protected    bool      `json:"protected"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// branchPageSize is the page size ListBranches asks for.
const branchPageSize = 100

// ListBranches returns every branch of a project, following the cursor through
// all pages (operationId listProjectBranches). Branch.Default marks the default
// branch.
func (c *Client) ListBranches(ctx context.Context, projectID string) ([]Branch, error) {
	const op = "listProjectBranches"
	if err := require(op, "project id", projectID); err != nil {
		return nil, err
	}
	var all []Branch
	have := map[string]bool{}
	cursor := ""
	seen := map[string]bool{"": true}
	for {
		q := url.Values{"limit": {strconv.Itoa(branchPageSize)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var out struct {
			Branches   []Branch `json:"branches"`
			Pagination *struct {
				Next string `json:"next"`
			} `json:"pagination"`
		}
		if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/projects/" + seg(projectID) + "/branches", query: q, out: &out}); err != nil {
			return nil, err
		}
		for _, b := range out.Branches {
			if !have[b.ID] { // a branch updated mid-listing can reappear on a later page
				have[b.ID] = true
				all = append(all, b)
			}
		}
		if out.Pagination == nil || len(out.Branches) < branchPageSize || seen[out.Pagination.Next] {
			return all, nil
		}
		cursor = out.Pagination.Next
		seen[cursor] = true
	}
}
