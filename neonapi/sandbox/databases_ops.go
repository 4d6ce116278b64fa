package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// errDropped answers work asked of a database deleted meanwhile.
var errDropped = &apiError{http.StatusNotFound, codeNotFound, "the database was deleted"}

// dropDB drops the real database, ending its connections, unless it was
// never created. It is not created again.
func (pg *backend) dropDB(ctx context.Context, db *realDB) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.dropped {
		return nil
	}
	db.dropped = true
	if db.pool != nil {
		db.pool.Close()
		db.pool = nil
	}
	if !db.created {
		return nil
	}
	pg.mu.Lock()
	pg.created = slices.DeleteFunc(pg.created, func(c *realDB) bool { return c == db })
	pg.mu.Unlock()
	if _, err := pg.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db.name}.Sanitize()+" WITH (FORCE)"); err != nil {
		// Still there: Close tries again.
		pg.mu.Lock()
		pg.created = append(pg.created, db)
		pg.mu.Unlock()
		return fmt.Errorf("sandbox: drop database %s: %w", db.name, err)
	}
	return nil
}

// deleteDatabase is deleteProjectBranchDatabase: the real database is
// dropped. The database Neon Auth keeps its users in is refused (409) while
// the integration lives: disable Neon Auth first.
func (s *Sandbox) deleteDatabase(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	p, b, err := s.lookupBranch(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	name := r.PathValue("database_name")
	d := b.databaseByName(name)
	if d == nil {
		s.mu.Unlock()
		return notFound("database %s not found on branch %s", name, b.id)
	}
	if b.auth != nil && b.auth.db == d {
		s.mu.Unlock()
		return conflict("database %s on branch %s holds Neon Auth: disable Neon Auth first", name, b.id)
	}
	b.databases = slices.DeleteFunc(b.databases, func(x *database) bool { return x == d })
	ops := recordOps(p, b, time.Now().UTC().Truncate(time.Second), "apply_config")
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	if err := s.pg.dropDB(ctx, d.real); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Database   databaseJSON    `json:"database"`
		Operations []operationJSON `json:"operations"`
	}{databaseToJSON(b, d), ops})
	return nil
}
