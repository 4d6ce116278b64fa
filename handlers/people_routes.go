package handlers

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
