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
	"github.com/neonauth-admin/dashboard/neonauth"
)

// NeonAuth is the Neon Auth service as the handlers use it: where Neon Auth
// is enabled, changes to integrations and users, whichever generation of Neon
// Auth a project uses, and the users tables. *neonauth.Service is one.
type NeonAuth interface {
	Projects(ctx context.Context, opts neonauth.ListProjectsOptions) (*neonauth.ProjectsPage, error)
	Project(ctx context.Context, projectID string) (*neonauth.Project, error)
	Branches(ctx context.Context, projectID string) ([]neonauth.Branch, error)
	Databases(ctx context.Context, projectID, branchID string) ([]neonauth.Database, error)
	Roles(ctx context.Context, projectID, branchID string) ([]neonauth.Role, error)
	Integrations(ctx context.Context, projectID string) ([]neonauth.Integration, error)

	LegacyIntegrations(ctx context.Context, projectID string) ([]neonauth.Integration, error)
	BranchStates(ctx context.Context, projectID string, branches []neonauth.Branch) []neonauth.BranchState
	DiscoverDefault(ctx context.Context, projectID string) neonauth.Discovery

	Enable(ctx context.Context, req neonauth.EnableRequest) (*neonauth.IntegrationKeys, error)
	Disable(ctx context.Context, r neonauth.Ref, deleteData bool) error
	TransferOwnership(ctx context.Context, r neonauth.Ref) (*neonauth.TransferResponse, error)
	CreateSDKKeys(ctx context.Context, r neonauth.Ref) (*neonauth.IntegrationKeys, error)
	CreateUser(ctx context.Context, r neonauth.Ref, email, name string) (*neonauth.CreatedUser, error)
	DeleteUser(ctx context.Context, r neonauth.Ref, userID string) error
	SetUserRole(ctx context.Context, r neonauth.Ref, userID string, roles []string) error
	OpenUsers(ctx context.Context, r neonauth.Ref) (neonauth.UserDirectory, error)
	OpenBrowser(ctx context.Context, r neonauth.Ref) (neonauth.UserBrowser, error)
	OpenPeople(ctx context.Context, r neonauth.Ref) (neonauth.People, error)
	UsersOnBranch(ctx context.Context, projectID, branchID string) (neonauth.BranchUsers, error)
	UsersBranch(ctx context.Context, projectID, hint string) (string, error)
	UsersChanged(ctx context.Context, r neonauth.Ref)
}

// Settings are the handler-level knobs taken from the configuration.
type Settings struct {
	// Demo marks the embedded-sandbox mode (shown in the header).
	Demo bool
	// SyncTimeout is how long the live sync check polls before giving up
	// (neonauth.DefaultSyncTimeout when zero).
	SyncTimeout time.Duration
	// IndexAdviceRows is the row estimate from which the index advisor
	// offers a browse-order index (neonauth.DefaultIndexAdviceRows when zero).
	IndexAdviceRows int64
}

// SyncObserver records how long live sync checks take to conclude.
// *metrics.Metrics is one.
type SyncObserver interface {
	ObserveSyncCheck(d time.Duration)
}

// Handler serves every dashboard route. Its fields are the services it needs,
// passed in by main; tests pass the sandbox or fakes.
type Handler struct {
	Auth NeonAuth
	// Checks reads branches' Neon Auth settings for the readiness and
	// comparison pages.
	Checks BranchChecks
	// AuthSettings reads and changes the settings of branch-level Neon Auth.
	AuthSettings AuthSettings
	Sessions     sessions.Store
	Logger       *slog.Logger
	Settings     Settings
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
	// Budget reports the spend of Neon's rate budget, shown to admins in
	// the page footer; nil shows none.
	Budget NeonBudget
	// Jobs runs index builds and the revocations too large for one
	// request in the background, and records copies; nil runs them within
	// the request, unrecorded.
	Jobs Jobs
	// Store is the state store replicas share, reported on /readyz; nil
	// means this process keeps its state in memory and runs alone.
	Store StateStore
	// Audit reads the audit trail for /audit and the user pages; nil
	// without a state store (audit lines go to AUDIT_LOG only).
	Audit AuditTrail
}

// StateStore is what /readyz reports of the state store. *state.Store is
// one.
type StateStore interface {
	Replica() string
	// ReplicasSeen counts the replicas alive within d; an error means the
	// store does not answer.
	ReplicasSeen(ctx context.Context, d time.Duration) (int, error)
}
