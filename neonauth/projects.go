package neonauth

import (
	"context"
)

// The reads below are what the pages show of Neon itself: projects, their
// branches, databases and roles. They go through the client's read cache
// like every other read.

// Projects returns one page of the projects the API key can see
// (listProjects).
func (s *Service) Projects(ctx context.Context, opts ListProjectsOptions) (*ProjectsPage, error) {
	return s.neon.ListProjects(ctx, opts)
}

// Project returns one project (getProject).
func (s *Service) Project(ctx context.Context, projectID string) (*Project, error) {
	return s.neon.GetProject(ctx, projectID)
}

// Branches returns a project's branches (listProjectBranches).
func (s *Service) Branches(ctx context.Context, projectID string) ([]Branch, error) {
	return s.neon.ListBranches(ctx, projectID)
}

// Databases returns a branch's databases (listProjectBranchDatabases).
func (s *Service) Databases(ctx context.Context, projectID, branchID string) ([]Database, error) {
	return s.neon.ListDatabases(ctx, projectID, branchID)
}

// Roles returns a branch's roles (listProjectBranchRoles).
func (s *Service) Roles(ctx context.Context, projectID, branchID string) ([]Role, error) {
	return s.neon.ListRoles(ctx, projectID, branchID)
}

// Integrations returns what Neon's project-level list knows of a project's
// Neon Auth (listNeonAuthIntegrations): its Stack Auth integration, and the
// branch-level ones as that deprecated list reports them.
func (s *Service) Integrations(ctx context.Context, projectID string) ([]Integration, error) {
	return s.neon.ListIntegrations(ctx, projectID)
}

// CheckNeon reports whether the Neon API answers with the configured key
// (getAuthDetails), which covers both reachability and a revoked key.
func (s *Service) CheckNeon(ctx context.Context) error {
	_, err := s.neon.GetAuthDetails(ctx)
	return err
}
