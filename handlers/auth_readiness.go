package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// BranchChecks reads branches' Neon Auth settings for the readiness and
// comparison pages. *neonauth.Service is one.
type BranchChecks interface {
	BranchReadiness(ctx context.Context, projectID, branchID string) (*neonauth.Readiness, error)
	CompareBranches(ctx context.Context, projectID, branchA, branchB string, fullURLs bool) (*neonauth.Comparison, error)
}

// errNoBranch answers branch ids that cannot be Neon branch ids without
// asking Neon.
var errNoBranch = echo.NewHTTPError(http.StatusNotFound, "There is no branch with that id.")

// checkedBranchID returns v once it looks like a Neon branch id.
func checkedBranchID(v string) (string, error) {
	if !neonID.MatchString(v) {
		return "", errNoBranch
	}
	return v, nil
}

// branchReadiness serves a branch's production readiness checklist, read
// through the read cache: the dashboard's own changes drop the project's
// cached reads, so they show at once, and the page's "Refresh from Neon"
// (refreshProject) shows changes made elsewhere. A branch without
// branch-level Neon Auth gets a 404 page saying so; Neon's refusals reach
// the error page with their request id.
func (h *Handler) branchReadiness(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	branchID, err := checkedBranchID(c.Param("branch"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var (
		r    *neonauth.Readiness
		name string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		r, err = h.Checks.BranchReadiness(gctx, projectID, branchID)
		return err
	})
	g.Go(func() error {
		name = h.projectName(gctx, projectID)
		return nil
	})
	err = g.Wait()
	var none *neonauth.NoBranchAuthError
	switch {
	case errors.As(err, &none):
		return h.noBranchAuth(c, projectID, name, none)
	case err != nil:
		return err
	}
	title := "Readiness of " + r.Branch.Name
	crumbs := branchCrumbs(projectID, name, "Readiness of "+r.Branch.Name)
	return h.render(c, http.StatusOK, views.ReadinessView(h.chrome(c, title, crumbs...), views.ReadinessPage{ProjectName: name, Readiness: *r, FullURLs: IdentityFrom(c).CanWrite()}))
}

// noBranchAuth explains, as a 404, that the branch has no branch-level Neon
// Auth, and where to enable it.
func (h *Handler) noBranchAuth(c echo.Context, projectID, projectName string, e *neonauth.NoBranchAuthError) error {
	m := views.NoBranchAuthPage{ProjectID: projectID, Branch: e.Branch, Provider: e.Provider, CanWrite: IdentityFrom(c).CanWrite()}
	crumbs := branchCrumbs(projectID, projectName, e.Branch.Name)
	return h.render(c, http.StatusNotFound, views.NoBranchAuthView(h.chrome(c, "Neon Auth not enabled", crumbs...), m))
}

// projectName is the project's name for headings and breadcrumbs, or its id
// when Neon does not say: the page is about the branch, and a failed read
// of the name should not take it down.
func (h *Handler) projectName(ctx context.Context, projectID string) string {
	p, err := h.Auth.Project(ctx, projectID)
	if err != nil || p.Name == "" {
		if err != nil && !errors.Is(err, neonauth.ErrNotFound) && !errors.Is(err, context.Canceled) {
			h.logger().Warn("read project name", "project", projectID, "err", err)
		}
		return projectID
	}
	return p.Name
}

// branchCrumbs leads from the projects list through the project to a page
// about one of its branches.
func branchCrumbs(projectID, projectName, page string) []views.Crumb {
	return []views.Crumb{
		{Label: "Projects", Href: "/projects"},
		{Label: projectName, Href: views.ProjectURL(projectID)},
		{Label: page},
	}
}
