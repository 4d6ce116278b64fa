package neonauth

import (
	"context"

	"github.com/neonauth-admin/dashboard/db"
)

// PeopleOrganizations is the part of People that serves organizations:
// Better Auth's organization plugin keeps them in the branch's
// neon_auth.organization, member and invitation tables. It only reads.
type PeopleOrganizations interface {
	// ListOrganizations returns one page of organizations by name, with
	// member and pending invitation counts.
	ListOrganizations(ctx context.Context, req OrganizationsRequest) (OrganizationPage, error)
	// Organization returns one organization's row, or ErrNoOrganization.
	Organization(ctx context.Context, id string) (OrganizationDetail, error)
	// OrganizationMembers returns one page of its members, oldest first.
	OrganizationMembers(ctx context.Context, orgID, after string) (MemberPage, error)
	// OrganizationInvitations returns one page of its invitations, newest
	// first, each with its state.
	OrganizationInvitations(ctx context.Context, orgID, after string) (InvitationPage, error)
}

// The organization pages' values, as the db package reads them.
type (
	Organization         = db.Organization
	OrganizationDetail   = db.OrganizationDetail
	OrganizationsRequest = db.OrganizationsRequest
	OrganizationPage     = db.OrganizationPage
	BoundedCount         = db.BoundedCount
	Member               = db.Member
	MemberPage           = db.MemberPage
	Invitation           = db.Invitation
	InvitationPage       = db.InvitationPage
	InvitationState      = db.InvitationState
)

// The states of an invitation.
const (
	InvitationPending  = db.InvitationPending
	InvitationAccepted = db.InvitationAccepted
	InvitationRejected = db.InvitationRejected
	InvitationCanceled = db.InvitationCanceled
	InvitationExpired  = db.InvitationExpired
)

// Limits of the organization pages.
const (
	MaxCounted       = db.MaxCounted
	MaxMetadataShown = db.MaxMetadataShown
)

// ErrNoOrganization reports an organization id the branch has no row for.
var ErrNoOrganization = db.ErrNoOrganization
