package neonauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// CopyInput is a value a copy cannot take from the source branch and so
// asks for: a secret Neon never returns (an SMTP password, an OAuth client
// secret) or a setting its API does not list (a Microsoft tenant).
type CopyInput struct {
	// Field is the form field's name.
	Field string
	Label string
	// Secret inputs are never shown back, kept or logged.
	Secret bool
	// Optional inputs may stay empty; Hint says what empty means.
	Optional bool
	Hint     string
}

// CopyChange is one setting a step changes, as the comparison shows it:
// Before on the target branch now, After as on the source branch.
type CopyChange struct {
	Label, Before, After string
}

// CopyStep is one change a copy makes to the target branch: one Neon write
// and one audit line, under the same audit action as the settings form that
// makes the same change.
type CopyStep struct {
	// Key names the step within its plan.
	Key   string
	Group SettingsGroup
	// Action is the audit action; Target what the audit line names (a
	// domain, a provider), "" for the branch's settings themselves.
	Action, Target string
	// Title says what the step does, in words.
	Title   string
	Changes []CopyChange
	Inputs  []CopyInput
	// Problem is set when the step cannot be made as it stands (the
	// source's value is one Neon's forms refuse); the copy is refused until
	// its group is left out.
	Problem string

	// raw is what the plan's fingerprint covers: the values themselves,
	// including those the page only shows as set or not set.
	raw   string
	apply func(ctx context.Context, s *SettingsService, bs *BranchSettings, in CopyValues) error
}

// CopyValues are the inputs typed on the copy form, by field name.
type CopyValues map[string]string

// secret is the typed value of a secret input, wrapped so it never prints.
func (v CopyValues) secret(field string) neonapi.Secret { return neonapi.NewSecret(v[field]) }

// CopyPlan is what copying one branch's Neon Auth settings onto another
// would change, group by group, in the order the changes are made.
type CopyPlan struct {
	ProjectID string
	From, To  neonapi.Branch
	// Groups are the groups picked; Steps only ever touch those.
	Groups []SettingsGroup
	Steps  []CopyStep
	// Fingerprint covers every step's values: a copy applies only the plan
	// that was shown, and a branch changed in the meantime gets a new one.
	Fingerprint string

	target *SettingsSnapshot
}

// Inputs lists every input the plan's steps ask for, in step order.
func (p *CopyPlan) Inputs() []CopyInput {
	var out []CopyInput
	for _, st := range p.Steps {
		out = append(out, st.Inputs...)
	}
	return out
}

// Problems counts the steps that cannot be made.
func (p *CopyPlan) Problems() int {
	n := 0
	for _, st := range p.Steps {
		if st.Problem != "" {
			n++
		}
	}
	return n
}

// StepsIn returns the plan's steps of one group.
func (p *CopyPlan) StepsIn(g SettingsGroup) []CopyStep {
	var out []CopyStep
	for _, st := range p.Steps {
		if st.Group == g {
			out = append(out, st)
		}
	}
	return out
}

// CopyGroups are the groups a copy can take, in the order it makes them:
// the application name, domains and email server before the sign-in
// methods that rely on them.
var CopyGroups = []SettingsGroup{GroupApplication, GroupDomains, GroupEmail, GroupSignIn, GroupPlugins, GroupWebhooks}

// Errors of a copy that is not made at all.
var (
	// ErrCopySameBranch refuses copying a branch onto itself.
	ErrCopySameBranch = errors.New("neonauth: a branch's settings cannot be copied onto itself")
	// ErrCopyChanged refuses a copy whose plan is no longer the one shown:
	// either branch changed after the preview was read.
	ErrCopyChanged = errors.New("neonauth: the branches' settings changed since the preview")
)

// PlanCopy reads both branches (through the read cache, like the comparison)
// and lists what copying from's settings of the groups picked onto to would
// change. Both branches need branch-level Neon Auth: a side without it is a
// *NoBranchAuthError. fullURLs shows webhook URLs whole (for admins) rather
// than as scheme and host.
func (s *SettingsService) PlanCopy(ctx context.Context, projectID, from, to string, groups []SettingsGroup, fullURLs bool) (*CopyPlan, error) {
	if from == to {
		return nil, ErrCopySameBranch
	}
	var src, dst *SettingsSnapshot
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { src, err = ReadBranchSettings(gctx, s.neon, projectID, from); return err })
	g.Go(func() (err error) { dst, err = ReadBranchSettings(gctx, s.neon, projectID, to); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return planCopy(src, dst, groups, fullURLs), nil
}

// planCopy lists the steps from src to dst for the groups picked.
func planCopy(src, dst *SettingsSnapshot, groups []SettingsGroup, fullURLs bool) *CopyPlan {
	p := &CopyPlan{ProjectID: src.ProjectID, From: src.Branch, To: dst.Branch, target: dst}
	for _, g := range CopyGroups {
		if !slices.Contains(groups, g) {
			continue
		}
		p.Groups = append(p.Groups, g)
		p.Steps = append(p.Steps, groupSteps(g, src, dst, fullURLs)...)
	}
	h := sha256.New()
	h.Write([]byte(src.Branch.ID + "\x00" + dst.Branch.ID + "\x00"))
	for _, st := range p.Steps {
		h.Write([]byte(st.Key + "\x00" + st.raw + "\x00"))
	}
	p.Fingerprint = hex.EncodeToString(h.Sum(nil))[:32]
	return p
}

// CheckCopy checks every step with the values typed, as each settings form
// would, without asking Neon: a copy starts only when all its steps would be
// accepted. The errors are keyed by input field; a step's own problem is
// keyed by its Key.
func (s *SettingsService) CheckCopy(p *CopyPlan, in CopyValues) FieldErrors {
	errs := FieldErrors{}
	for _, st := range p.Steps {
		if st.Problem != "" {
			errs.add(st.Key, st.Problem)
			continue
		}
		for _, input := range st.Inputs {
			if !input.Optional && strings.TrimSpace(in[input.Field]) == "" {
				errs.add(input.Field, "Type the "+input.Label+": Neon never returns it, so it cannot be copied.")
			}
		}
		bs := p.targetSettings()
		bs.checkOnly = true
		var invalid *InvalidSettingsError
		if err := st.apply(context.Background(), s, bs, in); errors.As(err, &invalid) {
			for field, msg := range invalid.Fields {
				errs.add(stepField(st, field), msg)
			}
		}
	}
	return errs
}

// stepField maps a settings form's field to the copy form's: a field the
// step asks for keeps its name, any other is the step's own problem.
func stepField(st CopyStep, field string) string {
	for _, in := range st.Inputs {
		if strings.HasSuffix(in.Field, "_"+field) {
			return in.Field
		}
	}
	return st.Key
}

// targetSettings is the target branch as the settings forms' changes take
// it, from the snapshot the plan was made from.
func (p *CopyPlan) targetSettings() *BranchSettings {
	t := p.target
	es := t.EmailServer
	return &BranchSettings{
		ProjectID: p.ProjectID, BranchID: t.Branch.ID, BranchName: t.Branch.Name, Integration: &t.Auth,
		Domains: Loaded[[]neonapi.TrustedDomain]{Value: t.Domains}, AllowLocalhost: Loaded[bool]{Value: t.AllowLocalhost},
		OAuthProviders: Loaded[[]neonapi.OAuthProvider]{Value: slices.Clone(t.OAuth)}, EmailServer: Loaded[*neonapi.EmailServer]{Value: &es},
	}
}

// CopyResult is how a copy went, step by step: the steps Neon applied, the
// one that failed (its error, and whether its outcome is unknown), and the
// steps not attempted after it.
type CopyResult struct {
	Plan         *CopyPlan
	Applied      []CopyStep
	Failed       *CopyStep
	Err          error
	NotAttempted []CopyStep
}

// Unknown reports whether the failed step's outcome is unknown: Neon may
// have made it.
func (r *CopyResult) Unknown() bool {
	var u *OutcomeUnknownError
	return errors.As(r.Err, &u)
}

// ApplyCopy makes the plan's steps in order, one Neon write each, and stops
// at the first that fails, so the result says exactly what was applied and
// what was not. The plan must have passed CheckCopy. done is called after
// each step attempted, with its error, so that each gets its audit line; a
// step's ctx carries its own Neon call, whatever the caller attached.
func (s *SettingsService) ApplyCopy(ctx context.Context, p *CopyPlan, in CopyValues, stepCtx func(context.Context) context.Context, done func(context.Context, CopyStep, error)) *CopyResult {
	r := &CopyResult{Plan: p}
	bs := p.targetSettings()
	for i, st := range p.Steps {
		sctx := stepCtx(ctx)
		err := st.apply(sctx, s, bs, in)
		done(sctx, st, err)
		if err != nil {
			r.Failed, r.Err, r.NotAttempted = &p.Steps[i], err, p.Steps[i+1:]
			return r
		}
		r.Applied = append(r.Applied, st)
	}
	return r
}
