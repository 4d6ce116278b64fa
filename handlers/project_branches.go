package handlers

import (
	"slices"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// branchTable shapes every branch's Neon Auth for the project page: one row
// per branch, the default branch first and the others in Neon's order, each
// with its own failure if its state could not be read.
func (h *Handler) branchTable(projectID string, d *projectData) views.BranchTable {
	t := views.BranchTable{ProjectID: projectID}
	if d.branchesErr != nil {
		p := h.panelProblem(d.branchesErr, "Could not list branches")
		t.Problem = &p
		return t
	}
	for _, s := range d.branchStates {
		t.Rows = append(t.Rows, h.branchRow(projectID, s))
	}
	slices.SortStableFunc(t.Rows, func(a, b views.BranchRow) int {
		switch {
		case a.Default == b.Default:
			return 0
		case a.Default:
			return -1
		}
		return 1
	})
	if len(t.Rows) >= 2 {
		t.CompareURL = views.CompareURL(projectID, "", "")
	}
	return t
}

// branchRow is one branch's row: what getNeonAuth reported, or why it could
// not be read.
func (h *Handler) branchRow(projectID string, s neonauth.BranchState) views.BranchRow {
	r := views.BranchRow{
		ID:        s.Branch.ID,
		Name:      s.Branch.Name,
		Default:   s.Branch.Default,
		Protected: s.Branch.Protected,
	}
	switch {
	case s.Err != nil:
		p := h.panelProblem(s.Err, "Could not read Neon Auth of branch "+s.Branch.Name)
		r.Problem = &p
	case s.Enabled():
		r.Provider = s.Provider()
		r.DBName = s.Auth.DBName
		r.BaseURL = s.Auth.BaseURL
		r.JWKSURL = s.Auth.JWKSURL
		// A project-level integration's users page is its card's.
		if r.Provider.BranchLevel() {
			r.UsersURL = views.BranchUsersURL(projectID, r.Provider, s.Branch.ID)
			r.ReadinessURL = views.ReadinessURL(projectID, s.Branch.ID)
		}
	}
	return r
}
