package neonauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/neonauth-admin/dashboard/db"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

// UserDirectory is the users table of one database, as the users page reads
// it. *db.UserDirectory provides all but Source.
type UserDirectory interface {
	// Target is host:port/database, never credentials.
	Target() string
	// Source says where the connection string came from, for the page header.
	Source() string
	Provider() authprovider.Provider
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
	// Source is SourceNeon, SourceDefault or SourceProject; empty when
	// not known.
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
	browser *db.UserBrowser
	source  string
	forget  func()
}

// Source implements UserDirectory.
func (d *userDirectory) Source() string { return d.source }

// check passes err on, forgetting the table layout when the table is gone.
// A failure to use the table (not a user that is not there) comes as a
// *UserDBError naming the database and how it was reached, as a failure to
// open it does: it may go away between the two.
func (d *userDirectory) check(err error) error {
	if errors.Is(err, db.ErrSchemaMissing) {
		d.forget()
	}
	return located(err, d.Target(), d.source)
}

// BrowserError is err, met using b, as a *UserDBError naming b's database,
// as a UserDirectory's errors are, so that a page can say which database
// failed; a user that is not there, a refused input and nil pass unchanged.
// How the database was reached is not known here.
func BrowserError(b UserBrowser, err error) error {
	return located(err, b.Target(), "")
}

// located wraps a failure to use the users table at target in a
// *UserDBError, unless it is one already or no failure of the table.
func located(err error, target, source string) error {
	var dbErr *UserDBError
	var input *db.InputError
	if err == nil || errors.Is(err, db.ErrNotFound) || errors.As(err, &input) || errors.As(err, &dbErr) {
		return err
	}
	return &UserDBError{Target: target, Source: source, Err: err}
}

// Latest implements UserDirectory.
func (d *userDirectory) Latest(ctx context.Context, limit int) ([]db.User, error) {
	if slices.Contains(db.PageSizes, limit) {
		// The browser's first page: it uses the ordering index when there
		// is one, where the plain query sorts the whole table.
		p, err := d.browser.Browse(ctx, db.PageRequest{Size: limit})
		if err != nil {
			return nil, d.check(err)
		}
		us := make([]db.User, len(p.Users))
		for i, u := range p.Users {
			us[i] = u.User
		}
		return us, nil
	}
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

// UserTotals is how many users a table holds, and how many of them are
// deleted (Stack Auth only), exact or estimated.
type UserTotals struct {
	Total, Deleted int64
	// Estimated is true when the figures come from the planner's
	// statistics, which large tables are never scanned to replace.
	Estimated bool
	// DeletedUnknown is set when no estimate of the deleted users could be
	// trusted (rare deletions on a large table): Deleted is then 0 and not
	// to be shown.
	DeletedUnknown bool
}

// Totals counts the table exactly while it is small, and estimates it once
// it is large, so a page view never scans a million rows.
func (d *userDirectory) Totals(ctx context.Context) (UserTotals, error) {
	all, err := d.browser.Count(ctx, db.Filter{}, false)
	if err != nil {
		return UserTotals{}, d.check(err)
	}
	if all.Exact {
		// A fresh exact count, not the cached one: a small table's count
		// must move as soon as a created user syncs.
		total, deleted, err := d.Count(ctx)
		return UserTotals{Total: int64(total), Deleted: int64(deleted)}, err
	}
	t := UserTotals{Total: all.N, Estimated: true}
	if d.Provider().SoftDeletes() {
		del, err := d.browser.Count(ctx, db.Filter{Status: db.StatusDeleted}, false)
		if err != nil {
			return UserTotals{}, d.check(err)
		}
		t.Deleted, t.DeletedUnknown = del.N, del.Unknown
	}
	return t, nil
}

// UserBrowser is one users table as the users pages read it: pages, counts,
// one user's detail, exports, sign-ups over time and the index advisor.
// OpenBrowser hands one out.
type UserBrowser interface {
	Provider() authprovider.Provider
	Target() string
	Browse(ctx context.Context, req PageRequest) (Page, error)
	Count(ctx context.Context, f Filter, exact bool) (UserCount, error)
	Detail(ctx context.Context, id string) (UserDetail, error)
	ExportQuery(f Filter, format ExportFormat) (string, error)
	Export(ctx context.Context, w io.Writer, f Filter, format ExportFormat) (int64, error)
	Signups(ctx context.Context, from, to time.Time, bucket Bucket) ([]SignupPoint, error)
	AdviseIndex(ctx context.Context) (IndexAdvice, error)
	IndexProgress(ctx context.Context) (*IndexProgress, error)
	CreateOfferedIndex(ctx context.Context, purpose IndexPurpose) error
	DropIndex(ctx context.Context, name string) error
}

var _ UserBrowser = (*db.UserBrowser)(nil)
