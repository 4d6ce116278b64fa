package sandbox

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// branchIntegration finds the integration of the branch named by the path,
// under s.mu.
func (s *Sandbox) branchIntegration(r *http.Request) (*integration, error) {
	_, b, err := s.lookupBranch(r)
	if err != nil {
		return nil, err
	}
	if b.auth == nil || !b.auth.ready {
		return nil, notFound("Neon Auth is not enabled on branch %s", b.id)
	}
	return b.auth, nil
}

func (s *Sandbox) getBranchAuth(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	in, err := s.branchIntegration(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, integrationToJSON(in))
	return nil
}

func (s *Sandbox) enableBranchAuth(w http.ResponseWriter, r *http.Request) error {
	projectID, err := pathID(r, "project_id")
	if err != nil {
		return err
	}
	branchID, err := pathID(r, "branch_id")
	if err != nil {
		return err
	}
	var req enableAuthRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	provider, err := requireProvider(req.AuthProvider)
	if err != nil {
		return err
	}
	keys, err := s.enable(r.Context(), origin(r), projectID, branchID, provider, deref(req.DatabaseName), false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keys)
	return nil
}

func (s *Sandbox) disableBranchAuth(w http.ResponseWriter, r *http.Request) error {
	deleteData, err := readDeleteData(r)
	if err != nil {
		return err
	}
	s.mu.RLock()
	in, err := s.branchIntegration(r)
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

func (s *Sandbox) createBranchUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	email, err := checkUser(req.Email, req.Name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.branchIntegration(r)
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

func (s *Sandbox) deleteBranchUser(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.branchIntegration(r)
	if err != nil {
		return err
	}
	id := r.PathValue("auth_user_id")
	u := liveUser(in, id)
	if u == nil {
		return notFound("user %s not found on branch %s", id, in.branch.id)
	}
	s.removeUser(in, u, false)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Sandbox) updateUserRole(w http.ResponseWriter, r *http.Request) error {
	var req updateRoleRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if len(req.Roles) == 0 {
		return badRequest("roles must list at least one role")
	}
	for _, role := range req.Roles {
		if strings.TrimSpace(role) == "" || strings.Contains(role, ",") || utf8.RuneCountInString(role) > 64 {
			return badRequest("each role must be a non-empty name without commas, up to 64 characters")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.branchIntegration(r)
	if err != nil {
		return err
	}
	if in.provider != providerBetterAuth {
		return badRequest("user roles need Neon Auth with better_auth; branch %s uses %s", in.branch.id, in.provider)
	}
	id := r.PathValue("auth_user_id")
	if liveUser(in, id) == nil {
		return notFound("user %s not found on branch %s", id, in.branch.id)
	}
	s.enqueue(in, sqlBetterSetRole, id, strings.Join(req.Roles, ","))
	writeJSON(w, http.StatusOK, idJSON{id})
	return nil
}

// branchAuthRoutes lists the branch-level Neon Auth configuration endpoints.
func (s *Sandbox) branchAuthRoutes(handle func(pattern string, f apiFunc)) {
	const auth = "/projects/{project_id}/branches/{branch_id}/auth"
	handle("PATCH "+auth+"/config", s.updateAuthConfig)
	handle("GET "+auth+"/domains", s.listDomains)
	handle("POST "+auth+"/domains", s.addDomain)
	handle("DELETE "+auth+"/domains", s.deleteDomains)
	handle("GET "+auth+"/allow_localhost", s.getAllowLocalhost)
	handle("PATCH "+auth+"/allow_localhost", s.updateAllowLocalhost)
	handle("GET "+auth+"/oauth_providers", s.listOAuthProviders)
	handle("POST "+auth+"/oauth_providers", s.addOAuthProvider)
	handle("PATCH "+auth+"/oauth_providers/{oauth_provider_id}", s.updateOAuthProvider)
	handle("DELETE "+auth+"/oauth_providers/{oauth_provider_id}", s.deleteOAuthProvider)
	handle("GET "+auth+"/email_and_password", s.getEmailAndPassword)
	handle("PATCH "+auth+"/email_and_password", s.updateEmailAndPassword)
	handle("GET "+auth+"/email_provider", s.getEmailProvider)
	handle("PATCH "+auth+"/email_provider", s.updateEmailProvider)
	handle("POST "+auth+"/send_test_email", s.sendTestEmail)
	handle("GET "+auth+"/plugins", s.getPluginConfigs)
	handle("PATCH "+auth+"/plugins/organization", s.updateOrganizationPlugin)
	handle("PATCH "+auth+"/plugins/magic-link", s.updateMagicLinkPlugin)
	handle("GET "+auth+"/plugins/phone-number", s.getPhoneNumberPlugin)
	handle("PATCH "+auth+"/plugins/phone-number", s.updatePhoneNumberPlugin)
	handle("GET "+auth+"/webhooks", s.getWebhookConfig)
	handle("PUT "+auth+"/webhooks", s.updateWebhookConfig)
}
