package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// sessionRoutes are the routes over a branch's Better Auth sessions; base
// is the branch, /projects/:id/branches/:branch.
func (h *Handler) sessionRoutes(base string) []Route {
	const (
		get, post = http.MethodGet, http.MethodPost
		viewer    = identity.Viewer
		admin     = identity.Admin
	)
	return []Route{
		{get, base + "/sessions", h.browseSessions, viewer, "", "the branch's Better Auth sessions, newest first (`?user=` id or email, `&ip=` exact or a prefix ending in `.` or `:`, `&ua=` substring, `&impersonated=1`, `&from=&to=` YYYY-MM-DD, `&expired=1` to include expired ones, `&size=`), paged by `?after=`/`?before=` cursors or `?last=1`; an estimated count on large tables, `?exact=1` counts; htmx gets the list, others the page", false},
		{get, base + "/sessions/revoke", h.confirmRevokeSessions, admin, "", "confirm revoking every session the filter (the list's parameters) matches: the exact count and the filter in words", false},
		{post, base + "/sessions/revoke", h.revokeSessions, admin, "session.revoke_filter", "revoke every session the filter matches: counts again and refuses, showing the new count, when it changed since the confirmation (`count=`); up to one batch revoked at once, more in the background with a progress page; audited with the filter in words and the counts", false},
		{get, base + "/sessions/revoke/progress", h.revocationProgress, admin, "", "how far the branch's background revocation got (htmx panel polling itself while it runs; the page otherwise)", false},
		{post, base + "/sessions/:sid/revoke", h.revokeSession, admin, "session.revoke", "revoke one session (delete its row); back to `return_to` (a sessions page of the branch) with a flash", false},
		{post, base + "/users/:uid/sessions/revoke", h.revokeUserSessions, admin, "session.revoke_user", "revoke every session of one user, expired ones included; audited with the count", false},
	}
}

// sessionsPath is the sessions view of s's branch.
func sessionsPath(s usersScope) string {
	return "/projects/" + url.PathEscape(s.projectID) + "/branches/" + url.PathEscape(s.branchID) + "/sessions"
}

// sessionsURL is a sessions route sub under s's branch with the query v.
func sessionsURL(s usersScope, sub string, v url.Values) string {
	u := sessionsPath(s) + sub
	if q := v.Encode(); q != "" {
		u += "?" + q
	}
	return u
}

// readSessionsQuery is the filter as the request carries it (the URL, or
// the confirmation's form), kept as typed.
func readSessionsQuery(c echo.Context) views.SessionsQuery {
	return views.SessionsQuery{
		User:         c.FormValue("user"),
		IP:           c.FormValue("ip"),
		UA:           c.FormValue("ua"),
		Impersonated: c.FormValue("impersonated") == "1",
		From:         c.FormValue("from"),
		To:           c.FormValue("to"),
		Expired:      c.FormValue("expired") == "1",
		Size:         c.FormValue("size"),
		After:        c.QueryParam("after"),
		Before:       c.QueryParam("before"),
		Last:         c.QueryParam("last") == "1",
	}
}

// sessionsValues is q's filter as query parameters, without the paging
// position.
func sessionsValues(q views.SessionsQuery) url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"user": q.User, "ip": q.IP, "ua": q.UA, "from": q.From, "to": q.To, "size": q.Size} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if q.Impersonated {
		v.Set("impersonated", "1")
	}
	if q.Expired {
		v.Set("expired", "1")
	}
	return v
}

// sessionsFilter turns q into a filter; the dates are checked here, the
// rest by the database layer. "to" is a whole day: sessions created on it
// are kept.
func sessionsFilter(q views.SessionsQuery) (neonauth.SessionFilter, error) {
	f := neonauth.SessionFilter{User: q.User, IP: q.IP, UserAgent: q.UA, Impersonated: q.Impersonated, IncludeExpired: q.Expired}
	for _, d := range []struct {
		field, value string
		into         *time.Time
		add          time.Duration
	}{{"from", q.From, &f.CreatedFrom, 0}, {"to", q.To, &f.CreatedBefore, 24 * time.Hour}} {
		if d.value == "" {
			continue
		}
		day, err := time.Parse(browseDateLayout, d.value)
		if err != nil || len(d.value) != len(browseDateLayout) {
			return f, &neonauth.InputError{Field: d.field, Reason: "must be a date (YYYY-MM-DD)"}
		}
		*d.into = day.Add(d.add)
	}
	return f, nil
}

// sessionsRequest is q as a page request.
func sessionsRequest(q views.SessionsQuery) (neonauth.SessionPageRequest, error) {
	f, err := sessionsFilter(q)
	req := neonauth.SessionPageRequest{After: q.After, Before: q.Before, Last: q.Last, Filter: f}
	if err != nil {
		return req, err
	}
	if q.Size != "" {
		n, err := strconv.Atoi(q.Size)
		if err != nil {
			return req, &neonauth.InputError{Field: "size", Reason: "must be 50, 100 or 200"}
		}
		req.Size = n
	}
	return req, nil
}

// sessionFieldError puts a refused input next to its field and reports
// whether err was one.
func sessionFieldError(errs map[string]string, err error) bool {
	var in *neonauth.InputError
	if !errors.As(err, &in) {
		return false
	}
	errs[in.Field] = in.Reason
	return true
}

// sessionsProblem explains why a branch's sessions cannot be read.
func (h *Handler) sessionsProblem(err error) views.Problem {
	if errors.Is(err, neonauth.ErrNoPeopleTables) {
		return views.Problem{
			Title:   "No sessions table",
			Message: "This database holds Stack Auth's users_sync only: Stack Auth keeps no sessions, accounts or organizations in the branch's database.",
			Status:  http.StatusNotFound,
		}
	}
	return h.dbProblem(err, "")
}

// newSessionsList is the list's view model for q, before any row is read.
func newSessionsList(c echo.Context, s usersScope, q views.SessionsQuery) views.SessionsList {
	v := sessionsValues(q)
	link := func(key, value string) string {
		w := sessionsValues(q)
		if key != "" {
			w.Set(key, value)
		}
		return sessionsURL(s, "", w)
	}
	l := views.SessionsList{
		Action:    sessionsPath(s),
		Query:     q,
		FirstURL:  link("", ""),
		LastURL:   link("last", "1"),
		ReturnTo:  c.Request().URL.RequestURI(),
		Errors:    map[string]string{},
		CanWrite:  IdentityFrom(c).CanWrite(),
		CSRFToken: CSRFToken(c),
	}
	if isHTMX(c) {
		// An htmx swap's own URL is the one pushed to the address bar.
		l.ReturnTo = link("", "")
	}
	if l.CanWrite {
		v.Del("size")
		l.RevokeURL = sessionsURL(s, "/revoke", v)
	}
	return l
}

// fillSessions reads one page and the count into l and answers with the
// status to send. Sessions are read on the slow lane: until the sessions
// index exists, every page sorts the table, and the lane's statement
// timeout bounds that.
func (h *Handler) fillSessions(ctx context.Context, s usersScope, l *views.SessionsList, exact bool) int {
	req, err := sessionsRequest(l.Query)
	if err != nil {
		sessionFieldError(l.Errors, err)
		return http.StatusBadRequest
	}
	at := s.at()
	err = h.withPeople(neonauth.WithSlowLane(ctx), s.ref(), func(ctx context.Context, p neonauth.People) error {
		page, err := p.BrowseSessions(ctx, req)
		if err != nil {
			return err
		}
		for _, se := range page.Sessions {
			l.Rows = append(l.Rows, sessionRow(s, at, se))
		}
		v := sessionsValues(l.Query)
		if page.Next != "" {
			v.Set("after", page.Next)
			l.NextURL = sessionsURL(s, "", v)
			v.Del("after")
		}
		if page.Prev != "" {
			v.Set("before", page.Prev)
			l.PrevURL = sessionsURL(s, "", v)
			v.Del("before")
		}
		v.Set("exact", "1")
		count := &views.SessionsCount{ExactURL: sessionsURL(s, "", v)}
		n, err := p.CountSessions(ctx, req.Filter, exact)
		if err != nil {
			count.Unreadable = true
		} else {
			count.N, count.Exact = n.N, n.Exact
		}
		l.Count = count
		return nil
	})
	switch {
	case err == nil:
		return http.StatusOK
	case sessionFieldError(l.Errors, err):
		return http.StatusBadRequest
	}
	prob := h.sessionsProblem(err)
	l.Problem = &prob
	return prob.Status
}

// sessionRow is the view of one session.
func sessionRow(s usersScope, at views.UsersAt, se neonauth.Session) views.SessionRow {
	return views.SessionRow{
		ID: se.ID, UserID: se.UserID, UserEmail: se.UserEmail, UserName: se.UserName,
		CreatedAt: se.CreatedAt, LastActiveAt: se.LastActiveAt, ExpiresAt: se.ExpiresAt, Expired: se.Expired,
		IPAddress: se.IPAddress, UserAgent: se.UserAgent, UserAgentWords: neonauth.UserAgentWords(se.UserAgent),
		ImpersonatedBy: se.ImpersonatedBy, ActiveOrgID: se.ActiveOrganizationID,
		DetailURL:     views.UserDetailURL(at, se.UserID),
		RevokeURL:     sessionsURL(s, "/"+url.PathEscape(se.ID)+"/revoke", nil),
		RevokeUserURL: "/projects/" + url.PathEscape(s.projectID) + "/branches/" + url.PathEscape(s.branchID) + "/users/" + url.PathEscape(se.UserID) + "/sessions/revoke",
	}
}

// browseSessions serves GET {branch}/sessions: one page of the branch's
// sessions under the URL's filter. htmx gets the list; other requests the
// page around it.
func (h *Handler) browseSessions(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return err
	}
	l := newSessionsList(c, s, readSessionsQuery(c))
	status := h.fillSessions(c.Request().Context(), s, &l, c.QueryParam("exact") == "1")
	if isHTMX(c) {
		return h.render(c, status, views.SessionsListSection(l))
	}
	info, problem, err := h.loadIntegration(c.Request().Context(), &s)
	if err != nil {
		return err
	}
	p := views.SessionsPage{
		Chrome:     h.chrome(c, "Sessions · "+info.projectName, append(usersCrumbs(s, info, true), views.Crumb{Label: "Sessions"})...),
		BranchName: branchLabel(info.branch),
		UsersURL:   s.at().URL("", nil),
		Problem:    problem,
		List:       l,
	}
	if problem != nil {
		status = cmpStatus(problem.Status, http.StatusBadGateway)
	}
	return h.render(c, status, views.SessionsPageView(p))
}

// sessionsReturn is where a revocation goes back to: return_to when it is a
// sessions page of the same branch, that page otherwise.
func sessionsReturn(c echo.Context, s usersScope) string {
	base := sessionsPath(s)
	rt := c.FormValue("return_to")
	if rt == base || strings.HasPrefix(rt, base+"?") {
		return rt
	}
	return base
}

// revokeSession serves POST {branch}/sessions/:sid/revoke.
func (h *Handler) revokeSession(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err == nil {
		err = requireWrite(c)
	}
	if err != nil {
		return err
	}
	sid, err := uuid.Parse(c.Param("sid"))
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "That is not a session id.")
	}
	identity.AddAuditAttrs(c, slog.String("session", sid.String()))
	err = h.withPeople(c.Request().Context(), s.ref(), func(ctx context.Context, p neonauth.People) error {
		return p.RevokeSession(ctx, sid.String())
	})
	switch {
	case errors.Is(err, neonauth.ErrSessionNotFound):
		identity.AddAuditAttrs(c, slog.Int("revoked", 0))
		h.addFlash(c, FlashInfo, "That session had already ended: nothing to revoke.")
	case err != nil:
		return h.sessionsChangeProblem(c, err, 0)
	default:
		identity.AddAuditAttrs(c, slog.Int("revoked", 1))
		h.addFlash(c, FlashSuccess, "Revoked session "+sid.String()+". "+views.RevocationNote)
	}
	return redirect(c, sessionsReturn(c, s))
}

// revokeUserSessions serves POST {branch}/users/:uid/sessions/revoke.
func (h *Handler) revokeUserSessions(c echo.Context) error {
	s, err := parseUsersScope(c, true)
	if err == nil {
		err = requireWrite(c)
	}
	if err != nil {
		return err
	}
	uid, err := uuid.Parse(c.Param("uid"))
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "That is not a user id.")
	}
	identity.AddAuditAttrs(c, slog.String("user", uid.String()))
	var n int64
	err = h.withPeople(c.Request().Context(), s.ref(), func(ctx context.Context, p neonauth.People) error {
		n, err = p.RevokeUserSessions(ctx, uid.String())
		return err
	})
	identity.AddAuditAttrs(c, slog.Int64("revoked", n))
	if err != nil {
		return h.sessionsChangeProblem(c, err, n)
	}
	h.addFlash(c, FlashSuccess, fmt.Sprintf("Revoked %d %s of user %s. %s", n, sessionsWord(n), uid, views.RevocationNote))
	return redirect(c, sessionsReturn(c, s))
}

func sessionsWord(n int64) string {
	if n == 1 {
		return "session"
	}
	return "sessions"
}

// sessionsChangeProblem answers a revocation the database refused or could
// not take with a page saying why; revoked is how many sessions it had
// ended by then (in batches, each committed), which the page says, so that a
// revocation stopped halfway never reads as one that did nothing.
func (h *Handler) sessionsChangeProblem(c echo.Context, err error, revoked int64) error {
	prob := h.sessionsProblem(err)
	if revoked > 0 {
		prob.Message += fmt.Sprintf(" Before it stopped, %d %s were revoked; revoking again ends the rest.", revoked, sessionsWord(revoked))
	}
	if isHTMX(c) {
		return h.render(c, prob.Status, views.ErrorFragment(prob))
	}
	return h.render(c, prob.Status, views.ErrorPage(h.chrome(c, prob.Title), prob))
}
