package jobs

import (
	"fmt"
	"slices"
)

// CopyParams are a settings copy's inputs, without the secrets typed for
// it: those stay in the memory of the replica making the copy.
type CopyParams struct {
	ProjectID   string   `json:"project"`
	From        string   `json:"from"`
	To          string   `json:"to"`
	Groups      []string `json:"groups"`
	Fingerprint string   `json:"fingerprint"`
}

// CopyKey names a copy's target branch: one copy onto it at a time.
func CopyKey(projectID, to string) string { return KindSettingsCopy + ":" + projectID + "/" + to }

// Copy is the record of a settings copy made within a request, its steps
// by title.
func Copy(p CopyParams, steps []string, actor string) Spec {
	return Spec{Kind: KindSettingsCopy, Key: CopyKey(p.ProjectID, p.To), Target: p.ProjectID + " / " + p.From + " → " + p.To,
		CreatedBy: actor, Params: p, Progress: Progress{Total: int64(len(steps)), Steps: slices.Clone(steps)}}
}

// StepStarting is p with step i being made.
func (p Progress) StepStarting(i int) Progress {
	p.InFlight = &i
	return p
}

// StepApplied is p with the step being made applied.
func (p Progress) StepApplied() Progress {
	if p.InFlight != nil && *p.InFlight < len(p.Steps) {
		p.Applied = append(slices.Clone(p.Applied), p.Steps[*p.InFlight])
	}
	p.Done++
	p.InFlight = nil
	return p
}

// CopyEnded is p concluded with step failed (its outcome unknown when
// unknown is set) and the steps after it not attempted; failed out of
// range concludes a copy whose every step was applied.
func (p Progress) CopyEnded(failed int, unknown bool) Progress {
	p.InFlight = nil
	p.Failed, p.Unknown, p.NotAttempted = nil, nil, nil
	if failed < 0 || failed >= len(p.Steps) {
		return p
	}
	if unknown {
		p.Unknown = []string{p.Steps[failed]}
	} else {
		p.Failed = []string{p.Steps[failed]}
	}
	p.NotAttempted = slices.Clone(p.Steps[failed+1:])
	return p
}

// abandonCopy concludes a copy whose replica died: the steps it recorded
// applied stay applied, the one it had started may have been made, and the
// rest were never attempted. It is never made again: the secrets it needs
// were typed into the dead replica only. A copy that had applied every
// step when its replica died is done; any other failed.
func abandonCopy(p Progress) (Progress, string, string) {
	next := len(p.Applied)
	switch {
	case p.InFlight != nil:
		next = *p.InFlight
		p = p.CopyEnded(next, true)
	case next >= len(p.Steps):
		p = p.CopyEnded(-1, false)
		return p, fmt.Sprintf("%d of %d steps applied", len(p.Applied), len(p.Steps)), ""
	default:
		p = p.CopyEnded(next, false)
		// No step was in flight: the next one was never started.
		p.NotAttempted = append(p.Failed, p.NotAttempted...)
		p.Failed = nil
	}
	msg := fmt.Sprintf("The replica making the copy stopped: %d of %d steps applied", len(p.Applied), len(p.Steps))
	if len(p.Unknown) > 0 {
		msg += fmt.Sprintf(", %q may have been made", p.Unknown[0])
	}
	msg += fmt.Sprintf(", %d not attempted. Compare the branches to see what the copy changed.", len(p.NotAttempted))
	return p, "", msg
}
