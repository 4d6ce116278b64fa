// Package neonauth is the dashboard's Neon Auth service: one API over both
// generations of Neon Auth. Project-level Stack Auth and branch-level Better
// Auth are enabled, disabled and given users through different Neon
// endpoints; Service picks the endpoint from the Provider, so its callers
// never do. It also reaches the users table an integration syncs into.
package neonauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// ErrUnsupported reports an operation the provider does not have, such as a
// role for a Stack Auth user or an ownership transfer for Better Auth.
var ErrUnsupported = errors.New("neonauth: not supported by this provider")

// Service manages Neon Auth integrations and their users through the Neon
// API, and opens the users tables they sync into.
type Service struct {
	neon  *neonapi.Client
	users *UserDatabases
}

// New returns a Service calling neon, reaching users tables through pools
// as cfg says.
func New(neon *neonapi.Client, pools *db.Pools, cfg UserDBConfig) *Service {
	return &Service{neon: neon, users: NewUserDatabases(neon, pools, cfg)}
}

// OpenUsers returns the users table of the integration r names; see
// UserDatabases.Open.
func (s *Service) OpenUsers(ctx context.Context, r Ref) (UserDirectory, error) {
	return s.users.Open(ctx, r)
}

// OpenBrowser returns the paged browser over the users table of the
// integration r names; see UserDatabases.OpenBrowser.
func (s *Service) OpenBrowser(ctx context.Context, r Ref) (UserBrowser, error) {
	b, err := s.users.OpenBrowser(ctx, r)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// EnableRequest asks to enable Neon Auth with a provider on a branch's
// database. RoleName is used by Stack Auth only.
type EnableRequest struct {
	ProjectID    string
	Provider     authprovider.Provider
	BranchID     string
	DatabaseName string
	RoleName     string
}

// Enable turns Neon Auth on: project-level createNeonAuthIntegration for Stack
// Auth, branch-level createNeonAuth for Better Auth. The keys' secret is shown
// once and never stored.
func (s *Service) Enable(ctx context.Context, req EnableRequest) (*neonapi.IntegrationKeys, error) {
	var (
		keys *neonapi.IntegrationKeys
		err  error
	)
	switch {
	case !req.Provider.Valid():
		return nil, fmt.Errorf("enable %q: %w", req.Provider, ErrUnsupported)
	case req.Provider.BranchLevel():
		keys, err = s.neon.EnableBranchAuth(ctx, req.ProjectID, req.BranchID, neonapi.EnableBranchAuthRequest{
			AuthProvider: req.Provider,
			DatabaseName: req.DatabaseName,
		})
	default:
		keys, err = s.neon.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{
			AuthProvider: req.Provider,
			ProjectID:    req.ProjectID,
			BranchID:     req.BranchID,
			DatabaseName: req.DatabaseName,
			RoleName:     req.RoleName,
		})
	}
	return keys, unknownOutcome(err, "Neon Auth was enabled")
}

// Disable removes an integration: deleteNeonAuthIntegration for Stack Auth,
// disableNeonAuth on the integration's branch for Better Auth. With
// deleteData the neon_auth schema and its users are dropped too.
func (s *Service) Disable(ctx context.Context, r Ref, deleteData bool) error {
	err := s.atLevel(ctx, r, "disable",
		func() error { return s.neon.DeleteIntegration(ctx, r.ProjectID, r.Provider, deleteData) },
		func(branchID string) error { return s.neon.DisableBranchAuth(ctx, r.ProjectID, branchID, deleteData) })
	if err == nil {
		s.users.forget(r)
	}
	return unknownOutcome(err, "Neon Auth was removed")
}

// TransferOwnership starts handing the provider's auth project over to an
// account of the user's own (transferNeonAuthProviderProject) and returns the
// URL that completes it. Only Stack Auth has such a project.
func (s *Service) TransferOwnership(ctx context.Context, r Ref) (*neonapi.TransferResponse, error) {
	if !r.Provider.HasTransfer() {
		return nil, fmt.Errorf("transfer %q: %w", r.Provider, ErrUnsupported)
	}
	res, err := s.neon.TransferOwnership(ctx, neonapi.TransferRequest{ProjectID: r.ProjectID, AuthProvider: r.Provider})
	return res, unknownOutcome(err, "the transfer was started")
}

// CreateSDKKeys issues new SDK keys for the provider's auth project
// (createNeonAuthProviderSDKKeys), alongside the current ones. Only Stack
// Auth has them.
func (s *Service) CreateSDKKeys(ctx context.Context, r Ref) (*neonapi.IntegrationKeys, error) {
	if !r.Provider.HasTransfer() {
		return nil, fmt.Errorf("new SDK keys for %q: %w", r.Provider, ErrUnsupported)
	}
	keys, err := s.neon.CreateSDKKeys(ctx, neonapi.TransferRequest{ProjectID: r.ProjectID, AuthProvider: r.Provider})
	return keys, unknownOutcome(err, "new keys were issued")
}

// atLevel runs project for a project-level provider, or branch with the
// integration's branch for a branch-level one: the place where the two
// generations' endpoints part. op names the operation in errors.
func (s *Service) atLevel(ctx context.Context, r Ref, op string, project func() error, branch func(branchID string) error) error {
	switch {
	case !r.Provider.Valid():
		return fmt.Errorf("%s for %q: %w", op, r.Provider, ErrUnsupported)
	case !r.Provider.BranchLevel():
		return project()
	}
	branchID, err := s.branch(ctx, r)
	if err != nil {
		return err
	}
	return branch(branchID)
}

// branch is the branch of r's integration: r.BranchID when the caller read
// it, else the one listNeonAuthIntegrations names.
func (s *Service) branch(ctx context.Context, r Ref) (string, error) {
	if r.BranchID != "" {
		return r.BranchID, nil
	}
	ins, err := s.neon.ListIntegrations(ctx, r.ProjectID)
	if err != nil {
		return "", err
	}
	for _, in := range ins {
		if in.AuthProvider == r.Provider {
			return in.BranchID, nil
		}
	}
	return "", fmt.Errorf("project %s: %w", r.ProjectID, ErrNoIntegration)
}
