package neonauth

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// branchLookups bounds the getNeonAuth calls one project's discovery has in
// flight: a project with many branches then takes a few rounds of the rate
// budget, not a burst that starves every other page.
const branchLookups = 4

// BranchState is one branch and its Neon Auth, as getNeonAuth reports it.
type BranchState struct {
	Branch neonapi.Branch
	// Auth is the branch's integration; nil when Neon Auth is not enabled on
	// the branch, or when Err is set.
	Auth *neonapi.Integration
	// Err is why the branch's state could not be read. It concerns this
	// branch only: the others were read all the same.
	Err error
}

// Enabled reports whether Neon Auth is on for the branch.
func (b BranchState) Enabled() bool { return b.Auth != nil }

// Provider is the provider of the branch's integration, "" when none.
func (b BranchState) Provider() authprovider.Provider {
	if b.Auth == nil {
		return ""
	}
	return b.Auth.AuthProvider
}

// Discovery is a project's Neon Auth as far as it was read: the project-level
// (legacy Stack Auth) integrations from listNeonAuthIntegrations, and the
// branch-level state of the branches getNeonAuth was asked about.
type Discovery struct {
	// Legacy are the project-level integrations; branch-level ones the
	// deprecated list also returns are left out, since Branches has them.
	Legacy    []neonapi.Integration
	LegacyErr error
	// Branches are the branches read, in Neon's order.
	Branches []BranchState
	// BranchesErr is why the branches could not be listed.
	BranchesErr error
}

// Err is the first failure of any part of the discovery, nil when every
// part was read.
func (d Discovery) Err() error {
	if d.LegacyErr != nil {
		return d.LegacyErr
	}
	if d.BranchesErr != nil {
		return d.BranchesErr
	}
	for _, b := range d.Branches {
		if b.Err != nil {
			return b.Err
		}
	}
	return nil
}

// Integrations are the project's integrations: the project-level ones, then
// the branch-level ones in branch order. A branch whose getNeonAuth names a
// project-level provider is served by the project-level integration, listed
// once.
func (d Discovery) Integrations() []neonapi.Integration {
	return MergeIntegrations(d.Legacy, d.Branches)
}

// MergeIntegrations lists legacy (project-level) integrations, then those of
// branches whose provider is branch-level.
func MergeIntegrations(legacy []neonapi.Integration, branches []BranchState) []neonapi.Integration {
	out := append([]neonapi.Integration(nil), legacy...)
	for _, b := range branches {
		if b.Auth != nil && b.Provider().BranchLevel() {
			out = append(out, *b.Auth)
		}
	}
	return out
}

// LegacyIntegrations returns the project's project-level integrations (Stack
// Auth) from listNeonAuthIntegrations. That call is deprecated and does not
// see branch-level Neon Auth on every branch, so it is read for the
// generation it alone reports and its branch-level entries are dropped.
func (s *Service) LegacyIntegrations(ctx context.Context, projectID string) ([]neonapi.Integration, error) {
	ins, err := s.neon.ListIntegrations(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := ins[:0:0]
	for _, in := range ins {
		if !in.AuthProvider.BranchLevel() {
			out = append(out, in)
		}
	}
	return out, nil
}

// BranchAuth returns a branch's Neon Auth integration (getNeonAuth), nil
// without error when the branch has none: Neon answers 404 then.
func (s *Service) BranchAuth(ctx context.Context, projectID, branchID string) (*neonapi.Integration, error) {
	in, err := s.neon.GetBranchAuth(ctx, projectID, branchID)
	if errors.Is(err, neonapi.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Neon Auth of branch %s: %w", branchID, err)
	}
	return in, nil
}

// BranchStates reads the Neon Auth of each branch, branchLookups at a time.
// A branch whose read fails carries its error; the others are read all the
// same, and the result has one entry per branch, in the order given.
func (s *Service) BranchStates(ctx context.Context, projectID string, branches []neonapi.Branch) []BranchState {
	out := make([]BranchState, len(branches))
	var g errgroup.Group
	g.SetLimit(branchLookups)
	for i, b := range branches {
		out[i].Branch = b
		g.Go(func() error {
			out[i].Auth, out[i].Err = s.BranchAuth(ctx, projectID, b.ID)
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// Discover reads the project's project-level integrations and every branch's
// Neon Auth, the two in parallel.
func (s *Service) Discover(ctx context.Context, projectID string) Discovery {
	return s.discover(ctx, projectID, func(bs []neonapi.Branch) []neonapi.Branch { return bs })
}

// DiscoverDefault is Discover reading the default branch's Neon Auth only:
// a bounded cost for pages that list many projects. Branches then holds the
// default branch alone (none when the project has no branch).
func (s *Service) DiscoverDefault(ctx context.Context, projectID string) Discovery {
	return s.discover(ctx, projectID, func(bs []neonapi.Branch) []neonapi.Branch {
		if b := DefaultBranch(bs); b != nil {
			return []neonapi.Branch{*b}
		}
		return nil
	})
}

// discover reads the legacy list and, once the branches are listed, the
// state of those pick returns.
func (s *Service) discover(ctx context.Context, projectID string, pick func([]neonapi.Branch) []neonapi.Branch) Discovery {
	var (
		d Discovery
		g errgroup.Group
	)
	g.Go(func() error {
		d.Legacy, d.LegacyErr = s.LegacyIntegrations(ctx, projectID)
		return nil
	})
	g.Go(func() error {
		branches, err := s.neon.ListBranches(ctx, projectID)
		if err != nil {
			d.BranchesErr = err
			return nil
		}
		d.Branches = s.BranchStates(ctx, projectID, pick(branches))
		return nil
	})
	_ = g.Wait()
	return d
}

// DefaultBranch returns the branch Neon marks default, else the first; nil
// for no branches.
func DefaultBranch(bs []neonapi.Branch) *neonapi.Branch {
	for i := range bs {
		if bs[i].Default {
			return &bs[i]
		}
	}
	if len(bs) > 0 {
		return &bs[0]
	}
	return nil
}
