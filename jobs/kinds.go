package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/neonauth-admin/dashboard/neonauth"
)

// Opener opens the users tables jobs work on. *neonauth.Service is one.
type Opener interface {
	OpenBrowser(ctx context.Context, r neonauth.Ref) (neonauth.UserBrowser, error)
	OpenPeople(ctx context.Context, r neonauth.Ref) (neonauth.People, error)
}

// kind is how the runner runs, concludes and describes one kind of job.
type kind struct {
	name string
	// run does the job, fresh or taken over; nil for a job that never
	// resumes, which abandon concludes instead.
	run func(ctx context.Context, run *Run) (result string, err error)
	// abandon concludes a job that never resumes: its progress, result,
	// and why it failed ("" when it is done after all).
	abandon func(Progress) (Progress, string, string)
	// describe says why the job failed in words fit for a page: never a
	// connection string or a secret.
	describe func(error) string
}

// kinds are the kinds a runner knows; without an Opener it runs no index
// build or revocation, so it never claims one either.
func kinds(open Opener) map[string]kind {
	ks := map[string]kind{
		KindSettingsCopy: {name: KindSettingsCopy, abandon: abandonCopy, describe: func(error) string { return "the copy stopped" }},
	}
	if open != nil {
		ks[KindIndexBuild] = kind{name: KindIndexBuild, run: indexBuild{open}.run, describe: indexFailure}
		ks[KindSessionsRevoke] = kind{name: KindSessionsRevoke, run: revocation{open}.run, describe: revocationFailure}
	}
	return ks
}

// IndexBuildParams are an index build's inputs.
type IndexBuildParams struct {
	Ref     neonauth.Ref          `json:"ref"`
	Purpose neonauth.IndexPurpose `json:"purpose"`
}

// IndexBuildKey names the table whose index r's builds make: one build
// at a time on it.
func IndexBuildKey(r neonauth.Ref) string {
	return KindIndexBuild + ":" + r.ProjectID + "/" + string(r.Provider) + "/" + r.BranchID
}

// IndexBuild is the job building the index offered for purpose on r's
// users table.
func IndexBuild(r neonauth.Ref, purpose neonauth.IndexPurpose, actor string) Spec {
	return Spec{Kind: KindIndexBuild, Key: IndexBuildKey(r), Target: target(r), CreatedBy: actor,
		Params: IndexBuildParams{Ref: r, Purpose: purpose}, Progress: Progress{Words: "the " + string(purpose) + " index"}}
}

func target(r neonauth.Ref) string {
	if r.BranchID == "" {
		return r.ProjectID
	}
	return r.ProjectID + " / " + r.BranchID
}

type indexBuild struct{ open Opener }

// buildingPoll is how often a resumed build looks whether the build its
// dead replica started is still running in Postgres.
const buildingPoll = 500 * time.Millisecond

// run builds the index. Resumed, it first waits for a build still running
// in Postgres (a replica that died mid-build leaves its backend running
// until it notices), is done if the index is there and valid, and drops
// the INVALID index a build cut short leaves, then builds again.
func (k indexBuild) run(ctx context.Context, run *Run) (string, error) {
	var p IndexBuildParams
	if err := run.Params(&p); err != nil {
		return "", err
	}
	b, err := k.open.OpenBrowser(ctx, p.Ref)
	if err != nil {
		return "", err
	}
	for {
		a, err := b.AdviseIndex(ctx)
		if err != nil {
			return "", err
		}
		o, ok := a.Offer(p.Purpose)
		switch {
		case !ok:
			return "", errors.New("jobs: no such index is offered on this table any more")
		case o.Present():
			return "index " + o.Name + " is valid", nil
		case run.Resumed && a.Building != nil:
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(buildingPoll):
			}
			continue
		case run.Resumed && slices.Contains(a.Invalid, o.Name):
			if err := b.DropIndex(ctx, o.Name); err != nil {
				return "", err
			}
			continue
		}
		if err := b.CreateOfferedIndex(ctx, p.Purpose); err != nil {
			return "", err
		}
		return "index " + o.Name + " built", nil
	}
}

// indexFailure says why a build failed: Postgres' own message, which
// names no credentials, or the kind of failure.
func indexFailure(err error) string {
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &pg):
		return pg.Message
	case errors.Is(err, neonauth.ErrPermission):
		return "the dashboard's role does not own the table."
	case errors.Is(err, neonauth.ErrIndexInvalid):
		return "an INVALID index with the same name is in the way; drop it first."
	case errors.Is(err, neonauth.ErrIndexBuilding):
		return "another build was running on the table."
	case errors.Is(err, context.Canceled), errors.Is(err, errShutdown):
		return "the dashboard stopped while it ran; drop what it left and create it again."
	}
	return "see the dashboard's log."
}

// RevocationParams are a revocation's inputs: the filter, whose
// CreatedBefore is the revocation's start, so that a replica resuming it
// revokes only sessions that existed then.
type RevocationParams struct {
	Ref     neonauth.Ref           `json:"ref"`
	Filter  neonauth.SessionFilter `json:"filter"`
	Matched int64                  `json:"matched"`
}

// RevocationKey names r's branch: one revocation at a time on it.
func RevocationKey(r neonauth.Ref) string {
	return KindSessionsRevoke + ":" + r.ProjectID + "/" + r.BranchID
}

// Revocation is the job revoking the sessions f selects on r's branch,
// matched of them when confirmed, among those created before now.
func Revocation(r neonauth.Ref, f neonauth.SessionFilter, words string, matched int64, actor string, now time.Time) Spec {
	now = now.UTC().Truncate(time.Microsecond).Add(time.Microsecond)
	if f.CreatedBefore.IsZero() || now.Before(f.CreatedBefore) {
		f.CreatedBefore = now
	}
	return Spec{Kind: KindSessionsRevoke, Key: RevocationKey(r), Target: target(r), CreatedBy: actor,
		Params: RevocationParams{Ref: r, Filter: f, Matched: matched}, Progress: Progress{Total: matched, Words: words}}
}

type revocation struct{ open Opener }

// run revokes in batches, reporting the running total. Resumed, it revokes
// what still matches and adds it to what the replica before it revoked:
// a batch is deleted by id in its own transaction, so nothing is revoked
// twice, and only a batch made after the dead replica's last report (at
// most one) goes uncounted.
func (k revocation) run(ctx context.Context, run *Run) (string, error) {
	var p RevocationParams
	if err := run.Params(&p); err != nil {
		return "", err
	}
	people, err := k.open.OpenPeople(ctx, p.Ref)
	if err != nil {
		return "", err
	}
	prog := run.Progress
	base := prog.Done
	n, err := people.RevokeMatchingSessions(ctx, p.Filter, func(n int64) {
		prog.Done = base + n
		_ = run.Report(prog)
	})
	prog.Done = base + n
	run.a.mu.Lock()
	run.a.progress = prog
	run.a.mu.Unlock()
	return fmt.Sprintf("revoked %d of %d", prog.Done, p.Matched), err
}

// revocationFailure says why a revocation stopped short.
func revocationFailure(err error) string {
	var pg *pgconn.PgError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, errShutdown):
		return "The dashboard stopped while it ran. Confirm again to revoke the rest."
	case errors.Is(err, neonauth.ErrPeopleOverride):
		return "The users database is an override every branch shares, so the dashboard changes nothing in it."
	case errors.As(err, &pg):
		return "The database refused: " + pg.Message + "."
	}
	return "The database could not be reached; see the dashboard's log."
}
