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

// createRole is createProjectBranchRole. Sandbox roles exist only in its
// records (connection URIs use the backing server's user), so no password is
// answered.
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
	rl := &role{name: name, createdAt: now}
	b.roles = append(b.roles, rl)
	writeJSON(w, http.StatusCreated, struct {
		Role       roleJSON        `json:"role"`
		Operations []operationJSON `json:"operations"`
	}{roleToJSON(b, rl), recordOps(p, b, now, "apply_config")})
	return nil
}
