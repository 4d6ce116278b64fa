package sandbox

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// newRole records a branch role with a fresh password (none when noLogin);
// its real role is made on first use.
func (s *Sandbox) newRole(name string, now time.Time, noLogin bool) *role {
	pw := ""
	if !noLogin {
		pw = newPassword()
	}
	return &role{name: name, createdAt: now, noLogin: noLogin, real: s.pg.newRealRole(name, pw)}
}

// copyRole is r on a new branch: the same name and password, as a branch
// copies its parent's roles, and a real role of its own.
func (s *Sandbox) copyRole(r *role, now time.Time) *role {
	return &role{name: r.name, createdAt: now, noLogin: r.noLogin, real: s.pg.newRealRole(r.name, r.real.secret())}
}

// ensureOwners creates the real databases of b and the real roles owning
// them, for answers that carry connection URIs.
func (s *Sandbox) ensureOwners(ctx context.Context, b *branch) error {
	s.mu.RLock()
	var dbs []*realDB
	var roles []*realRole
	for _, d := range b.databases {
		dbs = append(dbs, d.real)
		if rl := b.roleByName(d.owner); rl != nil {
			roles = append(roles, rl.real)
		}
	}
	s.mu.RUnlock()
	for _, db := range dbs {
		if err := s.pg.ensure(ctx, db); err != nil {
			return err
		}
	}
	for _, rr := range roles {
		if err := s.pg.ensureRole(ctx, rr); err != nil {
			return err
		}
	}
	return nil
}

// lookupRole returns the project, branch and role named by the path, under
// s.mu.
func (s *Sandbox) lookupRole(r *http.Request) (*project, *branch, *role, error) {
	p, b, err := s.lookupBranch(r)
	if err != nil {
		return nil, nil, nil, err
	}
	name := r.PathValue("role_name")
	rl := b.roleByName(name)
	if rl == nil {
		return nil, nil, nil, notFound("role %s not found on branch %s", name, b.id)
	}
	return p, b, rl, nil
}

// getRole is getProjectBranchRole: the role without its password.
func (s *Sandbox) getRole(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, b, rl, err := s.lookupRole(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Role roleJSON `json:"role"`
	}{roleToJSON(b, rl)})
	return nil
}

// revealPassword is getProjectBranchRolePassword: the password the
// connection URIs log in with. A no_login role has none (412, as Neon
// answers for a password it does not keep).
func (s *Sandbox) revealPassword(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, b, rl, err := s.lookupRole(r)
	if err != nil {
		return err
	}
	pw := rl.real.secret()
	if pw == "" {
		return &apiError{http.StatusPreconditionFailed, "PRECONDITION_FAILED", "role " + rl.name + " on branch " + b.id + " cannot log in and has no password"}
	}
	writeJSON(w, http.StatusOK, struct {
		Password string `json:"password"`
	}{pw})
	return nil
}

// resetPassword is resetProjectBranchRolePassword: a new password, answered
// once in the role; the old one stops working before the answer.
func (s *Sandbox) resetPassword(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	_, b, rl, err := s.lookupRole(r)
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	if rl.noLogin {
		return badRequest("role %s on branch %s cannot log in: it has no password to reset", rl.name, b.id)
	}
	pw := newPassword()
	// The client may give up; the password must still end as answered or
	// as before, never half-set.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	if err := s.pg.setPassword(ctx, rl.real, pw); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, b, rl, err := s.lookupRole(r)
	if err != nil {
		return err // deleted meanwhile
	}
	j := roleToJSON(b, rl)
	j.Password = pw
	writeJSON(w, http.StatusOK, struct {
		Role       roleJSON        `json:"role"`
		Operations []operationJSON `json:"operations"`
	}{j, recordOps(p, b, time.Now().UTC().Truncate(time.Second), "apply_config")})
	return nil
}

// deleteRole is deleteProjectBranchRole. A role that owns a database of the
// branch is refused (409): its databases would be left without an owner.
// Objects the role made in the branch's databases pass to the sandbox's
// user, and the real role is dropped.
func (s *Sandbox) deleteRole(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	p, b, rl, err := s.lookupRole(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	for _, d := range b.databases {
		if d.owner == rl.name {
			s.mu.Unlock()
			return conflict("role %s owns database %s on branch %s: delete the database first", rl.name, d.name, b.id)
		}
	}
	b.roles = slices.DeleteFunc(b.roles, func(x *role) bool { return x == rl })
	var dbs []*realDB
	for _, d := range b.databases {
		dbs = append(dbs, d.real)
	}
	ops := recordOps(p, b, time.Now().UTC().Truncate(time.Second), "apply_config")
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	if err := s.pg.dropRole(ctx, rl.real, dbs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Role       roleJSON        `json:"role"`
		Operations []operationJSON `json:"operations"`
	}{roleToJSON(b, rl), ops})
	return nil
}
