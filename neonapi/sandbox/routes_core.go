package sandbox

// coreRoutes adds the core operations beyond what Neon Auth's guide calls:
// projects, branches, roles and databases, endpoints, operations, API keys
// and organizations.
func (s *Sandbox) coreRoutes(handle func(pattern string, f apiFunc)) {
	handle("PATCH /projects/{project_id}", s.updateProject)
	handle("DELETE /projects/{project_id}", s.deleteProject)
	handle("GET /projects/{project_id}/operations/{operation_id}", s.getOperation)

	handle("GET /projects/{project_id}/branches/count", s.countBranches)
	handle("PATCH /projects/{project_id}/branches/{branch_id}", s.updateBranch)
	handle("DELETE /projects/{project_id}/branches/{branch_id}", s.deleteBranchHTTP)
	handle("POST /projects/{project_id}/branches/{branch_id}/restore", s.restoreBranch)
	handle("POST /projects/{project_id}/branches/{branch_id}/set_as_default", s.setDefaultBranch)
	handle("GET /projects/{project_id}/branches/{branch_id}/schema", s.branchSchema)
	handle("DELETE /projects/{project_id}/branches/{branch_id}/databases/{database_name}", s.deleteDatabase)
	handle("GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}", s.getRole)
	handle("DELETE /projects/{project_id}/branches/{branch_id}/roles/{role_name}", s.deleteRole)
	handle("GET /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password", s.revealPassword)
	handle("POST /projects/{project_id}/branches/{branch_id}/roles/{role_name}/reset_password", s.resetPassword)

	handle("GET /projects/{project_id}/endpoints", s.listProjectEndpoints)
	handle("POST /projects/{project_id}/endpoints", s.createEndpoint)
	handle("GET /projects/{project_id}/endpoints/{endpoint_id}", s.getEndpoint)
	handle("PATCH /projects/{project_id}/endpoints/{endpoint_id}", s.updateEndpoint)
	handle("DELETE /projects/{project_id}/endpoints/{endpoint_id}", s.deleteEndpoint)
	handle("POST /projects/{project_id}/endpoints/{endpoint_id}/start", s.startEndpoint)
	handle("POST /projects/{project_id}/endpoints/{endpoint_id}/suspend", s.suspendEndpoint)
	handle("POST /projects/{project_id}/endpoints/{endpoint_id}/restart", s.restartEndpoint)

	handle("GET /api_keys", s.listAPIKeys)
	handle("POST /api_keys", s.createAPIKey)
	handle("DELETE /api_keys/{key_id}", s.revokeAPIKey)
	handle("GET /users/me/organizations", s.currentUserOrganizations)
}
