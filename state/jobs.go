package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// JobStatus is where a job is in its life.
type JobStatus string

// The statuses of a job. A queued or running job holds its key: no other
// job with the same key may be enqueued until it is done or failed.
const (
	JobQueued  JobStatus = "queued"
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed"
)

// Job is one row of dashboard_state.jobs.
type Job struct {
	ID     int64
	Kind   string
	Key    string
	Target string
	// Params and Progress are JSON; neither ever holds a secret.
	Params   json.RawMessage
	Status   JobStatus
	Replica  string
	Attempts int
	Progress json.RawMessage
	Result   string
	Error    string
	// CreatedBy is the actor who started the job.
	CreatedBy string
	// LeaseUntil and HeartbeatAt are zero when no replica holds the job.
	LeaseUntil, HeartbeatAt time.Time
	CreatedAt               time.Time
	StartedAt, FinishedAt   time.Time
	// Now is the store's clock when the row was read, so that a lease's age
	// is measured on one clock whichever replica reads it.
	Now time.Time
}

// NewJob is what EnqueueJob records.
type NewJob struct {
	Kind, Key, Target string
	Params, Progress  json.RawMessage
	CreatedBy         string
}

// Errors of the job store.
var (
	// ErrJobActive refuses a job whose key a queued or running job holds.
	ErrJobActive = errors.New("state: a job with this key is queued or running")
	// ErrLeaseLost reports a job this replica no longer holds: its lease
	// ran out and another replica took it over, or it ended.
	ErrLeaseLost = errors.New("state: this replica no longer holds the job's lease")
	// ErrJobNotFound reports no job with that id or key.
	ErrJobNotFound = errors.New("state: no such job")
)

const jobColumns = `id, kind, key, target, params, status, replica, attempts, progress, result, error, created_by,
 lease_until, heartbeat_at, created_at, started_at, finished_at, now()`

func scanJob(row pgx.Row) (Job, error) {
	var j Job
	var status string
	var lease, beat, started, finished pgtype.Timestamptz
	err := row.Scan(&j.ID, &j.Kind, &j.Key, &j.Target, &j.Params, &status, &j.Replica, &j.Attempts, &j.Progress,
		&j.Result, &j.Error, &j.CreatedBy, &lease, &beat, &j.CreatedAt, &started, &finished, &j.Now)
	j.Status = JobStatus(status)
	j.LeaseUntil, j.HeartbeatAt, j.StartedAt, j.FinishedAt = lease.Time, beat.Time, started.Time, finished.Time
	return j, err
}

// leaseMillis is a lease as the statements take it.
func leaseMillis(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// EnqueueJob records j as running on this replica, its lease ending after
// lease: the replica that enqueues a job runs it. ErrJobActive when a job
// with its key is queued or running.
func (s *Store) EnqueueJob(ctx context.Context, j NewJob, lease time.Duration) (Job, error) {
	params, progress := orEmpty(j.Params), orEmpty(j.Progress)
	row := s.pool.QueryRow(ctx, `INSERT INTO dashboard_state.jobs
 (kind, key, target, params, progress, created_by, status, replica, lease_until, heartbeat_at, attempts, started_at)
 VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, now() + $8 * interval '1 millisecond', now(), 1, now())
 RETURNING `+jobColumns, j.Kind, j.Key, j.Target, params, progress, j.CreatedBy, s.replica, leaseMillis(lease))
	job, err := scanJob(row)
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" {
		return Job{}, ErrJobActive
	}
	if err != nil {
		return Job{}, fmt.Errorf("state: enqueue job: %w", err)
	}
	return job, nil
}

func orEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("{}")
	}
	return raw
}

// ClaimJob leases to this replica the oldest job of one of kinds that is
// queued, or running with its lease run out (its replica died), and
// returns it with its attempts counted; false when there is none. Replicas
// claiming at once skip each other's rows, so each job goes to one.
func (s *Store) ClaimJob(ctx context.Context, kinds []string, lease time.Duration) (Job, bool, error) {
	row := s.pool.QueryRow(ctx, `UPDATE dashboard_state.jobs
   SET status = 'running', replica = $1, lease_until = now() + $2 * interval '1 millisecond',
       heartbeat_at = now(), attempts = attempts + 1, started_at = coalesce(started_at, now())
 WHERE id = (SELECT id FROM dashboard_state.jobs
              WHERE kind = ANY($3) AND (status = 'queued' OR (status = 'running' AND lease_until < now()))
              ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
 RETURNING `+jobColumns, s.replica, leaseMillis(lease), kinds)
	j, err := scanJob(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, false, nil
	}
	if err != nil {
		return Job{}, false, fmt.Errorf("state: claim job: %w", err)
	}
	return j, true, nil
}

// held runs an update of job id guarded by this replica's lease: it
// changes nothing and answers ErrLeaseLost when another replica took the
// job over or it ended.
func (s *Store) held(ctx context.Context, op, set string, args ...any) error {
	tag, err := s.pool.Exec(ctx, `UPDATE dashboard_state.jobs SET `+set+`
 WHERE id = $1 AND replica = $2 AND status = 'running'`, args...)
	if err != nil {
		return fmt.Errorf("state: %s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// HeartbeatJob extends this replica's lease on job id by lease from now,
// only while this replica still holds it (ErrLeaseLost otherwise: the
// runner must stop).
func (s *Store) HeartbeatJob(ctx context.Context, id int64, lease time.Duration) error {
	return s.held(ctx, "heartbeat job", `lease_until = now() + $3 * interval '1 millisecond', heartbeat_at = now()`,
		id, s.replica, leaseMillis(lease))
}

// JobProgress records how far job id got, while this replica holds it.
func (s *Store) JobProgress(ctx context.Context, id int64, progress json.RawMessage) error {
	return s.held(ctx, "job progress", `progress = $3`, id, s.replica, orEmpty(progress))
}

// FinishJob ends job id as done or failed, with its last progress, while
// this replica holds it.
func (s *Store) FinishJob(ctx context.Context, id int64, status JobStatus, progress json.RawMessage, result, errText string) error {
	if status != JobDone && status != JobFailed {
		return fmt.Errorf("state: finish job: status %q is not an end", status)
	}
	return s.held(ctx, "finish job", `status = $3, progress = $4, result = $5, error = $6, lease_until = NULL, finished_at = now()`,
		id, s.replica, string(status), orEmpty(progress), result, errText)
}

// ReleaseJob gives job id back (queued, no lease) with its progress so far,
// for another replica to take over at once: a replica shutting down does
// this with the jobs that can resume.
func (s *Store) ReleaseJob(ctx context.Context, id int64, progress json.RawMessage) error {
	return s.held(ctx, "release job", `status = 'queued', progress = $3, lease_until = NULL`, id, s.replica, orEmpty(progress))
}

// GiveUpJob ends job id as failed with errText instead of running the
// attempt a claim just counted: its progress stays as the replicas before
// left it, and its attempts are those that ran. Only while this replica
// holds the job.
func (s *Store) GiveUpJob(ctx context.Context, id int64, errText string) error {
	return s.held(ctx, "give up job", `status = 'failed', attempts = greatest(attempts - 1, 0), error = $3,
 lease_until = NULL, finished_at = now()`, id, s.replica, errText)
}

// PruneJobs deletes up to limit done or failed jobs that finished longer
// than olderThan ago, oldest first, and reports how many it deleted.
// Replicas pruning at once skip each other's rows rather than wait on them;
// a job that is queued or running is never deleted.
func (s *Store) PruneJobs(ctx context.Context, olderThan time.Duration, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM dashboard_state.jobs
 WHERE id IN (SELECT id FROM dashboard_state.jobs
               WHERE status IN ('done', 'failed')
                 AND coalesce(finished_at, created_at) < now() - $1 * interval '1 millisecond'
               ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`, leaseMillis(olderThan), limit)
	if err != nil {
		return 0, fmt.Errorf("state: prune jobs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// GetJob reads job id.
func (s *Store) GetJob(ctx context.Context, id int64) (Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM dashboard_state.jobs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, ErrJobNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("state: get job: %w", err)
	}
	return j, nil
}

// LatestJob reads the newest job recorded under key.
func (s *Store) LatestJob(ctx context.Context, key string) (Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM dashboard_state.jobs WHERE key = $1 ORDER BY id DESC LIMIT 1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, ErrJobNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("state: latest job: %w", err)
	}
	return j, nil
}

// RecentJobs lists up to limit jobs of every replica, newest first.
func (s *Store) RecentJobs(ctx context.Context, limit int) ([]Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM dashboard_state.jobs ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("state: recent jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("state: recent jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: recent jobs: %w", err)
	}
	return out, nil
}
