// Package handlers holds the dashboard's Echo handlers and middleware. Routes are
// listed in routes.go; each area of the dashboard has its own file.
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/gorilla/sessions"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/metrics"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// NeonAPI is the part of the Neon API the handlers call. *neonapi.Client and the
// caching decorator around it satisfy it.
type NeonAPI interface {
	ListProjects(ctx context.Context, opts neonapi.ListProjectsOptions) (*neonapi.ProjectsPage, error)
	GetProject(ctx context.Context, projectID string) (*neonapi.Project, error)
	ListBranches(ctx context.Context, projectID string) ([]neonapi.Branch, error)
	ListDatabases(ctx context.Context, projectID, branchID string) ([]neonapi.Database, error)
	ListRoles(ctx context.Context, projectID, branchID string) ([]neonapi.Role, error)
	GetConnectionURI(ctx context.Context, projectID string, opts neonapi.ConnectionURIOptions) (string, error)

	ListIntegrations(ctx context.Context, projectID string) ([]neonapi.Integration, error)
	CreateIntegration(ctx context.Context, req neonapi.CreateIntegrationRequest) (*neonapi.IntegrationKeys, error)
	CreateUser(ctx context.Context, req neonapi.CreateUserRequest) (*neonapi.CreatedUser, error)
	DeleteUser(ctx context.Context, projectID, userID string) error
	TransferOwnership(ctx context.Context, req neonapi.TransferRequest) (*neonapi.TransferResponse, error)
	CreateSDKKeys(ctx context.Context, req neonapi.TransferRequest) (*neonapi.IntegrationKeys, error)
	DeleteIntegration(ctx context.Context, projectID string, provider neonapi.AuthProvider, deleteData bool) error

	GetBranchAuth(ctx context.Context, projectID, branchID string) (*neonapi.Integration, error)
	EnableBranchAuth(ctx context.Context, projectID, branchID string, req neonapi.EnableBranchAuthRequest) (*neonapi.IntegrationKeys, error)
	DisableBranchAuth(ctx context.Context, projectID, branchID string, deleteData bool) error
	CreateBranchUser(ctx context.Context, projectID, branchID string, req neonapi.CreateBranchUserRequest) (*neonapi.CreatedUser, error)
	DeleteBranchUser(ctx context.Context, projectID, branchID, userID string) error
	UpdateBranchUserRole(ctx context.Context, projectID, branchID, userID string, roles []string) (*neonapi.UpdateUserRoleResponse, error)
}

// Settings are the handler-level knobs taken from the configuration.
type Settings struct {
	// Demo marks the embedded-sandbox mode (shown in the header).
	Demo bool
	// SyncTimeout is how long the live sync check polls before giving up.
	SyncTimeout time.Duration
	// LatestUsers is how many rows the users page lists.
	LatestUsers int
}

// SyncObserver records how long live sync checks take to conclude.
// *metrics.Metrics is one.
type SyncObserver interface {
	ObserveSyncCheck(d time.Duration)
}

// Handler serves every dashboard route. Its fields are the services it needs,
// passed in by main; tests pass the sandbox or fakes.
type Handler struct {
	Neon     NeonAPI
	Users    UserDatabases
	Sessions sessions.Store
	Logger   *slog.Logger
	Settings Settings
	// Security guards every route (identity, roles, CSRF, headers, audit).
	// main always sets it; handler tests may leave it nil.
	Security *identity.Security
	// Metrics counts requests and serves /metrics; nil turns both off.
	Metrics *metrics.Metrics
	// Ready answers /readyz; nil is always ready.
	Ready *Readiness
	// SyncMetrics receives the duration of each concluded sync check; nil
	// when metrics are off.
	SyncMetrics SyncObserver
}
