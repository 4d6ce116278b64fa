package handlers

import (
	"context"
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/jobs"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// copyJob records a copy, which runs within its request, as a job step by
// step, so that if this replica dies mid-copy another concludes it with
// the steps applied, the one whose outcome is unknown and those never
// attempted. A nil copyJob (no runner) records nothing.
type copyJob struct {
	h    *Handler
	t    *jobs.Tracked
	p    jobs.Progress
	next int
	// finished is set once finish recorded the end; stopped records one
	// otherwise.
	finished bool
}

// trackCopy records the copy of plan as a running job. The context it
// returns is cancelled if another replica concludes the job meanwhile.
// jobs.ErrActive when a copy onto the same branch is running.
func (h *Handler) trackCopy(ctx context.Context, c echo.Context, r copyRequest, plan *neonauth.CopyPlan) (context.Context, *copyJob, error) {
	if h.Jobs == nil {
		return ctx, nil, nil
	}
	steps := make([]string, len(plan.Steps))
	for i, st := range plan.Steps {
		steps[i] = st.Title
	}
	groups := make([]string, len(plan.Groups))
	for i, g := range plan.Groups {
		groups[i] = string(g)
	}
	spec := jobs.Copy(jobs.CopyParams{ProjectID: r.projectID, From: r.from, To: r.to, Groups: groups, Fingerprint: plan.Fingerprint},
		steps, IdentityFrom(c).DisplayName())
	ctx, t, err := h.Jobs.Track(ctx, spec)
	if err != nil {
		return ctx, nil, err
	}
	return ctx, &copyJob{h: h, t: t, p: spec.Progress}, nil
}

// stepCtx wraps the copy's stepCtx to record each step as it starts:
// ApplyCopy calls it once before each step, in order.
func (j *copyJob) stepCtx(wrap func(context.Context) context.Context) func(context.Context) context.Context {
	if j == nil {
		return wrap
	}
	return func(ctx context.Context) context.Context {
		j.p = j.p.StepStarting(j.next)
		j.next++
		j.report()
		return wrap(ctx)
	}
}

// stepDone records a step's end: applied, or left in flight for finish.
func (j *copyJob) stepDone(err error) {
	if j == nil || err != nil {
		return
	}
	j.p = j.p.StepApplied()
	j.report()
}

func (j *copyJob) report() {
	if err := j.t.Report(j.p); err != nil {
		j.h.logger().Warn("copy progress not recorded", "job", j.t.ID, "err", err)
	}
}

// finish records how the copy ended.
func (j *copyJob) finish(res *neonauth.CopyResult) {
	if j == nil {
		return
	}
	j.finished = true
	result, errText := fmt.Sprintf("%d of %d steps applied", len(res.Applied), len(res.Plan.Steps)), ""
	if res.Failed != nil {
		j.p = j.p.CopyEnded(len(res.Applied), res.Unknown())
		errText = fmt.Sprintf("Neon refused %q; %d applied, %d not attempted.", res.Failed.Title, len(res.Applied), len(res.NotAttempted))
		if res.Unknown() {
			errText = fmt.Sprintf("No answer came for %q, which may have been made; %d applied, %d not attempted.", res.Failed.Title, len(res.Applied), len(res.NotAttempted))
		}
	} else {
		j.p = j.p.CopyEnded(-1, false)
	}
	if err := j.t.Finish(j.p, result, errText); err != nil {
		j.h.logger().Warn("copy end not recorded", "job", j.t.ID, "err", err)
	}
}

// stopped concludes a copy that ended without finish (a panic between two
// steps or within one), so that its branch does not stay refused to other
// copies: the step in flight, if any, has an unknown outcome; otherwise the
// next step failed before it was sent.
func (j *copyJob) stopped() {
	if j == nil || j.finished {
		return
	}
	j.finished = true
	at, unknown := int(j.p.Done), j.p.InFlight != nil
	if unknown {
		at = *j.p.InFlight
	}
	j.p = j.p.CopyEnded(at, unknown)
	errText := "The copy stopped on an internal error before its next step; nothing more was sent to Neon."
	if unknown {
		errText = "The copy stopped on an internal error during a step, which may have been made."
	}
	if err := j.t.Finish(j.p, fmt.Sprintf("%d of %d steps applied", j.p.Done, len(j.p.Steps)), errText); err != nil {
		j.h.logger().Warn("copy end not recorded", "job", j.t.ID, "err", err)
	}
}
