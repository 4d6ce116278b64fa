package sandbox

import (
	"net/http"
	"slices"
	"time"
)

// recordOps logs actions on branch b as operations and returns them as
// answered. They run one after the other, each for the project's operation
// time (see operationToJSON). Callers hold s.mu, or own p before it is
// published.
func recordOps(p *project, b *branch, at time.Time, actions ...string) []operationJSON {
	ep := ""
	if e := b.readWriteEndpoint(); e != nil {
		ep = e.id
	}
	return recordEndpointOps(p, b.id, ep, at, actions...)
}

// listOperations is listProjectOperations: newest first. The cursor is the id
// of the last operation of the previous page; without a limit every
// operation is answered.
func (s *Sandbox) listOperations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 1, 1000, 0)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	ops := slices.Clone(p.operations)
	slices.Reverse(ops)
	if c := q.Get("cursor"); c != "" {
		i := slices.IndexFunc(ops, func(o *operation) bool { return o.id == c })
		if i < 0 {
			return badRequest("cursor does not come from a previous page")
		}
		ops = ops[i+1:]
	}
	if limit > 0 && len(ops) > limit {
		ops = ops[:limit]
	}
	type pagination struct {
		Cursor string `json:"cursor"`
	}
	body := struct {
		Operations []operationJSON `json:"operations"`
		Pagination *pagination     `json:"pagination,omitempty"`
	}{Operations: []operationJSON{}}
	for _, o := range ops {
		body.Operations = append(body.Operations, operationToJSON(p, o))
	}
	if n := len(ops); n > 0 {
		body.Pagination = &pagination{ops[n-1].id}
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
