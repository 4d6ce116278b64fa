package sandbox

import (
	"net/http"
	"time"

	"github.com/google/uuid"
)

// DefaultOperationTime is how long each operation runs when
// Config.OperationTime is zero: about what Neon takes to apply a
// configuration or start a compute.
const DefaultOperationTime = 300 * time.Millisecond

// recordEndpointOps logs actions on a branch and endpoint (either may be
// empty) and returns them as answered. The changes they stand for are made
// before the answer; the operations only report them running for the
// project's operation time each, one after the other: "scheduling", then
// "running", then "finished". Callers hold s.mu, or own p before it is
// published.
func recordEndpointOps(p *project, branchID, endpointID string, at time.Time, actions ...string) []operationJSON {
	now := time.Now()
	out := make([]operationJSON, 0, len(actions))
	for i, a := range actions {
		o := &operation{
			id: uuid.NewString(), branchID: branchID, endpointID: endpointID, action: a, createdAt: at,
			started: now.Add(time.Duration(i) * p.opTime), finishes: now.Add(time.Duration(i+1) * p.opTime),
		}
		p.operations = append(p.operations, o)
		out = append(out, operationToJSON(p, o))
	}
	return out
}

// operationToJSON answers o as it stands now.
func operationToJSON(p *project, o *operation) operationJSON {
	now := time.Now()
	j := operationJSON{
		ID: o.id, ProjectID: p.id, BranchID: o.branchID, EndpointID: o.endpointID,
		Action: o.action, CreatedAt: o.createdAt, UpdatedAt: o.createdAt,
	}
	switch {
	case now.Before(o.started):
		j.Status = "scheduling"
	case now.Before(o.finishes):
		j.Status = "running"
		j.TotalDurationMS = int(now.Sub(o.started).Milliseconds())
		j.UpdatedAt = o.started.UTC().Truncate(time.Second)
	default:
		j.Status = "finished"
		j.TotalDurationMS = max(1, int(o.finishes.Sub(o.started).Milliseconds()))
		j.UpdatedAt = o.finishes.UTC().Truncate(time.Second)
	}
	if j.UpdatedAt.Before(j.CreatedAt) {
		j.UpdatedAt = j.CreatedAt
	}
	return j
}

// getOperation is getProjectOperation.
func (s *Sandbox) getOperation(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("operation_id")
	if _, err := uuid.Parse(id); err != nil {
		return badRequest("operation_id must be a uuid")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.lookupProject(r)
	if err != nil {
		return err
	}
	for _, o := range p.operations {
		if o.id == id {
			writeJSON(w, http.StatusOK, struct {
				Operation operationJSON `json:"operation"`
			}{operationToJSON(p, o)})
			return nil
		}
	}
	return notFound("operation %s not found in project %s", id, p.id)
}
