package neonauth

import "time"

// Defaults shared by the configuration and the handlers, so that an unset
// variable and a setting left at zero mean the same.
const (
	// DefaultSyncTimeout is how long the live sync check waits for a user
	// created or changed through Neon to show in the users table.
	DefaultSyncTimeout = 20 * time.Second
	// DefaultLatestUsers is how many rows the users page's table shows
	// first: the browser's default page size.
	DefaultLatestUsers = 50
	// DefaultIndexAdviceRows is the table size from which the index advisor
	// offers its indexes: below it a page sorts the whole table in a few
	// milliseconds, above it the sort is what a page costs.
	DefaultIndexAdviceRows = 100_000
)
