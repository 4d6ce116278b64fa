package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/views"
)

// Jobs runs and records the work that outlives a request (index builds,
// large revocations) and records copies, which run within theirs, so that
// any replica shows their progress and another concludes them when the
// replica running one dies. *jobs.Runner is one.
type Jobs interface {
	StartJob(ctx context.Context, spec jobs.Spec) (jobs.Job, error)
	Track(ctx context.Context, spec jobs.Spec) (context.Context, *jobs.Tracked, error)
	Latest(ctx context.Context, key string) (jobs.Job, error)
	Recent(ctx context.Context, limit int) ([]jobs.Job, error)
}

// recentJobs is how many jobs the jobs page lists.
const recentJobs = 100

// latestJob reads the newest job under key; false when none ran or there
// is no runner.
func (h *Handler) latestJob(ctx context.Context, key string) (jobs.Job, bool, error) {
	if h.Jobs == nil {
		return jobs.Job{}, false, nil
	}
	j, err := h.Jobs.Latest(ctx, key)
	if errors.Is(err, jobs.ErrNotFound) {
		return jobs.Job{}, false, nil
	}
	return j, err == nil, err
}

// replica names the replica answering, for the X-Dashboard-Replica header.
func (h *Handler) replica() string {
	if h.Store != nil {
		return h.Store.Replica()
	}
	return "single"
}

// replicaHeader says on every response which replica answered it, so that
// operators and tests behind a load balancer can tell.
func (h *Handler) replicaHeader(next echo.HandlerFunc) echo.HandlerFunc {
	name := h.replica()
	return func(c echo.Context) error {
		c.Response().Header().Set("X-Dashboard-Replica", name)
		return next(c)
	}
}

// listJobs serves GET /jobs: the recent jobs of every replica.
func (h *Handler) listJobs(c echo.Context) error {
	m := views.JobsPage{Replica: h.replica()}
	if h.Jobs != nil {
		list, err := h.Jobs.Recent(c.Request().Context(), recentJobs)
		if err != nil {
			return err
		}
		for _, j := range list {
			m.Jobs = append(m.Jobs, jobRow(j))
		}
	}
	m.Chrome = h.chrome(c, "Jobs", views.Crumb{Label: "Jobs"})
	return h.render(c, http.StatusOK, views.JobsView(m))
}

// jobRow shapes one job for the jobs page.
func jobRow(j jobs.Job) views.JobRow {
	p := j.Progress
	r := views.JobRow{
		ID: j.ID, Kind: j.Kind, Target: j.Target, CreatedBy: j.CreatedBy, Status: string(j.Status),
		Replica: j.Replica, Attempts: j.Attempts, LeaseAge: j.LeaseAge, Words: p.Words,
		Done: p.Done, Total: p.Total, Started: j.StartedAt, Finished: j.FinishedAt, Error: j.Error, Result: j.Result,
		Applied: len(p.Applied), Failed: p.Failed, Unknown: p.Unknown, NotAttempted: len(p.NotAttempted),
		Copy: j.Kind == jobs.KindSettingsCopy,
	}
	return r
}
