package db

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MemberPageSize is how many members, and how many invitations, one page of
// an organization lists.
const MemberPageSize = 100

// Member is one row of neon_auth.member with its user's name and email.
type Member struct {
	ID     string
	UserID string
	// Name and Email are the user's; "" if the user row is missing.
	Name  string
	Email string
	Role  string
	// JoinedAt is the member row's createdAt.
	JoinedAt time.Time
}

// MemberPage is one page of an organization's members, in the order they
// joined.
type MemberPage struct {
	Members []Member
	// Next is the cursor of the following page, "" on the last.
	Next string
}

// InvitationState is what became of an invitation.
type InvitationState string

// The states of an invitation. Better Auth stores pending, accepted,
// rejected and canceled; expired is a pending invitation past its
// "expiresAt", which Better Auth no longer accepts but never rewrites.
// Any other stored status is shown as stored.
const (
	InvitationPending  InvitationState = "pending"
	InvitationAccepted InvitationState = "accepted"
	InvitationRejected InvitationState = "rejected"
	InvitationCanceled InvitationState = "canceled"
	InvitationExpired  InvitationState = "expired"
)

// Invitation is one row of neon_auth.invitation with its inviter's email.
type Invitation struct {
	ID    string
	Email string
	Role  string
	// Status is the status column as stored; State is what it means now.
	Status    string
	State     InvitationState
	ExpiresAt time.Time
	CreatedAt time.Time
	// InviterEmail is "" if the inviter's user row is missing.
	InviterEmail string
}

// InvitationPage is one page of an organization's invitations, newest
// first.
type InvitationPage struct {
	Invitations []Invitation
	// Next is the cursor of the following page, "" on the last.
	Next string
}

// OrganizationMembers returns one page of the organization's members,
// oldest first, from the one after the after cursor ("" for the first
// page). The member_organizationId index finds them. An organization id
// that is not a uuid gives ErrNoOrganization; one with no members, an empty
// page.
func (b *UserBrowser) OrganizationMembers(ctx context.Context, orgID, after string) (MemberPage, error) {
	const op = "organization members"
	oid, from, err := b.orgListArgs(op, keysetMembers, orgID, after)
	if err != nil {
		return MemberPage{}, err
	}
	var a sqlArgs
	where := []string{`m."organizationId" = ` + a.text(oid.String(), "uuid")}
	if from != nil {
		where = append(where, fmt.Sprintf(`(m."createdAt", m.id) > (%s, %s)`, a.time(from.at), a.text(from.id.String(), "uuid")))
	}
	sql := fmt.Sprintf(`SELECT m.id, m."userId", coalesce(u.name, ''), coalesce(u.email, ''), m.role, m."createdAt"
  FROM neon_auth.member m LEFT JOIN neon_auth."user" u ON u.id = m."userId"%s
 ORDER BY m."createdAt", m.id
 LIMIT %d`, whereSQL(where), MemberPageSize+1)
	rows, err := b.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, a.args...)...)
	if err != nil {
		return MemberPage{}, wrapErr(op, b.target, err)
	}
	var ids []uuid.UUID
	members, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		var id, userID uuid.UUID
		err := r.Scan(&id, &userID, &m.Name, &m.Email, &m.Role, &m.JoinedAt)
		m.ID, m.UserID = id.String(), userID.String()
		ids = append(ids, id)
		return m, err
	})
	if err != nil {
		return MemberPage{}, wrapErr(op, b.target, err)
	}
	p := MemberPage{Members: members}
	if len(members) > MemberPageSize {
		p.Members = members[:MemberPageSize]
		last := p.Members[MemberPageSize-1]
		p.Next = encodeKeyset(keysetMembers, keyset{at: last.JoinedAt, id: ids[MemberPageSize-1]})
	}
	return p, nil
}

// OrganizationInvitations returns one page of the organization's
// invitations, newest first, from the one after the after cursor ("" for
// the first page), each with its state as of the database's clock. The
// invitation_organizationId index finds them.
func (b *UserBrowser) OrganizationInvitations(ctx context.Context, orgID, after string) (InvitationPage, error) {
	const op = "organization invitations"
	oid, from, err := b.orgListArgs(op, keysetInvitations, orgID, after)
	if err != nil {
		return InvitationPage{}, err
	}
	var a sqlArgs
	where := []string{`i."organizationId" = ` + a.text(oid.String(), "uuid")}
	if from != nil {
		where = append(where, fmt.Sprintf(`(i."createdAt", i.id) < (%s, %s)`, a.time(from.at), a.text(from.id.String(), "uuid")))
	}
	sql := fmt.Sprintf(`SELECT i.id, i.email, coalesce(i.role, ''), i.status,
       CASE WHEN i.status = 'pending' AND i."expiresAt" <= now() THEN 'expired' ELSE i.status END,
       i."expiresAt", i."createdAt", coalesce(u.email, '')
  FROM neon_auth.invitation i LEFT JOIN neon_auth."user" u ON u.id = i."inviterId"%s
 ORDER BY i."createdAt" DESC, i.id DESC
 LIMIT %d`, whereSQL(where), MemberPageSize+1)
	rows, err := b.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, a.args...)...)
	if err != nil {
		return InvitationPage{}, wrapErr(op, b.target, err)
	}
	var ids []uuid.UUID
	invs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invitation, error) {
		var inv Invitation
		var id uuid.UUID
		var state string
		err := r.Scan(&id, &inv.Email, &inv.Role, &inv.Status, &state, &inv.ExpiresAt, &inv.CreatedAt, &inv.InviterEmail)
		inv.ID, inv.State = id.String(), InvitationState(state)
		ids = append(ids, id)
		return inv, err
	})
	if err != nil {
		return InvitationPage{}, wrapErr(op, b.target, err)
	}
	p := InvitationPage{Invitations: invs}
	if len(invs) > MemberPageSize {
		p.Invitations = invs[:MemberPageSize]
		last := p.Invitations[MemberPageSize-1]
		p.Next = encodeKeyset(keysetInvitations, keyset{at: last.CreatedAt, id: ids[MemberPageSize-1]})
	}
	return p, nil
}

// orgListArgs checks the arguments of a list inside one organization.
func (b *UserBrowser) orgListArgs(op string, list byte, orgID, after string) (uuid.UUID, *keyset, error) {
	if err := b.checkPeople(op); err != nil {
		return uuid.UUID{}, nil, err
	}
	oid, err := organizationID(orgID)
	if err != nil {
		return uuid.UUID{}, nil, fmt.Errorf("db: %s on %s: %w", op, b.target, err)
	}
	if after == "" {
		return oid, nil, nil
	}
	k, err := decodeKeyset(list, "cursor", after)
	if err != nil {
		return uuid.UUID{}, nil, err
	}
	return oid, &k, nil
}
