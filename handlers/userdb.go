package handlers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// UserDatabases opens the users table of an integration's database.
type UserDatabases interface {
	// Open returns the users table of the integration t names. When t.BranchID
	// is empty and a recent Open resolved the same project and provider, the
	// cached resolution is reused without calling the Neon API, which keeps the
	// sync polls down to one query each.
	Open(ctx context.Context, t UserTarget) (UserDirectory, error)
}

// UserTarget names an integration whose users the dashboard reads.
type UserTarget struct {
	ProjectID string
	Provider  neonapi.AuthProvider
	// BranchID and DBName come from the integration (ListIntegrations); empty
	// means "look them up, or reuse the last lookup".
	BranchID string
	DBName   string
}

// UserDirectory is the users table of one database, as the users page reads it.
// *db.UserDirectory provides all but Source.
type UserDirectory interface {
	// Target is host:port/database, never credentials.
	Target() string
	// Source says where the connection string came from, for the page header.
	Source() string
	Generation() db.Generation
	Latest(ctx context.Context, limit int) ([]db.User, error)
	Find(ctx context.Context, idOrEmail string) (db.User, error)
	Get(ctx context.Context, id string) (db.User, error)
	Count(ctx context.Context) (total, deleted int, err error)
}

// ErrNoIntegration reports that the project has no Neon Auth integration for
// the provider asked for.
var ErrNoIntegration = errors.New("no Neon Auth integration for this provider")

// UserDBError is a failure to reach an integration's users table, with what a
// person needs to act on it: which database, reached how. It never carries the
// connection string.
type UserDBError struct {
	// Target is host:port/database, or the database name when the connection
	// string was never resolved.
	Target string
	// DBName is the integration's database.
	DBName string
	// Source is SourceNeon, SourceDefault or SourceProject.
	Source string
	Err    error
}

// Error names the database and how it was reached, never the connection string.
func (e *UserDBError) Error() string {
	return fmt.Sprintf("users table on %s (%s): %v", e.Target, e.Source, e.Err)
}

// Unwrap gives errors.Is access to the db and neonapi sentinels.
func (e *UserDBError) Unwrap() error { return e.Err }

// Where the connection string of an integration's database comes from.
const (
	SourceNeon    = "Neon connection URI"
	SourceDefault = "DATABASE_URL override"
	SourceProject = "per-project override"
)

// UserDBConfig says how the dashboard reaches integrations' databases
// (db.UserDBConfig, which the configuration builds).
type UserDBConfig = db.UserDBConfig

// defaultOwnerRole is the role Neon creates with a project and the one Neon's
// guide uses for the integration when a database's owner is unknown.
const defaultOwnerRole = "neondb_owner"

// DatabaseLocator is the part of the Neon API needed to find and connect to an
// integration's database.
type DatabaseLocator interface {
	ListIntegrations(ctx context.Context, projectID string) ([]neonapi.Integration, error)
	ListDatabases(ctx context.Context, projectID, branchID string) ([]neonapi.Database, error)
	GetConnectionURI(ctx context.Context, projectID string, opts neonapi.ConnectionURIOptions) (string, error)
}

// NeonUserDatabases reaches integrations' databases with connection URIs from
// the Neon API, or with the operator's overrides, through shared bounded pools.
type NeonUserDatabases struct {
	neon  DatabaseLocator
	pools *db.Pools
	cfg   UserDBConfig
	now   func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	cache map[string]*resolvedDB
}

// resolvedDB is one integration's database as last resolved.
type resolvedDB struct {
	branchID, dbName string
	connString       string
	source           string
	target           string
	gen              db.Generation // GenerationUnknown until detected
	expires          time.Time
}

// NewUserDatabases returns UserDatabases that resolve through neon and share pools.
func NewUserDatabases(neon DatabaseLocator, pools *db.Pools, cfg UserDBConfig) *NeonUserDatabases {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 2 * time.Minute
	}
	return &NeonUserDatabases{neon: neon, pools: pools, cfg: cfg, now: time.Now, cache: map[string]*resolvedDB{}}
}

// resolveTimeout bounds the Neon calls behind one resolution, which runs
// detached from the request so concurrent callers sharing it are not cut off
// by the first one's cancellation.
const resolveTimeout = 20 * time.Second

// Open implements UserDatabases.
func (u *NeonUserDatabases) Open(ctx context.Context, t UserTarget) (UserDirectory, error) {
	key := t.ProjectID + "\x00" + string(t.Provider)
	r := u.lookup(key, t)
	if r == nil {
		v, err, _ := u.group.Do(key, func() (any, error) {
			// A flight that ended between the lookup above and this one has
			// already cached the answer.
			if r := u.lookup(key, t); r != nil {
				return r, nil
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveTimeout)
			defer cancel()
			return u.resolve(rctx, key, t)
		})
		if err != nil {
			return nil, err
		}
		r = v.(*resolvedDB)
	}
	fail := func(err error) error {
		return &UserDBError{Target: r.target, DBName: r.dbName, Source: r.source, Err: err}
	}
	pool, err := u.pools.Get(ctx, r.connString)
	if err != nil {
		return nil, fail(err)
	}
	if r.gen != db.GenerationUnknown {
		return &userDirectory{UserDirectory: db.NewUserDirectory(pool, r.gen), source: r.source, forget: func() { u.forgetGeneration(key, r) }}, nil
	}
	dir, err := db.OpenUserDirectory(ctx, pool)
	if err != nil {
		return nil, fail(err)
	}
	u.rememberGeneration(key, r, dir.Generation())
	return &userDirectory{UserDirectory: dir, source: r.source, forget: func() { u.forgetGeneration(key, r) }}, nil
}

// lookup returns the cached resolution for key if it still fits t.
func (u *NeonUserDatabases) lookup(key string, t UserTarget) *resolvedDB {
	u.mu.Lock()
	defer u.mu.Unlock()
	r, ok := u.cache[key]
	if !ok || u.now().After(r.expires) {
		delete(u.cache, key)
		return nil
	}
	if t.BranchID != "" && (r.branchID != t.BranchID || r.dbName != t.DBName) && r.source == SourceNeon {
		// The integration moved (disabled and enabled elsewhere): resolve again.
		delete(u.cache, key)
		return nil
	}
	cp := *r
	return &cp
}

// rememberGeneration records the detected table layout for the next Open.
func (u *NeonUserDatabases) rememberGeneration(key string, r *resolvedDB, gen db.Generation) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if cur, ok := u.cache[key]; ok && cur.connString == r.connString {
		cur.gen = gen
	}
}

// forgetGeneration makes the next Open detect the table again; called when a
// query finds the table gone (integration deleted together with its data).
func (u *NeonUserDatabases) forgetGeneration(key string, r *resolvedDB) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if cur, ok := u.cache[key]; ok && cur.connString == r.connString {
		cur.gen = db.GenerationUnknown
	}
}

// resolve finds the connection string for t and caches it.
func (u *NeonUserDatabases) resolve(ctx context.Context, key string, t UserTarget) (*resolvedDB, error) {
	r := &resolvedDB{branchID: t.BranchID, dbName: t.DBName}
	switch {
	case u.cfg.PerProject[t.ProjectID] != "":
		r.connString, r.source = u.cfg.PerProject[t.ProjectID], SourceProject
	case u.cfg.Default != "":
		r.connString, r.source = u.cfg.Default, SourceDefault
	default:
		r.source = SourceNeon
		if err := u.locate(ctx, t, r); err != nil {
			return nil, err
		}
	}
	r.target = db.Describe(r.connString)
	now := u.now()
	r.expires = now.Add(u.cfg.CacheTTL)
	u.mu.Lock()
	// Expired entries of projects nobody looks at any more still hold a
	// password: drop them rather than wait for a lookup that may never come.
	for k, old := range u.cache {
		if now.After(old.expires) {
			delete(u.cache, k)
		}
	}
	u.cache[key] = r
	u.mu.Unlock()
	cp := *r
	return &cp, nil
}

// locate asks Neon for the integration's branch and database when they are not
// known, then for a connection URI as the database's owner.
func (u *NeonUserDatabases) locate(ctx context.Context, t UserTarget, r *resolvedDB) error {
	if r.branchID == "" {
		ins, err := u.neon.ListIntegrations(ctx, t.ProjectID)
		if err != nil {
			return fmt.Errorf("find the %s integration: %w", t.Provider, err)
		}
		found := false
		for _, in := range ins {
			if in.AuthProvider == t.Provider {
				r.branchID, r.dbName, found = in.BranchID, in.DBName, true
				break
			}
		}
		if !found {
			return fmt.Errorf("project %s: %w", t.ProjectID, ErrNoIntegration)
		}
	}
	role := defaultOwnerRole
	dbs, err := u.neon.ListDatabases(ctx, t.ProjectID, r.branchID)
	if err != nil {
		return fmt.Errorf("list databases of branch %s: %w", r.branchID, err)
	}
	for _, d := range dbs {
		if d.Name == r.dbName && d.OwnerName != "" {
			role = d.OwnerName
		}
	}
	uri, err := u.neon.GetConnectionURI(ctx, t.ProjectID, neonapi.ConnectionURIOptions{
		BranchID:     r.branchID,
		DatabaseName: r.dbName,
		RoleName:     role,
	})
	if err != nil {
		return fmt.Errorf("get the connection URI of %s: %w", r.dbName, err)
	}
	r.connString = uri
	return nil
}

// userDirectory adds where the connection came from to a db.UserDirectory and
// drops the cached table layout when the table disappears.
type userDirectory struct {
	*db.UserDirectory
	source string
	forget func()
}

// Source implements UserDirectory.
func (d *userDirectory) Source() string { return d.source }

// check passes err on, forgetting the table layout when the table is gone.
func (d *userDirectory) check(err error) error {
	if errors.Is(err, db.ErrSchemaMissing) {
		d.forget()
	}
	return err
}

// Latest implements UserDirectory.
func (d *userDirectory) Latest(ctx context.Context, limit int) ([]db.User, error) {
	us, err := d.UserDirectory.Latest(ctx, limit)
	return us, d.check(err)
}

// Find implements UserDirectory.
func (d *userDirectory) Find(ctx context.Context, idOrEmail string) (db.User, error) {
	us, err := d.UserDirectory.Find(ctx, idOrEmail)
	return us, d.check(err)
}

// Get implements UserDirectory.
func (d *userDirectory) Get(ctx context.Context, id string) (db.User, error) {
	us, err := d.UserDirectory.Get(ctx, id)
	return us, d.check(err)
}

// Count implements UserDirectory.
func (d *userDirectory) Count(ctx context.Context) (total, deleted int, err error) {
	total, deleted, err = d.UserDirectory.Count(ctx)
	return total, deleted, d.check(err)
}
