package sandbox

import (
	"cmp"
	"net/url"
	"time"
)

// The response shapes below carry every field the spec marks required, with
// zero usage figures where Neon reports consumption.

// projectJSON is the spec's Project.
type projectJSON struct {
	ID                          string    `json:"id"`
	PlatformID                  string    `json:"platform_id"`
	RegionID                    string    `json:"region_id"`
	Name                        string    `json:"name"`
	Provisioner                 string    `json:"provisioner"`
	PgVersion                   int       `json:"pg_version"`
	ProxyHost                   string    `json:"proxy_host"`
	BranchLogicalSizeLimit      int64     `json:"branch_logical_size_limit"`
	BranchLogicalSizeLimitBytes int64     `json:"branch_logical_size_limit_bytes"`
	StorePasswords              bool      `json:"store_passwords"`
	CPUUsedSec                  int64     `json:"cpu_used_sec"`
	CreationSource              string    `json:"creation_source"`
	HistoryRetentionSeconds     int       `json:"history_retention_seconds"`
	CreatedAt                   time.Time `json:"created_at"`
	UpdatedAt                   time.Time `json:"updated_at"`
	OwnerID                     string    `json:"owner_id"`
	OrgID                       string    `json:"org_id,omitempty"`
	DataStorageBytesHour        int64     `json:"data_storage_bytes_hour"`
	DataTransferBytes           int64     `json:"data_transfer_bytes"`
	WrittenDataBytes            int64     `json:"written_data_bytes"`
	ComputeTimeSeconds          int64     `json:"compute_time_seconds"`
	ActiveTimeSeconds           int64     `json:"active_time_seconds"`
	ConsumptionPeriodStart      time.Time `json:"consumption_period_start"`
	ConsumptionPeriodEnd        time.Time `json:"consumption_period_end"`
}

// projectListItemJSON is the spec's ProjectListItem.
type projectListItemJSON struct {
	ID                          string    `json:"id"`
	PlatformID                  string    `json:"platform_id"`
	RegionID                    string    `json:"region_id"`
	Name                        string    `json:"name"`
	Provisioner                 string    `json:"provisioner"`
	PgVersion                   int       `json:"pg_version"`
	ProxyHost                   string    `json:"proxy_host"`
	BranchLogicalSizeLimit      int64     `json:"branch_logical_size_limit"`
	BranchLogicalSizeLimitBytes int64     `json:"branch_logical_size_limit_bytes"`
	StorePasswords              bool      `json:"store_passwords"`
	ActiveTime                  int64     `json:"active_time"`
	CPUUsedSec                  int64     `json:"cpu_used_sec"`
	CreationSource              string    `json:"creation_source"`
	HistoryRetentionSeconds     int       `json:"history_retention_seconds"`
	CreatedAt                   time.Time `json:"created_at"`
	UpdatedAt                   time.Time `json:"updated_at"`
	OwnerID                     string    `json:"owner_id"`
	OrgID                       string    `json:"org_id,omitempty"`
	EffectiveProjectPermission  string    `json:"effective_project_permission,omitempty"`
}

// branchJSON is the spec's Branch.
type branchJSON struct {
	ID                 string    `json:"id"`
	ProjectID          string    `json:"project_id"`
	ParentID           string    `json:"parent_id,omitempty"`
	Name               string    `json:"name"`
	CurrentState       string    `json:"current_state"`
	StateChangedAt     time.Time `json:"state_changed_at"`
	LogicalSize        int64     `json:"logical_size"`
	CreationSource     string    `json:"creation_source"`
	Primary            bool      `json:"primary"`
	Default            bool      `json:"default"`
	Protected          bool      `json:"protected"`
	CPUUsedSec         int64     `json:"cpu_used_sec"`
	ComputeTimeSeconds int64     `json:"compute_time_seconds"`
	ActiveTimeSeconds  int64     `json:"active_time_seconds"`
	WrittenDataBytes   int64     `json:"written_data_bytes"`
	DataTransferBytes  int64     `json:"data_transfer_bytes"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	InitSource         string    `json:"init_source"`
}

// databaseJSON is the spec's Database.
type databaseJSON struct {
	ID        int64     `json:"id"`
	BranchID  string    `json:"branch_id"`
	Name      string    `json:"name"`
	OwnerName string    `json:"owner_name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// roleJSON is the spec's Role. The password is answered only where Neon
// answers it: when the role is created.
type roleJSON struct {
	BranchID  string    `json:"branch_id"`
	Name      string    `json:"name"`
	Password  string    `json:"password,omitempty"`
	Protected bool      `json:"protected"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// endpointJSON is the spec's Endpoint: the compute that serves the branch.
type endpointJSON struct {
	Host                  string    `json:"host"`
	ID                    string    `json:"id"`
	ProjectID             string    `json:"project_id"`
	BranchID              string    `json:"branch_id"`
	AutoscalingLimitMinCU float64   `json:"autoscaling_limit_min_cu"`
	AutoscalingLimitMaxCU float64   `json:"autoscaling_limit_max_cu"`
	RegionID              string    `json:"region_id"`
	Type                  string    `json:"type"`
	CurrentState          string    `json:"current_state"`
	Settings              struct{}  `json:"settings"`
	PoolerEnabled         bool      `json:"pooler_enabled"`
	PoolerMode            string    `json:"pooler_mode"`
	Disabled              bool      `json:"disabled"`
	PasswordlessAccess    bool      `json:"passwordless_access"`
	CreationSource        string    `json:"creation_source"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
	ProxyHost             string    `json:"proxy_host"`
	SuspendTimeoutSeconds int64     `json:"suspend_timeout_seconds"`
	Provisioner           string    `json:"provisioner"`
	Name                  string    `json:"name,omitempty"`
}

// operationJSON is the spec's Operation.
type operationJSON struct {
	ID              string    `json:"id"`
	ProjectID       string    `json:"project_id"`
	BranchID        string    `json:"branch_id,omitempty"`
	EndpointID      string    `json:"endpoint_id,omitempty"`
	Action          string    `json:"action"`
	Status          string    `json:"status"`
	FailuresCount   int       `json:"failures_count"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	TotalDurationMS int       `json:"total_duration_ms"`
}

// connectionDetailsJSON is the spec's ConnectionDetails.
type connectionDetailsJSON struct {
	ConnectionURI        string `json:"connection_uri"`
	ConnectionParameters struct {
		Database   string `json:"database"`
		Password   string `json:"password"`
		Role       string `json:"role"`
		Host       string `json:"host"`
		PoolerHost string `json:"pooler_host"`
	} `json:"connection_parameters"`
}

// createdProjectJSON is createProject's 201 body.
type createdProjectJSON struct {
	Project        projectJSON             `json:"project"`
	ConnectionURIs []connectionDetailsJSON `json:"connection_uris"`
	Roles          []roleJSON              `json:"roles"`
	Databases      []databaseJSON          `json:"databases"`
	Operations     []operationJSON         `json:"operations"`
	Branch         branchJSON              `json:"branch"`
	Endpoints      []endpointJSON          `json:"endpoints"`
}

// integrationKeysJSON is the spec's NeonAuthCreateIntegrationResponse.
type integrationKeysJSON struct {
	AuthProvider          string `json:"auth_provider"`
	AuthProviderProjectID string `json:"auth_provider_project_id"`
	PubClientKey          string `json:"pub_client_key"`
	SecretServerKey       string `json:"secret_server_key"`
	JWKSURL               string `json:"jwks_url"`
	SchemaName            string `json:"schema_name"`
	TableName             string `json:"table_name"`
	BaseURL               string `json:"base_url,omitempty"`
}

// integrationJSON is the spec's NeonAuthIntegration.
type integrationJSON struct {
	AuthProvider          string    `json:"auth_provider"`
	AuthProviderProjectID string    `json:"auth_provider_project_id"`
	BranchID              string    `json:"branch_id"`
	DBName                string    `json:"db_name"`
	CreatedAt             time.Time `json:"created_at"`
	OwnedBy               string    `json:"owned_by"`
	TransferStatus        string    `json:"transfer_status,omitempty"`
	JWKSURL               string    `json:"jwks_url"`
	BaseURL               string    `json:"base_url,omitempty"`
	Name                  string    `json:"name,omitempty"`
}

// idJSON answers user creation and role updates.
type idJSON struct {
	ID string `json:"id"`
}

// regions are the region ids createProject accepts, with their platform.
var regions = map[string]string{
	"aws-us-east-1": "aws", "aws-us-east-2": "aws", "aws-us-west-2": "aws",
	"aws-eu-central-1": "aws", "aws-eu-west-2": "aws", "aws-ap-southeast-1": "aws",
	"aws-ap-southeast-2": "aws", "aws-sa-east-1": "aws",
	"azure-eastus2": "azure", "azure-westus3": "azure", "azure-gwc": "azure",
}

const (
	defaultRegion  = "aws-us-east-2"
	provisioner    = "k8s-neonvm"
	creationSource = "sandbox"
)

func monthBounds(now time.Time) (time.Time, time.Time) {
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

func (s *Sandbox) host() string { return s.pg.adminURL.Hostname() }

func (s *Sandbox) projectJSON(p *project) projectJSON {
	start, end := monthBounds(time.Now().UTC())
	return projectJSON{
		ID: p.id, PlatformID: p.platformID, RegionID: p.regionID, Name: p.name,
		Provisioner: provisioner, PgVersion: p.pgVersion, ProxyHost: s.host(),
		StorePasswords: true, CreationSource: creationSource,
		HistoryRetentionSeconds: p.historyRetention,
		CreatedAt:               p.createdAt, UpdatedAt: p.createdAt,
		OwnerID: p.ownerID, OrgID: p.orgID,
		ConsumptionPeriodStart: start, ConsumptionPeriodEnd: end,
	}
}

func (s *Sandbox) projectListItemJSON(p *project) projectListItemJSON {
	perm := ""
	if p.ownerID != s.accountID {
		perm = "CAN_EDIT"
	}
	return projectListItemJSON{
		EffectiveProjectPermission: perm,
		ID:                         p.id, PlatformID: p.platformID, RegionID: p.regionID, Name: p.name,
		Provisioner: provisioner, PgVersion: p.pgVersion, ProxyHost: s.host(),
		StorePasswords: true, CreationSource: creationSource,
		HistoryRetentionSeconds: p.historyRetention,
		CreatedAt:               p.createdAt, UpdatedAt: p.createdAt,
		OwnerID: p.ownerID, OrgID: p.orgID,
	}
}

func branchToJSON(b *branch) branchJSON {
	state := "ready"
	if b.creating {
		state = "init"
	}
	return branchJSON{
		ID: b.id, ProjectID: b.project.id, ParentID: b.parentID, Name: b.name, CurrentState: state,
		StateChangedAt: b.createdAt, CreationSource: creationSource,
		Primary: b.isDefault, Default: b.isDefault, Protected: b.protected, InitSource: cmp.Or(b.initSource, "parent-data"),
		CreatedAt: b.createdAt, UpdatedAt: b.createdAt,
	}
}

func databaseToJSON(b *branch, d *database) databaseJSON {
	return databaseJSON{ID: d.id, BranchID: b.id, Name: d.name, OwnerName: d.owner, CreatedAt: d.createdAt, UpdatedAt: d.createdAt}
}

func roleToJSON(b *branch, r *role) roleJSON {
	return roleJSON{BranchID: b.id, Name: r.name, CreatedAt: r.createdAt, UpdatedAt: r.createdAt}
}

func (s *Sandbox) endpointJSON(b *branch, e *endpoint) endpointJSON {
	return endpointJSON{
		Host: s.host(), ID: e.id, ProjectID: b.project.id, BranchID: b.id,
		AutoscalingLimitMinCU: e.minCU, AutoscalingLimitMaxCU: e.maxCU, RegionID: b.project.regionID,
		Type: e.typ, CurrentState: cmp.Or(e.state, "active"), PoolerMode: "transaction",
		CreationSource: creationSource, CreatedAt: e.createdAt, UpdatedAt: cmp.Or(e.updatedAt, e.createdAt),
		ProxyHost: s.host(), Provisioner: provisioner, Disabled: e.disabled, SuspendTimeoutSeconds: e.suspendTimeout,
		Name: e.name,
	}
}

func (s *Sandbox) endpointsJSON(b *branch) []endpointJSON {
	list := []endpointJSON{}
	for _, e := range b.endpoints {
		list = append(list, s.endpointJSON(b, e))
	}
	return list
}

// connectionDetails answers how to reach d as its owner: the real role's
// name and password (see realRole), which callers made sure exists.
func (s *Sandbox) connectionDetails(b *branch, d *database) connectionDetailsJSON {
	var c connectionDetailsJSON
	c.ConnectionParameters.Database = d.real.name
	if rl := b.roleByName(d.owner); rl != nil {
		c.ConnectionURI = s.pg.roleURL(d.real, rl.real)
		c.ConnectionParameters.Role = rl.real.name
		c.ConnectionParameters.Password = rl.real.secret()
	}
	c.ConnectionParameters.Host = s.host()
	c.ConnectionParameters.PoolerHost = s.host()
	return c
}

func integrationToJSON(in *integration) integrationJSON {
	return integrationJSON{
		AuthProvider: in.provider, AuthProviderProjectID: in.providerProjectID,
		BranchID: in.branch.id, DBName: in.db.name, CreatedAt: in.createdAt,
		OwnedBy: in.ownedBy, TransferStatus: in.transferStatus,
		JWKSURL: in.jwksURL, BaseURL: in.baseURL, Name: in.settings.name,
	}
}

// jwksURL is where the sandbox serves the (empty) key set of an auth project.
func jwksURL(originURL, providerProjectID string) string {
	return originURL + "/_sandbox/jwks/" + url.PathEscape(providerProjectID) + "/.well-known/jwks.json"
}
