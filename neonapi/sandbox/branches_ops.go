package sandbox

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// updateBranchRequest is BranchUpdateRequest; expires_at is accepted and
// ignored (branches do not expire in the sandbox).
type updateBranchRequest struct {
	Branch *struct {
		Name      *string `json:"name"`
		Protected *bool   `json:"protected"`
	} `json:"branch"`
}

// updateBranch is updateProjectBranch: rename (409 for a taken name) and
// protect or unprotect.
func (s *Sandbox) updateBranch(w http.ResponseWriter, r *http.Request) error {
	var req updateBranchRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if req.Branch == nil {
		return badRequest("branch is required")
	}
	if err := checkLen(req.Branch.Name, "branch.name", 1, 256); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	if n := req.Branch.Name; n != nil && *n != b.name {
		if slices.ContainsFunc(p.branches, func(o *branch) bool { return o.name == *n }) {
			return conflict("a branch named %s already exists in project %s", *n, p.id)
		}
		b.name = *n
	}
	if req.Branch.Protected != nil {
		b.protected = *req.Branch.Protected
	}
	s.writeBranchOps(w, http.StatusOK, b, []operationJSON{})
	return nil
}

// writeBranchOps answers BranchOperations.
func (s *Sandbox) writeBranchOps(w http.ResponseWriter, status int, b *branch, ops []operationJSON) {
	writeJSON(w, status, struct {
		Branch     branchJSON      `json:"branch"`
		Operations []operationJSON `json:"operations"`
	}{branchToJSON(b), ops})
}

// countBranches is countProjectBranches, with listProjectBranches' search.
func (s *Sandbox) countBranches(w http.ResponseWriter, r *http.Request) error {
	search := strings.ToLower(r.URL.Query().Get("search"))
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	n := 0
	for _, b := range p.branches {
		if search == "" || strings.Contains(strings.ToLower(b.name), search) || strings.Contains(b.id, search) {
			n++
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Count int `json:"count"`
	}{n})
	return nil
}

// setDefaultBranch is setDefaultProjectBranch; the former default branch
// stays, as an ordinary branch.
func (s *Sandbox) setDefaultBranch(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	if b.creating {
		return locked("branch %s is still being created", b.id)
	}
	for _, o := range p.branches {
		o.isDefault = o == b
	}
	s.writeBranchOps(w, http.StatusOK, b, []operationJSON{})
	return nil
}

// deleteBranchHTTP is deleteProjectBranch. As on Neon, the default branch, a
// protected branch and a branch with children are refused (409). The
// branch's databases and roles are dropped, its Neon Auth forgotten.
func (s *Sandbox) deleteBranchHTTP(w http.ResponseWriter, r *http.Request) error {
	if _, err := queryBool(r.URL.Query(), "hard_delete"); err != nil {
		return err
	}
	s.mu.Lock()
	p, b, err := s.lookupBranch(r)
	if err == nil {
		err = refuseBranchDelete(p, b)
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	actions := []string{"delete_timeline"}
	if len(b.endpoints) > 0 {
		actions = []string{"suspend_compute", "delete_timeline"}
	}
	ops := recordOps(p, b, time.Now().UTC().Truncate(time.Second), actions...)
	p.branches = slices.DeleteFunc(p.branches, func(x *branch) bool { return x == b })
	s.forgetBranch(b)
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	if err := s.dropBranchData(ctx, b); err != nil {
		return err
	}
	s.writeBranchOps(w, http.StatusOK, b, ops)
	return nil
}

// refuseBranchDelete says why b may not be deleted, or nil.
func refuseBranchDelete(p *project, b *branch) error {
	switch {
	case b.isDefault:
		return conflict("branch %s is the project's default branch: make another branch the default first", b.id)
	case b.protected:
		return conflict("branch %s is protected: unprotect it first", b.id)
	case b.creating:
		return locked("branch %s is still being created", b.id)
	}
	for _, o := range p.branches {
		if o.parentID == b.id {
			return conflict("branch %s has child branches (%s): delete them first", b.id, o.id)
		}
	}
	return nil
}

// forgetBranch stops b's Neon Auth, dropping writes still queued for it.
// Callers hold s.mu.
func (s *Sandbox) forgetBranch(b *branch) {
	in := b.auth
	if in == nil {
		return
	}
	in.removed.Store(true)
	b.auth = nil
	for code, t := range s.transfers {
		if t == in {
			delete(s.transfers, code)
		}
	}
}

// dropBranchData drops a deleted branch's real databases, then its real
// roles.
func (s *Sandbox) dropBranchData(ctx context.Context, b *branch) error {
	var errs []error
	for _, d := range b.databases {
		errs = append(errs, s.pg.dropDB(ctx, d.real))
	}
	for _, rl := range b.roles {
		errs = append(errs, s.pg.dropRole(ctx, rl.real, nil))
	}
	return errors.Join(errs...)
}
