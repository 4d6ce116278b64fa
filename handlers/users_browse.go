package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// browseDateLayout is how an <input type="date"> sends its value.
const browseDateLayout = "2006-01-02"

// readBrowseQuery is the browser's state as the URL holds it, kept exactly
// as typed so a refused value can be shown again.
func readBrowseQuery(c echo.Context) views.BrowseQuery {
	return views.BrowseQuery{
		Q:      c.QueryParam("q"),
		Status: c.QueryParam("status"),
		Role:   c.QueryParam("role"),
		Size:   c.QueryParam("size"),
		At:     c.QueryParam("at"),
		After:  c.QueryParam("after"),
		Before: c.QueryParam("before"),
		Last:   c.QueryParam("last") == "1",
	}
}

// browseFilter is q's filter: a uuid in the search box looks up that id.
func browseFilter(q views.BrowseQuery) neonauth.Filter {
	f := neonauth.ParseSearch(q.Q)
	f.Status, f.Role = neonauth.UserStatus(q.Status), q.Role
	return f
}

// browseRequest turns q into a page request; the fields only HTTP knows
// (numbers and dates as text) are checked here, the rest by the browser.
func browseRequest(q views.BrowseQuery) (neonauth.PageRequest, error) {
	req := neonauth.PageRequest{After: q.After, Before: q.Before, Last: q.Last, Filter: browseFilter(q)}
	if q.Size != "" {
		n, err := strconv.Atoi(q.Size)
		if err != nil {
			return req, &neonauth.InputError{Field: "size", Reason: "must be 50, 100 or 200"}
		}
		req.Size = n
	}
	if q.At != "" {
		day, err := time.Parse(browseDateLayout, q.At)
		if err != nil {
			return req, &neonauth.InputError{Field: "at", Reason: "must be a date (YYYY-MM-DD)"}
		}
		// Jumping to a day starts with its last moment, newest first.
		req.At = day.Add(24*time.Hour - time.Microsecond)
	}
	return req, nil
}

// browseValues is q as query parameters, leaving out empty ones and the
// paging position, which each link sets itself.
func browseValues(q views.BrowseQuery) url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"q": q.Q, "status": q.Status, "role": q.Role, "size": q.Size} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// usersSubURL is a users route under s with v as its query.
func usersSubURL(s usersScope, sub string, v url.Values) string {
	return s.at().URL("/"+sub, v)
}

// browseLink is the browse URL of q moved to one paging position.
func browseLink(s usersScope, q views.BrowseQuery, key, value string) string {
	v := browseValues(q)
	if key != "" {
		v.Set(key, value)
	}
	return usersSubURL(s, "browse", v)
}

// newBrowser is the browser's view model for q, before any row is read.
func (h *Handler) newBrowser(c echo.Context, s usersScope, q views.BrowseQuery) views.UsersBrowser {
	canWrite := IdentityFrom(c).CanWrite()
	b := views.UsersBrowser{
		ProjectID: s.projectID,
		Provider:  s.provider,
		BranchID:  s.branchID,
		Query:     q,
		Action:    s.at().Path("/browse"),
		FirstURL:  browseLink(s, q, "", ""),
		LastURL:   browseLink(s, q, "last", "1"),
		CountURL:  usersSubURL(s, "count", browseValues(q)),
		CanWrite:  canWrite,
		CSRFToken: CSRFToken(c),
		Errors:    map[string]string{},
	}
	if canWrite {
		for _, f := range []string{"csv", "jsonl"} {
			v := browseValues(q)
			v.Del("size")
			v.Set("format", f)
			b.Exports = append(b.Exports, views.ExportLink{Format: f, URL: usersSubURL(s, "export", v)})
		}
	}
	return b
}

// fieldError puts a refused input next to its field and reports whether err
// was one. An id the search box turned into a lookup belongs to the box.
func fieldError(b *views.UsersBrowser, err error) bool {
	var in *neonauth.InputError
	if !errors.As(err, &in) {
		return false
	}
	field := in.Field
	if field == "id" {
		field = "q"
	}
	b.Errors[field] = in.Reason
	return true
}

// readBrowser opens r's users browser and runs read on it within the time a
// panel may take.
func (h *Handler) readBrowser(ctx context.Context, r neonauth.Ref, read func(context.Context, neonauth.UserBrowser) error) error {
	ctx, cancel := dbContext(ctx, dbPanelTimeout)
	defer cancel()
	br, err := h.Auth.OpenBrowser(ctx, r)
	if err != nil {
		return err
	}
	return neonauth.BrowserError(br, read(ctx, br))
}

// fillBrowser reads one page into b and answers with the status to send.
// A full page (withCount) counts inline, since without htmx the count
// panel never loads by itself.
func (h *Handler) fillBrowser(ctx context.Context, s usersScope, b *views.UsersBrowser, withCount, exact bool) int {
	req, err := browseRequest(b.Query)
	if err != nil {
		fieldError(b, err)
		return http.StatusBadRequest
	}
	if req.Filter.Search != "" || (withCount && exact) {
		ctx = neonauth.WithSlowLane(ctx)
	}
	err = h.readBrowser(ctx, s.ref(), func(ctx context.Context, br neonauth.UserBrowser) error {
		b.Table = br.Provider().Table()
		b.Statuses = statusNames(br.Provider())
		page, err := br.Browse(ctx, req)
		if err != nil {
			return err
		}
		b.Size = page.Size
		for _, u := range page.Users {
			b.Rows = append(b.Rows, browseRow(s, u))
		}
		if page.Next != "" {
			b.NextURL = browseLink(s, b.Query, "after", page.Next)
		}
		if page.Prev != "" {
			b.PrevURL = browseLink(s, b.Query, "before", page.Prev)
		}
		if withCount {
			n, err := br.Count(ctx, req.Filter, exact)
			b.Count = countView(b.CountURL, n, err)
		}
		return nil
	})
	switch {
	case err == nil:
		return http.StatusOK
	case fieldError(b, err):
		return http.StatusBadRequest
	}
	prob := h.dbProblem(err, "")
	b.Problem = &prob
	return prob.Status
}

// statusNames are the status filter's choices for gen.
func statusNames(gen authprovider.Provider) []string {
	var out []string
	for _, st := range neonauth.UserStatuses(gen) {
		out = append(out, string(st))
	}
	return out
}

// browseRow is the view of one browsed user, linking to its detail page.
func browseRow(s usersScope, u neonauth.UserRow) views.BrowseRow {
	return views.BrowseRow{UserRow: userRow(u.User), DetailURL: views.UserDetailURL(s.at(), u.ID), LastActiveAt: u.LastActiveAt,
		Banned: u.Banned, BanExpires: u.BanExpires}
}

// browseUsers serves GET /projects/:id/users/browse: one page of the users
// table under the URL's filter. htmx gets the table; other requests the page
// around it.
func (h *Handler) browseUsers(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	b := h.newBrowser(c, s, readBrowseQuery(c))
	status := h.fillBrowser(c.Request().Context(), s, &b, !isHTMX(c), c.QueryParam("exact") == "1")
	if isHTMX(c) {
		if c.Request().Header.Get("HX-Trigger") != views.UsersBrowserID {
			// Paging, filtering: the table alone, at the cost of its page.
			return h.render(c, status, views.UsersBrowserSection(b))
		}
		// The table reloading itself (after a change, or loading after the
		// page): the header's counts come along out of band, so the table
		// and the totals move at once.
		counts := h.headerCounts(c.Request().Context(), s)
		return h.render(c, status, views.UsersBrowserFragment(b, counts))
	}
	info, problem, err := h.loadIntegration(c.Request().Context(), &s)
	if err != nil {
		return err
	}
	p := views.UsersBrowsePage{
		Chrome:  h.chrome(c, "Browse users · "+info.projectName, append(usersCrumbs(s, info, true), views.Crumb{Label: "Browse"})...),
		Header:  usersHeader(s, info),
		Problem: problem,
		Browser: b,
	}
	if problem != nil {
		status = cmpStatus(problem.Status, http.StatusBadGateway)
	}
	return h.render(c, status, views.UsersBrowsePageView(p))
}

// usersHeader is the users pages' header before the users table is read:
// for a branch's users, the branch by name and a link to each other
// branch's users.
func usersHeader(s usersScope, info integrationInfo) views.UsersHeader {
	h := views.UsersHeader{
		ProjectID:   s.projectID,
		ProjectName: info.projectName,
		Provider:    s.provider,
		BranchID:    info.integration.BranchID,
		DBName:      info.integration.DBName,
	}
	if s.branchID == "" {
		return h
	}
	h.BranchID, h.BranchName = s.branchID, info.branch.Name
	// The default branch first, then the others in Neon's order.
	branches := slices.Clone(info.branches)
	slices.SortStableFunc(branches, func(a, b neonauth.Branch) int {
		switch {
		case a.Default == b.Default:
			return 0
		case a.Default:
			return -1
		}
		return 1
	})
	for _, b := range branches {
		h.Branches = append(h.Branches, views.BranchLink{
			ID: b.ID, Name: branchLabel(b), Default: b.Default, Current: b.ID == s.branchID,
			URL: views.UsersURL(s.projectID, s.provider, b.ID),
		})
	}
	return h
}

// headerCounts reads the users header's counts; unknown when the table
// cannot be read, since the panel beside them says why.
func (h *Handler) headerCounts(ctx context.Context, s usersScope) views.UserCounts {
	var counts views.UserCounts
	_ = h.readUsers(ctx, s.ref(), func(ctx context.Context, dir neonauth.UserDirectory) error {
		counts = countUsers(ctx, dir)
		return nil
	})
	return counts
}
