package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// pgDumpURL returns a URL for pg_dump and psql to reach db, and the
// environment carrying the password, which stays off the command line.
func (pg *backend) pgDumpURL(db *realDB) (string, []string) {
	u := *pg.adminURL
	env := os.Environ()
	q, qpw := withoutCredentials(u.RawQuery)
	if user := u.Query().Get("user"); user != "" && u.User == nil {
		u.User = url.User(user) // the user is no secret; keep it
	}
	u.RawQuery = q
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
	} else if qpw != "" {
		env = append(env, "PGPASSWORD="+qpw)
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.Path = "/" + db.name
	u.RawPath = ""
	return u.String(), env
}

// schemaDump runs pg_dump --schema-only on db. The \restrict lines newer
// pg_dump releases add (a random key each run) are left out.
func (pg *backend) schemaDump(ctx context.Context, db *realDB) (string, error) {
	uri, env := pg.pgDumpURL(db)
	cmd := exec.CommandContext(ctx, "pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--dbname", uri)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("sandbox: pg_dump: %w: %s", err, firstLine(stderr.String()))
	}
	var kept []string
	for line := range strings.SplitSeq(string(out), "\n") {
		if !strings.HasPrefix(line, `\restrict `) && !strings.HasPrefix(line, `\unrestrict `) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n"), nil
}

// copyDatabase copies every schema and row of src into dst, which must be
// new: pg_dump piped into psql, stopping at the first error.
func (pg *backend) copyDatabase(ctx context.Context, src, dst *realDB) error {
	if err := pg.ensure(ctx, dst); err != nil {
		return err
	}
	from, env := pg.pgDumpURL(src)
	to, _ := pg.pgDumpURL(dst)
	dump := exec.CommandContext(ctx, "pg_dump", "--no-owner", "--no-privileges", "--dbname", from)
	dump.Env = env
	load := exec.CommandContext(ctx, "psql", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--dbname", to)
	load.Env = env
	pipe, err := dump.StdoutPipe()
	if err != nil {
		return err
	}
	load.Stdin = pipe
	var dumpErr, loadErr bytes.Buffer
	dump.Stderr, load.Stderr = &dumpErr, &loadErr
	// load.Stdout stays nil: psql's query results (set_config's) are noise.
	if err := dump.Start(); err != nil {
		return fmt.Errorf("sandbox: pg_dump: %w", err)
	}
	lerr := load.Run()
	// psql reads no more: closing our end of the pipe ends pg_dump's writes
	// (EPIPE) instead of leaving it blocked on a full pipe until ctx ends.
	_ = pipe.Close()
	derr := dump.Wait()
	if lerr != nil { // the cause of pg_dump's broken pipe, if it has one
		return fmt.Errorf("sandbox: psql: %w: %s", lerr, firstLine(loadErr.String()))
	}
	if derr != nil {
		return fmt.Errorf("sandbox: pg_dump: %w: %s", derr, firstLine(dumpErr.String()))
	}
	return nil
}

// firstLine is the first line of a tool's error output: the error itself.
// The DETAIL and CONTEXT lines after it may quote rows (a COPY line holds a
// password hash or a session token), which must stay out of logs.
func firstLine(out string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return line
}

// branchSchema is getProjectBranchSchema: pg_dump --schema-only of the
// database, in SQL (the only format the sandbox answers).
func (s *Sandbox) branchSchema(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	dbName := q.Get("db_name")
	if dbName == "" {
		return badRequest("db_name is required")
	}
	if q.Get("lsn") != "" || q.Get("timestamp") != "" {
		return badRequest("the sandbox keeps no history: leave out lsn and timestamp for the branch's current schema")
	}
	if f := q.Get("format"); f != "" && f != "sql" {
		return badRequest("format must be sql: the sandbox does not answer the json format")
	}
	s.mu.RLock()
	_, b, err := s.lookupBranch(r)
	if err != nil {
		s.mu.RUnlock()
		return err
	}
	d := b.databaseByName(dbName)
	s.mu.RUnlock()
	if d == nil {
		return notFound("database %s not found on branch %s", dbName, b.id)
	}
	if err := s.pg.ensure(r.Context(), d.real); err != nil {
		return err
	}
	sql, err := s.pg.schemaDump(r.Context(), d.real)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		SQL string `json:"sql"`
	}{sql})
	return nil
}

// restoreBranchRequest is BranchRestoreRequest.
type restoreBranchRequest struct {
	SourceBranchID    *string `json:"source_branch_id"`
	SourceLSN         *string `json:"source_lsn"`
	SourceTimestamp   *string `json:"source_timestamp"`
	PreserveUnderName *string `json:"preserve_under_name"`
}

// restorePlan pairs the source's databases with the new real databases that
// take their place on the target.
type restorePlan struct {
	from, to     []*realDB
	names, owner []string
}

// restoreBranch is restoreProjectBranch from another branch's current state
// (the sandbox keeps no history, so source_lsn, source_timestamp and a
// branch restored from itself answer 400). The target keeps its id, name,
// endpoints and Neon Auth settings; its databases and roles become copies
// of the source's: every schema and row (pg_dump into a new real database),
// the same role names and passwords. With preserve_under_name the target's
// former databases and roles live on as a new branch of that name;
// otherwise they are dropped. Neon Auth on the target follows its database
// by name, reading the users the restored table holds.
func (s *Sandbox) restoreBranch(w http.ResponseWriter, r *http.Request) error {
	var req restoreBranchRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	switch {
	case req.SourceBranchID == nil:
		return badRequest("source_branch_id is required")
	case !idPattern.MatchString(*req.SourceBranchID):
		return badRequest("source_branch_id must match ^[a-z0-9-]{1,60}$")
	case req.SourceLSN != nil || req.SourceTimestamp != nil:
		return badRequest("the sandbox keeps no history: restore from another branch's current state without source_lsn or source_timestamp")
	}
	if err := checkLen(req.PreserveUnderName, "preserve_under_name", 1, 256); err != nil {
		return err
	}
	p, target, plan, roles, err := s.planRestore(r, *req.SourceBranchID, deref(req.PreserveUnderName))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Minute)
	defer cancel()
	var copyErr error
	for i := range plan.from {
		if plan.from[i].isCreated() {
			if copyErr = s.pg.copyDatabase(ctx, plan.from[i], plan.to[i]); copyErr != nil {
				break
			}
		}
	}
	if copyErr != nil {
		s.mu.Lock()
		target.creating = false
		s.mu.Unlock()
		for _, db := range plan.to {
			_ = s.pg.dropDB(ctx, db)
		}
		return copyErr
	}
	old, ops, err := s.swapRestored(ctx, p, target, plan, roles, deref(req.PreserveUnderName))
	if err != nil {
		return err
	}
	if err := s.dropBranchData(ctx, old); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.writeBranchOps(w, http.StatusOK, target, ops)
	return nil
}

// planRestore checks the request against the project and marks the target
// as being restored (state "init"), which holds back other restores,
// branches from it and its deletion.
func (s *Sandbox) planRestore(r *http.Request, sourceID, preserveAs string) (*project, *branch, restorePlan, []*role, error) {
	var plan restorePlan
	s.mu.Lock()
	defer s.mu.Unlock()
	p, target, err := s.lookupBranch(r)
	if err != nil {
		return nil, nil, plan, nil, err
	}
	source := p.branchByID(sourceID)
	switch {
	case source == nil:
		return nil, nil, plan, nil, notFound("source branch %s not found in project %s", sourceID, p.id)
	case source == target:
		return nil, nil, plan, nil, badRequest("the sandbox keeps no history: a branch can only be restored from another branch")
	case target.creating || source.creating:
		return nil, nil, plan, nil, locked("branch %s or %s is still being created or restored", target.id, source.id)
	case preserveAs != "" && slices.ContainsFunc(p.branches, func(b *branch) bool { return b.name == preserveAs }):
		return nil, nil, plan, nil, conflict("a branch named %s already exists in project %s", preserveAs, p.id)
	}
	for _, d := range source.databases {
		s.dbSeq++
		plan.from = append(plan.from, d.real)
		plan.names, plan.owner = append(plan.names, d.name), append(plan.owner, d.owner)
		plan.to = append(plan.to, s.pg.newRealDB(s.dbSeq, d.name))
	}
	now := time.Now().UTC().Truncate(time.Second)
	var roles []*role
	for _, rl := range source.roles {
		roles = append(roles, s.copyRole(rl, now))
	}
	target.creating = true
	return p, target, plan, roles, nil
}

// swapRestored gives the target the restored databases and roles and
// returns a branch record holding what they replaced, to drop (or, with
// preserveAs, kept as that branch and nothing to drop).
func (s *Sandbox) swapRestored(ctx context.Context, p *project, target *branch, plan restorePlan, roles []*role, preserveAs string) (*branch, []operationJSON, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	target.creating = false
	now := time.Now().UTC().Truncate(time.Second)
	old := &branch{id: newChildID("br"), name: preserveAs, project: p, parentID: target.id, createdAt: now, roles: target.roles}
	var dbs []*database
	for i, real := range plan.to {
		name, owner := plan.names[i], plan.owner[i]
		d := target.databaseByName(name)
		if d == nil {
			s.dbSeq++
			d = &database{id: 1000000 + s.dbSeq, name: name, createdAt: now}
		} else {
			old.databases = append(old.databases, &database{id: d.id, name: d.name, owner: d.owner, createdAt: d.createdAt, real: d.real})
		}
		d.owner, d.real = owner, real
		dbs = append(dbs, d)
	}
	for _, d := range target.databases {
		if !slices.Contains(dbs, d) {
			old.databases = append(old.databases, d)
		}
	}
	target.databases, target.roles = dbs, roles
	if err := s.followAuth(ctx, target); err != nil {
		return nil, nil, err
	}
	ops := recordOps(p, target, now, "create_timeline", "apply_config")
	if preserveAs == "" {
		return old, ops, nil
	}
	p.branches = append(p.branches, old)
	return &branch{project: p}, ops, nil
}

// followAuth points the target's Neon Auth at its restored database of the
// same name and reads the users there, making its table when the source
// had none. With no such database, or a table of the other generation, the
// integration ends. Callers hold s.mu.
func (s *Sandbox) followAuth(ctx context.Context, b *branch) error {
	in := b.auth
	if in == nil {
		return nil
	}
	d := b.databaseByName(in.db.name)
	if d == nil {
		s.forgetBranch(b)
		return nil
	}
	in.db = d
	pool, err := s.pg.pool(ctx, d.real)
	if err != nil {
		return err
	}
	users, err := provision(ctx, pool, in.provider)
	if errors.Is(err, errOtherGeneration) {
		s.forgetBranch(b)
		return nil
	}
	if err != nil {
		return err
	}
	clear(in.users)
	clear(in.emails)
	for _, u := range users {
		in.users[u.id] = &u
		if !u.deleted {
			in.emails[strings.ToLower(u.email)] = u.id
		}
	}
	return nil
}
