package neonauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// Ref names one integration of a project. For a branch-level provider
// BranchID says whose users these are: every branch has its own. For a
// project-level one, BranchID and DBName come from the integration
// (listNeonAuthIntegrations) when the caller already read it. An empty DBName
// (and, project-level, BranchID) means "look it up, or reuse the last lookup".
type Ref struct {
	ProjectID string
	Provider  authprovider.Provider
	BranchID  string
	DBName    string
}

// Where the connection string of an integration's database comes from.
const (
	SourceNeon    = "Neon connection URI"
	SourceDefault = "DATABASE_URL override"
	SourceProject = "per-project override"
)

// DefaultConnTTL is how long a resolved connection string is reused when
// UserDBConfig.CacheTTL is zero.
const DefaultConnTTL = 2 * time.Minute

// placeTTL is how long where an integration's database lives (its branch,
// name and owner role) is remembered. None of it is secret and it changes only
// when Neon Auth is disabled and enabled elsewhere, which a page that reads
// the integration notices, so it outlives the connection string by far.
const placeTTL = 30 * time.Minute

// UserDBConfig says how the dashboard reaches integrations' databases; the
// configuration builds it (see db.UserDBConfig).
type UserDBConfig = db.UserDBConfig

// defaultOwnerRole is the role Neon creates with a project and the one Neon's
// guide uses for the integration when a database's owner is unknown.
const defaultOwnerRole = "neondb_owner"

// Locator is the part of the Neon API needed to find and connect to an
// integration's database.
type Locator interface {
	ListIntegrations(ctx context.Context, projectID string) ([]neonapi.Integration, error)
	GetBranchAuth(ctx context.Context, projectID, branchID string) (*neonapi.Integration, error)
	ListDatabases(ctx context.Context, projectID, branchID string) ([]neonapi.Database, error)
	GetConnectionURI(ctx context.Context, projectID string, opts neonapi.ConnectionURIOptions) (string, error)
}

// UserDatabases reaches integrations' databases with connection URIs from the
// Neon API, or with the operator's overrides, through shared bounded pools.
type UserDatabases struct {
	neon  Locator
	pools *db.Pools
	cfg   UserDBConfig
	now   func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	cache map[string]*resolvedDB
	// places remembers where each integration's database is, past the
	// connection string's short life, so resolving it again costs one call.
	places map[string]place
}

// resolvedDB is one integration's database as last resolved.
type resolvedDB struct {
	branchID, dbName string
	connString       string
	source           string
	target           string
	gen              authprovider.Provider // GenerationUnknown until detected
	expires          time.Time
}

// place is where an integration's database lives, without credentials.
type place struct {
	branchID, dbName, owner string
	expires                 time.Time
}

// NewUserDatabases returns UserDatabases that resolve through neon and share pools.
func NewUserDatabases(neon Locator, pools *db.Pools, cfg UserDBConfig) *UserDatabases {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultConnTTL
	}
	return &UserDatabases{neon: neon, pools: pools, cfg: cfg, now: time.Now, cache: map[string]*resolvedDB{}, places: map[string]place{}}
}

// cacheKey is what the caches file an integration's database under: a
// project-level integration by project and provider, wherever its branch and
// database are; a branch-level one by its branch too, since every branch has
// its own users.
func cacheKey(r Ref) string {
	k := r.ProjectID + "\x00" + string(r.Provider)
	if r.Provider.BranchLevel() {
		k += "\x00" + r.BranchID
	}
	return k
}

// resolveTimeout bounds the Neon calls behind one resolution, which runs
// detached from the request so concurrent callers sharing it are not cut off
// by the first one's cancellation.
const resolveTimeout = 20 * time.Second

// Open returns the users table of the integration t names. When t.BranchID is
// empty and a recent Open resolved the same project and provider, the cached
// resolution is reused without calling the Neon API, which keeps the sync
// polls down to one query each.
func (u *UserDatabases) Open(ctx context.Context, t Ref) (UserDirectory, error) {
	key, r, pool, fail, err := u.connect(ctx, t)
	if err != nil {
		return nil, err
	}
	forget := func() { u.forgetProvider(key, r) }
	if r.gen != authprovider.Unknown {
		return &userDirectory{UserDirectory: db.NewUserDirectory(pool, r.gen), browser: db.NewUserBrowser(pool, r.gen, u.cfg.Results), source: r.source, forget: forget}, nil
	}
	dir, err := db.OpenUserDirectory(ctx, pool)
	if err != nil {
		return nil, fail(err)
	}
	u.rememberProvider(key, r, dir.Provider())
	return &userDirectory{UserDirectory: dir, browser: db.NewUserBrowser(pool, dir.Provider(), u.cfg.Results), source: r.source, forget: forget}, nil
}

// OpenBrowser is Open for the paged browser of the users table: the same
// connection, generation memory and errors, sharing the configured results
// cache.
func (u *UserDatabases) OpenBrowser(ctx context.Context, t Ref) (*db.UserBrowser, error) {
	b, _, err := u.openBrowser(ctx, t)
	return b, err
}

// openBrowser is OpenBrowser, also saying where the connection string came
// from (SourceNeon or an override).
func (u *UserDatabases) openBrowser(ctx context.Context, t Ref) (*db.UserBrowser, string, error) {
	key, r, pool, fail, err := u.connect(ctx, t)
	if err != nil {
		return nil, "", err
	}
	if r.gen != authprovider.Unknown {
		return db.NewUserBrowser(pool, r.gen, u.cfg.Results), r.source, nil
	}
	b, err := db.OpenUserBrowser(ctx, pool, u.cfg.Results)
	if err != nil {
		return nil, "", fail(err)
	}
	u.rememberProvider(key, r, b.Provider())
	return b, r.source, nil
}

// connect resolves t's database (once per TTL, one resolution at a time per
// integration) and returns its pool, with fail wrapping later errors in the
// UserDBError that names where the table lives.
func (u *UserDatabases) connect(ctx context.Context, t Ref) (string, *resolvedDB, *pgxpool.Pool, func(error) error, error) {
	key := cacheKey(t)
	r := u.lookup(key, t)
	if r == nil {
		v, err, _ := u.group.Do(key, func() (any, error) {
			if r := u.lookup(key, t); r != nil {
				return r, nil
			}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveTimeout)
			defer cancel()
			return u.resolve(rctx, key, t)
		})
		if err != nil {
			return key, nil, nil, nil, err
		}
		r = v.(*resolvedDB)
	}
	fail := func(err error) error {
		return &UserDBError{Target: r.target, DBName: r.dbName, Source: r.source, Err: err}
	}
	pool, err := u.pools.Get(ctx, r.connString)
	if err != nil {
		return key, r, nil, fail, fail(err)
	}
	return key, r, pool, fail, nil
}

// lookup returns the cached resolution for key if it still fits t.
func (u *UserDatabases) lookup(key string, t Ref) *resolvedDB {
	u.mu.Lock()
	defer u.mu.Unlock()
	r, ok := u.cache[key]
	if !ok || u.now().After(r.expires) {
		delete(u.cache, key)
		return nil
	}
	if t.BranchID != "" && (r.branchID != t.BranchID || t.DBName != "" && r.dbName != t.DBName) && r.source == SourceNeon {
		// The integration moved (disabled and enabled elsewhere): resolve again.
		delete(u.cache, key)
		return nil
	}
	cp := *r
	return &cp
}

// rememberGeneration records the detected table layout for the next Open.
func (u *UserDatabases) rememberProvider(key string, r *resolvedDB, gen authprovider.Provider) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if cur, ok := u.cache[key]; ok && cur.connString == r.connString {
		cur.gen = gen
	}
}

// forgetGeneration makes the next Open detect the table again; called when a
// query finds the table gone (integration deleted together with its data).
func (u *UserDatabases) forgetProvider(key string, r *resolvedDB) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if cur, ok := u.cache[key]; ok && cur.connString == r.connString {
		cur.gen = authprovider.Unknown
	}
}

// resolve finds the connection string for t and caches it.
func (u *UserDatabases) resolve(ctx context.Context, key string, t Ref) (*resolvedDB, error) {
	r := &resolvedDB{branchID: t.BranchID, dbName: t.DBName}
	switch {
	case u.cfg.PerProject[t.ProjectID] != "":
		r.connString, r.source = u.cfg.PerProject[t.ProjectID], SourceProject
	case u.cfg.Default != "":
		r.connString, r.source = u.cfg.Default, SourceDefault
	default:
		r.source = SourceNeon
		if err := u.locate(ctx, key, t, r); err != nil {
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
	for k, old := range u.places {
		if now.After(old.expires) {
			delete(u.places, k)
		}
	}
	u.cache[key] = r
	u.mu.Unlock()
	cp := *r
	return &cp, nil
}

// knownPlace returns where key's database was last found, if recently.
func (u *UserDatabases) knownPlace(key string) (place, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.places[key]
	if !ok || u.now().After(p.expires) {
		return place{}, false
	}
	return p, true
}

// remember records where key's database is, or forgets it (p zero).
func (u *UserDatabases) remember(key string, p place) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p.branchID == "" {
		delete(u.places, key)
		return
	}
	p.expires = u.now().Add(placeTTL)
	u.places[key] = p
}

// locate fills in r's branch and database when they are not known, and gets a
// connection URI as the database's owner. What an earlier resolution learnt
// (branch, database, owner) is reused, so a connection string that merely
// expired costs one call to Neon, not three.
func (u *UserDatabases) locate(ctx context.Context, key string, t Ref, r *resolvedDB) error {
	known, ok := u.knownPlace(key)
	if r.branchID == "" || r.dbName == "" {
		if ok && (r.branchID == "" || r.branchID == known.branchID) {
			r.branchID, r.dbName = known.branchID, known.dbName
		} else if err := u.findIntegration(ctx, t, r); err != nil {
			return err
		}
	}
	role := ""
	if ok && known.branchID == r.branchID && known.dbName == r.dbName {
		role = known.owner
	}
	if role == "" {
		owner, err := u.owner(ctx, t.ProjectID, r.branchID, r.dbName)
		if err != nil {
			return err
		}
		role = owner
	}
	uri, err := u.neon.GetConnectionURI(ctx, t.ProjectID, neonapi.ConnectionURIOptions{
		BranchID:     r.branchID,
		DatabaseName: r.dbName,
		RoleName:     role,
	})
	if err != nil {
		// The place may be what is wrong (the database or role went away).
		u.remember(key, place{})
		return fmt.Errorf("get the connection URI of %s: %w", r.dbName, err)
	}
	r.connString = uri
	u.remember(key, place{branchID: r.branchID, dbName: r.dbName, owner: role})
	return nil
}

// findIntegration reads where t's integration keeps its users: for a
// branch-level provider on a named branch, that branch's getNeonAuth; else
// the project's integrations list.
func (u *UserDatabases) findIntegration(ctx context.Context, t Ref, r *resolvedDB) error {
	if t.Provider.BranchLevel() && t.BranchID != "" {
		in, err := u.neon.GetBranchAuth(ctx, t.ProjectID, t.BranchID)
		if errors.Is(err, neonapi.ErrNotFound) {
			return fmt.Errorf("project %s branch %s: %w", t.ProjectID, t.BranchID, ErrNoIntegration)
		}
		if err != nil {
			return fmt.Errorf("read Neon Auth of branch %s: %w", t.BranchID, err)
		}
		if in.AuthProvider != t.Provider {
			return fmt.Errorf("project %s branch %s: %w", t.ProjectID, t.BranchID, ErrNoIntegration)
		}
		r.branchID, r.dbName = t.BranchID, in.DBName
		return nil
	}
	ins, err := u.neon.ListIntegrations(ctx, t.ProjectID)
	if err != nil {
		return fmt.Errorf("find the %s integration: %w", t.Provider, err)
	}
	for _, in := range ins {
		if in.AuthProvider == t.Provider {
			r.branchID, r.dbName = in.BranchID, in.DBName
			return nil
		}
	}
	return fmt.Errorf("project %s: %w", t.ProjectID, ErrNoIntegration)
}

// owner is the role owning the database, or Neon's default owner when the
// branch does not list it.
func (u *UserDatabases) owner(ctx context.Context, projectID, branchID, dbName string) (string, error) {
	dbs, err := u.neon.ListDatabases(ctx, projectID, branchID)
	if err != nil {
		return "", fmt.Errorf("list databases of branch %s: %w", branchID, err)
	}
	for _, d := range dbs {
		if d.Name == dbName && d.OwnerName != "" {
			return d.OwnerName, nil
		}
	}
	return defaultOwnerRole, nil
}

// forgetAnswers drops the answers the shared results cache keeps about r's
// users table, if r was resolved recently.
func (u *UserDatabases) forgetAnswers(r Ref) {
	if u.cfg.Results == nil {
		return // each browser had a private cache, already gone
	}
	if res := u.lookup(cacheKey(r), r); res != nil {
		u.cfg.Results.ForgetTable(res.connString)
	}
}

// forget drops what is cached about r's integration, after it was removed.
func (u *UserDatabases) forget(r Ref) {
	key := cacheKey(r)
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.cache, key)
	delete(u.places, key)
}

// WithSlowLane marks ctx as slow work on a users database: a text search, an
// exact count or sampled estimate, the signups chart, index advice. Open and
// OpenBrowser then connect through the slow lane, whose few connections and
// statement timeout keep such work from holding up page loads. Mark the
// context passed to Open or OpenBrowser: the returned directory or browser
// keeps its lane.
func WithSlowLane(ctx context.Context) context.Context { return db.WithLane(ctx, db.LaneSlow) }

// WithExportLane marks ctx as an export, which streams for as long as the
// download runs and so has connections of its own and no statement timeout.
func WithExportLane(ctx context.Context) context.Context { return db.WithLane(ctx, db.LaneExport) }

// OnSlowLane reports whether ctx was marked by WithSlowLane.
func OnSlowLane(ctx context.Context) bool { return db.LaneFrom(ctx) == db.LaneSlow }
