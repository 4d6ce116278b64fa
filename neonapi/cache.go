package neonapi

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"golang.org/x/sync/singleflight"
)

// API is every call Client makes. Cache wraps one and is one.
type API interface {
	GetAuthDetails(ctx context.Context) (*AuthDetails, error)
	ListProjects(ctx context.Context, opts ListProjectsOptions) (*ProjectsPage, error)
	AllProjects(ctx context.Context, opts ListProjectsOptions) iter.Seq2[Project, error]
	GetProject(ctx context.Context, projectID string) (*Project, error)
	CreateProject(ctx context.Context, req CreateProjectRequest) (*CreatedProject, error)
	ListBranches(ctx context.Context, projectID string) ([]Branch, error)
	ListDatabases(ctx context.Context, projectID, branchID string) ([]Database, error)
	ListRoles(ctx context.Context, projectID, branchID string) ([]Role, error)
	GetConnectionURI(ctx context.Context, projectID string, opts ConnectionURIOptions) (string, error)
	CreateIntegration(ctx context.Context, req CreateIntegrationRequest) (*IntegrationKeys, error)
	ListIntegrations(ctx context.Context, projectID string) ([]Integration, error)
	CreateUser(ctx context.Context, req CreateUserRequest) (*CreatedUser, error)
	DeleteUser(ctx context.Context, projectID, userID string) error
	TransferOwnership(ctx context.Context, req TransferRequest) (*TransferResponse, error)
	DeleteIntegration(ctx context.Context, projectID string, p authprovider.Provider, deleteData bool) error
	CreateSDKKeys(ctx context.Context, req TransferRequest) (*IntegrationKeys, error)
	GetBranchAuth(ctx context.Context, projectID, branchID string) (*Integration, error)
	EnableBranchAuth(ctx context.Context, projectID, branchID string, req EnableBranchAuthRequest) (*IntegrationKeys, error)
	DisableBranchAuth(ctx context.Context, projectID, branchID string, deleteData bool) error
	CreateBranchUser(ctx context.Context, projectID, branchID string, req CreateBranchUserRequest) (*CreatedUser, error)
	DeleteBranchUser(ctx context.Context, projectID, branchID, userID string) error
	UpdateBranchUserRole(ctx context.Context, projectID, branchID, userID string, roles []string) (*UpdateUserRoleResponse, error)
	GetCurrentUser(ctx context.Context) (*CurrentUser, error)
	ListSharedProjects(ctx context.Context, opts ListSharedProjectsOptions) (*ProjectsPage, error)
	ListOperations(ctx context.Context, projectID string, opts ListOperationsOptions) (*OperationsPage, error)
	GetBranch(ctx context.Context, projectID, branchID string) (*Branch, error)
	CreateBranch(ctx context.Context, projectID string, req CreateBranchRequest) (*CreatedBranch, error)
	ListBranchEndpoints(ctx context.Context, projectID, branchID string) ([]Endpoint, error)
	GetDatabase(ctx context.Context, projectID, branchID, name string) (*Database, error)
	CreateDatabase(ctx context.Context, projectID, branchID string, req CreateDatabaseRequest) (*CreatedDatabase, error)
	CreateRole(ctx context.Context, projectID, branchID string, req CreateRoleRequest) (*CreatedRole, error)
	UpdateAuthConfig(ctx context.Context, projectID, branchID string, req AuthConfigUpdate) (*AuthConfig, error)
	ListTrustedDomains(ctx context.Context, projectID, branchID string) ([]TrustedDomain, error)
	AddTrustedDomain(ctx context.Context, projectID, branchID string, req AddTrustedDomainRequest) error
	DeleteTrustedDomains(ctx context.Context, projectID, branchID string, req DeleteTrustedDomainsRequest) error
	GetAllowLocalhost(ctx context.Context, projectID, branchID string) (bool, error)
	UpdateAllowLocalhost(ctx context.Context, projectID, branchID string, allow bool) (bool, error)
	ListOAuthProviders(ctx context.Context, projectID, branchID string) ([]OAuthProvider, error)
	AddOAuthProvider(ctx context.Context, projectID, branchID string, req AddOAuthProviderRequest) (*OAuthProvider, error)
	UpdateOAuthProvider(ctx context.Context, projectID, branchID string, id OAuthProviderID, req UpdateOAuthProviderRequest) (*OAuthProvider, error)
	DeleteOAuthProvider(ctx context.Context, projectID, branchID string, id OAuthProviderID) error
	GetEmailAndPasswordConfig(ctx context.Context, projectID, branchID string) (*EmailAndPasswordConfig, error)
	UpdateEmailAndPasswordConfig(ctx context.Context, projectID, branchID string, req EmailAndPasswordConfigUpdate) (*EmailAndPasswordConfig, error)
	GetEmailProvider(ctx context.Context, projectID, branchID string) (*EmailServer, error)
	UpdateEmailProvider(ctx context.Context, projectID, branchID string, s EmailServer) (*EmailServer, error)
	SendTestEmail(ctx context.Context, projectID, branchID string, req SendTestEmailRequest) (*SendTestEmailResult, error)
	GetPluginConfigs(ctx context.Context, projectID, branchID string) (*PluginConfigs, error)
	UpdateOrganizationPlugin(ctx context.Context, projectID, branchID string, req OrganizationConfigUpdate) (*OrganizationConfig, error)
	UpdateMagicLinkPlugin(ctx context.Context, projectID, branchID string, req MagicLinkConfigUpdate) (*MagicLinkConfig, error)
	GetPhoneNumberPlugin(ctx context.Context, projectID, branchID string) (*PhoneNumberConfig, error)
	UpdatePhoneNumberPlugin(ctx context.Context, projectID, branchID string, req PhoneNumberConfigUpdate) (*PhoneNumberConfig, error)
	GetWebhookConfig(ctx context.Context, projectID, branchID string) (*WebhookConfig, error)
	UpdateWebhookConfig(ctx context.Context, projectID, branchID string, cfg WebhookConfig) (*WebhookConfig, error)
}

var (
	_ API = (*Client)(nil)
	_ API = (*Cache)(nil)
)

// flightTimeout bounds a shared upstream read. The read runs detached from the
// first caller's cancellation, since other callers may be waiting on it.
const flightTimeout = time.Minute

// sweepThreshold is the entry count above which a store also drops expired
// entries, so a long-running dashboard's cache stays bounded by recent use.
const sweepThreshold = 512

// Cache is an API that remembers successful reads for a short time and merges
// identical concurrent reads into one upstream call, so a page that fans out
// over many projects, or many people opening the same page, stays within Neon's
// rate limit. Errors are never remembered, except getNeonAuth's 404: that is
// Neon's answer "this branch has no Neon Auth", not a failure, and a page that
// shows every branch would otherwise ask again for each branch without it.
// Writes made through the Cache drop
// the affected project's entries, so the dashboard shows its own changes at once;
// changes made elsewhere (the Neon Console) show up within the TTL.
//
// Reads hand out copies, so callers may modify what they get. Calls not listed
// below (user writes, connection URIs, which hold passwords) pass straight
// through to the wrapped API.
type Cache struct {
	API // the wrapped API; methods Cache does not override pass through

	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	// gens counts invalidations per project ("" for the project list). A read
	// only stores its result if no invalidation happened while it ran, and
	// reads never join a flight that started before one.
	gens map[string]uint64

	// joined, when set, is called once a caller waits on a flight; tests use
	// it to know every caller has joined before letting the upstream answer.
	joined func()
}

type cacheKey struct {
	op      string
	project string // "" for listProjects
	rest    string
}

type cacheEntry struct {
	value   any
	expires time.Time
}

// NewCache wraps inner, keeping successful reads for ttl.
func NewCache(inner API, ttl time.Duration) *Cache {
	return &Cache{
		API:     inner,
		ttl:     ttl,
		now:     time.Now,
		entries: map[cacheKey]cacheEntry{},
		gens:    map[string]uint64{},
	}
}

type liveKey struct{}

// ReadLive returns a context whose reads through a Cache go to Neon: no
// remembered answer and no read already in flight is used. What they bring
// back is remembered as usual, so pages that may show a slightly older state
// (a badge) profit from a page that may not (a checklist a person is about
// to act on).
func ReadLive(ctx context.Context) context.Context {
	return context.WithValue(ctx, liveKey{}, true)
}

// readsLive reports whether ctx came from ReadLive.
func readsLive(ctx context.Context) bool {
	live, _ := ctx.Value(liveKey{}).(bool)
	return live
}

// cached returns the remembered value for k, or fetches it once for all
// concurrent callers. clone copies a value on its way out. Under ReadLive
// it fetches on its own and remembers the result.
func cached[T any](ctx context.Context, c *Cache, k cacheKey, clone func(T) T, fetch func(context.Context) (T, error)) (T, error) {
	if readsLive(ctx) {
		c.mu.Lock()
		gen := c.gens[k.project]
		c.mu.Unlock()
		v, err := fetch(ctx)
		if err != nil {
			return v, err
		}
		c.store(k, gen, v)
		return clone(v), nil
	}
	c.mu.Lock()
	if e, ok := c.entries[k]; ok {
		if c.now().Before(e.expires) {
			c.mu.Unlock()
			return clone(e.value.(T)), nil
		}
		delete(c.entries, k)
	}
	gen := c.gens[k.project]
	c.mu.Unlock()

	flight := flightClass(ctx) + strconv.FormatUint(gen, 10) + "\x00" + k.op + "\x00" + k.project + "\x00" + k.rest
	ch := c.group.DoChan(flight, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
		defer cancel()
		v, err := fetch(fctx)
		if err != nil {
			return v, err
		}
		c.store(k, gen, v)
		return v, nil
	})
	if c.joined != nil {
		c.joined()
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			var zero T
			return zero, r.Err
		}
		return clone(r.Val.(T)), nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (c *Cache) store(k cacheKey, gen uint64, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[k.project] != gen {
		return // invalidated while in flight: the value may predate a write
	}
	now := c.now()
	if len(c.entries) >= sweepThreshold {
		for key, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, key)
			}
		}
	}
	c.entries[k] = cacheEntry{value: v, expires: now.Add(c.ttl)}
}

// InvalidateProject forgets everything remembered about a project, for changes
// the Cache cannot see (such as ones made in the Neon Console).
func (c *Cache) InvalidateProject(projectID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[projectID]++
	for k := range c.entries {
		if k.project == projectID {
			delete(c.entries, k)
		}
	}
}

// invalidateProjectList forgets every remembered page of the project list.
func (c *Cache) invalidateProjectList() { c.InvalidateProject("") }

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneSlice[T any](s []T) []T { return slices.Clone(s) }

// ListProjects is Client.ListProjects (operationId listProjects), cached per
// cursor, limit, search and organization.
func (c *Cache) ListProjects(ctx context.Context, opts ListProjectsOptions) (*ProjectsPage, error) {
	k := cacheKey{op: "listProjects", rest: strings.Join([]string{opts.Cursor, strconv.Itoa(opts.Limit), opts.Search, opts.OrgID}, "\x00")}
	return cached(ctx, c, k, func(p *ProjectsPage) *ProjectsPage {
		if p == nil {
			return nil
		}
		return &ProjectsPage{Projects: slices.Clone(p.Projects), Cursor: p.Cursor}
	}, func(ctx context.Context) (*ProjectsPage, error) {
		return c.API.ListProjects(ctx, opts)
	})
}

// GetProject is Client.GetProject (operationId getProject), cached.
func (c *Cache) GetProject(ctx context.Context, projectID string) (*Project, error) {
	return cached(ctx, c, cacheKey{op: "getProject", project: projectID}, clonePtr[Project],
		func(ctx context.Context) (*Project, error) { return c.API.GetProject(ctx, projectID) })
}

// ListBranches is Client.ListBranches (operationId listProjectBranches), cached.
func (c *Cache) ListBranches(ctx context.Context, projectID string) ([]Branch, error) {
	return cached(ctx, c, cacheKey{op: "listProjectBranches", project: projectID}, cloneSlice[Branch],
		func(ctx context.Context) ([]Branch, error) { return c.API.ListBranches(ctx, projectID) })
}

// ListDatabases is Client.ListDatabases (operationId
// listProjectBranchDatabases), cached.
func (c *Cache) ListDatabases(ctx context.Context, projectID, branchID string) ([]Database, error) {
	return cached(ctx, c, cacheKey{op: "listProjectBranchDatabases", project: projectID, rest: branchID}, cloneSlice[Database],
		func(ctx context.Context) ([]Database, error) { return c.API.ListDatabases(ctx, projectID, branchID) })
}

// ListRoles is Client.ListRoles (operationId listProjectBranchRoles), cached.
func (c *Cache) ListRoles(ctx context.Context, projectID, branchID string) ([]Role, error) {
	return cached(ctx, c, cacheKey{op: "listProjectBranchRoles", project: projectID, rest: branchID}, cloneSlice[Role],
		func(ctx context.Context) ([]Role, error) { return c.API.ListRoles(ctx, projectID, branchID) })
}

// ListIntegrations is Client.ListIntegrations (operationId
// listNeonAuthIntegrations), cached.
func (c *Cache) ListIntegrations(ctx context.Context, projectID string) ([]Integration, error) {
	return cached(ctx, c, cacheKey{op: "listNeonAuthIntegrations", project: projectID}, cloneSlice[Integration],
		func(ctx context.Context) ([]Integration, error) { return c.API.ListIntegrations(ctx, projectID) })
}

// branchAuthAnswer is what getNeonAuth answered: the branch's integration,
// or the 404 saying it has none.
type branchAuthAnswer struct {
	auth     *Integration
	notFound error
}

// GetBranchAuth is Client.GetBranchAuth (operationId getNeonAuth), cached. A
// branch without Neon Auth answers 404, which is kept like an integration
// (with the request id Neon gave it), so errors.Is(err, ErrNotFound) holds on
// a cached answer too. Enabling or disabling auth through the Cache drops both.
func (c *Cache) GetBranchAuth(ctx context.Context, projectID, branchID string) (*Integration, error) {
	a, err := cached(ctx, c, cacheKey{op: "getNeonAuth", project: projectID, rest: branchID},
		func(a branchAuthAnswer) branchAuthAnswer {
			return branchAuthAnswer{auth: clonePtr(a.auth), notFound: a.notFound}
		},
		func(ctx context.Context) (branchAuthAnswer, error) {
			in, err := c.API.GetBranchAuth(ctx, projectID, branchID)
			if errors.Is(err, ErrNotFound) {
				return branchAuthAnswer{notFound: err}, nil
			}
			return branchAuthAnswer{auth: in}, err
		})
	switch {
	case err != nil:
		return nil, err
	case a.notFound != nil:
		return nil, a.notFound
	}
	return a.auth, nil
}

// CreateProject is Client.CreateProject (operationId createProject); it drops
// the remembered project list.
func (c *Cache) CreateProject(ctx context.Context, req CreateProjectRequest) (*CreatedProject, error) {
	defer c.invalidateProjectList()
	return c.API.CreateProject(ctx, req)
}

// The writes below drop the project's entries even when they fail: a timed-out
// write may still have happened.

// CreateIntegration is Client.CreateIntegration (operationId
// createNeonAuthIntegration); it drops the project's entries.
func (c *Cache) CreateIntegration(ctx context.Context, req CreateIntegrationRequest) (*IntegrationKeys, error) {
	defer c.InvalidateProject(req.ProjectID)
	return c.API.CreateIntegration(ctx, req)
}

// TransferOwnership is Client.TransferOwnership (operationId
// transferNeonAuthProviderProject); it drops the project's entries.
func (c *Cache) TransferOwnership(ctx context.Context, req TransferRequest) (*TransferResponse, error) {
	defer c.InvalidateProject(req.ProjectID)
	return c.API.TransferOwnership(ctx, req)
}

// CreateSDKKeys is Client.CreateSDKKeys (operationId
// createNeonAuthProviderSDKKeys); it drops the project's entries.
func (c *Cache) CreateSDKKeys(ctx context.Context, req TransferRequest) (*IntegrationKeys, error) {
	defer c.InvalidateProject(req.ProjectID)
	return c.API.CreateSDKKeys(ctx, req)
}

// DeleteIntegration is Client.DeleteIntegration (operationId
// deleteNeonAuthIntegration); it drops the project's entries.
func (c *Cache) DeleteIntegration(ctx context.Context, projectID string, p authprovider.Provider, deleteData bool) error {
	defer c.InvalidateProject(projectID)
	return c.API.DeleteIntegration(ctx, projectID, p, deleteData)
}

// EnableBranchAuth is Client.EnableBranchAuth (operationId createNeonAuth); it
// drops the project's entries.
func (c *Cache) EnableBranchAuth(ctx context.Context, projectID, branchID string, req EnableBranchAuthRequest) (*IntegrationKeys, error) {
	defer c.InvalidateProject(projectID)
	return c.API.EnableBranchAuth(ctx, projectID, branchID, req)
}

// DisableBranchAuth is Client.DisableBranchAuth (operationId disableNeonAuth);
// it drops the project's entries.
func (c *Cache) DisableBranchAuth(ctx context.Context, projectID, branchID string, deleteData bool) error {
	defer c.InvalidateProject(projectID)
	return c.API.DisableBranchAuth(ctx, projectID, branchID, deleteData)
}

// CreateBranch is Client.CreateBranch (operationId createProjectBranch); it
// drops the project's entries, the branch list among them.
func (c *Cache) CreateBranch(ctx context.Context, projectID string, req CreateBranchRequest) (*CreatedBranch, error) {
	defer c.InvalidateProject(projectID)
	return c.API.CreateBranch(ctx, projectID, req)
}

// CreateDatabase is Client.CreateDatabase (operationId
// createProjectBranchDatabase); it drops the project's entries.
func (c *Cache) CreateDatabase(ctx context.Context, projectID, branchID string, req CreateDatabaseRequest) (*CreatedDatabase, error) {
	defer c.InvalidateProject(projectID)
	return c.API.CreateDatabase(ctx, projectID, branchID, req)
}

// CreateRole is Client.CreateRole (operationId createProjectBranchRole); it
// drops the project's entries.
func (c *Cache) CreateRole(ctx context.Context, projectID, branchID string, req CreateRoleRequest) (*CreatedRole, error) {
	defer c.InvalidateProject(projectID)
	return c.API.CreateRole(ctx, projectID, branchID, req)
}

// UpdateAuthConfig is Client.UpdateAuthConfig (operationId
// updateNeonAuthConfig); it drops the project's entries, since the name shows
// in getNeonAuth.
func (c *Cache) UpdateAuthConfig(ctx context.Context, projectID, branchID string, req AuthConfigUpdate) (*AuthConfig, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdateAuthConfig(ctx, projectID, branchID, req)
}
