package sandbox

import "net/http"

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
	if id := q.Get("endpoint_id"); id != "" && id != b.endpointID {
		s.mu.RUnlock()
		return notFound("endpoint %s not found on branch %s", id, b.id)
	}
	d := b.databaseByName(dbName)
	if d == nil {
		s.mu.RUnlock()
		return notFound("database %s not found on branch %s", dbName, b.id)
	}
	if b.roleByName(roleName) == nil {
		s.mu.RUnlock()
		return notFound("role %s not found on branch %s", roleName, b.id)
	}
	s.mu.RUnlock()

	if err := s.pg.ensure(r.Context(), d.real); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		URI string `json:"uri"`
	}{s.pg.url(d.real)})
	return nil
}
