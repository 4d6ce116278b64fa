package sandbox

import (
	"net/http"
	"slices"
	"time"
)

func (s *Sandbox) listDatabases(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	body := struct {
		Databases []databaseJSON `json:"databases"`
	}{[]databaseJSON{}}
	for _, d := range b.databases {
		body.Databases = append(body.Databases, databaseToJSON(b, d))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Sandbox) getConnectionURI(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for _, name := range []string{"branch_id", "endpoint_id"} {
		if v := q.Get(name); v != "" && !idPattern.MatchString(v) {
			return badRequest("%s must match ^[a-z0-9-]{1,60}$", name)
		}
	}
	dbName, roleName := q.Get("database_name"), q.Get("role_name")
	if dbName == "" {
		return badRequest("database_name is required")
	}
	if roleName == "" {
		return badRequest("role_name is required")
	}
	if _, err := queryBool(q, "pooled"); err != nil {
		return err
	}

	s.mu.RLock()
	p, err := s.lookupProject(r)
	if err != nil {
		s.mu.RUnlock()
		return err
	}
	b := p.defaultBranch()
	if id := q.Get("branch_id"); id != "" {
		if b = p.branchByID(id); b == nil {
			s.mu.RUnlock()
			return notFound("branch %s not found in project %s", id, p.id)
		}
	}
	if id := q.Get("endpoint_id"); id != "" && !slices.ContainsFunc(b.endpoints, func(e *endpoint) bool { return e.id == id }) {
		s.mu.RUnlock()
		return notFound("endpoint %s not found on branch %s", id, b.id)
	}
	d := b.databaseByName(dbName)
	if d == nil {
		s.mu.RUnlock()
		return notFound("database %s not found on branch %s", dbName, b.id)
	}
	rl := b.roleByName(roleName)
	if rl == nil {
		s.mu.RUnlock()
		return notFound("role %s not found on branch %s", roleName, b.id)
	}
	if rl.noLogin {
		s.mu.RUnlock()
		return badRequest("role %s on branch %s cannot log in", roleName, b.id)
	}
	s.mu.RUnlock()

	if err := s.pg.ensure(r.Context(), d.real); err != nil {
		return err
	}
	if err := s.pg.ensureRole(r.Context(), rl.real); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		URI string `json:"uri"`
	}{s.pg.roleURL(d.real, rl.real)})
	return nil
}

func (s *Sandbox) getDatabase(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	name := r.PathValue("database_name")
	d := b.databaseByName(name)
	if d == nil {
		return notFound("database %s not found on branch %s", name, b.id)
	}
	writeJSON(w, http.StatusOK, struct {
		Database databaseJSON `json:"database"`
	}{databaseToJSON(b, d)})
	return nil
}

// createDatabaseRequest is DatabaseCreateRequest.
type createDatabaseRequest struct {
	Database *struct {
		Name      *string `json:"name"`
		OwnerName *string `json:"owner_name"`
	} `json:"database"`
}

// createDatabase is createProjectBranchDatabase. The real database is made on
// first use, as for Sandbox.CreateProject.
func (s *Sandbox) createDatabase(w http.ResponseWriter, r *http.Request) error {
	var req createDatabaseRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if req.Database == nil || req.Database.Name == nil || req.Database.OwnerName == nil {
		return badRequest("database.name and database.owner_name are required")
	}
	name, owner := *req.Database.Name, *req.Database.OwnerName
	if err := checkLen(&name, "database.name", 1, 63); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	if b.roleByName(owner) == nil {
		return notFound("role %s not found on branch %s", owner, b.id)
	}
	if b.databaseByName(name) != nil {
		return conflict("database %s already exists on branch %s", name, b.id)
	}
	s.dbSeq++
	now := time.Now().UTC().Truncate(time.Second)
	d := &database{id: 1000000 + s.dbSeq, name: name, owner: owner, createdAt: now, real: s.pg.newRealDB(s.dbSeq, name)}
	b.databases = append(b.databases, d)
	writeJSON(w, http.StatusCreated, struct {
		Database   databaseJSON    `json:"database"`
		Operations []operationJSON `json:"operations"`
	}{databaseToJSON(b, d), recordOps(p, b, now, "apply_config")})
	return nil
}
