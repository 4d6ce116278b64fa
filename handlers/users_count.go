package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// withParam is u with one more query parameter; u has a query or none.
func withParam(u, key, value string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
}

// countView is the view of a count under a filter; a failed count shows as
// unknown, since the table beside it already says what is wrong.
func countView(countURL string, n neonauth.UserCount, err error) *views.BrowseCount {
	c := &views.BrowseCount{ExactURL: withParam(countURL, "exact", "1")}
	if err != nil {
		c.Unreadable = true
		return c
	}
	// A count no estimate can bound within 2x is unknown: the panel then
	// offers the exact count rather than a figure that may mislead.
	c.Known, c.N, c.Exact, c.AsOf = !n.Unknown, n.N, n.Exact, n.AsOf
	return c
}

// userCount serves GET /projects/:id/users/count: how many users the URL's
// filter matches, estimated from the planner's statistics on large tables
// unless ?exact=1 asks for a count the database layer then keeps briefly.
// Without htmx it answers with the browse page, which counts inline.
func (h *Handler) userCount(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	q := readBrowseQuery(c)
	exact := c.QueryParam("exact") == "1"
	if !isHTMX(c) {
		v := browseValues(q)
		if exact {
			v.Set("exact", "1")
		}
		return c.Redirect(http.StatusSeeOther, usersSubURL(s, "browse", v))
	}
	b := h.newBrowser(c, s, q)
	var count *views.BrowseCount
	err = h.readBrowser(neonauth.WithSlowLane(c.Request().Context()), s.ref(), func(ctx context.Context, br neonauth.UserBrowser) error {
		n, err := br.Count(ctx, browseFilter(q), exact)
		if err != nil {
			return err
		}
		count = countView(b.CountURL, n, nil)
		return nil
	})
	status := http.StatusOK
	if err != nil {
		if !fieldError(&b, err) {
			prob := h.dbProblem(err, "")
			status = prob.Status
		} else {
			status = http.StatusBadRequest
		}
		count = countView(b.CountURL, neonauth.UserCount{}, err)
	}
	return h.render(c, status, views.BrowseCountView(b.CountURL, *count))
}
