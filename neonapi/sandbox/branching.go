package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// branchSpec is what createProjectBranch asked for.
type branchSpec struct {
	parentID, name string
	protected      bool
	schemaOnly     bool
	endpoints      []*endpoint
	annotation     map[string]string
}

// dbCopy pairs a parent database with the new branch's copy of it. table is
// the parent's neon_auth table, "" when there is nothing to copy.
type dbCopy struct {
	from, to        *database
	table, provider string
}

// createBranch makes a branch the way Neon branches, as far as the sandbox
// models a branch: the parent's databases (each a new real database) and
// roles, and what Neon Auth keeps in the database. The neon_auth table is
// copied with its rows (only its schema with schemaOnly), other schemas are
// not, and a Better Auth integration on the parent is inherited with its
// settings and users, and with the user writes still queued for the parent,
// so that the branch sees the state the API last answered.
func (s *Sandbox) createBranch(ctx context.Context, originURL, projectID string, spec branchSpec) (*branch, []operationJSON, error) {
	if s.closed.Load() {
		return nil, nil, errClosed
	}
	p, parent, child, copies, err := s.reserveBranch(projectID, spec)
	if err != nil {
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok { // a failed branch leaves no trace but its real databases, which Close drops
			s.mu.Lock()
			p.branches = slices.DeleteFunc(p.branches, func(b *branch) bool { return b == child })
			s.mu.Unlock()
		}
	}()
	// A client that gives up must not leave a half-made branch behind.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for i := range copies {
		if err := s.prepareCopy(dctx, &copies[i], len(spec.endpoints) > 0); err != nil {
			return nil, nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range copies {
		if c.table == "" {
			continue
		}
		if err := s.copyNeonAuth(dctx, originURL, c, parent, child, spec.schemaOnly); err != nil {
			return nil, nil, err
		}
	}
	child.creating = false
	actions := []string{"create_branch"}
	if len(child.endpoints) > 0 {
		actions = append(actions, "start_compute")
	}
	ok = true
	return child, recordOps(p, child, child.createdAt, actions...), nil
}

// reserveBranch checks the request and records the branch as being created,
// which reserves its name.
func (s *Sandbox) reserveBranch(projectID string, spec branchSpec) (*project, *branch, *branch, []dbCopy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[projectID]
	if p == nil {
		return nil, nil, nil, nil, notFound("project %s not found", projectID)
	}
	parent := p.defaultBranch()
	if spec.parentID != "" {
		if parent = p.branchByID(spec.parentID); parent == nil {
			return nil, nil, nil, nil, notFound("parent branch %s not found in project %s", spec.parentID, projectID)
		}
	}
	if parent.creating {
		return nil, nil, nil, nil, locked("parent branch %s is still being created", parent.id)
	}
	if spec.name != "" && slices.ContainsFunc(p.branches, func(b *branch) bool { return b.name == spec.name }) {
		return nil, nil, nil, nil, conflict("a branch named %s already exists in project %s", spec.name, projectID)
	}
	now := time.Now().UTC().Truncate(time.Second)
	child := &branch{
		name: spec.name, project: p, parentID: parent.id, protected: spec.protected,
		creating: true, endpoints: spec.endpoints, annotation: spec.annotation, createdAt: now,
	}
	for child.id == "" || p.branchByID(child.id) != nil {
		child.id = newChildID("br")
	}
	if child.name == "" {
		child.name = child.id
	}
	if spec.schemaOnly {
		child.initSource = "schema-only"
	}
	var copies []dbCopy
	for _, d := range parent.databases {
		s.dbSeq++
		nd := &database{id: 1000000 + s.dbSeq, name: d.name, owner: d.owner, createdAt: now, real: s.pg.newRealDB(s.dbSeq, d.name)}
		child.databases = append(child.databases, nd)
		copies = append(copies, dbCopy{from: d, to: nd})
	}
	for _, r := range parent.roles {
		child.roles = append(child.roles, s.copyRole(r, now))
	}
	for _, e := range child.endpoints {
		e.id, e.createdAt = newChildID("ep"), now
	}
	p.branches = append(p.branches, child)
	return p, parent, child, copies, nil
}

// prepareCopy finds the parent database's neon_auth table and gives the new
// database the same, empty; the rows follow in copyNeonAuth. With compute the
// new database is created even without a table, so that the connection URIs
// answered at once work.
func (s *Sandbox) prepareCopy(ctx context.Context, c *dbCopy, compute bool) error {
	if c.from.real.isCreated() {
		src, err := s.pg.pool(ctx, c.from.real)
		if err != nil {
			return err
		}
		if c.table, c.provider, err = neonAuthTable(ctx, src); err != nil {
			return err
		}
	}
	if c.table == "" {
		if compute {
			return s.pg.ensure(ctx, c.to.real)
		}
		return nil // made on first use, empty like the parent
	}
	dst, err := s.pg.pool(ctx, c.to.real)
	if err != nil {
		return err
	}
	_, err = provision(ctx, dst, c.provider)
	return err
}

// neonAuthTable names the database's neon_auth table and its provider.
func neonAuthTable(ctx context.Context, pool *pgxpool.Pool) (table, provider string, err error) {
	var stack, better bool
	err = pool.QueryRow(ctx, `SELECT to_regclass('neon_auth.users_sync') IS NOT NULL, to_regclass('neon_auth."user"') IS NOT NULL`).Scan(&stack, &better)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("sandbox: inspect neon_auth: %w", err)
	case better:
		return "user", providerBetterAuth, nil
	case stack:
		return "users_sync", providerStack, nil
	}
	return "", "", nil
}

// copyNeonAuth copies the rows of c's table and inherits the parent's Better
// Auth integration. Callers hold s.mu, which holds back new user writes, and
// it holds the parent database's applyMu, which holds back the sync worker:
// the rows and the queued writes it snapshots are one state.
func (s *Sandbox) copyNeonAuth(ctx context.Context, originURL string, c dbCopy, parent, child *branch, schemaOnly bool) error {
	c.from.real.applyMu.Lock()
	defer c.from.real.applyMu.Unlock()
	if !schemaOnly {
		if err := s.copyRows(ctx, c); err != nil {
			return err
		}
	}
	in := parent.auth
	if in == nil || !in.ready || in.db != c.from || in.provider != providerBetterAuth || child.auth != nil {
		return nil // project-level (stack) integrations stay with their branch
	}
	ci := newIntegration(originURL, child, c.to, in.provider)
	ci.settings = in.settings.clone()
	ci.ready = true
	child.auth = ci
	if schemaOnly {
		return nil
	}
	for id, u := range in.users {
		v := *u
		ci.users[id] = &v
	}
	for email, id := range in.emails {
		ci.emails[email] = id
	}
	q := &c.from.real.queue
	q.mu.Lock()
	pending := slices.Clone(q.jobs)
	q.mu.Unlock()
	for _, j := range pending {
		if j.in == in {
			s.enqueueJob(syncJob{in: ci, at: j.at, sql: j.sql, args: j.args})
		}
	}
	return nil
}

// copyRows copies the parent's table in Postgres's binary COPY format; the
// tables have the same DDL, generated columns excepted on both sides.
func (s *Sandbox) copyRows(ctx context.Context, c dbCopy) error {
	src, err := s.pg.pool(ctx, c.from.real)
	if err != nil {
		return err
	}
	dst, err := s.pg.pool(ctx, c.to.real)
	if err != nil {
		return err
	}
	table, _, err := neonAuthTable(ctx, src)
	if err != nil || table != c.table {
		return err // the parent dropped its data meanwhile: nothing to copy
	}
	name := "neon_auth." + pgx.Identifier{c.table}.Sanitize()
	var buf bytes.Buffer
	err = src.AcquireFunc(ctx, func(conn *pgxpool.Conn) error {
		_, err := conn.Conn().PgConn().CopyTo(ctx, &buf, "COPY "+name+" TO STDOUT (FORMAT binary)")
		return err
	})
	if err != nil {
		return fmt.Errorf("sandbox: copy %s out: %w", name, err)
	}
	err = dst.AcquireFunc(ctx, func(conn *pgxpool.Conn) error {
		_, err := conn.Conn().PgConn().CopyFrom(ctx, &buf, "COPY "+name+" FROM STDIN (FORMAT binary)")
		return err
	})
	if err != nil {
		return fmt.Errorf("sandbox: copy %s in: %w", name, err)
	}
	return nil
}
