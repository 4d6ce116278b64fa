package db

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// IndexProgress is one CREATE INDEX in progress on the user table, from
// pg_stat_progress_create_index. Counters the connected role may not see
// are zero.
type IndexProgress struct {
	PID     int32
	Index   string // "" until the build has created its catalog entry
	Command string // e.g. "CREATE INDEX CONCURRENTLY"
	Phase   string // e.g. "building index: scanning table"
	// BlocksDone/BlocksTotal count table blocks in scanning phases;
	// TuplesDone/TuplesTotal count tuples in sorting and loading phases.
	BlocksDone, BlocksTotal int64
	TuplesDone, TuplesTotal int64
}

// PhaseDone returns how far the current phase is, from 0 to 1, or -1 when
// the phase reports no counter (waiting phases).
func (p IndexProgress) PhaseDone() float64 {
	switch {
	case p.TuplesTotal > 0:
		return float64(p.TuplesDone) / float64(p.TuplesTotal)
	case p.BlocksTotal > 0:
		return float64(p.BlocksDone) / float64(p.BlocksTotal)
	}
	return -1
}

// IndexProgress returns the index build running on the user table, or, for
// Better Auth, on neon_auth.session, or nil when there is none.
func (b *UserBrowser) IndexProgress(ctx context.Context) (*IndexProgress, error) {
	const op = "index progress"
	if err := b.check(op); err != nil {
		return nil, err
	}
	rows, err := b.pool.Query(ctx, `SELECT p.pid, coalesce(c.relname::text, ''), coalesce(p.command, ''), coalesce(p.phase, ''),
       coalesce(p.blocks_done, 0), coalesce(p.blocks_total, 0), coalesce(p.tuples_done, 0), coalesce(p.tuples_total, 0)
  FROM pg_stat_progress_create_index p
  LEFT JOIN pg_class c ON c.oid = p.index_relid
 WHERE p.relid IN (to_regclass($1), to_regclass($2))
 ORDER BY p.pid LIMIT 1`, b.spec.table, b.relatedTable())
	if err != nil {
		return nil, wrapErr(op, b.target, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[IndexProgress])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrapErr(op, b.target, err)
	}
	return &p, nil
}

// CreateIndex builds the offered browse-order index: CreateOfferedIndex
// for IndexForBrowse.
func (b *UserBrowser) CreateIndex(ctx context.Context) error {
	return b.CreateOfferedIndex(ctx, IndexForBrowse)
}

// CreateOfferedIndex builds the index offered for purpose (its
// IndexOffer.CreateSQL) with CREATE INDEX CONCURRENTLY, which lets sign-ups
// and the sync keep writing. It returns when the build ends, which takes
// seconds to minutes on a large table: run it with a context that outlives
// the HTTP request, and poll IndexProgress meanwhile. Cancelling ctx aborts
// the build and leaves an INVALID index, which AdviseIndex then lists for
// DropIndex. Calls made while one is running in this process wait for it
// and share its result. A purpose the advisor offers no index for on this
// table gives an *InputError.
func (b *UserBrowser) CreateOfferedIndex(ctx context.Context, purpose IndexPurpose) error {
	const op = "create index"
	if err := b.check(op); err != nil {
		return err
	}
	_, err, _ := b.cache.group.Do(b.cacheKey+"|create-index|"+string(purpose), func() (any, error) {
		return nil, b.createIndex(ctx, purpose)
	})
	return err
}

func (b *UserBrowser) createIndex(ctx context.Context, purpose IndexPurpose) error {
	const op = "create index"
	a, err := b.AdviseIndex(ctx)
	if err != nil {
		return err
	}
	o, ok := a.Offer(purpose)
	switch {
	case !ok:
		return inputErr("index", "is not offered for %s", b.spec.table)
	case o.Present():
		return nil
	case a.Building != nil:
		return fmt.Errorf("db: %s on %s: %w", op, b.target, ErrIndexBuilding)
	case slices.Contains(a.Invalid, o.Name):
		return fmt.Errorf("db: %s on %s: %s: %w; drop it first", op, b.target, o.Name, ErrIndexInvalid)
	case o.NameTaken:
		return fmt.Errorf("db: %s on %s: an index named %s exists but does not serve %s", op, b.target, o.Name, purpose.reads())
	case !a.CanCreate:
		return fmt.Errorf("db: %s on %s: role %s does not own %s (owner %s): %w", op, b.target, a.Role, a.Table, a.Owner, ErrPermission)
	}
	if o.Table != a.Table {
		if err := b.checkOwner(ctx, op, o.Table); err != nil {
			return err
		}
	}
	// Simple protocol: a utility statement has nothing to prepare, and
	// CONCURRENTLY refuses to run inside a transaction block.
	_, err = b.pool.Exec(ctx, o.CreateSQL, pgx.QueryExecModeSimpleProtocol)
	b.cache.forget(b.indexCacheKey())
	if err != nil {
		return wrapErr(op, b.target, err)
	}
	use, err := b.indexUse(ctx)
	if err != nil {
		return wrapErr(op, b.target, err)
	}
	if !use.serves(purpose) {
		return fmt.Errorf("db: %s on %s: %s was built but does not serve %s", op, b.target, o.Name, purpose.reads())
	}
	return nil
}

// offered reports whether x serves the purpose of an index the advisor
// offers on the table.
func (b *UserBrowser) offered(x indexRow) bool {
	return slices.ContainsFunc(b.allOffers(), func(o offerSpec) bool { return o.on(b.spec.table) == x.table && o.serves(x) })
}

// DropIndex drops an index of the user table, or for Better Auth of
// neon_auth.session, with DROP INDEX CONCURRENTLY:
// an offered one, one that serves the purpose of an offered one (the browse
// order, users_sync's email lookups), or one a failed build left INVALID.
// Other indexes (the primary key, Better Auth's unique email, Neon's own)
// are refused with an *InputError, so a form value cannot drop them.
func (b *UserBrowser) DropIndex(ctx context.Context, name string) error {
	const op = "drop index"
	if err := b.check(op); err != nil {
		return err
	}
	list, err := b.indexes(ctx)
	if err != nil {
		return wrapErr(op, b.target, err)
	}
	i := slices.IndexFunc(list, func(x indexRow) bool { return x.name == name })
	switch {
	case i < 0:
		return inputErr("index", "is not an index of %s or a table the dashboard indexes", b.spec.table)
	case list[i].constraint || (list[i].valid && !b.offered(list[i])):
		return inputErr("index", "is not one the dashboard offers or a failed build; the dashboard does not drop it")
	case list[i].building:
		return fmt.Errorf("db: %s on %s: %w", op, b.target, ErrIndexBuilding)
	}
	if err := b.checkOwner(ctx, op, list[i].table); err != nil {
		return err
	}
	_, err = b.pool.Exec(ctx, IndexAdvice{}.DropSQL(name), pgx.QueryExecModeSimpleProtocol)
	b.cache.forget(b.indexCacheKey())
	return wrapErr(op, b.target, err)
}

// checkOwner refuses, with ErrPermission, a role that may not create or drop
// the indexes of table: one that is not its owner or a member of its role.
func (b *UserBrowser) checkOwner(ctx context.Context, op, table string) error {
	var owner bool
	if err := b.pool.QueryRow(ctx, `SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = to_regclass($1)`,
		table).Scan(&owner); err != nil {
		return wrapErr(op, b.target, err)
	}
	if !owner {
		return fmt.Errorf("db: %s on %s: %w", op, b.target, ErrPermission)
	}
	return nil
}

// relatedTable is the other table the advisor indexes: neon_auth.session
// for Better Auth, the user table itself otherwise.
func (b *UserBrowser) relatedTable() string {
	if rs := related(b.gen); len(rs) > 0 {
		return rs[0].table
	}
	return b.spec.table
}
