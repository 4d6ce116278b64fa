package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// activityRoutes are the activity charts of a branch's Better Auth users:
// the page, and each chart as a panel the page loads.
func (h *Handler) activityRoutes(base string) []Route {
	const (
		get    = http.MethodGet
		viewer = identity.Viewer
	)
	return []Route{
		{get, base + "/activity", h.activityPage, viewer, "", "a branch's Better Auth activity: active users and sign-ins by provider, each chart loaded as a panel", false},
		{get, base + "/activity/active-users", h.activeUsersPanel, viewer, "", "active users per `bucket` (day, week or month) over `range` (30d, 90d or 365d): distinct users with a session created or refreshed in the bucket, one GROUP BY over neon_auth.session, cached per range; an SVG chart, its table and what the statement cost (htmx panel; the page otherwise)", false},
		{get, base + "/activity/sign-ins", h.signInsPanel, viewer, "", "sign-ins (sessions created) per `bucket` and provider over `range`, attributed by the rule the page states; one GROUP BY over neon_auth.session joined to neon_auth.account, cached per range (htmx panel; the page otherwise)", false},
	}
}

// activityScope reads the branch of an activity route and loads what the
// page header needs. A *views.Problem result means the branch has no
// activity to show; an error goes to the error page.
func (h *Handler) activityScope(c echo.Context) (usersScope, integrationInfo, views.ActivityHead, *views.Problem, error) {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return s, integrationInfo{}, views.ActivityHead{}, nil, err
	}
	ctx := c.Request().Context()
	info, problem, err := h.loadIntegration(ctx, &s)
	if err != nil {
		return s, info, views.ActivityHead{}, nil, err
	}
	head := views.ActivityHead{ProjectID: s.projectID, ProjectName: info.projectName, BranchID: s.branchID, BranchName: info.branch.Name}
	if problem != nil && problem.Status == http.StatusNotFound && h.stackOnBranch(ctx, s) {
		problem = noActivityInStack()
	}
	return s, info, head, problem, nil
}

// noActivityInStack says plainly why a Stack Auth branch has no activity
// page.
func noActivityInStack() *views.Problem {
	return &views.Problem{
		Title:   "Stack Auth keeps no sessions here",
		Message: "This branch's Neon Auth is Stack Auth, whose neon_auth.users_sync table holds users only: it keeps no sessions or linked accounts to count activity from. The users page shows each Stack Auth user's last activity as Stack Auth reports it.",
		Status:  http.StatusNotFound,
	}
}

// activityCrumbs are the activity pages' breadcrumbs; chart adds one chart
// below the page.
func activityCrumbs(s usersScope, info integrationInfo, chart string) []views.Crumb {
	crumbs := usersCrumbs(s, info, true)
	if chart == "" {
		return append(crumbs, views.Crumb{Label: "Activity"})
	}
	return append(crumbs, views.Crumb{Label: "Activity", Href: views.ActivityURL(s.projectID, s.branchID)}, views.Crumb{Label: chart})
}

// activityPage serves GET {branch}/activity: the page, whose charts load
// as panels after it.
func (h *Handler) activityPage(c echo.Context) error {
	s, info, head, problem, err := h.activityScope(c)
	if err != nil {
		return err
	}
	p := views.ActivityPage{
		Chrome:  h.chrome(c, "Activity · "+info.projectName, activityCrumbs(s, info, "")...),
		Head:    head,
		Problem: problem,
	}
	status := http.StatusOK
	if problem != nil {
		status = cmpStatus(problem.Status, http.StatusBadGateway)
	}
	return h.render(c, status, views.ActivityPageView(p))
}

// activityForm reads and checks a chart's range and bucket into p, and
// returns the range to count: it ends at the next UTC midnight, so every
// request on the same day asks for the same range and the cache answers.
func activityForm(c echo.Context, p *views.ActivityChart) (from, to time.Time, ok bool) {
	p.Range, p.Bucket = c.QueryParam("range"), c.QueryParam("bucket")
	if p.Range == "" {
		p.Range = "30d"
	}
	if p.Bucket == "" {
		p.Bucket = string(neonauth.BucketDay)
	}
	days, known := signupRangeDays[p.Range]
	if !known {
		p.RangeError = "Choose a range: " + joinRanges() + "."
		p.Range = ""
	}
	switch neonauth.Bucket(p.Bucket) {
	case neonauth.BucketDay, neonauth.BucketWeek, neonauth.BucketMonth:
	default:
		p.BucketError = "Choose day, week or month."
		p.Bucket = ""
	}
	if p.RangeError != "" || p.BucketError != "" {
		return time.Time{}, time.Time{}, false
	}
	now := time.Now().UTC()
	to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	return to.AddDate(0, 0, -days), to, true
}

// activeUsersPanel serves the active users chart (a full page without htmx).
func (h *Handler) activeUsersPanel(c echo.Context) error {
	return h.activityChart(c, views.ActivityActiveUsers, func(ctx context.Context, p neonauth.People, from, to time.Time, ch *views.ActivityChart) error {
		a, err := p.ActiveUsers(ctx, from, to, neonauth.Bucket(ch.Bucket))
		if err != nil {
			return err
		}
		ch.From, ch.Took, ch.At = a.From, a.Took, a.At
		ch.Series = []string{"Active users"}
		for _, pt := range a.Points {
			ch.Points = append(ch.Points, views.ActivityPoint{Start: pt.Start, Counts: []int64{pt.Active}})
		}
		return nil
	})
}

// signInsPanel serves the sign-ins by provider chart (a full page without
// htmx).
func (h *Handler) signInsPanel(c echo.Context) error {
	return h.activityChart(c, views.ActivitySignIns, func(ctx context.Context, p neonauth.People, from, to time.Time, ch *views.ActivityChart) error {
		s, err := p.SignIns(ctx, from, to, neonauth.Bucket(ch.Bucket))
		if err != nil {
			return err
		}
		ch.From, ch.Took, ch.At = s.From, s.Took, s.At
		ch.Series, ch.Totals = s.Providers, s.Totals
		ch.Rule = neonauth.SignInAttribution
		for _, pt := range s.Points {
			ch.Points = append(ch.Points, views.ActivityPoint{Start: pt.Start, Counts: pt.Counts})
		}
		return nil
	})
}

// activityChart serves one chart: the form checked, the series read on the
// slow lane within a panel's time, a database that fails degrading the
// panel alone.
func (h *Handler) activityChart(c echo.Context, kind string, read func(context.Context, neonauth.People, time.Time, time.Time, *views.ActivityChart) error) error {
	s, info, head, problem, err := h.activityScope(c)
	if err != nil {
		return err
	}
	ch := views.ActivityChart{Kind: kind, ProjectID: s.projectID, BranchID: s.branchID, CacheTTL: neonauth.DefaultResultTTL.String(), Problem: problem}
	status := http.StatusOK
	from, to, ok := activityForm(c, &ch)
	switch {
	case problem != nil:
		status = cmpStatus(problem.Status, http.StatusBadGateway)
	case !ok:
		status = http.StatusBadRequest
	default:
		err = h.readPeople(neonauth.WithSlowLane(c.Request().Context()), info.ref(s), func(ctx context.Context, p neonauth.People) error {
			head.Database = p.Target()
			return read(ctx, p, from, to, &ch)
		})
		var in *neonauth.InputError
		switch {
		case errors.As(err, &in):
			ch.RangeError, status = in.Reason, http.StatusBadRequest
		case err != nil:
			ch.Problem = h.activityProblem(err, info.integration.DBName)
			status = cmpStatus(ch.Problem.Status, http.StatusBadGateway)
		}
	}
	if isHTMX(c) {
		return h.render(c, status, views.ActivityChartPanel(ch))
	}
	p := views.ActivityChartPage{
		Chrome: h.chrome(c, ch.Title()+" · "+info.projectName, activityCrumbs(s, info, ch.Title())...),
		Head:   head,
		Chart:  ch,
	}
	return h.render(c, status, views.ActivityChartPageView(p))
}

// activityProblem explains a failure to read a branch's sessions.
func (h *Handler) activityProblem(err error, dbName string) *views.Problem {
	if errors.Is(err, neonauth.ErrNoPeopleTables) {
		return noActivityInStack()
	}
	var dbErr *neonauth.UserDBError
	if errors.Is(err, neonauth.ErrSchemaMissing) && errors.As(err, &dbErr) {
		return &views.Problem{
			Title:   "No sessions table",
			Message: "neon_auth.session or neon_auth.account is missing from " + dbErr.Target + ". Better Auth creates them with its user table: check the branch's Neon Auth.",
			Status:  http.StatusServiceUnavailable,
		}
	}
	p := h.dbProblem(err, dbName)
	return &p
}
