package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// Detect reports which user table the database behind pool has. A database
// holding both (never provisioned that way by Neon) counts as better_auth, the
// current generation. Neither gives ErrSchemaMissing; a database that cannot
// be reached gives an error wrapping ErrUnreachable.
func Detect(ctx context.Context, pool *pgxpool.Pool) (authprovider.Provider, error) {
	// to_regclass needs no privilege on the table and returns NULL, not an
	// error, when it is absent.
	var stack, betterAuth bool
	err := pool.QueryRow(ctx, `SELECT to_regclass('neon_auth.users_sync') IS NOT NULL,
       to_regclass('neon_auth."user"') IS NOT NULL`).Scan(&stack, &betterAuth)
	if err != nil {
		return authprovider.Unknown, wrapErr("detect schema", describePool(pool), err)
	}
	switch {
	case betterAuth:
		return authprovider.BetterAuth, nil
	case stack:
		return authprovider.Stack, nil
	}
	return authprovider.Unknown, fmt.Errorf("db: detect schema on %s: %w", describePool(pool), ErrSchemaMissing)
}
