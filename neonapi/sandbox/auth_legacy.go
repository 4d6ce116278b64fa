package sandbox

import "net/http"

// createIntegration is createNeonAuthIntegration: project-level Neon Auth with
// Stack Auth (or the mock provider).
func (s *Sandbox) createIntegration(w http.ResponseWriter, r *http.Request) error {
	var req createIntegrationRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	provider, err := requireProvider(req.AuthProvider)
	if err != nil {
		return err
	}
	projectID, err := requireID(req.ProjectID, "project_id")
	if err != nil {
		return err
	}
	branchID, err := requireID(req.BranchID, "branch_id")
	if err != nil {
		return err
	}
	if provider == providerBetterAuth {
		return badRequest("better_auth is enabled per branch: use POST /projects/{project_id}/branches/{branch_id}/auth")
	}
	keys, err := s.enable(r.Context(), origin(r), projectID, branchID, provider, deref(req.DatabaseName), true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keys)
	return nil
}

func (s *Sandbox) listIntegrations(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	body := struct {
		Data []integrationJSON `json:"data"`
	}{[]integrationJSON{}}
	for _, in := range p.integrations() {
		body.Data = append(body.Data, integrationToJSON(in))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// projectIntegration finds the project's integration with the provider, under
// s.mu.
func (s *Sandbox) projectIntegration(projectID, provider string) (*integration, error) {
	p := s.projects[projectID]
	if p == nil {
		return nil, notFound("project %s not found", projectID)
	}
	in := p.integrationFor(provider)
	if in == nil {
		return nil, notFound("project %s has no Neon Auth integration with %s", projectID, provider)
	}
	return in, nil
}

func (s *Sandbox) deleteIntegration(w http.ResponseWriter, r *http.Request) error {
	projectID, err := pathID(r, "project_id")
	if err != nil {
		return err
	}
	provider := r.PathValue("auth_provider")
	if err := checkProvider(provider, "auth_provider"); err != nil {
		return err
	}
	deleteData, err := readDeleteData(r)
	if err != nil {
		return err
	}
	s.mu.RLock()
	in, err := s.projectIntegration(projectID, provider)
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	if err := s.disable(r.Context(), in, deleteData); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Sandbox) createUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	projectID, err := requireID(req.ProjectID, "project_id")
	if err != nil {
		return err
	}
	provider, err := requireProvider(req.AuthProvider)
	if err != nil {
		return err
	}
	email, err := checkUser(req.Email, req.Name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.projectIntegration(projectID, provider)
	if err != nil {
		return err
	}
	id, err := s.addUser(in, email, req.Name, req.Password != nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, idJSON{id})
	return nil
}

func (s *Sandbox) deleteUser(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	id := r.PathValue("auth_user_id")
	for _, in := range p.integrations() {
		if u := liveUser(in, id); u != nil {
			s.removeUser(in, u, true)
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	return notFound("user %s not found in project %s", id, p.id)
}

func (s *Sandbox) readProjectProvider(r *http.Request) (string, string, error) {
	var req projectProviderRequest
	if err := decodeBody(r, &req, true); err != nil {
		return "", "", err
	}
	projectID, err := requireID(req.ProjectID, "project_id")
	if err != nil {
		return "", "", err
	}
	provider, err := requireProvider(req.AuthProvider)
	return projectID, provider, err
}

func (s *Sandbox) transferOwnership(w http.ResponseWriter, r *http.Request) error {
	projectID, provider, err := s.readProjectProvider(r)
	if err != nil {
		return err
	}
	if provider == providerBetterAuth {
		return badRequest("better_auth integrations are hosted by Neon and cannot be transferred")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.projectIntegration(projectID, provider)
	if err != nil {
		return err
	}
	if in.ownedBy == "user" {
		return conflict("the auth provider project already belongs to your account")
	}
	code := randomToken("", 16)
	s.transfers[code] = in
	in.transferStatus = "initiated"
	writeJSON(w, http.StatusOK, struct {
		URL string `json:"url"`
	}{origin(r) + "/_sandbox/transfer/confirm?code=" + code})
	return nil
}

func (s *Sandbox) createSDKKeys(w http.ResponseWriter, r *http.Request) error {
	projectID, provider, err := s.readProjectProvider(r)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	in, err := s.projectIntegration(projectID, provider)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.newKeys(in))
	return nil
}
