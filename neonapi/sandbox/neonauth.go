package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Neon Auth providers (the spec's NeonAuthSupportedAuthProvider). Mock is
// handled like Stack.
const (
	providerMock       = "mock"
	providerStack      = "stack"
	providerBetterAuth = "better_auth"
)

// tableFor names the provider's user table in the neon_auth schema.
func tableFor(provider string) string {
	if provider == providerBetterAuth {
		return "user"
	}
	return "users_sync"
}

// SQL the sync worker runs. Inserts tolerate a row already there so that a
// retried batch never writes a user twice.
const (
	sqlStackInsert     = `INSERT INTO neon_auth.users_sync (raw_json, updated_at) VALUES ($1, now()) ON CONFLICT DO NOTHING`
	sqlStackSoftDelete = `UPDATE neon_auth.users_sync SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`
	sqlStackDelete     = `DELETE FROM neon_auth.users_sync WHERE id = $1`
	sqlBetterInsert    = `INSERT INTO neon_auth."user" (id, name, email, "emailVerified", role, "createdAt", "updatedAt") VALUES ($1, $2, $3, false, 'user', $4, $4) ON CONFLICT DO NOTHING`
	sqlBetterDelete    = `DELETE FROM neon_auth."user" WHERE id = $1`
	sqlBetterSetRole   = `UPDATE neon_auth."user" SET role = $2, "updatedAt" = now() WHERE id = $1`
)

// stackUser is the raw_json document Stack Auth's sync writes to users_sync.
type stackUser struct {
	ID                     string  `json:"id"`
	DisplayName            *string `json:"display_name"`
	PrimaryEmail           string  `json:"primary_email"`
	PrimaryEmailVerified   bool    `json:"primary_email_verified"`
	SignedUpAtMillis       int64   `json:"signed_up_at_millis"`
	LastActiveAtMillis     int64   `json:"last_active_at_millis"`
	ClientMetadata         any     `json:"client_metadata"`
	ServerMetadata         any     `json:"server_metadata"`
	ClientReadOnlyMetadata any     `json:"client_read_only_metadata"`
	HasPassword            bool    `json:"has_password"`
	ProfileImageURL        *string `json:"profile_image_url"`
	OAuthProviders         []any   `json:"oauth_providers"`
}

// Request bodies. Pointers tell a missing field from an empty one; fields the
// spec does not list (such as the guide's "password") are ignored.
type (
	createIntegrationRequest struct {
		AuthProvider *string `json:"auth_provider"`
		ProjectID    *string `json:"project_id"`
		BranchID     *string `json:"branch_id"`
		DatabaseName *string `json:"database_name"`
		RoleName     *string `json:"role_name"` // deprecated; accepted and ignored
	}
	enableAuthRequest struct {
		AuthProvider *string `json:"auth_provider"`
		DatabaseName *string `json:"database_name"`
	}
	projectProviderRequest struct {
		ProjectID    *string `json:"project_id"`
		AuthProvider *string `json:"auth_provider"`
	}
	createUserRequest struct {
		ProjectID    *string          `json:"project_id"`
		AuthProvider *string          `json:"auth_provider"`
		Email        *string          `json:"email"`
		Name         *string          `json:"name"`
		Password     *json.RawMessage `json:"password"` // only its presence is used
	}
	deleteDataRequest struct {
		DeleteData *bool `json:"delete_data"`
	}
	updateRoleRequest struct {
		Roles []string `json:"roles"`
	}
)

func requireID(v *string, field string) (string, error) {
	if v == nil {
		return "", badRequest("%s is required", field)
	}
	if !idPattern.MatchString(*v) {
		return "", badRequest("%s must match ^[a-z0-9-]{1,60}$", field)
	}
	return *v, nil
}

func checkProvider(p, field string) error {
	switch p {
	case providerMock, providerStack, providerBetterAuth:
		return nil
	}
	return badRequest("%s must be one of mock, stack, better_auth", field)
}

func requireProvider(v *string) (string, error) {
	if v == nil {
		return "", badRequest("auth_provider is required")
	}
	return *v, checkProvider(*v, "auth_provider")
}

// checkUser validates a new user's email (required) and name (optional).
func checkUser(email, name *string) (string, error) {
	if email == nil {
		return "", badRequest("email is required")
	}
	if err := checkLen(email, "email", 1, 256); err != nil {
		return "", err
	}
	a, err := mail.ParseAddress(*email)
	if err != nil || a.Name != "" || a.Address != *email || !strings.Contains(a.Address, "@") {
		return "", badRequest("email is not a valid email address")
	}
	if err := checkLen(name, "name", 1, 255); err != nil {
		return "", err
	}
	return *email, nil
}

// readDeleteData reads the optional {"delete_data": bool} body.
func readDeleteData(r *http.Request) (bool, error) {
	var req deleteDataRequest
	if err := decodeBody(r, &req, false); err != nil {
		return false, err
	}
	return req.DeleteData != nil && *req.DeleteData, nil
}

// enable provisions Neon Auth on a branch database. Legacy (project-level)
// calls also refuse a second integration of the provider on the project.
func (s *Sandbox) enable(ctx context.Context, originURL, projectID, branchID, provider, dbName string, legacy bool) (integrationKeysJSON, error) {
	s.mu.Lock()
	p := s.projects[projectID]
	if p == nil {
		s.mu.Unlock()
		return integrationKeysJSON{}, notFound("project %s not found", projectID)
	}
	b := p.branchByID(branchID)
	if b == nil {
		s.mu.Unlock()
		return integrationKeysJSON{}, notFound("branch %s not found in project %s", branchID, projectID)
	}
	if legacy {
		for _, ob := range p.branches {
			if ob.auth != nil && ob.auth.provider == provider {
				s.mu.Unlock()
				return integrationKeysJSON{}, conflict("project %s already has a Neon Auth integration with %s", projectID, provider)
			}
		}
	}
	if b.auth != nil {
		s.mu.Unlock()
		return integrationKeysJSON{}, conflict("Neon Auth is already enabled on branch %s (%s)", branchID, b.auth.provider)
	}
	d := b.databases[0]
	if dbName != "" {
		if d = b.databaseByName(dbName); d == nil {
			s.mu.Unlock()
			return integrationKeysJSON{}, notFound("database %s not found on branch %s", dbName, branchID)
		}
	}
	in := &integration{
		provider: provider, providerProjectID: uuid.NewString(), project: p, branch: b, db: d,
		createdAt: time.Now().UTC().Truncate(time.Second), ownedBy: "neon",
		users: make(map[string]*authUser), emails: make(map[string]string),
	}
	in.jwksURL = jwksURL(originURL, in.providerProjectID)
	if provider == providerBetterAuth {
		in.baseURL = originURL + "/_sandbox/neon-auth/" + b.id + "/" + url.PathEscape(d.name) + "/auth"
	}
	b.auth = in // reserves the branch while the schema is made
	s.mu.Unlock()

	users, err := s.provisionFor(ctx, in)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if b.auth == in {
			b.auth = nil
		}
		if errors.Is(err, errOtherGeneration) {
			return integrationKeysJSON{}, conflict("database %s already holds Neon Auth tables of another provider", d.name)
		}
		return integrationKeysJSON{}, err
	}
	for _, u := range users {
		in.users[u.id] = &u
		if !u.deleted {
			in.emails[strings.ToLower(u.email)] = u.id
		}
	}
	in.ready = true
	return s.newKeys(in), nil
}

func (s *Sandbox) provisionFor(ctx context.Context, in *integration) ([]authUser, error) {
	pool, err := s.pg.pool(ctx, in.db.real)
	if err != nil {
		return nil, err
	}
	return provision(ctx, pool, in.provider)
}

// newKeys answers fresh SDK keys; the secret is handed out and forgotten.
func (s *Sandbox) newKeys(in *integration) integrationKeysJSON {
	return integrationKeysJSON{
		AuthProvider:          in.provider,
		AuthProviderProjectID: in.providerProjectID,
		PubClientKey:          randomToken("pck_", 20),
		SecretServerKey:       randomToken("ssk_", 32),
		JWKSURL:               in.jwksURL,
		SchemaName:            "neon_auth",
		TableName:             tableFor(in.provider),
		BaseURL:               in.baseURL,
	}
}

// disable removes an integration, and with deleteData its neon_auth schema.
// Writes still queued for it are dropped.
func (s *Sandbox) disable(ctx context.Context, in *integration, deleteData bool) error {
	s.mu.Lock()
	in.removed.Store(true)
	if in.branch.auth == in {
		in.branch.auth = nil
	}
	for code, t := range s.transfers {
		if t == in {
			delete(s.transfers, code)
		}
	}
	s.mu.Unlock()
	if !deleteData {
		return nil
	}
	pool, err := s.pg.pool(ctx, in.db.real)
	if err != nil {
		return err
	}
	return dropNeonAuth(ctx, pool)
}

// addUser records a new user and queues its row. Callers hold s.mu.
func (s *Sandbox) addUser(in *integration, email string, name *string, hasPassword bool) (string, error) {
	key := strings.ToLower(email)
	if _, dup := in.emails[key]; dup {
		return "", conflict("a user with this email already exists")
	}
	id := uuid.NewString()
	in.users[id] = &authUser{id: id, email: email}
	in.emails[key] = id
	now := time.Now()
	if in.provider == providerBetterAuth {
		s.enqueue(in, sqlBetterInsert, id, deref(name), email, now)
		return id, nil
	}
	raw, err := json.Marshal(stackUser{
		ID: id, DisplayName: name, PrimaryEmail: email,
		SignedUpAtMillis: now.UnixMilli(), LastActiveAtMillis: now.UnixMilli(),
		HasPassword: hasPassword, OAuthProviders: []any{},
	})
	if err != nil {
		return "", err
	}
	s.enqueue(in, sqlStackInsert, raw)
	return id, nil
}

// liveUser returns the integration's user unless unknown or deleted.
func liveUser(in *integration, id string) *authUser {
	u := in.users[id]
	if u == nil || u.deleted {
		return nil
	}
	return u
}

// removeUser forgets a user's email and queues the soft (users_sync) or hard
// delete of its row. Callers hold s.mu.
func (s *Sandbox) removeUser(in *integration, u *authUser, soft bool) {
	u.deleted = true
	delete(in.emails, strings.ToLower(u.email))
	switch {
	case in.provider == providerBetterAuth:
		delete(in.users, u.id)
		s.enqueue(in, sqlBetterDelete, u.id)
	case soft:
		s.enqueue(in, sqlStackSoftDelete, u.id)
	default:
		delete(in.users, u.id)
		s.enqueue(in, sqlStackDelete, u.id)
	}
}

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
