package sandbox

import (
	"net/http"
	"slices"
	"time"
)

// Endpoints are records with a state: "active" once started, "idle" once
// suspended (or disabled). The sandbox has no computes, so every connection
// URI reaches the backing server whatever the state.
const (
	endpointActive = "active"
	endpointIdle   = "idle"
)

// endpointFields are the settings createProjectEndpoint and
// updateProjectEndpoint share.
type endpointFields struct {
	BranchID              *string  `json:"branch_id"`
	RegionID              *string  `json:"region_id"`
	Type                  *string  `json:"type"`
	AutoscalingLimitMinCU *float64 `json:"autoscaling_limit_min_cu"`
	AutoscalingLimitMaxCU *float64 `json:"autoscaling_limit_max_cu"`
	Disabled              *bool    `json:"disabled"`
	SuspendTimeoutSeconds *int64   `json:"suspend_timeout_seconds"`
	Name                  *string  `json:"name"`
}

// endpointRequest is EndpointCreateRequest and EndpointUpdateRequest.
type endpointRequest struct {
	Endpoint *endpointFields `json:"endpoint"`
}

// check validates the fields present.
func (f *endpointFields) check() error {
	if f.BranchID != nil && !idPattern.MatchString(*f.BranchID) {
		return badRequest("endpoint.branch_id must match ^[a-z0-9-]{1,60}$")
	}
	if t := f.Type; t != nil && *t != "read_write" && *t != "read_only" {
		return badRequest("endpoint.type must be read_write or read_only")
	}
	for _, cu := range []*float64{f.AutoscalingLimitMinCU, f.AutoscalingLimitMaxCU} {
		if cu != nil && *cu < 0.25 {
			return badRequest("endpoint autoscaling limits must be at least 0.25")
		}
	}
	if t := f.SuspendTimeoutSeconds; t != nil && (*t < -1 || *t > 604800 || (*t > 0 && *t < 60)) {
		return badRequest("endpoint.suspend_timeout_seconds must be -1, 0 or from 60 to 604800")
	}
	return checkLen(f.Name, "endpoint.name", 1, 64)
}

// apply sets the present fields on e, checking the autoscaling range.
func (f *endpointFields) apply(e *endpoint) error {
	minCU, maxCU := e.minCU, e.maxCU
	if f.AutoscalingLimitMinCU != nil {
		minCU = *f.AutoscalingLimitMinCU
	}
	if f.AutoscalingLimitMaxCU != nil {
		maxCU = *f.AutoscalingLimitMaxCU
	}
	if maxCU < minCU {
		return badRequest("endpoint.autoscaling_limit_max_cu must be at least autoscaling_limit_min_cu")
	}
	e.minCU, e.maxCU = minCU, maxCU
	if f.SuspendTimeoutSeconds != nil {
		e.suspendTimeout = *f.SuspendTimeoutSeconds
	}
	if f.Name != nil {
		e.name = *f.Name
	}
	if f.Disabled != nil {
		e.disabled = *f.Disabled
		if e.disabled {
			e.state = endpointIdle
		}
	}
	return nil
}

// lookupEndpoint returns the project, the branch and the endpoint named by
// the path, under s.mu.
func (s *Sandbox) lookupEndpoint(r *http.Request) (*project, *branch, *endpoint, error) {
	p, err := s.lookupProject(r)
	if err != nil {
		return nil, nil, nil, err
	}
	id, err := pathID(r, "endpoint_id")
	if err != nil {
		return nil, nil, nil, err
	}
	for _, b := range p.branches {
		for _, e := range b.endpoints {
			if e.id == id {
				return p, b, e, nil
			}
		}
	}
	return nil, nil, nil, notFound("endpoint %s not found in project %s", id, p.id)
}

// writeEndpointOps answers EndpointOperations.
func (s *Sandbox) writeEndpointOps(w http.ResponseWriter, status int, b *branch, e *endpoint, ops []operationJSON) {
	writeJSON(w, status, struct {
		Endpoint   endpointJSON    `json:"endpoint"`
		Operations []operationJSON `json:"operations"`
	}{s.endpointJSON(b, e), ops})
}

// listProjectEndpoints is listProjectEndpoints: every branch's endpoints.
func (s *Sandbox) listProjectEndpoints(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	list := []endpointJSON{}
	for _, b := range p.branches {
		list = append(list, s.endpointsJSON(b)...)
	}
	writeJSON(w, http.StatusOK, struct {
		Endpoints []endpointJSON `json:"endpoints"`
	}{list})
	return nil
}

// createEndpoint is createProjectEndpoint: a started endpoint on a branch,
// at most one read_write per branch (409), in the project's region only.
func (s *Sandbox) createEndpoint(w http.ResponseWriter, r *http.Request) error {
	var req endpointRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	f := req.Endpoint
	if f == nil || f.BranchID == nil || f.Type == nil {
		return badRequest("endpoint.branch_id and endpoint.type are required")
	}
	if err := f.check(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	b := p.branchByID(*f.BranchID)
	if b == nil {
		return notFound("branch %s not found in project %s", *f.BranchID, p.id)
	}
	if f.RegionID != nil && *f.RegionID != p.regionID {
		return badRequest("endpoint.region_id must be the project's region, %s", p.regionID)
	}
	if *f.Type == "read_write" && b.readWriteEndpoint() != nil {
		return conflict("branch %s already has a read_write endpoint", b.id)
	}
	now := time.Now().UTC().Truncate(time.Second)
	e := &endpoint{id: newChildID("ep"), typ: *f.Type, minCU: 0.25, maxCU: 2, createdAt: now, state: endpointActive}
	if err := f.apply(e); err != nil {
		return err
	}
	b.endpoints = append(b.endpoints, e)
	actions := []string{"start_compute"}
	if e.disabled {
		actions = []string{"apply_config"}
	}
	s.writeEndpointOps(w, http.StatusCreated, b, e, recordEndpointOps(p, b.id, e.id, now, actions...))
	return nil
}

// getEndpoint is getProjectEndpoint.
func (s *Sandbox) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, b, e, err := s.lookupEndpoint(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Endpoint endpointJSON `json:"endpoint"`
	}{s.endpointJSON(b, e)})
	return nil
}

// updateEndpoint is updateProjectEndpoint. Disabling suspends; moving to
// another branch (the deprecated branch_id) needs that branch to have no
// read_write endpoint.
func (s *Sandbox) updateEndpoint(w http.ResponseWriter, r *http.Request) error {
	var req endpointRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	f := req.Endpoint
	if f == nil {
		return badRequest("endpoint is required")
	}
	if err := f.check(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, b, e, err := s.lookupEndpoint(r)
	if err != nil {
		return err
	}
	dest := b
	if f.BranchID != nil && *f.BranchID != b.id {
		if dest = p.branchByID(*f.BranchID); dest == nil {
			return notFound("branch %s not found in project %s", *f.BranchID, p.id)
		}
		if e.typ == "read_write" && dest.readWriteEndpoint() != nil {
			return conflict("branch %s already has a read_write endpoint", dest.id)
		}
	}
	wasDisabled := e.disabled
	next := *e
	if err := f.apply(&next); err != nil {
		return err
	}
	*e = next
	now := time.Now().UTC().Truncate(time.Second)
	e.updatedAt = now
	if dest != b {
		b.endpoints = slices.DeleteFunc(b.endpoints, func(x *endpoint) bool { return x == e })
		dest.endpoints = append(dest.endpoints, e)
	}
	action := "apply_config"
	if e.disabled && !wasDisabled {
		action = "suspend_compute"
	}
	s.writeEndpointOps(w, http.StatusOK, dest, e, recordEndpointOps(p, dest.id, e.id, now, action))
	return nil
}

// deleteEndpoint is deleteProjectEndpoint.
func (s *Sandbox) deleteEndpoint(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, b, e, err := s.lookupEndpoint(r)
	if err != nil {
		return err
	}
	b.endpoints = slices.DeleteFunc(b.endpoints, func(x *endpoint) bool { return x == e })
	var ops []operationJSON
	now := time.Now().UTC().Truncate(time.Second)
	if e.state != endpointIdle {
		ops = recordEndpointOps(p, b.id, e.id, now, "suspend_compute")
	} else {
		ops = []operationJSON{}
	}
	e.state, e.updatedAt = endpointIdle, now
	s.writeEndpointOps(w, http.StatusOK, b, e, ops)
	return nil
}

// startEndpoint, suspendEndpoint and restartEndpoint are
// startProjectEndpoint, suspendProjectEndpoint and restartProjectEndpoint.
// A disabled endpoint cannot start (409).
func (s *Sandbox) startEndpoint(w http.ResponseWriter, r *http.Request) error {
	return s.changeEndpointState(w, r, endpointActive, "start_compute")
}

func (s *Sandbox) suspendEndpoint(w http.ResponseWriter, r *http.Request) error {
	return s.changeEndpointState(w, r, endpointIdle, "suspend_compute")
}

func (s *Sandbox) restartEndpoint(w http.ResponseWriter, r *http.Request) error {
	return s.changeEndpointState(w, r, endpointActive, "suspend_compute", "start_compute")
}

// changeEndpointState moves the endpoint to state, logging actions.
func (s *Sandbox) changeEndpointState(w http.ResponseWriter, r *http.Request, state string, actions ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, b, e, err := s.lookupEndpoint(r)
	if err != nil {
		return err
	}
	if state == endpointActive && e.disabled {
		return conflict("endpoint %s is disabled: enable it with updateProjectEndpoint first", e.id)
	}
	now := time.Now().UTC().Truncate(time.Second)
	e.state, e.updatedAt = state, now
	s.writeEndpointOps(w, http.StatusOK, b, e, recordEndpointOps(p, b.id, e.id, now, actions...))
	return nil
}
