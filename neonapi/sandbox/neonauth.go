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
	if b.creating {
		s.mu.Unlock()
		return integrationKeysJSON{}, locked("branch %s is still being created", branchID)
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
	in := newIntegration(originURL, b, d, provider)
	in.settings = defaultSettings(p.name)
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

// newIntegration makes the record of Neon Auth with provider on database d of
// branch b, with fresh ids and URLs, no users and no settings yet.
func newIntegration(originURL string, b *branch, d *database, provider string) *integration {
	in := &integration{
		provider: provider, providerProjectID: uuid.NewString(), project: b.project, branch: b, db: d,
		createdAt: time.Now().UTC().Truncate(time.Second), ownedBy: "neon",
		users: make(map[string]*authUser), emails: make(map[string]string),
	}
	in.jwksURL = jwksURL(originURL, in.providerProjectID)
	if provider == providerBetterAuth {
		in.baseURL = originURL + "/_sandbox/neon-auth/" + b.id + "/" + url.PathEscape(d.name) + "/auth"
		// The base URL is a Better Auth server (betterauth.go), which serves
		// its key set where Neon's does.
		in.jwksURL = in.baseURL + "/.well-known/jwks.json"
		in.authSecret = randomToken("", 32)
	}
	return in
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
