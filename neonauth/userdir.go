package neonauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/neonauth-admin/dashboard/db"
)

// UserDirectory is the users table of one database, as the users page reads
// it. *db.UserDirectory provides all but Source.
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
