package sandbox

import (
	"cmp"
	"context"
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

func (s *Sandbox) listBranches(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 1, 10000, 0)
	if err != nil {
		return err
	}
	sortBy := cmp.Or(q.Get("sort_by"), "updated_at")
	if sortBy != "name" && sortBy != "created_at" && sortBy != "updated_at" {
		return badRequest("sort_by must be name, created_at or updated_at")
	}
	order := cmp.Or(q.Get("sort_order"), "desc")
	if order != "asc" && order != "desc" {
		return badRequest("sort_order must be asc or desc")
	}
	if _, err := queryBool(q, "include_deleted"); err != nil {
		return err
	}
	search := strings.ToLower(q.Get("search"))

	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	var list []*branch
	for _, b := range p.branches {
		if search == "" || strings.Contains(strings.ToLower(b.name), search) || strings.Contains(b.id, search) {
			list = append(list, b)
		}
	}
	slices.SortStableFunc(list, func(a, b *branch) int {
		c := 0
		switch sortBy {
		case "name":
			c = strings.Compare(a.name, b.name)
		default: // created_at and updated_at are equal: branches never change
			c = a.createdAt.Compare(b.createdAt)
		}
		c = cmp.Or(c, strings.Compare(a.id, b.id))
		if order == "desc" {
			c = -c
		}
		return c
	})
	if c := q.Get("cursor"); c != "" {
		after, err := base64.RawURLEncoding.DecodeString(c)
		i := slices.IndexFunc(list, func(b *branch) bool { return b.id == string(after) })
		if err != nil || i < 0 {
			return badRequest("cursor does not come from a previous page")
		}
		list = list[i+1:]
	}
	type pagination struct {
		Next      string `json:"next,omitempty"`
		SortBy    string `json:"sort_by"`
		SortOrder string `json:"sort_order"`
	}
	body := struct {
		Branches    []branchJSON   `json:"branches"`
		Annotations map[string]any `json:"annotations"`
		Pagination  pagination     `json:"pagination"`
	}{Branches: []branchJSON{}, Annotations: map[string]any{}, Pagination: pagination{SortBy: sortBy, SortOrder: order}}
	if limit > 0 && len(list) > limit {
		list = list[:limit]
		body.Pagination.Next = base64.RawURLEncoding.EncodeToString([]byte(list[limit-1].id))
	}
	for _, b := range list {
		body.Branches = append(body.Branches, branchToJSON(b))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// annotationJSON is the spec's AnnotationData for a branch.
type annotationJSON struct {
	Object struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"object"`
	Value     map[string]string `json:"value"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

func (s *Sandbox) getBranch(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	var a annotationJSON
	a.Object.Type, a.Object.ID = "console/branch", b.id
	a.Value = maps.Clone(b.annotation)
	if a.Value == nil {
		a.Value = map[string]string{}
	}
	a.CreatedAt, a.UpdatedAt = b.createdAt, b.createdAt
	writeJSON(w, http.StatusOK, struct {
		Branch     branchJSON     `json:"branch"`
		Annotation annotationJSON `json:"annotation"`
	}{branchToJSON(b), a})
	return nil
}

func (s *Sandbox) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, b, err := s.lookupBranch(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Endpoints []endpointJSON `json:"endpoints"`
	}{s.endpointsJSON(b)})
	return nil
}

// createBranchRequest is BranchCreateRequest with AnnotationCreateValueRequest;
// fields the sandbox does not model (settings, expiry, archiving) are
// accepted and ignored.
type createBranchRequest struct {
	Branch *struct {
		ParentID        *string `json:"parent_id"`
		Name            *string `json:"name"`
		ParentLSN       *string `json:"parent_lsn"`
		ParentTimestamp *string `json:"parent_timestamp"`
		Protected       *bool   `json:"protected"`
		InitSource      *string `json:"init_source"`
	} `json:"branch"`
	Endpoints []struct {
		Type                  *string  `json:"type"`
		AutoscalingLimitMinCU *float64 `json:"autoscaling_limit_min_cu"`
		AutoscalingLimitMaxCU *float64 `json:"autoscaling_limit_max_cu"`
	} `json:"endpoints"`
	AnnotationValue map[string]string `json:"annotation_value"`
}

// branchSpecFrom checks a createProjectBranch body.
func branchSpecFrom(req createBranchRequest) (branchSpec, error) {
	spec := branchSpec{annotation: req.AnnotationValue}
	if br := req.Branch; br != nil {
		if br.ParentID != nil && !idPattern.MatchString(*br.ParentID) {
			return spec, badRequest("branch.parent_id must match ^[a-z0-9-]{1,60}$")
		}
		if err := checkLen(br.Name, "branch.name", 1, 256); err != nil {
			return spec, err
		}
		if br.ParentLSN != nil || br.ParentTimestamp != nil {
			return spec, badRequest("the sandbox keeps no history: leave out parent_lsn and parent_timestamp to branch from the parent's current state")
		}
		switch deref(br.InitSource) {
		case "", "parent-data":
		case "schema-only":
			spec.schemaOnly = true
		default:
			return spec, badRequest("branch.init_source must be parent-data or schema-only")
		}
		spec.parentID, spec.name = deref(br.ParentID), deref(br.Name)
		spec.protected = br.Protected != nil && *br.Protected
	}
	readWrite := 0
	for i, e := range req.Endpoints {
		t := deref(e.Type)
		if t != "read_write" && t != "read_only" {
			return spec, badRequest("endpoints[%d].type must be read_write or read_only", i)
		}
		if t == "read_write" {
			if readWrite++; readWrite > 1 {
				return spec, badRequest("a branch can have only one read_write endpoint")
			}
		}
		ep := &endpoint{typ: t, minCU: 0.25, maxCU: 2}
		if e.AutoscalingLimitMinCU != nil {
			ep.minCU = *e.AutoscalingLimitMinCU
		}
		if e.AutoscalingLimitMaxCU != nil {
			ep.maxCU = *e.AutoscalingLimitMaxCU
		}
		if ep.minCU < 0.25 || ep.maxCU < ep.minCU {
			return spec, badRequest("endpoints[%d]: autoscaling limits must be at least 0.25 and max at least min", i)
		}
		spec.endpoints = append(spec.endpoints, ep)
	}
	return spec, nil
}

// createBranchHTTP is createProjectBranch. Without a body it branches the
// default branch, with a generated name and no endpoint.
func (s *Sandbox) createBranchHTTP(w http.ResponseWriter, r *http.Request) error {
	projectID, err := pathID(r, "project_id")
	if err != nil {
		return err
	}
	var req createBranchRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	spec, err := branchSpecFrom(req)
	if err != nil {
		return err
	}
	b, ops, err := s.createBranch(r.Context(), origin(r), projectID, spec)
	if err != nil {
		return err
	}
	if len(b.endpoints) > 0 {
		// The answer's connection URIs must work; the branch exists already.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
		defer cancel()
		if err := s.ensureOwners(ctx, b); err != nil {
			return err
		}
	}
	s.mu.RLock()
	body := struct {
		Branch         branchJSON              `json:"branch"`
		Endpoints      []endpointJSON          `json:"endpoints"`
		Operations     []operationJSON         `json:"operations"`
		Roles          []roleJSON              `json:"roles"`
		Databases      []databaseJSON          `json:"databases"`
		ConnectionURIs []connectionDetailsJSON `json:"connection_uris,omitempty"`
	}{Branch: branchToJSON(b), Endpoints: s.endpointsJSON(b), Operations: ops, Roles: []roleJSON{}, Databases: []databaseJSON{}}
	for _, rl := range b.roles {
		body.Roles = append(body.Roles, roleToJSON(b, rl))
	}
	for _, d := range b.databases {
		body.Databases = append(body.Databases, databaseToJSON(b, d))
		if len(b.endpoints) > 0 {
			body.ConnectionURIs = append(body.ConnectionURIs, s.connectionDetails(b, d))
		}
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusCreated, body)
	return nil
}
