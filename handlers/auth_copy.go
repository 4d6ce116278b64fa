package handlers

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// copyRequest is what the copy routes are asked: the project, the two
// branches and the groups picked (every group when none is).
type copyRequest struct {
	projectID, from, to string
	groups              []neonauth.SettingsGroup
}

// copyParams reads a copy's project, branches and groups, from the query
// (the preview) or the form (the copy itself).
func copyParams(c echo.Context) (copyRequest, error) {
	projectID, err := projectIDParam(c)
	if err != nil {
		return copyRequest{}, err
	}
	r := copyRequest{projectID: projectID}
	for _, p := range []*string{&r.from, &r.to} {
		name := "from"
		if p == &r.to {
			name = "to"
		}
		v := c.FormValue(name)
		if v == "" {
			return r, echo.NewHTTPError(http.StatusBadRequest, "Pick the branch to copy from and the branch to copy to.")
		}
		if *p, err = checkedBranchID(v); err != nil {
			return r, err
		}
	}
	params, err := c.FormParams()
	if err != nil {
		return r, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	for _, g := range params["group"] {
		sg := neonauth.SettingsGroup(g)
		if !slices.Contains(neonauth.CopyGroups, sg) {
			return r, echo.NewHTTPError(http.StatusBadRequest, "Pick settings groups from the list.")
		}
		if !slices.Contains(r.groups, sg) {
			r.groups = append(r.groups, sg)
		}
	}
	if len(params["group"]) == 0 {
		r.groups = neonauth.CopyGroups
	}
	return r, nil
}

// copyPlan reads both branches and plans the copy; a branch without
// branch-level Neon Auth, or the same branch twice, is a 4xx saying so.
func (h *Handler) copyPlan(ctx context.Context, r copyRequest) (*neonauth.CopyPlan, error) {
	plan, err := h.AuthSettings.PlanCopy(ctx, r.projectID, r.from, r.to, r.groups, true)
	var none *neonauth.NoBranchAuthError
	switch {
	case errors.Is(err, neonauth.ErrCopySameBranch):
		return nil, echo.NewHTTPError(http.StatusBadRequest, "Pick two different branches: a branch's settings cannot be copied onto itself.")
	case errors.As(err, &none):
		return nil, echo.NewHTTPError(http.StatusConflict, "Branch "+none.Branch.Name+" has no branch-level Neon Auth (Better Auth), so it has no settings to copy: enable Neon Auth on it first.")
	}
	return plan, err
}

// previewCopy shows every change copying one branch's settings onto another
// would make, group by group, with the inputs it needs (the secrets Neon
// never returns), and the button that makes them. Admins only: it is the
// first half of a change.
func (h *Handler) previewCopy(c echo.Context) error {
	r, err := copyParams(c)
	if err != nil {
		return err
	}
	plan, err := h.copyPlan(c.Request().Context(), r)
	if err != nil {
		return err
	}
	return h.renderCopy(c, http.StatusOK, views.CopyPage{Plan: plan})
}

// applyCopy makes a copy the admin confirmed on the preview. Both branches
// are read again from Neon: if the plan is no longer the one shown, nothing
// is changed and the new plan is shown instead. Every step is checked, with
// the values typed, before the first is made; then the steps run in order,
// each with its own audit line, and the first failure stops the copy, so
// the page says exactly what was applied and what was not.
func (h *Handler) applyCopy(c echo.Context) error {
	r, err := copyParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	plan, err := h.copyPlan(neonauth.ReadLive(ctx), r)
	if err != nil {
		return err
	}
	in, typed, bad := copyValues(c, plan)
	m := views.CopyPage{Plan: plan, Typed: typed}
	if plan.Fingerprint != c.FormValue("fingerprint") {
		m.Changed = true
		return h.renderCopy(c, http.StatusConflict, m)
	}
	errs := h.AuthSettings.CheckCopy(plan, in)
	maps.Copy(errs, bad)
	if len(errs) > 0 {
		m.Errors = errs
		return h.renderCopy(c, http.StatusUnprocessableEntity, m)
	}
	ctx, job, err := h.trackCopy(ctx, c, r, plan)
	if errors.Is(err, jobs.ErrActive) {
		return echo.NewHTTPError(http.StatusConflict, "A copy onto this branch is running; wait for it to end (see Jobs), then copy again.")
	} else if err != nil {
		return err
	}
	defer job.stopped()
	res := h.AuthSettings.ApplyCopy(ctx, plan, in, job.stepCtx(identity.ChangeContext), func(sctx context.Context, st neonauth.CopyStep, err error) {
		identity.AuditChange(sctx, c, st.Action, r.projectID, r.to, st.Target, err, copyStepBeforeAfter(st)...)
		job.stepDone(err)
	})
	job.finish(res)
	// A copy that ran out of time still says what it applied.
	defer keepAnswering(c)()
	groups := make([]string, len(plan.Groups))
	for i, g := range plan.Groups {
		groups[i] = string(g)
	}
	identity.AddAuditAttrs(c,
		slog.String("from_branch", r.from), slog.String("groups", strings.Join(groups, ",")),
		slog.Int("applied", len(res.Applied)), slog.Int("not_attempted", len(res.NotAttempted)), slog.Bool("failed", res.Failed != nil))
	m.Result, m.Typed = res, nil
	status := http.StatusOK
	if res.Failed != nil {
		p := h.changeProblem(c, res.Err, "Neon refused: "+res.Failed.Title, views.CompareURL(r.projectID, r.from, r.to), "Compare the branches to see what the copy changed")
		m.Problem, status = &p, p.Status
	}
	return h.renderCopy(c, status, m)
}

// maxCopyInput bounds a typed secret or tenant; Neon's own limits are lower.
const maxCopyInput = 4096

// copyValues reads the inputs the plan asks for. It returns them for the
// copy; for the form shown again, the ones that are not secret (a secret is
// never sent back to the browser); and a message for each value that
// cannot be sent (over-long, a NUL byte, invalid UTF-8).
func copyValues(c echo.Context, plan *neonauth.CopyPlan) (in neonauth.CopyValues, typed, bad map[string]string) {
	in, typed, bad = neonauth.CopyValues{}, map[string]string{}, map[string]string{}
	for _, input := range plan.Inputs() {
		v := c.FormValue(input.Field)
		switch {
		case len(v) > maxCopyInput:
			bad[input.Field] = "This is too long to be a real value; check what was pasted."
		case unstorable(v):
			bad[input.Field] = unstorableMessage
		default:
			in[input.Field] = v
		}
		if !input.Secret {
			typed[input.Field] = shown(cut(v, maxCopyInput))
		}
	}
	return in, typed, bad
}

// renderCopy renders the copy page with its chrome.
func (h *Handler) renderCopy(c echo.Context, status int, m views.CopyPage) error {
	ctx := c.Request().Context()
	m.ProjectName = h.projectName(ctx, m.Plan.ProjectID)
	ch := h.chrome(c, "Copy settings",
		views.Crumb{Label: "Projects", Href: "/projects"},
		views.Crumb{Label: m.ProjectName, Href: views.ProjectURL(m.Plan.ProjectID)},
		views.Crumb{Label: "Compare branches", Href: views.CompareURL(m.Plan.ProjectID, m.Plan.From.ID, m.Plan.To.ID)},
		views.Crumb{Label: "Copy settings"})
	m.CSRFToken = ch.CSRFToken
	return h.render(c, status, views.CopyView(ch, m))
}
