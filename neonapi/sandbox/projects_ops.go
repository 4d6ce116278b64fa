package sandbox

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"
)

// updateProjectRequest is the part of ProjectUpdateRequest the sandbox
// models; settings and default endpoint settings are accepted and ignored.
type updateProjectRequest struct {
	Project *struct {
		Name                    *string `json:"name"`
		HistoryRetentionSeconds *int    `json:"history_retention_seconds"`
	} `json:"project"`
}

// updateProject is updateProject: the name and the history retention.
func (s *Sandbox) updateProject(w http.ResponseWriter, r *http.Request) error {
	var req updateProjectRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if req.Project == nil {
		return badRequest("project is required")
	}
	if err := checkLen(req.Project.Name, "project.name", 1, 256); err != nil {
		return err
	}
	if h := req.Project.HistoryRetentionSeconds; h != nil && (*h < 0 || *h > 2592000) {
		return badRequest("project.history_retention_seconds must be from 0 to 2592000")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	if n := req.Project.Name; n != nil {
		p.name = *n
	}
	if h := req.Project.HistoryRetentionSeconds; h != nil {
		p.historyRetention = *h
	}
	writeJSON(w, http.StatusOK, struct {
		Project    projectJSON     `json:"project"`
		Operations []operationJSON `json:"operations"`
	}{s.projectJSON(p), []operationJSON{}})
	return nil
}

// deleteProject is deleteProject: every branch's databases and roles are
// dropped and its Neon Auth forgotten. The project answers 404 from then
// on.
func (s *Sandbox) deleteProject(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	p, err := s.lookupProject(r)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if slices.ContainsFunc(p.branches, func(b *branch) bool { return b.creating }) {
		s.mu.Unlock()
		return locked("a branch of project %s is still being created or restored", p.id)
	}
	delete(s.projects, p.id)
	p.deleted = true
	branches := slices.Clone(p.branches)
	for _, b := range branches {
		s.forgetBranch(b)
	}
	body := struct {
		Project projectJSON `json:"project"`
	}{s.projectJSON(p)}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	var errs []error
	for _, b := range branches {
		errs = append(errs, s.dropBranchData(ctx, b))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
