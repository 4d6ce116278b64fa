package neonauth

import (
	"context"
	"fmt"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// CreateUser creates a user in r's integration: createNeonAuthNewUser for
// Stack Auth, createBranchNeonAuthNewUser on the integration's branch for
// Better Auth. The user reaches the users table some time later.
func (s *Service) CreateUser(ctx context.Context, r Ref, email, name string) (*neonapi.CreatedUser, error) {
	var u *neonapi.CreatedUser
	err := s.atLevel(ctx, r, "create a user",
		func() (err error) {
			u, err = s.neon.CreateUser(ctx, neonapi.CreateUserRequest{ProjectID: r.ProjectID, AuthProvider: r.Provider, Email: email, Name: name})
			return err
		},
		func(branchID string) (err error) {
			u, err = s.neon.CreateBranchUser(ctx, r.ProjectID, branchID, neonapi.CreateBranchUserRequest{Email: email, Name: name})
			return err
		})
	return u, unknownOutcome(err, "the user was created")
}

// DeleteUser deletes a user from r's integration: deleteNeonAuthUser for
// Stack Auth, deleteBranchNeonAuthUser for Better Auth.
func (s *Service) DeleteUser(ctx context.Context, r Ref, userID string) error {
	err := s.atLevel(ctx, r, "delete a user",
		func() error { return s.neon.DeleteUser(ctx, r.ProjectID, userID) },
		func(branchID string) error { return s.neon.DeleteBranchUser(ctx, r.ProjectID, branchID, userID) })
	return unknownOutcome(err, "the user was deleted")
}

// SetUserRole replaces a user's roles (updateNeonAuthUserRole, on the
// integration's branch). Only Better Auth users have roles in Neon's API.
func (s *Service) SetUserRole(ctx context.Context, r Ref, userID string, roles []string) error {
	if !r.Provider.HasRoles() {
		return fmt.Errorf("roles of %q users: %w", r.Provider, ErrUnsupported)
	}
	branchID, err := s.branch(ctx, r)
	if err == nil {
		_, err = s.neon.UpdateBranchUserRole(ctx, r.ProjectID, branchID, userID, roles)
	}
	return unknownOutcome(err, "the role was changed")
}
