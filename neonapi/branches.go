package neonapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Branch is the subset of a Neon branch the dashboard uses.
type Branch struct {
	ID           string    `json:"id" neon:"required,id"`
	ProjectID    string    `json:"project_id"`
	ParentID     string    `json:"parent_id,omitempty"`
	Name         string    `json:"name"`
	CurrentState string    `json:"current_state"`
	Default      bool      `json:"default"`
	Protected    bool      `json:"protected"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// EndpointType is the kind of compute endpoint (the spec's EndpointType).
type EndpointType string

// Endpoint types: a branch has at most one read-write endpoint.
const (
	EndpointReadWrite EndpointType = "read_write"
	EndpointReadOnly  EndpointType = "read_only"
)

// Endpoint is the subset of a compute endpoint (the spec's Endpoint) the
// dashboard uses.
type Endpoint struct {
	ID                    string       `json:"id"`
	ProjectID             string       `json:"project_id"`
	BranchID              string       `json:"branch_id"`
	Host                  string       `json:"host"`
	RegionID              string       `json:"region_id"`
	Type                  EndpointType `json:"type"`
	CurrentState          string       `json:"current_state"`
	AutoscalingLimitMinCU float64      `json:"autoscaling_limit_min_cu"`
	AutoscalingLimitMaxCU float64      `json:"autoscaling_limit_max_cu"`
	PoolerEnabled         bool         `json:"pooler_enabled"`
	Disabled              bool         `json:"disabled"`
	CreatedAt             time.Time    `json:"created_at"`
	UpdatedAt             time.Time    `json:"updated_at"`
}

// CreateBranchRequest is the part of BranchCreateRequest the client sends. The
// zero value asks for Neon's defaults: a child of the default branch with a
// generated name and no compute endpoint.
type CreateBranchRequest struct {
	// ParentID is the branch to copy; empty means the project's default branch.
	ParentID string
	// Name is the new branch's name; empty lets Neon generate one.
	Name      string
	Protected bool
	// InitSource is "parent-data" (the default: schema and data) or
	// "schema-only".
	InitSource string
	// Endpoints lists the compute endpoints to create with the branch.
	Endpoints []BranchEndpointOptions
}

// BranchEndpointOptions describes one endpoint to create with a branch
// (BranchCreateRequestEndpointOptions).
type BranchEndpointOptions struct {
	Type EndpointType `json:"type"`
	// The autoscaling limits in compute units; zero leaves Neon's default.
	AutoscalingLimitMinCU float64 `json:"autoscaling_limit_min_cu,omitempty"`
	AutoscalingLimitMaxCU float64 `json:"autoscaling_limit_max_cu,omitempty"`
}

// CreatedBranch is what createProjectBranch returns. ConnectionURIs is filled
// only when an endpoint was created; its URIs hold passwords and stay wrapped.
type CreatedBranch struct {
	Branch         Branch              `json:"branch" neon:"required"`
	Endpoints      []Endpoint          `json:"endpoints"`
	Databases      []Database          `json:"databases"`
	Roles          []Role              `json:"roles"`
	Operations     []Operation         `json:"operations"`
	ConnectionURIs []ConnectionDetails `json:"connection_uris"`
}

// ConnectionDetails is a ready connection string and its parts
// (ConnectionDetails); the URI embeds the password, so both are secrets.
type ConnectionDetails struct {
	ConnectionURI Secret               `json:"connection_uri"`
	Parameters    ConnectionParameters `json:"connection_parameters"`
}

// ConnectionParameters are the parts of a connection string
// (ConnectionParameters).
type ConnectionParameters struct {
	Database   string `json:"database"`
	Role       string `json:"role"`
	Host       string `json:"host"`
	PoolerHost string `json:"pooler_host"`
	Password   Secret `json:"password"`
}

func branchPath(projectID, branchID string) string {
	return "/projects/" + seg(projectID) + "/branches/" + seg(branchID)
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
			Branches   []Branch `json:"branches" neon:"required"`
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

// GetBranch returns one branch (operationId getProjectBranch).
func (c *Client) GetBranch(ctx context.Context, projectID, branchID string) (*Branch, error) {
	const op = "getProjectBranch"
	if err := require(op, "project id", projectID, "branch id", branchID); err != nil {
		return nil, err
	}
	var out struct {
		Branch Branch `json:"branch" neon:"required"`
	}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: branchPath(projectID, branchID), out: &out}); err != nil {
		return nil, err
	}
	return &out.Branch, nil
}

// createBranchBody is BranchCreateRequest on the wire.
type createBranchBody struct {
	Branch    *createBranchFields     `json:"branch,omitempty"`
	Endpoints []BranchEndpointOptions `json:"endpoints,omitempty"`
}

type createBranchFields struct {
	ParentID   string `json:"parent_id,omitempty"`
	Name       string `json:"name,omitempty"`
	Protected  bool   `json:"protected,omitempty"`
	InitSource string `json:"init_source,omitempty"`
}

// CreateBranch creates a branch of a project (operationId createProjectBranch).
// Like every create it is not retried once the request may have reached Neon,
// so a failure does not rule out that the branch exists.
func (c *Client) CreateBranch(ctx context.Context, projectID string, req CreateBranchRequest) (*CreatedBranch, error) {
	const op = "createProjectBranch"
	if err := require(op, "project id", projectID); err != nil {
		return nil, err
	}
	for i, e := range req.Endpoints {
		if e.Type != EndpointReadWrite && e.Type != EndpointReadOnly {
			return nil, fmt.Errorf("%w: %s: endpoint %d has type %q, want read_write or read_only", ErrInvalidArgument, op, i, e.Type)
		}
	}
	var out CreatedBranch
	cl := call{op: op, method: http.MethodPost, path: "/projects/" + seg(projectID) + "/branches", out: &out}
	fields := createBranchFields{req.ParentID, req.Name, req.Protected, req.InitSource}
	body := createBranchBody{Endpoints: req.Endpoints}
	if fields != (createBranchFields{}) {
		body.Branch = &fields
	}
	if body.Branch != nil || len(body.Endpoints) > 0 {
		cl.body = body // the body is optional; without one Neon applies its defaults
	}
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListBranchEndpoints returns the compute endpoints of a branch (operationId
// listProjectBranchEndpoints).
func (c *Client) ListBranchEndpoints(ctx context.Context, projectID, branchID string) ([]Endpoint, error) {
	const op = "listProjectBranchEndpoints"
	if err := require(op, "project id", projectID, "branch id", branchID); err != nil {
		return nil, err
	}
	var out struct {
		Endpoints []Endpoint `json:"endpoints"`
	}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: branchPath(projectID, branchID) + "/endpoints", out: &out}); err != nil {
		return nil, err
	}
	return out.Endpoints, nil
}
