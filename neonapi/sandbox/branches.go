package sandbox

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
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
