package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// organizationRoutes are the read-only pages over a branch's Better Auth
// organizations: the list and one organization.
func (h *Handler) organizationRoutes(base string) []Route {
	const viewer = identity.Viewer
	return []Route{
		{http.MethodGet, base + "/organizations", h.organizationsPage, viewer, "", "a branch's Better Auth organizations by name with member and pending invitation counts (`?q=` name or slug, paged by `?after=`/`?before=` cursors); htmx gets the list", false},
		{http.MethodGet, base + "/organizations/:oid", h.organizationPage, viewer, "", "one organization: its row, its members (linked to their users, `?members=` cursor) and its invitations with their state (`?invitations=` cursor)", false},
	}
}

// organizationsScope reads the branch of an organizations route and loads
// what the page header needs. A *views.Problem result means the branch has
// no organizations to show; an error goes to the error page.
func (h *Handler) organizationsScope(c echo.Context) (usersScope, integrationInfo, views.OrganizationsHead, *views.Problem, error) {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return s, integrationInfo{}, views.OrganizationsHead{}, nil, err
	}
	ctx := c.Request().Context()
	info, problem, err := h.loadIntegration(ctx, &s)
	if err != nil {
		return s, info, views.OrganizationsHead{}, nil, err
	}
	head := views.OrganizationsHead{ProjectID: s.projectID, ProjectName: info.projectName, BranchID: s.branchID, BranchName: info.branch.Name}
	if problem != nil && problem.Status == http.StatusNotFound && h.stackOnBranch(ctx, s) {
		problem = noOrganizationsInStack()
	}
	return s, info, head, problem, nil
}

// stackOnBranch reports whether the project's Stack Auth keeps its users in
// the branch's database.
func (h *Handler) stackOnBranch(ctx context.Context, s usersScope) bool {
	ins, err := h.Auth.Integrations(ctx, s.projectID)
	if err != nil {
		return false
	}
	for _, in := range ins {
		if in.AuthProvider == authprovider.Stack && in.BranchID == s.branchID {
			return true
		}
	}
	return false
}

// noOrganizationsInStack says plainly why a Stack Auth branch has no
// organizations page.
func noOrganizationsInStack() *views.Problem {
	return &views.Problem{
		Title:   "Stack Auth has no organizations",
		Message: "This branch's Neon Auth is Stack Auth, whose neon_auth.users_sync table holds users only: it keeps no organizations, members or invitations. Organizations come with Better Auth's organization plugin.",
		Status:  http.StatusNotFound,
	}
}

// organizationsCrumbs are the organization pages' breadcrumbs; org adds the
// organization below the list.
func organizationsCrumbs(s usersScope, info integrationInfo, org string) []views.Crumb {
	crumbs := usersCrumbs(s, info, true)
	if org == "" {
		return append(crumbs, views.Crumb{Label: "Organizations"})
	}
	return append(crumbs, views.Crumb{Label: "Organizations", Href: views.OrganizationsURL(s.projectID, s.branchID)}, views.Crumb{Label: org})
}

// readPeople is withPeople for the organization and activity pages: a
// failure other than bad input names the branch's database, as a users
// table's failures do.
func (h *Handler) readPeople(ctx context.Context, r neonauth.Ref, read func(context.Context, neonauth.People) error) error {
	return h.withPeople(ctx, r, func(ctx context.Context, p neonauth.People) error {
		err := read(ctx, p)
		var in *neonauth.InputError
		var dbErr *neonauth.UserDBError
		if err == nil || errors.Is(err, neonauth.ErrNoOrganization) || errors.As(err, &in) || errors.As(err, &dbErr) {
			return err
		}
		// Name the database, as a users table's failures do.
		return &neonauth.UserDBError{Target: p.Target(), Err: err}
	})
}

// organizationsProblem explains a failure to read the organization tables.
func (h *Handler) organizationsProblem(err error, dbName string) *views.Problem {
	switch {
	case errors.Is(err, neonauth.ErrNoPeopleTables):
		return noOrganizationsInStack()
	case errors.Is(err, neonauth.ErrSchemaMissing):
		var dbErr *neonauth.UserDBError
		if errors.As(err, &dbErr) {
			// The users table was read: the organization plugin's tables
			// are what is missing.
			return &views.Problem{
				Title:   "No organization tables",
				Message: "neon_auth.organization, member or invitation is missing from " + dbErr.Target + ". Better Auth creates them with its organization plugin: check that the plugin is on.",
				Status:  http.StatusServiceUnavailable,
			}
		}
	}
	p := h.dbProblem(err, dbName)
	return &p
}

// boundedLabel is a bounded count in words.
func boundedLabel(n neonauth.BoundedCount) string {
	if n.More {
		return "more than " + strconv.FormatInt(n.N, 10)
	}
	return strconv.FormatInt(n.N, 10)
}

func organizationRow(s usersScope, o neonauth.Organization) views.OrganizationRow {
	return views.OrganizationRow{
		ID: o.ID, Name: o.Name, Slug: o.Slug, CreatedAt: o.CreatedAt,
		Members: boundedLabel(o.Members), Pending: boundedLabel(o.PendingInvitations),
		URL: views.OrganizationURL(s.projectID, s.branchID, o.ID),
	}
}

// organizationsPage serves GET {branch}/organizations: one page of the
// branch's organizations. htmx gets the list alone.
func (h *Handler) organizationsPage(c echo.Context) error {
	s, info, head, problem, err := h.organizationsScope(c)
	if err != nil {
		return err
	}
	listURL := views.OrganizationsURL(s.projectID, s.branchID)
	req := neonauth.OrganizationsRequest{Search: c.QueryParam("q"), After: c.QueryParam("after"), Before: c.QueryParam("before")}
	l := views.OrganizationList{
		Action:     listURL,
		Query:      req.Search,
		FirstURL:   organizationsLink(listURL, req.Search, "", ""),
		PluginsURL: views.PluginsSettingsURL(s.projectID, s.branchID),
	}
	status := http.StatusOK
	if problem == nil {
		status = h.fillOrganizations(c.Request().Context(), s, info, req, &head, &l)
	}
	if isHTMX(c) && problem == nil {
		return h.render(c, status, views.OrganizationListSection(l))
	}
	p := views.OrganizationsPage{
		Chrome:  h.chrome(c, "Organizations · "+info.projectName, organizationsCrumbs(s, info, "")...),
		Head:    head,
		Problem: problem,
		List:    l,
	}
	if problem != nil {
		status = cmpStatus(problem.Status, http.StatusBadGateway)
	}
	return h.render(c, status, views.OrganizationsPageView(p))
}

// fillOrganizations reads one page of organizations into l and answers
// with the status to send.
func (h *Handler) fillOrganizations(ctx context.Context, s usersScope, info integrationInfo, req neonauth.OrganizationsRequest, head *views.OrganizationsHead, l *views.OrganizationList) int {
	if req.Search != "" {
		// A search may read every organization.
		ctx = neonauth.WithSlowLane(ctx)
	}
	err := h.readPeople(ctx, info.ref(s), func(ctx context.Context, p neonauth.People) error {
		head.Database = p.Target()
		page, err := p.ListOrganizations(ctx, req)
		if err != nil {
			return err
		}
		for _, o := range page.Organizations {
			l.Rows = append(l.Rows, organizationRow(s, o))
		}
		l.Matching = organizationCount(page.Matching)
		switch {
		case page.Search == "":
		case page.Matching.N == 1 && !page.Matching.More:
			l.Matching += " matches"
		default:
			l.Matching += " match"
		}
		if page.Next != "" {
			l.NextURL = organizationsLink(l.Action, page.Search, "after", page.Next)
		}
		if page.Prev != "" {
			l.PrevURL = organizationsLink(l.Action, page.Search, "before", page.Prev)
		}
		return nil
	})
	var in *neonauth.InputError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &in) && in.Field == "q":
		l.QueryError = in.Reason
		return http.StatusBadRequest
	case errors.As(err, &in):
		l.CursorError = in.Reason
		return http.StatusBadRequest
	}
	l.Problem = h.organizationsProblem(err, info.integration.DBName)
	return l.Problem.Status
}

// organizationCount is n organizations in words.
func organizationCount(n neonauth.BoundedCount) string {
	if n.N == 1 && !n.More {
		return "1 organization"
	}
	return boundedLabel(n) + " organizations"
}

// organizationsLink is the list's URL with the search and one cursor.
func organizationsLink(base, q, key, cursor string) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if key != "" {
		v.Set(key, cursor)
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// organizationPage serves GET {branch}/organizations/:oid: one
// organization with a page of its members and one of its invitations. An
// id that is not a uuid is not found before anything is read.
func (h *Handler) organizationPage(c echo.Context) error {
	oid := c.Param("oid")
	if u, err := uuid.Parse(oid); err != nil || len(oid) != 36 || u.String() != oid {
		return echo.NewHTTPError(http.StatusNotFound, "That is not an organization id.")
	}
	s, info, head, problem, err := h.organizationsScope(c)
	if err != nil {
		return err
	}
	p := views.OrganizationPage{Head: head, Problem: problem}
	status := http.StatusOK
	if problem == nil {
		status = h.fillOrganization(c, s, info, oid, &p)
	} else {
		status = cmpStatus(problem.Status, http.StatusBadGateway)
	}
	name := oid
	if p.Org != nil {
		name = p.Org.Name
	}
	p.Chrome = h.chrome(c, name+" · Organizations · "+info.projectName, organizationsCrumbs(s, info, name)...)
	return h.render(c, status, views.OrganizationPageView(p))
}

// fillOrganization reads the organization, its members and invitations into
// p and answers with the status to send.
func (h *Handler) fillOrganization(c echo.Context, s usersScope, info integrationInfo, oid string, p *views.OrganizationPage) int {
	membersAfter, invitationsAfter := c.QueryParam("members"), c.QueryParam("invitations")
	var listErr error
	err := h.readPeople(c.Request().Context(), info.ref(s), func(ctx context.Context, people neonauth.People) error {
		p.Head.Database = people.Target()
		d, err := people.Organization(ctx, oid)
		if err != nil {
			return err
		}
		o := &views.OrganizationView{
			OrganizationRow: organizationRow(s, d.Organization),
			Logo:            d.Logo, LogoCut: d.LogoCut,
			Metadata: d.Metadata, MetadataSet: d.MetadataSet, MetadataCut: d.MetadataCut,
		}
		p.Org = o
		listErr = h.readOrganizationLists(ctx, people, s, oid, membersAfter, invitationsAfter, o)
		return nil
	})
	if err == nil {
		err = listErr
	}
	var in *neonauth.InputError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, neonauth.ErrNoOrganization):
		p.Problem = &views.Problem{Title: "No such organization", Message: "This branch's neon_auth.organization has no row with this id.", Status: http.StatusNotFound}
		return http.StatusNotFound
	case errors.As(err, &in):
		p.Org.MembersProblem = &views.Problem{Title: "Not a page of this organization", Message: fmt.Sprintf("The page position %s.", in.Reason), Status: http.StatusBadRequest}
		return http.StatusBadRequest
	}
	prob := h.organizationsProblem(err, info.integration.DBName)
	if p.Org != nil {
		p.Org.MembersProblem = prob
	} else {
		p.Problem = prob
	}
	return prob.Status
}

// readOrganizationLists reads one page of members and one of invitations
// into o, with links to the next pages that keep the other list's place.
func (h *Handler) readOrganizationLists(ctx context.Context, people neonauth.People, s usersScope, oid, membersAfter, invitationsAfter string, o *views.OrganizationView) error {
	members, err := people.OrganizationMembers(ctx, oid, membersAfter)
	if err != nil {
		return err
	}
	invs, err := people.OrganizationInvitations(ctx, oid, invitationsAfter)
	if err != nil {
		return err
	}
	at := views.UsersAt{ProjectID: s.projectID, Provider: authprovider.BetterAuth, BranchID: s.branchID}
	for _, m := range members.Members {
		o.MemberRows = append(o.MemberRows, views.MemberRow{
			UserID: m.UserID, Name: m.Name, Email: m.Email, Role: m.Role, JoinedAt: m.JoinedAt,
			DetailURL: views.UserDetailURL(at, m.UserID),
		})
	}
	for _, inv := range invs.Invitations {
		o.InvitationRows = append(o.InvitationRows, views.InvitationRow{
			Email: inv.Email, Role: inv.Role, State: string(inv.State),
			ExpiresAt: inv.ExpiresAt, CreatedAt: inv.CreatedAt, InviterEmail: inv.InviterEmail,
		})
	}
	link := func(m, i string) string {
		v := url.Values{}
		if m != "" {
			v.Set("members", m)
		}
		if i != "" {
			v.Set("invitations", i)
		}
		if len(v) == 0 {
			return o.URL
		}
		return o.URL + "?" + v.Encode()
	}
	if members.Next != "" {
		o.MembersNext = link(members.Next, invitationsAfter)
	}
	if membersAfter != "" {
		o.MembersFirst = link("", invitationsAfter)
	}
	if invs.Next != "" {
		o.InvitationsNext = link(membersAfter, invs.Next)
	}
	if invitationsAfter != "" {
		o.InvitationsFirst = link(membersAfter, "")
	}
	return nil
}
