package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// dropTimeout bounds DROP INDEX CONCURRENTLY, which waits for transactions
// using the table to end.
const dropTimeout = 30 * time.Second

// withBrowser opens r's users table and runs read on it within timeout.
func (h *Handler) withBrowser(ctx context.Context, r neonauth.Ref, timeout time.Duration, read func(context.Context, neonauth.UserBrowser) error) error {
	ctx, cancel := dbContext(ctx, timeout)
	defer cancel()
	b, err := h.Auth.OpenBrowser(ctx, r)
	if err != nil {
		return err
	}
	return neonauth.BrowserError(b, read(ctx, b))
}

// panelRef reads the scope of a users panel route.
func panelRef(c echo.Context) (views.UsersPanelRef, usersScope, error) {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return views.UsersPanelRef{}, s, err
	}
	return views.UsersPanelRef{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID, CanWrite: IdentityFrom(c).CanWrite()}, s, nil
}

func (h *Handler) indexAdviceRows() int64 {
	if h.Settings.IndexAdviceRows > 0 {
		return h.Settings.IndexAdviceRows
	}
	return neonauth.DefaultIndexAdviceRows
}

// indexPanel reads the advice for s's table and shapes the panel.
func (h *Handler) indexPanel(c echo.Context, ref views.UsersPanelRef, s usersScope) views.IndexAdvisorPanel {
	p := views.IndexAdvisorPanel{Ref: ref, CSRFToken: CSRFToken(c), Threshold: h.indexAdviceRows()}
	running := false
	if j, ok, err := h.latestJob(c.Request().Context(), jobs.IndexBuildKey(s.ref())); err != nil {
		h.logger().Warn("index build state unreadable", "project", s.projectID, "err", err)
	} else if ok {
		running = j.Active()
		if j.Status == jobs.Failed {
			p.LastFailure = j.Error
		}
	}
	var a neonauth.IndexAdvice
	err := h.withBrowser(neonauth.WithSlowLane(c.Request().Context()), s.ref(), dbPanelTimeout, func(ctx context.Context, b neonauth.UserBrowser) error {
		var err error
		a, err = b.AdviseIndex(ctx)
		return err
	})
	if err != nil {
		prob := h.panelProblem(err, "Could not check the users table's indexes")
		p.State, p.Problem = views.IndexStateProblem, &prob
		return p
	}
	p.Table, p.Rows, p.Name = a.Table, a.Rows, a.Name
	p.Owner, p.Role, p.CanCreate, p.NameTaken = a.Owner, a.Role, a.CanCreate, a.NameTaken
	p.CreateSQL, p.EstimateBasis = a.CreateSQL, a.EstimateBasis
	p.EstimatedSize = views.HumanBytes(a.EstimatedBytes)
	p.Serving, p.ServingSize = a.Serving, views.HumanBytes(a.ServingBytes)
	for _, name := range a.Invalid {
		p.Invalid = append(p.Invalid, views.IndexDrop{Name: name, SQL: a.DropSQL(name)})
	}
	if o, ok := a.Offer(neonauth.IndexForEmail); ok && (o.Present() || a.Rows >= p.Threshold) {
		p.Lookup = &views.IndexLookupOffer{
			Name: o.Name, CreateSQL: o.CreateSQL, EstimateBasis: o.EstimateBasis,
			EstimatedSize: views.HumanBytes(o.EstimatedBytes),
			Serving:       o.Serving, ServingSize: views.HumanBytes(o.ServingBytes), NameTaken: o.NameTaken,
		}
	}
	if o, ok := a.Offer(neonauth.IndexForSessions); ok && (o.Present() || o.Rows >= p.Threshold) {
		p.Sessions = &views.IndexSessionsOffer{
			IndexLookupOffer: views.IndexLookupOffer{
				Name: o.Name, CreateSQL: o.CreateSQL, EstimateBasis: o.EstimateBasis,
				EstimatedSize: views.HumanBytes(o.EstimatedBytes),
				Serving:       o.Serving, ServingSize: views.HumanBytes(o.ServingBytes), NameTaken: o.NameTaken,
			},
			Table: o.Table, Rows: o.Rows,
		}
	}
	switch {
	case a.Building != nil:
		p.State = views.IndexStateBuilding
		p.Building = &views.IndexBuild{Index: a.Building.Index, Phase: a.Building.Phase, Percent: percent(a.Building.PhaseDone())}
	case running:
		// Started here, not yet visible in pg_stat_progress_create_index.
		p.State = views.IndexStateBuilding
		p.Building = &views.IndexBuild{Index: a.Name, Phase: "starting", Percent: -1}
	case len(a.Invalid) > 0:
		p.State = views.IndexStateInvalid
	case a.Present():
		p.State = views.IndexStateServed
	case a.Rows < p.Threshold:
		p.State = views.IndexStateSmall
	default:
		p.State = views.IndexStateAdvise
	}
	return p
}

// percent turns a 0..1 fraction into whole percent, keeping -1 (no counter).
func percent(f float64) int {
	if f < 0 {
		return -1
	}
	return int(math.Round(f * 100))
}

// showIndexAdvisor serves the index advisor panel (a full page without htmx).
func (h *Handler) showIndexAdvisor(c echo.Context) error {
	ref, s, err := panelRef(c)
	if err != nil {
		return err
	}
	return h.renderIndexPanel(c, http.StatusOK, h.indexPanel(c, ref, s))
}

func (h *Handler) renderIndexPanel(c echo.Context, status int, p views.IndexAdvisorPanel) error {
	if p.Problem != nil {
		status = cmpStatus(p.Problem.Status, http.StatusBadGateway)
	}
	if isHTMX(c) {
		return h.render(c, status, views.IndexAdvisor(p))
	}
	ch := h.chrome(c, "Users table index · "+p.Ref.ProjectID,
		views.Crumb{Label: "Projects", Href: "/projects"},
		views.Crumb{Label: p.Ref.ProjectID, Href: "/projects/" + p.Ref.ProjectID},
		views.Crumb{Label: "Users", Href: usersHref(p.Ref)},
		views.Crumb{Label: "Index"},
	)
	return h.render(c, status, views.IndexAdvisorPage(ch, p))
}

func usersHref(r views.UsersPanelRef) string {
	return views.UsersURL(r.ProjectID, r.Provider, r.BranchID)
}

// createUsersIndex starts building an offered index in the background (the
// browse-order one, with purpose=email the email-lookup one, with
// purpose=sessions Better Auth's sessions-order one) and answers
// with the panel showing the build.
func (h *Handler) createUsersIndex(c echo.Context) error {
	ref, s, err := panelRef(c)
	if err != nil {
		return err
	}
	var b neonauth.UserBrowser
	var a neonauth.IndexAdvice
	err = h.withBrowser(c.Request().Context(), s.ref(), dbPanelTimeout, func(ctx context.Context, ub neonauth.UserBrowser) error {
		b = ub
		var aerr error
		a, aerr = ub.AdviseIndex(ctx)
		return aerr
	})
	if err != nil {
		return err
	}
	if !a.CanCreate {
		p := h.indexPanel(c, ref, s)
		p.LastFailure = fmt.Sprintf("role %s does not own %s (owner %s).", a.Role, a.Table, a.Owner)
		return h.renderIndexPanel(c, http.StatusForbidden, p)
	}
	purpose := neonauth.IndexPurpose(cmp.Or(c.FormValue("purpose"), string(neonauth.IndexForBrowse)))
	offer, offered := a.Offer(purpose)
	if !offered {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "This users table is offered no such index.")
	}
	switch {
	case offer.Present():
	case h.Jobs == nil:
		if err := b.CreateOfferedIndex(c.Request().Context(), purpose); err != nil {
			h.logger().Warn("index build failed", "project", s.projectID, "provider", string(s.provider), "err", err)
		}
	default:
		// A build already running on the table is the one the panel shows.
		_, err := h.Jobs.StartJob(c.Request().Context(), jobs.IndexBuild(s.ref(), purpose, IdentityFrom(c).DisplayName()))
		if err != nil && !errors.Is(err, jobs.ErrActive) {
			return err
		}
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, views.IndexURL(ref))
	}
	return h.renderIndexPanel(c, http.StatusAccepted, h.indexPanel(c, ref, s))
}

// dropUsersIndex drops a browse-order index or a failed build's leftover.
func (h *Handler) dropUsersIndex(c echo.Context) error {
	ref, s, err := panelRef(c)
	if err != nil {
		return err
	}
	name := c.FormValue("index")
	err = h.withBrowser(c.Request().Context(), s.ref(), dropTimeout, func(ctx context.Context, b neonauth.UserBrowser) error {
		return b.DropIndex(ctx, name)
	})
	var inErr *neonauth.InputError
	switch {
	case errors.As(err, &inErr):
		// The reason never quotes the name, which came from the form.
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "That index "+inErr.Reason+".")
	case errors.Is(err, neonauth.ErrPermission):
		p := h.indexPanel(c, ref, s)
		p.LastFailure = "the dashboard's role does not own the table, so it may not drop its indexes."
		return h.renderIndexPanel(c, http.StatusForbidden, p)
	case errors.Is(err, neonauth.ErrIndexBuilding):
		return echo.NewHTTPError(http.StatusConflict, "That index is being built; wait for the build to end.")
	case err != nil:
		return err
	}
	if !isHTMX(c) {
		return c.Redirect(http.StatusSeeOther, views.IndexURL(ref))
	}
	return h.renderIndexPanel(c, http.StatusOK, h.indexPanel(c, ref, s))
}
