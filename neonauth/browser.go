package neonauth

import (
	"context"

	"github.com/neonauth-admin/dashboard/db"
)

// OpenBrowser returns a browser over the users table of the integration t
// names, reached as Open reaches it; cache is the process's shared db.Cache
// (nil for a private one).
func (u *UserDatabases) OpenBrowser(ctx context.Context, t Ref, cache *db.Cache) (*db.UserBrowser, error) {
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
			return nil, err
		}
		r = v.(*resolvedDB)
	}
	pool, err := u.pools.Get(ctx, r.connString)
	if err != nil {
		return nil, &UserDBError{Target: r.target, DBName: r.dbName, Source: r.source, Err: err}
	}
	if r.gen != db.GenerationUnknown {
		return db.NewUserBrowser(pool, r.gen, cache), nil
	}
	b, err := db.OpenUserBrowser(ctx, pool, cache)
	if err != nil {
		return nil, &UserDBError{Target: r.target, DBName: r.dbName, Source: r.source, Err: err}
	}
	u.rememberGeneration(key, r, b.Generation())
	return b, nil
}

// OpenBrowser returns a browser over the users table of the integration r
// names; see UserDatabases.OpenBrowser.
func (s *Service) OpenBrowser(ctx context.Context, r Ref, cache *db.Cache) (*db.UserBrowser, error) {
	return s.users.OpenBrowser(ctx, r, cache)
}
