package neonapi

import (
	"fmt"
	"log/slog"
	"time"
)

// AuthProvider names a Neon Auth provider (the spec's NeonAuthSupportedAuthProvider).
type AuthProvider string

// The providers the spec knows. Stack is the project-level ("legacy") generation,
// BetterAuth the branch-level one.
const (
	AuthProviderMock       AuthProvider = "mock"
	AuthProviderStack      AuthProvider = "stack"
	AuthProviderBetterAuth AuthProvider = "better_auth"
)

// Valid reports whether p is one of the providers the spec allows.
func (p AuthProvider) Valid() bool {
	switch p {
	case AuthProviderMock, AuthProviderStack, AuthProviderBetterAuth:
		return true
	}
	return false
}

// OwnedBy says who owns the auth provider project (NeonAuthProviderProjectOwnedBy).
type OwnedBy string

// Owners of an auth provider project.
const (
	OwnedByNeon OwnedBy = "neon"
	OwnedByUser OwnedBy = "user"
)

// TransferStatus is the state of an ownership transfer
// (NeonAuthProviderProjectTransferStatus).
type TransferStatus string

// Transfer states.
const (
	TransferInitiated TransferStatus = "initiated"
	TransferFinished  TransferStatus = "finished"
)

// CreateIntegrationRequest is the body of createNeonAuthIntegration
// (NeonAuthCreateIntegrationRequest).
type CreateIntegrationRequest struct {
	AuthProvider AuthProvider `json:"auth_provider"`
	ProjectID    string       `json:"project_id"`
	BranchID     string       `json:"branch_id"`
	DatabaseName string       `json:"database_name,omitempty"`
	// RoleName is deprecated in the spec but still shown by Neon's guide.
	RoleName string `json:"role_name,omitempty"`
}

// IntegrationKeys is what enabling Neon Auth returns
// (NeonAuthCreateIntegrationResponse). SecretServerKey is shown to a person once
// and never stored.
type IntegrationKeys struct {
	AuthProvider          AuthProvider `json:"auth_provider"`
	AuthProviderProjectID string       `json:"auth_provider_project_id"`
	PubClientKey          string       `json:"pub_client_key"`
	SecretServerKey       string       `json:"secret_server_key"`
	JWKSURL               string       `json:"jwks_url"`
	SchemaName            string       `json:"schema_name"`
	TableName             string       `json:"table_name"`
	BaseURL               string       `json:"base_url,omitempty"`
}

// Format prints the keys with SecretServerKey replaced by a placeholder, for
// every verb, so that printing or logging the answer cannot reveal the secret.
func (k IntegrationKeys) Format(f fmt.State, verb rune) {
	if k.SecretServerKey != "" {
		k.SecretServerKey = redacted
	}
	type integrationKeys IntegrationKeys // without Format, so printing it does not recurse
	fmt.Fprintf(f, fmt.FormatString(f, verb), integrationKeys(k))
}

// LogValue gives log/slog the redacted form Format prints; its JSON handler
// would otherwise encode the secret.
func (k IntegrationKeys) LogValue() slog.Value { return slog.StringValue(fmt.Sprintf("%+v", k)) }

// Integration is one Neon Auth integration (NeonAuthIntegration).
type Integration struct {
	AuthProvider          AuthProvider   `json:"auth_provider"`
	AuthProviderProjectID string         `json:"auth_provider_project_id"`
	BranchID              string         `json:"branch_id"`
	DBName                string         `json:"db_name"`
	CreatedAt             time.Time      `json:"created_at"`
	OwnedBy               OwnedBy        `json:"owned_by"`
	TransferStatus        TransferStatus `json:"transfer_status,omitempty"`
	JWKSURL               string         `json:"jwks_url"`
	BaseURL               string         `json:"base_url,omitempty"`
	Name                  string         `json:"name,omitempty"`
}

// ListIntegrationsResponse is the body of listNeonAuthIntegrations.
type ListIntegrationsResponse struct {
	Data []Integration `json:"data"`
}

// CreateUserRequest is the body of createNeonAuthNewUser
// (NeonAuthCreateNewUserRequest).
type CreateUserRequest struct {
	ProjectID    string       `json:"project_id"`
	AuthProvider AuthProvider `json:"auth_provider"`
	Email        string       `json:"email"`
	Name         string       `json:"name,omitempty"`
}

// CreateBranchUserRequest is the body of createBranchNeonAuthNewUser.
type CreateBranchUserRequest struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// CreatedUser is the answer to a user creation (NeonAuthCreateNewUserResponse).
type CreatedUser struct {
	ID string `json:"id"`
}

// TransferRequest is the body of transferNeonAuthProviderProject and of
// createNeonAuthProviderSDKKeys.
type TransferRequest struct {
	ProjectID    string       `json:"project_id"`
	AuthProvider AuthProvider `json:"auth_provider"`
}

// TransferResponse carries the URL where the transfer is confirmed.
type TransferResponse struct {
	URL string `json:"url"`
}

// DeleteIntegrationRequest is the optional body of deleteNeonAuthIntegration.
type DeleteIntegrationRequest struct {
	DeleteData bool `json:"delete_data"`
}

// EnableBranchAuthRequest is the body of createNeonAuth
// (EnableNeonAuthIntegrationRequest).
type EnableBranchAuthRequest struct {
	AuthProvider AuthProvider `json:"auth_provider"`
	DatabaseName string       `json:"database_name,omitempty"`
}

// UpdateUserRoleRequest is the body of updateNeonAuthUserRole.
type UpdateUserRoleRequest struct {
	Roles []string `json:"roles"`
}

// UpdateUserRoleResponse is the answer of updateNeonAuthUserRole.
type UpdateUserRoleResponse struct {
	ID string `json:"id"`
}

// AuthDetails describes the key in use (AuthDetailsResponse).
type AuthDetails struct {
	AccountID  string `json:"account_id"`
	AuthMethod string `json:"auth_method"`
	AuthData   string `json:"auth_data,omitempty"`
}

// Project is the subset of a Neon project (ProjectListItem / Project) the
// dashboard uses.
type Project struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	RegionID  string    `json:"region_id"`
	PgVersion int       `json:"pg_version"`
	OrgID     string    `json:"org_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ListProjectsOptions are the query parameters of listProjects.
type ListProjectsOptions struct {
	Cursor string
	Limit  int
	Search string
	OrgID  string
}

// ProjectsPage is one page of listProjects.
type ProjectsPage struct {
	Projects []Project `json:"projects"`
	// Cursor is the value to pass as ListProjectsOptions.Cursor for the next
	// page; empty when the page is the last one.
	Cursor string `json:"-"`
}

// CreateProjectRequest is the subset of ProjectCreateRequest the client sends.
type CreateProjectRequest struct {
	Name     string `json:"name,omitempty"`
	RegionID string `json:"region_id,omitempty"`
}

// CreatedProject is what createProject returns, reduced to what callers need.
type CreatedProject struct {
	Project        Project    `json:"project"`
	Branch         Branch     `json:"branch"`
	Databases      []Database `json:"databases"`
	Roles          []Role     `json:"roles"`
	ConnectionURIs []struct {
		ConnectionURI string `json:"connection_uri"`
	} `json:"connection_uris"`
}

// Branch is the subset of a Neon branch the dashboard uses.
type Branch struct {
	ID           string    `json:"id"`
	ProjectID    string    `json:"project_id"`
	ParentID     string    `json:"parent_id,omitempty"`
	Name         string    `json:"name"`
	CurrentState string    `json:"current_state"`
	Default      bool      `json:"default"`
	Protected    bool      `json:"protected"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Database is a database on a branch.
type Database struct {
	ID        int64     `json:"id"`
	BranchID  string    `json:"branch_id"`
	Name      string    `json:"name"`
	OwnerName string    `json:"owner_name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Role is a Postgres role on a branch.
type Role struct {
	BranchID  string    `json:"branch_id"`
	Name      string    `json:"name"`
	Protected bool      `json:"protected"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ConnectionURIOptions are the query parameters of getConnectionURI.
type ConnectionURIOptions struct {
	BranchID     string
	DatabaseName string
	RoleName     string
	Pooled       bool
}
