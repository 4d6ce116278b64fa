package sandbox

import (
	"net/http"
	"time"
)

func (s *Sandbox) listRoles(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	body := struct {
		Roles []roleJSON `json:"roles"`
	}{[]roleJSON{}}
	for _, rl := range b.roles {
		body.Roles = append(body.Roles, roleToJSON(b, rl))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// createRoleRequest is RoleCreateRequest.
type createRoleRequest struct {
	Role *struct {
		Name    *string `json:"name"`
		NoLogin *bool   `json:"no_login"`
	} `json:"role"`
}

// createRole is createProjectBranchRole. The role gets a password, answered
// here as Neon does, and a real role on first use (see realRole).
// no_login roles get neither password nor login.
func (s *Sandbox) createRole(w http.ResponseWriter, r *http.Request) error {
	var req createRoleRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if req.Role == nil || req.Role.Name == nil {
		return badRequest("role.name is required")
	}
	name := *req.Role.Name
	if err := checkLen(&name, "role.name", 1, 63); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	if b.roleByName(name) != nil {
		return conflict("role %s already exists on branch %s", name, b.id)
	}
	now := time.Now().UTC().Truncate(time.Second)
	rl := s.newRole(name, now, req.Role.NoLogin != nil && *req.Role.NoLogin)
	b.roles = append(b.roles, rl)
	j := roleToJSON(b, rl)
	j.Password = rl.real.secret()
	writeJSON(w, http.StatusCreated, struct {
		Role       roleJSON        `json:"role"`
		Operations []operationJSON `json:"operations"`
	}{j, recordOps(p, b, now, "apply_config")})
	return nil
}
