package sandbox

import (
	"cmp"
	"context"
	"net/http"
	"strings"
	"time"
)

// CreatedProject names what CreateProject made.
type CreatedProject struct {
	ID           string
	Name         string
	BranchID     string // the default branch, "main"
	DatabaseName string
	RoleName     string
}

// CreateProject creates a project as createProject does, with its default
// branch "main", database "neondb" and role "neondb_owner"; an empty name
// defaults to the project id. Handy to seed demos and tests. Unlike
// createProject it leaves the real database to be created on first use
// (getConnectionURI, enabling Neon Auth), which keeps seeding cheap.
func (s *Sandbox) CreateProject(ctx context.Context, name string) (CreatedProject, error) {
	spec := projectSpec{name: name}
	p, err := s.newProject(ctx, spec.withDefaults(), false)
	if err != nil {
		return CreatedProject{}, err
	}
	b := p.branches[0]
	return CreatedProject{ID: p.id, Name: p.name, BranchID: b.id, DatabaseName: b.databases[0].name, RoleName: b.roles[0].name}, nil
}

// CreateSharedProject creates a project as CreateProject does, but owned by
// another account that shares it with the sandbox's with edit permission: it
// appears in listSharedProjects, not in listProjects, and every operation on
// it works.
func (s *Sandbox) CreateSharedProject(ctx context.Context, name string) (CreatedProject, error) {
	spec := projectSpec{name: name, ownerID: "other-" + s.accountID}
	p, err := s.newProject(ctx, spec.withDefaults(), false)
	if err != nil {
		return CreatedProject{}, err
	}
	b := p.branches[0]
	return CreatedProject{ID: p.id, Name: p.name, BranchID: b.id, DatabaseName: b.databases[0].name, RoleName: b.roles[0].name}, nil
}

// projectSpec is what a new project is made of.
type projectSpec struct {
	name, regionID, orgID, ownerID   string
	pgVersion, historyRetention      int
	historySet                       bool // historyRetention was given, even as 0
	branchName, roleName, databaseDB string
}

func (p projectSpec) withDefaults() projectSpec {
	p.regionID = cmp.Or(p.regionID, defaultRegion)
	p.pgVersion = cmp.Or(p.pgVersion, 17)
	if !p.historySet {
		p.historyRetention = 86400
	}
	p.branchName = cmp.Or(p.branchName, "main")
	p.roleName = cmp.Or(p.roleName, "neondb_owner")
	p.databaseDB = cmp.Or(p.databaseDB, "neondb")
	return p
}

// newProject records a new project. With eager it creates the real database
// first, so that the connection URI createProject answers works at once.
func (s *Sandbox) newProject(ctx context.Context, spec projectSpec, eager bool) (*project, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	now := time.Now().UTC().Truncate(time.Second)
	s.mu.Lock()
	s.dbSeq++
	dbSeq := s.dbSeq
	s.mu.Unlock()

	p := &project{
		name: spec.name, regionID: spec.regionID, platformID: regions[spec.regionID],
		orgID: spec.orgID, pgVersion: spec.pgVersion, historyRetention: spec.historyRetention,
		createdAt: now, opTime: s.cfg.OperationTime,
	}
	b := &branch{
		id: newChildID("br"), name: spec.branchName, project: p, isDefault: true,
		endpoints: []*endpoint{{id: newChildID("ep"), typ: "read_write", minCU: 0.25, maxCU: 2, createdAt: now}},
		createdAt: now, roles: []*role{s.newRole(spec.roleName, now, false)},
	}
	d := &database{
		id: 1000000 + dbSeq, name: spec.databaseDB, owner: spec.roleName, createdAt: now,
		real: s.pg.newRealDB(dbSeq, spec.databaseDB),
	}
	b.databases = []*database{d}
	p.branches = []*branch{b}
	p.ownerID = cmp.Or(spec.ownerID, s.accountID)

	if eager {
		// A client that gives up must not leave a half-made project behind.
		dbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.pg.ensure(dbCtx, d.real); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for p.id == "" || s.projects[p.id] != nil {
		p.id = newProjectID()
	}
	if p.name == "" {
		p.name = p.id
	}
	s.projSeq++
	p.seq = s.projSeq
	s.projects[p.id] = p
	s.order = append(s.order, p)
	recordOps(p, b, now, "create_timeline", "start_compute")
	return p, nil
}

// lookupProject returns the project named by the path, under s.mu.
func (s *Sandbox) lookupProject(r *http.Request) (*project, error) {
	id, err := pathID(r, "project_id")
	if err != nil {
		return nil, err
	}
	p := s.projects[id]
	if p == nil {
		return nil, notFound("project %s not found", id)
	}
	return p, nil
}

// lookupBranch returns the project and branch named by the path, under s.mu.
func (s *Sandbox) lookupBranch(r *http.Request) (*project, *branch, error) {
	p, err := s.lookupProject(r)
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r, "branch_id")
	if err != nil {
		return nil, nil, err
	}
	b := p.branchByID(id)
	if b == nil {
		return nil, nil, notFound("branch %s not found in project %s", id, p.id)
	}
	return p, b, nil
}

func (s *Sandbox) listProjects(w http.ResponseWriter, r *http.Request) error {
	return s.pageProjects(w, r, false)
}

// listSharedProjects is listSharedProjects: the projects of other accounts
// shared with the sandbox's (see CreateSharedProject).
func (s *Sandbox) listSharedProjects(w http.ResponseWriter, r *http.Request) error {
	return s.pageProjects(w, r, true)
}

// pageProjects answers a page of the sandbox account's own projects, or of
// those shared with it. The cursor is the id of the previous page's last
// project, in creation order.
func (s *Sandbox) pageProjects(w http.ResponseWriter, r *http.Request, shared bool) error {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 1, 400, 10)
	if err != nil {
		return err
	}
	if _, err := queryInt(q, "timeout", 100, 30000, 0); err != nil {
		return err
	}
	orgID := ""
	if !shared {
		if _, err := queryBool(q, "recoverable"); err != nil {
			return err
		}
		if orgID = q.Get("org_id"); orgID != "" && !idPattern.MatchString(orgID) {
			return badRequest("org_id must match ^[a-z0-9-]{1,60}$")
		}
	}
	search := strings.ToLower(q.Get("search"))
	cursor := q.Get("cursor")

	s.mu.RLock()
	defer s.mu.RUnlock()
	start := 0
	if cursor != "" {
		after := s.projects[cursor]
		if after == nil {
			return badRequest("cursor %q does not come from a previous page", cursor)
		}
		start = int(after.seq) // seq is 1-based: the next project's index
	}
	type pagination struct {
		Cursor string `json:"cursor"`
	}
	body := struct {
		Projects     []projectListItemJSON `json:"projects"`
		Pagination   *pagination           `json:"pagination,omitempty"`
		Applications *map[string][]string  `json:"applications,omitempty"`
		Integrations *map[string][]string  `json:"integrations,omitempty"`
	}{Projects: []projectListItemJSON{}}
	if !shared {
		body.Applications, body.Integrations = &map[string][]string{}, &map[string][]string{}
	}
	for _, p := range s.order[min(start, len(s.order)):] {
		if len(body.Projects) == limit {
			break
		}
		if p.deleted || (p.ownerID != s.accountID) != shared || (orgID != "" && p.orgID != orgID) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(p.name), search) && !strings.Contains(p.id, search) {
			continue
		}
		body.Projects = append(body.Projects, s.projectListItemJSON(p))
	}
	if n := len(body.Projects); n > 0 {
		body.Pagination = &pagination{body.Projects[n-1].ID}
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// createProjectRequest is the part of ProjectCreateRequest the sandbox uses;
// other fields are accepted and ignored.
type createProjectRequest struct {
	Project *struct {
		Name                    *string `json:"name"`
		RegionID                *string `json:"region_id"`
		PgVersion               *int    `json:"pg_version"`
		HistoryRetentionSeconds *int    `json:"history_retention_seconds"`
		OrgID                   *string `json:"org_id"`
		Branch                  *struct {
			Name         *string `json:"name"`
			RoleName     *string `json:"role_name"`
			DatabaseName *string `json:"database_name"`
		} `json:"branch"`
	} `json:"project"`
}

func (s *Sandbox) createProjectHTTP(w http.ResponseWriter, r *http.Request) error {
	var req createProjectRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if req.Project == nil {
		return badRequest("project is required")
	}
	in := req.Project
	spec := projectSpec{name: deref(in.Name), regionID: deref(in.RegionID), orgID: deref(in.OrgID)}
	if err := checkLen(in.Name, "project.name", 1, 256); err != nil {
		return err
	}
	if in.RegionID != nil && regions[*in.RegionID] == "" {
		return badRequest("project.region_id %q is not a region the sandbox knows", *in.RegionID)
	}
	if in.PgVersion != nil {
		if *in.PgVersion < 14 || *in.PgVersion > 18 {
			return badRequest("project.pg_version must be from 14 to 18")
		}
		spec.pgVersion = *in.PgVersion
	}
	if in.HistoryRetentionSeconds != nil {
		if *in.HistoryRetentionSeconds < 0 || *in.HistoryRetentionSeconds > 2592000 {
			return badRequest("project.history_retention_seconds must be from 0 to 2592000")
		}
		spec.historyRetention, spec.historySet = *in.HistoryRetentionSeconds, true
	}
	if in.OrgID != nil && !idPattern.MatchString(*in.OrgID) {
		return badRequest("project.org_id must match ^[a-z0-9-]{1,60}$")
	}
	if br := in.Branch; br != nil {
		if err := checkLen(br.Name, "project.branch.name", 1, 256); err != nil {
			return err
		}
		if err := checkLen(br.RoleName, "project.branch.role_name", 1, 63); err != nil {
			return err
		}
		if err := checkLen(br.DatabaseName, "project.branch.database_name", 1, 63); err != nil {
			return err
		}
		spec.branchName, spec.roleName, spec.databaseDB = deref(br.Name), deref(br.RoleName), deref(br.DatabaseName)
	}
	spec = spec.withDefaults()
	p, err := s.newProject(r.Context(), spec, true)
	if err != nil {
		return err
	}
	// The project exists now: its owner role must too, client or not.
	roleCtx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	if err := s.ensureOwners(roleCtx, p.branches[0]); err != nil {
		return err
	}

	s.mu.RLock()
	b := p.branches[0]
	d := b.databases[0]
	role := roleToJSON(b, b.roles[0])
	role.Password = b.roles[0].real.secret()
	ops := make([]operationJSON, 0, len(p.operations))
	for _, o := range p.operations {
		ops = append(ops, operationToJSON(p, o))
	}
	body := createdProjectJSON{
		Project:        s.projectJSON(p),
		ConnectionURIs: []connectionDetailsJSON{s.connectionDetails(b, d)},
		Roles:          []roleJSON{role},
		Databases:      []databaseJSON{databaseToJSON(b, d)},
		Operations:     ops,
		Branch:         branchToJSON(b),
		Endpoints:      s.endpointsJSON(b),
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusCreated, body)
	return nil
}

func (s *Sandbox) getProject(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Project projectJSON `json:"project"`
	}{s.projectJSON(p)})
	return nil
}
