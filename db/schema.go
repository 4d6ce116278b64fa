package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Generation names which Neon Auth user table a database carries. Its values
// are the auth_provider strings of the Neon API, so converting between the two
// is a plain type conversion.
type Generation string

const (
	// GenerationUnknown is the zero value: not detected, or no table.
	GenerationUnknown Generation = ""
	// GenerationStack is project-level Neon Auth: neon_auth.users_sync, filled
	// asynchronously from Stack Auth, with soft deletes.
	GenerationStack Generation = "stack"
	// GenerationBetterAuth is branch-level Neon Auth: Better Auth's own
	// neon_auth."user" table, written directly.
	GenerationBetterAuth Generation = "better_auth"
)

// Table returns the qualified table the generation keeps users in, or "" for
// GenerationUnknown.
func (g Generation) Table() string {
	switch g {
	case GenerationStack:
		return "neon_auth.users_sync"
	case GenerationBetterAuth:
		return `neon_auth."user"`
	}
	return ""
}

// Detect reports which user table the database behind pool has. A database
// holding both (never provisioned that way by Neon) counts as better_auth, the
// current generation. Neither gives ErrSchemaMissing; a database that cannot
// be reached gives an error wrapping ErrUnreachable.
func Detect(ctx context.Context, pool *pgxpool.Pool) (Generation, error) {
	// to_regclass needs no privilege on the table and returns NULL, not an
	// error, when it is absent.
	var stack, betterAuth bool
	err := pool.QueryRow(ctx, `SELECT to_regclass('neon_auth.users_sync') IS NOT NULL,
       to_regclass('neon_auth."user"') IS NOT NULL`).Scan(&stack, &betterAuth)
	if err != nil {
		return GenerationUnknown, wrapErr("detect schema", describePool(pool), err)
	}
	switch {
	case betterAuth:
		return GenerationBetterAuth, nil
	case stack:
		return GenerationStack, nil
	}
	return GenerationUnknown, fmt.Errorf("db: detect schema on %s: %w", describePool(pool), ErrSchemaMissing)
}
