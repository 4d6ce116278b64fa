package db

import "time"

// UserDBConfig says how the dashboard reaches integrations' databases. Without
// overrides it asks Neon for a connection URI as the database's owner.
type UserDBConfig struct {
	// Default, when set, is used for every project without its own override:
	// the operator's DATABASE_URL.
	Default string
	// PerProject maps a project id to the connection string to use for it.
	PerProject map[string]string
	// CacheTTL is how long a resolved connection string is reused (default two
	// minutes). It holds a password, so it is kept in memory only and briefly.
	CacheTTL time.Duration
	// Results holds the browsers' short-lived answers (exact counts, index
	// checks), one per process so every request shares them; nil gives each
	// opened browser its own.
	Results *Cache
}
