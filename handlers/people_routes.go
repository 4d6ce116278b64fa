package handlers

import (
	"context"

	"github.com/neonauth-admin/dashboard/neonauth"
)

// peopleRoutes are the routes over a branch's own Better Auth tables beyond
// "user": sessions, linked accounts and bans, organizations and activity.
// base is the branch, /projects/:id/branches/:branch; each part's routes
// sit beside its handlers.
func (h *Handler) peopleRoutes(base string) []Route {
	var rs []Route
	rs = append(rs, h.sessionRoutes(base)...)
	rs = append(rs, h.personRoutes(base)...)
	rs = append(rs, h.organizationRoutes(base)...)
	rs = append(rs, h.activityRoutes(base)...)
	return rs
}

// withPeople opens the Better Auth tables of r's branch and runs do on
// them, both within the time a panel may take. Every people page reads and
// changes them through it.
func (h *Handler) withPeople(ctx context.Context, r neonauth.Ref, do func(context.Context, neonauth.People) error) error {
	ctx, cancel := dbContext(ctx, dbPanelTimeout)
	defer cancel()
	p, err := h.Auth.OpenPeople(ctx, r)
	if err != nil {
		return err
	}
	return do(ctx, p)
}
