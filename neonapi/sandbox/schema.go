package sandbox

import (
	_ "embed"
	"strings"
)

//go:embed neon_auth_schemas.sql
var neonAuthSchemas string

// StackDDL returns the exact DDL Neon uses for project-level (stack) Neon Auth:
// the neon_auth schema and its users_sync table.
func StackDDL() string {
	start := strings.Index(neonAuthSchemas, "CREATE SCHEMA neon_auth;")
	end := strings.Index(neonAuthSchemas, "-- A raw_json document")
	return neonAuthSchemas[start:end]
}

// BetterAuthDDL returns the exact DDL Neon uses for branch-level (better_auth)
// Neon Auth: the neon_auth schema and its "user" table.
func BetterAuthDDL() string {
	start := strings.Index(neonAuthSchemas, `CREATE TABLE neon_auth."user"`)
	return "CREATE SCHEMA neon_auth;\n\n" + neonAuthSchemas[start:]
}
