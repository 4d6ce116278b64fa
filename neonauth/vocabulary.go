package neonauth

import (
	"context"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// The service speaks of Neon's projects, branches and integrations, and of
// the users tables' rows, in the shapes the Neon client and the users
// database code define: one definition each, named here so that the
// service's callers need neither package. Callers reach Neon and the users
// databases only through the service.

// Neon's resources, as the Neon API describes them.
type (
	Project             = neonapi.Project
	ProjectsPage        = neonapi.ProjectsPage
	ListProjectsOptions = neonapi.ListProjectsOptions
	Branch              = neonapi.Branch
	Database            = neonapi.Database
	Role                = neonapi.Role
	Integration         = neonapi.Integration
	IntegrationKeys     = neonapi.IntegrationKeys
	CreatedUser         = neonapi.CreatedUser
	TransferResponse    = neonapi.TransferResponse
	OAuthProviderID     = neonapi.OAuthProviderID
	SendTestEmailResult = neonapi.SendTestEmailResult
	Secret              = neonapi.Secret
)

// Values of Neon's resources the pages test for.
const (
	OwnedByNeon      = neonapi.OwnedByNeon
	TransferFinished = neonapi.TransferFinished
)

// How a Neon call failed: Neon answered with an error (*APIError), no usable
// answer came (*RequestError, *IncompleteAnswerError), or the dashboard's own
// share of the rate budget refused a background read (*ShedError).
type (
	APIError              = neonapi.APIError
	RequestError          = neonapi.RequestError
	IncompleteAnswerError = neonapi.IncompleteAnswerError
	ShedError             = neonapi.ShedError
)

// Neon's answers by kind, for errors.Is.
var (
	ErrNotFound        = neonapi.ErrNotFound
	ErrConflict        = neonapi.ErrConflict
	ErrRateLimited     = neonapi.ErrRateLimited
	ErrUnauthorized    = neonapi.ErrUnauthorized
	ErrUnavailable     = neonapi.ErrUnavailable
	ErrInvalidResponse = neonapi.ErrInvalidResponse
)

// DefaultMaxQueueWait is how long a Neon call waits for the rate budget
// before it is refused as rate limited.
const DefaultMaxQueueWait = neonapi.DefaultMaxQueueWait

// NewSecret wraps a credential typed into a form so that it never prints,
// logs or encodes.
func NewSecret(v string) Secret { return neonapi.NewSecret(v) }

// ReadLive returns a context whose Neon reads skip the read cache: for pages
// a person acts on, which must show what Neon holds now.
func ReadLive(ctx context.Context) context.Context { return neonapi.ReadLive(ctx) }

// BackgroundReads returns a context whose Neon reads yield to interactive
// ones: they are refused with a *ShedError rather than queue when the rate
// budget is short (see neonapi.BackgroundReads).
func BackgroundReads(ctx context.Context, calls int) context.Context {
	return neonapi.BackgroundReads(ctx, calls)
}

// Freshness says whether a request's Neon reads were served from stale
// answers while they are refreshed (see neonapi.WithFreshness).
type Freshness = neonapi.Freshness

// Spend is the dashboard's spend of Neon's rate budget.
type Spend = neonapi.Spend

// TrackFreshness returns a context whose Neon reads report to the returned
// Freshness.
func TrackFreshness(ctx context.Context) (context.Context, *Freshness) {
	return neonapi.TrackFreshness(ctx)
}

// FreshnessFrom returns the Freshness ctx's reads report to, or nil.
func FreshnessFrom(ctx context.Context) *Freshness { return neonapi.FreshnessFrom(ctx) }

// RequestIDFrom returns the request id Neon calls made with ctx carry.
func RequestIDFrom(ctx context.Context) string { return neonapi.RequestIDFrom(ctx) }

// A users table's rows, pages, counts and index advice, as the users
// database code reads them.
type (
	User          = db.User
	UserDetail    = db.UserDetail
	Page          = db.Page
	SignupPoint   = db.SignupPoint
	IndexProgress = db.IndexProgress
	UserRow       = db.UserRow
	UserCount     = db.UserCount
	UserStatus    = db.Status
	PageRequest   = db.PageRequest
	Filter        = db.Filter
	ExportFormat  = db.ExportFormat
	IndexAdvice   = db.IndexAdvice
	IndexPurpose  = db.IndexPurpose
	Bucket        = db.Bucket
	InputError    = db.InputError
	BusyError     = db.BusyError
)

// The values of those the pages choose from.
const (
	ExportCSV        = db.ExportCSV
	ExportJSONLines  = db.ExportJSONLines
	IndexForBrowse   = db.IndexForBrowse
	IndexForEmail    = db.IndexForEmail
	BucketDay        = db.BucketDay
	BucketWeek       = db.BucketWeek
	DefaultResultTTL = db.DefaultCacheTTL
	// LaneExport names the connection lane exports queue for (BusyError.Lane).
	LaneExport = db.LaneExport
)

// How reading a users table failed, for errors.Is.
var (
	ErrUserNotFound  = db.ErrNotFound
	ErrUnreachable   = db.ErrUnreachable
	ErrSchemaMissing = db.ErrSchemaMissing
	ErrPermission    = db.ErrPermission
	ErrBadConnString = db.ErrBadConnString
	ErrQueryTimeout  = db.ErrQueryTimeout
	ErrIndexBuilding = db.ErrIndexBuilding
	ErrIndexInvalid  = db.ErrIndexInvalid
)

// UserStatuses lists the statuses a provider's users can be filtered by.
func UserStatuses(p authprovider.Provider) []UserStatus { return db.Statuses(p) }

// ParseSearch reads a users search box into a filter.
func ParseSearch(q string) Filter { return db.ParseSearch(q) }
