package sandbox

import "net/http"

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
