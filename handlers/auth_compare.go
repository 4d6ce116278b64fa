package handlers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// compareBranches serves two branches' Neon Auth settings side by side.
// Without ?a= and ?b= it compares the default branch with the first other
// one. The branches list feeds the selects; everything is read through the
// read cache, which the page's "Refresh from Neon" (refreshProject) empties
// for the project. Neon's refusals reach the error page with their request
// id.
func (h *Handler) compareBranches(c echo.Context) error {
	projectID, err := projectIDParam(c)
	if err != nil {
		return err
	}
	canWrite := IdentityFrom(c).CanWrite()
	m := views.ComparePage{ProjectID: projectID, A: c.QueryParam("a"), B: c.QueryParam("b"),
		OnlyDifferences: c.QueryParam("only") == "differences", CanCopy: canWrite}
	for _, v := range []string{m.A, m.B} {
		if v != "" {
			if _, err := checkedBranchID(v); err != nil {
				return err
			}
		}
	}
	ctx := c.Request().Context()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		m.Branches, err = h.Auth.Branches(gctx, projectID)
		return err
	})
	g.Go(func() error {
		m.ProjectName = h.projectName(gctx, projectID)
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	// The default branch first, then by name: the order people look for.
	slices.SortStableFunc(m.Branches, func(x, y neonauth.Branch) int {
		if x.Default != y.Default {
			if x.Default {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Name, y.Name)
	})
	m.A, m.B = pickBranches(m.Branches, m.A, m.B)
	if m.A != "" && m.B != "" {
		cmp, err := h.Checks.CompareBranches(ctx, projectID, m.A, m.B, canWrite)
		if err != nil {
			return err
		}
		m.Comparison = cmp
		m.ReadinessA, m.ReadinessB = sideSummary(cmp.A), sideSummary(cmp.B)
	}
	crumbs := []views.Crumb{{Label: "Projects", Href: "/projects"}, {Label: m.ProjectName, Href: views.ProjectURL(projectID)}, {Label: "Compare branches"}}
	return h.render(c, http.StatusOK, views.CompareView(h.chrome(c, "Compare branches", crumbs...), m))
}

// pickBranches fills in the branches not asked for: the default branch for
// the first, the first other branch for the second. With fewer than two
// branches there is nothing to compare, unless both were asked for.
func pickBranches(branches []neonauth.Branch, a, b string) (string, string) {
	if a == "" {
		for _, br := range branches {
			if br.Default {
				a = br.ID
				break
			}
		}
		if a == "" && len(branches) > 0 {
			a = branches[0].ID
		}
	}
	if b == "" {
		for _, br := range branches {
			if br.ID != a {
				b = br.ID
				break
			}
		}
	}
	if b == "" {
		return "", ""
	}
	return a, b
}

// sideSummary judges a side's readiness from the settings the comparison
// already read, so the badge costs no further call.
func sideSummary(s neonauth.CompareSide) *neonauth.ReadinessSummary {
	if s.Settings == nil {
		return nil
	}
	sum := neonauth.CheckReadiness(s.Settings).Summary
	return &sum
}
