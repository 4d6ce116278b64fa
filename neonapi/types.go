package neonapi

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// providerMock is the one auth_provider the spec knows besides the two the
// dashboard manages (authprovider.Provider); Neon uses it for tests.
const providerMock authprovider.Provider = "mock"

// validProvider reports whether p is one of the providers the spec allows.
func validProvider(p authprovider.Provider) bool {
	return p == providerMock || p.Valid()
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

// IntegrationKeys is what enabling Neon Auth returns
// (NeonAuthCreateIntegrationResponse). SecretServerKey is shown to a person once
// and never stored. Which members an answer must carry depends on the call:
// Stack Auth's keys, or Better Auth's BaseURL (see keysFor).
type IntegrationKeys struct {
	AuthProvider          authprovider.Provider `json:"auth_provider"`
	AuthProviderProjectID string                `json:"auth_provider_project_id" neon:"required"`
	PubClientKey          string                `json:"pub_client_key"`
	SecretServerKey       string                `json:"secret_server_key"`
	JWKSURL               string                `json:"jwks_url" neon:"required,url"`
	SchemaName            string                `json:"schema_name"`
	TableName             string                `json:"table_name"`
	BaseURL               string                `json:"base_url,omitempty"`
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
	AuthProvider          authprovider.Provider `json:"auth_provider" neon:"required"`
	AuthProviderProjectID string                `json:"auth_provider_project_id"`
	BranchID              string                `json:"branch_id" neon:"required,id"`
	DBName                string                `json:"db_name" neon:"required"`
	CreatedAt             time.Time             `json:"created_at"`
	OwnedBy               OwnedBy               `json:"owned_by"`
	TransferStatus        TransferStatus        `json:"transfer_status,omitempty"`
	JWKSURL               string                `json:"jwks_url"`
	BaseURL               string                `json:"base_url,omitempty"`
	Name                  string                `json:"name,omitempty"`
}

// CreatedUser is the answer to a user creation (NeonAuthCreateNewUserResponse).
type CreatedUser struct {
	ID string `json:"id" neon:"required,id"`
}

// DeleteIntegrationRequest is the optional body of deleteNeonAuthIntegration.
type DeleteIntegrationRequest struct {
	DeleteData bool `json:"delete_data"`
}
