package neonapi

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Project is the subset of a Neon project (ProjectListItem / Project) the
// dashboard uses.
type Project struct {
	ID        string `json:"id" neon:"required,id"`
	Name      string `json:"name"`
	RegionID  string `json:"region_id"`
	PgVersion int    `json:"pg_version"`
	OrgID     string `json:"org_id,omitempty"`
	OwnerID   string `json:"owner_id"`
	// Permission is what this account may do with a shared project:
	// CAN_VIEW, CAN_EDIT or CAN_MANAGE; empty for the account's own projects.
	Permission string    `json:"effective_project_permission,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ListProjectsOptions are the query parameters of listProjects.
type ListProjectsOptions struct {
	Cursor string
	Limit  int
	Search string
	OrgID  string
}

// ProjectsPage is one page of listProjects.
type ProjectsPage struct {
	Projects []Project `json:"projects"`
	// Cursor is the value to pass as ListProjectsOptions.Cursor for the next
	// page; empty when the page is the last one.
	Cursor string `json:"-"`
}

// CreateProjectRequest is the subset of ProjectCreateRequest the client sends.
type CreateProjectRequest struct {
	Name     string `json:"name,omitempty"`
	RegionID string `json:"region_id,omitempty"`
}

// CreatedProject is what createProject returns, reduced to what callers need.
type CreatedProject struct {
	Project        Project    `json:"project" neon:"required"`
	Branch         Branch     `json:"branch"`
	Databases      []Database `json:"databases"`
	Roles          []Role     `json:"roles"`
	ConnectionURIs []struct {
		ConnectionURI string `json:"connection_uri"`
	} `json:"connection_uris"`
}

// ConnectionURIOptions are the query parameters of getConnectionURI.
type ConnectionURIOptions struct {
	BranchID     string
	DatabaseName string
	RoleName     string
	Pooled       bool
}

// maxProjectsLimit is the largest page listProjects accepts.
const maxProjectsLimit = 400

// ListProjects returns one page of projects (operationId listProjects). Pass the
// page's Cursor back in opts to fetch the next page; AllProjects does that for you.
func (c *Client) ListProjects(ctx context.Context, opts ListProjectsOptions) (*ProjectsPage, error) {
	q, err := projectsQuery("listProjects", opts.Cursor, opts.Limit, opts.Search)
	if err != nil {
		return nil, err
	}
	if opts.OrgID != "" {
		q.Set("org_id", opts.OrgID)
	}
	return c.projectsPage(ctx, "listProjects", "/projects", q)
}

// ListSharedProjectsOptions are the query parameters of listSharedProjects.
type ListSharedProjectsOptions struct {
	Cursor string
	Limit  int
	Search string
}

// ListSharedProjects returns one page of the projects other accounts share
// with this one (operationId listSharedProjects); page through it like
// ListProjects.
func (c *Client) ListSharedProjects(ctx context.Context, opts ListSharedProjectsOptions) (*ProjectsPage, error) {
	q, err := projectsQuery("listSharedProjects", opts.Cursor, opts.Limit, opts.Search)
	if err != nil {
		return nil, err
	}
	return c.projectsPage(ctx, "listSharedProjects", "/projects/shared", q)
}

// projectsQuery builds the query both project listings share.
func projectsQuery(op, cursor string, limit int, search string) (url.Values, error) {
	if limit < 0 || limit > maxProjectsLimit {
		return nil, fmt.Errorf("%w: %s: limit %d is outside 1..%d", ErrInvalidArgument, op, limit, maxProjectsLimit)
	}
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if search != "" {
		q.Set("search", search)
	}
	return q, nil
}

func (c *Client) projectsPage(ctx context.Context, op, path string, q url.Values) (*ProjectsPage, error) {
	var out struct {
		Projects   []Project `json:"projects" neon:"required"`
		Pagination *struct {
			Cursor string `json:"cursor"`
		} `json:"pagination"`
	}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, query: q, out: &out}); err != nil {
		return nil, err
	}
	page := &ProjectsPage{Projects: out.Projects}
	if out.Pagination != nil {
		page.Cursor = out.Pagination.Cursor
	}
	return page, nil
}

// allProjectsPageSize is used by AllProjects when the caller sets no limit, so
// that "a short page is the last page" can be decided without an extra request.
const allProjectsPageSize = 100

// AllProjects iterates over every project, fetching pages lazily (operationId
// listProjects). Neon returns a cursor even with the last page, so iteration also
// ends on an empty page, a page shorter than the limit, or a cursor seen before.
// An error is yielded once, as the last element.
func (c *Client) AllProjects(ctx context.Context, opts ListProjectsOptions) iter.Seq2[Project, error] {
	return func(yield func(Project, error) bool) {
		if opts.Limit == 0 {
			opts.Limit = allProjectsPageSize
		}
		seen := map[string]bool{opts.Cursor: true}
		for {
			page, err := c.ListProjects(ctx, opts)
			if err != nil {
				yield(Project{}, err)
				return
			}
			for _, p := range page.Projects {
				if !yield(p, nil) {
					return
				}
			}
			if len(page.Projects) < opts.Limit || page.Cursor == "" || seen[page.Cursor] {
				return
			}
			seen[page.Cursor] = true
			opts.Cursor = page.Cursor
		}
	}
}

// GetProject returns one project (operationId getProject).
func (c *Client) GetProject(ctx context.Context, projectID string) (*Project, error) {
	const op = "getProject"
	if err := require(op, "project id", projectID); err != nil {
		return nil, err
	}
	var out struct {
		Project Project `json:"project" neon:"required"`
	}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/projects/" + seg(projectID), out: &out}); err != nil {
		return nil, err
	}
	return &out.Project, nil
}

// CreateProject creates a project with its default branch, database and role
// (operationId createProject). It is never retried after the request may have
// reached Neon, so a failure can still mean the project exists.
func (c *Client) CreateProject(ctx context.Context, req CreateProjectRequest) (*CreatedProject, error) {
	body := struct {
		Project CreateProjectRequest `json:"project"`
	}{req}
	var out CreatedProject
	if err := c.do(ctx, call{op: "createProject", method: http.MethodPost, path: "/projects", body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetConnectionURI returns a Postgres connection string for a database and role
// (operationId getConnectionURI). The URI embeds a password: treat it as a secret.
func (c *Client) GetConnectionURI(ctx context.Context, projectID string, opts ConnectionURIOptions) (string, error) {
	const op = "getConnectionURI"
	if err := require(op, "project id", projectID, "database name", opts.DatabaseName, "role name", opts.RoleName); err != nil {
		return "", err
	}
	q := url.Values{}
	if opts.BranchID != "" {
		q.Set("branch_id", opts.BranchID)
	}
	q.Set("database_name", opts.DatabaseName)
	q.Set("role_name", opts.RoleName)
	if opts.Pooled {
		q.Set("pooled", "true")
	}
	var out struct {
		URI string `json:"uri" neon:"required"`
	}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/projects/" + seg(projectID) + "/connection_uri", query: q, out: &out}); err != nil {
		return "", err
	}
	return out.URI, nil
}
