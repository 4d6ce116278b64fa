package neonauth

import (
	"context"
	"fmt"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// BranchUsers is where a branch's users live: the branch, the Neon Auth on
// it (nil when it has none) and the project's other branches, so a page can
// name the branch and offer the others.
type BranchUsers struct {
	Branch neonapi.Branch
	// Auth is the branch's integration; nil when Neon Auth is not enabled on
	// it or is a project-level provider's.
	Auth *neonapi.Integration
	// Branches are every branch of the project, in Neon's order.
	Branches []neonapi.Branch
}

// UsersOnBranch reads the branch's Neon Auth (getNeonAuth) and the project's
// branches (both through the read cache). A branch the project does not have
// is neonapi.ErrNotFound.
func (s *Service) UsersOnBranch(ctx context.Context, projectID, branchID string) (BranchUsers, error) {
	branches, err := s.neon.ListBranches(ctx, projectID)
	if err != nil {
		return BranchUsers{}, err
	}
	out := BranchUsers{Branches: branches}
	found := false
	for _, b := range branches {
		if b.ID == branchID {
			out.Branch, found = b, true
		}
	}
	if !found {
		return out, fmt.Errorf("branch %s of project %s: %w", branchID, projectID, neonapi.ErrNotFound)
	}
	in, err := s.BranchAuth(ctx, projectID, branchID)
	if err != nil {
		return out, err
	}
	if in != nil && in.AuthProvider.BranchLevel() {
		out.Auth = in
	}
	return out, nil
}

// UsersBranch picks the branch whose branch-level users a link that names
// none means: hint when given, else the default branch when Neon Auth is on
// it, else the first branch that has it. ErrNoIntegration when none has.
func (s *Service) UsersBranch(ctx context.Context, projectID, hint string) (string, error) {
	if hint != "" {
		return hint, nil
	}
	d := s.Discover(ctx, projectID)
	if d.BranchesErr != nil {
		return "", d.BranchesErr
	}
	var first string
	for _, b := range d.Branches {
		if !b.Provider().BranchLevel() {
			continue
		}
		if b.Branch.Default {
			return b.Branch.ID, nil
		}
		if first == "" {
			first = b.Branch.ID
		}
	}
	if first == "" {
		if err := d.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("project %s: %w", projectID, ErrNoIntegration)
	}
	return first, nil
}

// UsersChanged forgets the counts and charts cached for r's users table,
// after a change to it: the next page shows figures that include it. It
// neither calls Neon nor connects: a table never resolved has nothing cached.
func (s *Service) UsersChanged(_ context.Context, r Ref) {
	s.users.forgetAnswers(r)
}
