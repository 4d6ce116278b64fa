package neonauth

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// SettingsSnapshot is a branch's branch-level Neon Auth configuration as Neon
// reports it: what the readiness check judges and the comparison
// lines up. Secrets are never part of it in the clear: Neon does not return
// the SMTP password, and an OAuth client secret stays a neonapi.Secret.
type SettingsSnapshot struct {
	ProjectID        string
	Branch           neonapi.Branch
	Auth             neonapi.Integration
	Domains          []neonapi.TrustedDomain
	AllowLocalhost   bool
	OAuth            []neonapi.OAuthProvider
	EmailServer      neonapi.EmailServer
	EmailAndPassword neonapi.EmailAndPasswordConfig
	Webhook          neonapi.WebhookConfig
	Plugins          neonapi.PluginConfigs
}

// ErrNoBranchAuth reports a branch without branch-level Neon Auth (Better
// Auth), whose settings therefore do not exist.
var ErrNoBranchAuth = errors.New("branch-level Neon Auth is not enabled on this branch")

// NoBranchAuthError is ErrNoBranchAuth for one branch. It carries the branch,
// so a page can name it, and the provider that serves the branch instead, if
// any (Stack Auth is configured in Stack Auth's own dashboard).
type NoBranchAuthError struct {
	Branch neonapi.Branch
	// Provider is the project-level provider on the branch, "" for none.
	Provider authprovider.Provider
}

// Error names the branch.
func (e *NoBranchAuthError) Error() string {
	return fmt.Sprintf("branch %s: %v", e.Branch.ID, ErrNoBranchAuth)
}

// Is makes errors.Is(err, ErrNoBranchAuth) hold.
func (e *NoBranchAuthError) Is(target error) bool { return target == ErrNoBranchAuth }

// SettingsReads is how many Neon reads ReadBranchSettings makes at most: the
// branch, its integration and the seven settings getters.
const SettingsReads = 9

// ReadBranchSettings reads a branch's Neon Auth settings: the branch and its
// integration first, in parallel, then, once the branch is known to have
// Better Auth, every settings getter in parallel. A branch without it is a
// *NoBranchAuthError; any failed read fails the whole, since a readiness
// verdict on part of the settings would be wrong.
func ReadBranchSettings(ctx context.Context, r *neonapi.Client, projectID, branchID string) (*SettingsSnapshot, error) {
	s := &SettingsSnapshot{ProjectID: projectID}
	var authErr error
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		b, err := r.GetBranch(gctx, projectID, branchID)
		if err == nil {
			s.Branch = *b
		}
		return err
	})
	g.Go(func() error {
		in, err := r.GetBranchAuth(gctx, projectID, branchID)
		switch {
		case errors.Is(err, neonapi.ErrNotFound):
			// Told apart from a missing branch once GetBranch has answered.
			authErr = err
			return nil
		case err != nil:
			return err
		}
		s.Auth = *in
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if authErr != nil {
		return nil, &NoBranchAuthError{Branch: s.Branch}
	}
	if p := s.Auth.AuthProvider; !p.BranchLevel() {
		return nil, &NoBranchAuthError{Branch: s.Branch, Provider: p}
	}
	if err := readSettings(ctx, r, s); err != nil {
		return nil, err
	}
	return s, nil
}

// readSettings fills s from the seven settings getters, run in parallel.
func readSettings(ctx context.Context, r *neonapi.Client, s *SettingsSnapshot) error {
	pid, bid := s.ProjectID, s.Branch.ID
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		s.Domains, err = r.ListTrustedDomains(ctx, pid, bid)
		return err
	})
	g.Go(func() (err error) {
		s.AllowLocalhost, err = r.GetAllowLocalhost(ctx, pid, bid)
		return err
	})
	g.Go(func() (err error) {
		s.OAuth, err = r.ListOAuthProviders(ctx, pid, bid)
		return err
	})
	g.Go(func() error {
		v, err := r.GetEmailProvider(ctx, pid, bid)
		if err == nil {
			s.EmailServer = *v
		}
		return err
	})
	g.Go(func() error {
		v, err := r.GetEmailAndPasswordConfig(ctx, pid, bid)
		if err == nil {
			s.EmailAndPassword = *v
		}
		return err
	})
	g.Go(func() error {
		v, err := r.GetWebhookConfig(ctx, pid, bid)
		if err == nil {
			s.Webhook = *v
		}
		return err
	})
	g.Go(func() error {
		v, err := r.GetPluginConfigs(ctx, pid, bid)
		if err == nil {
			s.Plugins = *v
		}
		return err
	})
	return g.Wait()
}

// BranchReadiness reads a branch's settings and judges its production
// readiness; see CheckReadiness. A branch without branch-level Neon Auth is a
// *NoBranchAuthError.
func (s *Service) BranchReadiness(ctx context.Context, projectID, branchID string) (*Readiness, error) {
	set, err := ReadBranchSettings(ctx, s.neon, projectID, branchID)
	if err != nil {
		return nil, err
	}
	return CheckReadiness(set), nil
}

// CompareBranches reads two branches' settings in parallel and lines them up;
// see Compare. A branch without branch-level Neon Auth is a side without
// settings, not an error: that is a difference worth showing. fullURLs shows
// webhook URLs whole, for admins.
func (s *Service) CompareBranches(ctx context.Context, projectID, branchA, branchB string, fullURLs bool) (*Comparison, error) {
	var a, b CompareSide
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { a, err = compareSide(gctx, s.neon, projectID, branchA); return err })
	g.Go(func() (err error) { b, err = compareSide(gctx, s.neon, projectID, branchB); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return Compare(projectID, a, b, fullURLs), nil
}

// compareSide reads one branch for CompareBranches.
func compareSide(ctx context.Context, r *neonapi.Client, projectID, branchID string) (CompareSide, error) {
	set, err := ReadBranchSettings(ctx, r, projectID, branchID)
	var none *NoBranchAuthError
	switch {
	case errors.As(err, &none):
		return CompareSide{Branch: none.Branch, Provider: none.Provider}, nil
	case err != nil:
		return CompareSide{}, err
	}
	return CompareSide{Branch: set.Branch, Settings: set, Provider: authprovider.BetterAuth}, nil
}
