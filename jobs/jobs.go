// Package jobs runs the dashboard's work that outlives a request (index
// builds, bulk session revocations) and records the work that runs within
// one but must be concluded if its replica dies (settings copies).
//
// With a state store, every job is a row of dashboard_state.jobs leased by
// the replica running it: the runner heartbeats its jobs every lease/3, and
// every lease/2 takes over the jobs whose lease ran out because their
// replica died. Index builds and revocations resume there; a copy never
// does (its secrets were only in the dead replica's memory, and the write
// it had in flight has an unknown outcome), so it is concluded as failed,
// step by step. Without a store the same runner keeps its jobs in memory,
// for one replica.
package jobs

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/neonauth-admin/dashboard/state"
)

// Status is where a job is in its life.
type Status string

// The statuses of a job; queued and running ones hold their key.
const (
	Queued  Status = "queued"
	Running Status = "running"
	Done    Status = "done"
	Failed  Status = "failed"
)

// The kinds of job.
const (
	KindIndexBuild     = "index.build"
	KindSessionsRevoke = "sessions.revoke"
	KindSettingsCopy   = "settings.copy"
)

// Progress is how far a job got. Done and Total count what it works
// through (sessions revoked of those matched, a copy's steps applied of
// all); a copy also names its steps, so that a copy concluded by another
// replica says which were applied, which one may have been made and which
// were never attempted.
type Progress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Words string `json:"words,omitempty"`
	// Steps are a copy's steps in order, by title; InFlight is the one
	// being made, -1 (or absent) between steps.
	Steps    []string `json:"steps,omitempty"`
	InFlight *int     `json:"in_flight,omitempty"`
	// A concluded copy's steps, by title.
	Applied      []string `json:"applied,omitempty"`
	Failed       []string `json:"failed,omitempty"`
	Unknown      []string `json:"unknown,omitempty"`
	NotAttempted []string `json:"not_attempted,omitempty"`
}

// Job is one job as the pages show it.
type Job struct {
	ID       int64
	Kind     string
	Key      string
	Target   string
	Status   Status
	Replica  string
	Attempts int
	Progress Progress
	Result   string
	Error    string
	// CreatedBy is who started it.
	CreatedBy  string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// LeaseAge is how long ago the replica holding a running job last said
	// it was alive; zero for other jobs.
	LeaseAge time.Duration

	params    json.RawMessage
	heartbeat time.Time // the memory backend's last heartbeat
}

// Active reports whether the job is queued or running.
func (j Job) Active() bool { return j.Status == Queued || j.Status == Running }

// Params decodes the job's parameters into v.
func (j Job) Params(v any) error { return json.Unmarshal(j.params, v) }

// Spec is a job to start.
type Spec struct {
	Kind string
	// Key names what the job works on; one active job per key.
	Key string
	// Target is the project and branch, in words, for the jobs page.
	Target    string
	CreatedBy string
	// Params are the job's inputs, encoded as JSON: never a secret.
	Params   any
	Progress Progress
}

// Errors of the runner.
var (
	// ErrActive refuses a job whose key an active job holds.
	ErrActive = errors.New("jobs: a job on the same thing is queued or running")
	// ErrLeaseLost stops a job another replica took over.
	ErrLeaseLost = errors.New("jobs: another replica took the job over")
	// ErrNotFound reports no job under a key.
	ErrNotFound = errors.New("jobs: no such job")
	// ErrClosed refuses a job once the runner is shutting down.
	ErrClosed = errors.New("jobs: the dashboard is shutting down")
	// errShutdown is the cause a running job is cancelled with when the
	// runner closes: it gives the job back rather than failing it.
	errShutdown = errors.New("jobs: shutting down")
)

// fromState is a stored job as the pages see it.
func fromState(s state.Job) Job {
	j := Job{
		ID: s.ID, Kind: s.Kind, Key: s.Key, Target: s.Target, Status: Status(s.Status), Replica: s.Replica,
		Attempts: s.Attempts, Result: s.Result, Error: s.Error, CreatedBy: s.CreatedBy,
		CreatedAt: s.CreatedAt, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, params: s.Params,
	}
	_ = json.Unmarshal(s.Progress, &j.Progress)
	if j.Status == Running && !s.HeartbeatAt.IsZero() {
		j.LeaseAge = max(s.Now.Sub(s.HeartbeatAt), 0)
	}
	return j
}
