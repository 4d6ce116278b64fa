// Package neonapi is a typed client for the parts of the Neon API v2 the
// dashboard uses: projects, branches, databases, roles and Neon Auth.
//
// Every method takes a context first, names the spec's operationId in its doc
// comment, and fails with an *APIError (Neon answered with an error) or a
// *RequestError (no usable answer); both match the package's sentinels through
// errors.Is. Retries and client-side rate limiting happen in the HTTP transport,
// never twice for a request that may have created something.
package neonapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Client talks to the Neon API v2. It is safe for concurrent use; share one per
// API key so that all callers draw from the same rate budget.
type Client struct {
	baseURL   string
	key       *secretKey
	hc        *http.Client
	userAgent string
	observer  Observer
}

// secretKey keeps the key out of anything printed: it formats as a placeholder
// with every verb, and Client formats its fields itself.
type secretKey struct{ v string }

const redacted = "[REDACTED]"

func (*secretKey) String() string                { return redacted }
func (*secretKey) GoString() string              { return redacted }
func (*secretKey) Format(f fmt.State, verb rune) { io.WriteString(f, redacted) }

// New returns a client that authenticates with apiKey. It fails on an empty or
// malformed key and on the first invalid option.
func New(apiKey string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		return nil, errors.New("neonapi: API key is empty")
	}
	if !validHeaderValue(apiKey) || strings.ContainsRune(apiKey, ' ') {
		return nil, errors.New("neonapi: API key contains characters that cannot be sent in a header")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("neonapi: %w", err)
		}
	}

	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient
	} else {
		// The API never redirects; following one could only lead somewhere unexpected.
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	base := hc.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Concurrent dashboard requests fan out to one host; keep their
		// connections instead of redialling TLS for each.
		t.MaxIdleConnsPerHost = 16
		base = t
	}
	var lim *limiter
	if !cfg.noLimit {
		lim = newLimiter(cfg.perMinute, cfg.burst)
	}
	hc.Transport = newRetryTransport(base, cfg.retry, lim, cfg.observer)

	return &Client{
		baseURL:   cfg.baseURL,
		key:       &secretKey{v: apiKey},
		hc:        &hc,
		userAgent: cfg.userAgent,
		observer:  cfg.observer,
	}, nil
}

// String describes the client without its key.
func (c *Client) String() string {
	return "neonapi.Client{baseURL: " + strconv.Quote(c.baseURL) + ", key: " + redacted + "}"
}

// GoString is String, so %#v cannot reveal the key either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, closing the %+v and %x routes to the key.
func (c *Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

func defaultUserAgent() string {
	version := "dev"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	return "neon-auth-dashboard/" + version
}

// call describes one API request.
type call struct {
	op     string // operationId
	method string
	path   string // below the base URL, segments already escaped
	query  url.Values
	body   any // JSON-encoded when non-nil
	out    any // decoded from a 2xx body when non-nil
}

// do sends c and decodes the answer. It is the only place requests are built,
// so headers, ids and error shapes are the same for every operation.
func (c *Client) do(ctx context.Context, cl call) (err error) {
	start := time.Now()
	status := 0
	defer func() { c.observer.ObserveCall(cl.op, status, time.Since(start)) }()

	reqID := requestIDFor(ctx)
	reqErr := func(cause error) error {
		return &RequestError{Operation: cl.op, Method: cl.method, Path: cl.path, RequestID: reqID, Err: cause}
	}

	u := c.baseURL + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		buf, err := json.Marshal(cl.body)
		if err != nil {
			return reqErr(fmt.Errorf("encoding request: %w", err))
		}
		body = bytes.NewReader(buf) // replayable: NewRequest sets GetBody
	}
	req, err := http.NewRequestWithContext(withOperation(ctx, cl.op), cl.method, u, body)
	if err != nil {
		return reqErr(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key.v)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set(RequestIDHeader, reqID)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // its text repeats the full URL, which Path already gives
		}
		return reqErr(err)
	}
	defer discard(resp.Body)
	status = resp.StatusCode

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, cl.op, reqID, c.key.v)
	}
	if cl.out == nil {
		return checkEmptyBody(ctx, resp.Body, reqErr)
	}
	if err := json.NewDecoder(resp.Body).Decode(cl.out); err != nil {
		if ctx.Err() != nil {
			return reqErr(ctx.Err())
		}
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return reqErr(fmt.Errorf("%w: %v", ErrInvalidResponse, err))
		}
		return reqErr(fmt.Errorf("reading response: %w", err))
	}
	return nil
}

// maxIgnoredBody bounds how much of an answer the caller does not need is
// read to check it: operations without a result answer with nothing, or a
// small JSON object.
const maxIgnoredBody = 64 << 10

// checkEmptyBody reads the answer of an operation without a result. Neon
// sends no body, or JSON; anything else (a body cut short, a proxy's HTML
// page) means the answer cannot be trusted to say the change was made, so it
// is ErrInvalidResponse rather than success.
func checkEmptyBody(ctx context.Context, body io.Reader, reqErr func(error) error) error {
	data, err := io.ReadAll(io.LimitReader(body, maxIgnoredBody))
	if err != nil {
		if ctx.Err() != nil {
			return reqErr(ctx.Err())
		}
		return reqErr(fmt.Errorf("%w: reading response: %v", ErrInvalidResponse, err))
	}
	if len(bytes.TrimSpace(data)) == 0 || len(data) == maxIgnoredBody || json.Valid(data) {
		// A body longer than the bound is not judged on its first part.
		return nil
	}
	return reqErr(fmt.Errorf("%w: the answer is not JSON", ErrInvalidResponse))
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// require rejects empty identifiers before they turn "/projects/{id}" into
// "/projects/", which is a different endpoint.
func require(op string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return fmt.Errorf("%w: %s: %s is required", ErrInvalidArgument, op, pairs[i])
		}
	}
	return nil
}

// GetAuthDetails describes the API key in use (operationId getAuthDetails).
func (c *Client) GetAuthDetails(ctx context.Context) (*AuthDetails, error) {
	var out AuthDetails
	if err := c.do(ctx, call{op: "getAuthDetails", method: http.MethodGet, path: "/auth", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// maxProjectsLimit is the largest page listProjects accepts.
const maxProjectsLimit = 400

// ListProjects returns one page of projects (operationId listProjects). Pass the
// page's Cursor back in opts to fetch the next page; AllProjects does that for you.
func (c *Client) ListProjects(ctx context.Context, opts ListProjectsOptions) (*ProjectsPage, error) {
	const op = "listProjects"
	if opts.Limit < 0 || opts.Limit > maxProjectsLimit {
		return nil, fmt.Errorf("%w: %s: limit %d is outside 1..%d", ErrInvalidArgument, op, opts.Limit, maxProjectsLimit)
	}
	q := url.Values{}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Search != "" {
		q.Set("search", opts.Search)
	}
	if opts.OrgID != "" {
		q.Set("org_id", opts.OrgID)
	}
	var out struct {
		Projects   []Project `json:"projects"`
		Pagination *struct {
			Cursor string `json:"cursor"`
		} `json:"pagination"`
	}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/projects", query: q, out: &out}); err != nil {
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
		Project Project `json:"project"`
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
		URI string `json:"uri"`
	}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/projects/" + seg(projectID) + "/connection_uri", query: q, out: &out}); err != nil {
		return "", err
	}
	return out.URI, nil
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
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/projects/auth/create", body: req, out: &out}); err != nil {
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
func (c *Client) DeleteIntegration(ctx context.Context, projectID string, p AuthProvider, deleteData bool) error {
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
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/projects/auth/keys", body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

func branchAuthPath(projectID, branchID string) string {
	return "/projects/" + seg(projectID) + "/branches/" + seg(branchID) + "/auth"
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
	if err := c.do(ctx, call{op: op, method: http.MethodPost, path: branchAuthPath(projectID, branchID), body: req, out: &out}); err != nil {
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
