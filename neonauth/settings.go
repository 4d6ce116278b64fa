package neonauth

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// SettingsService reads and changes the settings of branch-level Neon Auth
// (Better Auth): trusted domains, sign-in methods, email, plugins, webhooks
// and the application name. Every change is checked in full before Neon is
// asked, so a refused form never leaves half a change behind.
type SettingsService struct {
	neon *neonapi.Client
}

// NewSettingsService returns a SettingsService calling neon.
func NewSettingsService(neon *neonapi.Client) *SettingsService {
	return &SettingsService{neon: neon}
}

// SettingsGroup is one page of a branch's settings, grouped as an admin
// thinks of them (and as the Neon Console does).
type SettingsGroup string

// The settings groups, in the order the pages' tabs list them.
const (
	GroupDomains     SettingsGroup = "domains"
	GroupSignIn      SettingsGroup = "sign-in"
	GroupEmail       SettingsGroup = "email"
	GroupPlugins     SettingsGroup = "plugins"
	GroupWebhooks    SettingsGroup = "webhooks"
	GroupApplication SettingsGroup = "application"
)

// SettingsGroups lists every group in tab order.
var SettingsGroups = []SettingsGroup{GroupDomains, GroupSignIn, GroupEmail, GroupPlugins, GroupWebhooks, GroupApplication}

// Title is the group's name on its tab and page.
func (g SettingsGroup) Title() string {
	switch g {
	case GroupDomains:
		return "Domains"
	case GroupSignIn:
		return "Sign-in"
	case GroupEmail:
		return "Email"
	case GroupPlugins:
		return "Plugins"
	case GroupWebhooks:
		return "Webhooks"
	case GroupApplication:
		return "Application"
	}
	return string(g)
}

// Loaded is one part of a branch's settings as read from Neon; Err is set
// when that read failed, which degrades that part's panel only.
type Loaded[T any] struct {
	Value T
	Err   error
}

// NotBranchAuth says why a branch has no settings here: Provider is the
// project-level provider that serves it, or "" when Neon Auth is off on the
// branch.
type NotBranchAuth struct {
	Provider authprovider.Provider
}

// BranchSettings is what the settings pages show of one branch. Only the
// parts of the groups asked for are read; the others stay zero.
type BranchSettings struct {
	ProjectID   string
	ProjectName string
	BranchID    string
	BranchName  string
	// Integration is the branch's Neon Auth (getNeonAuth); its Name is the
	// application name.
	Integration *neonapi.Integration
	// NotBranchAuth is set, and every part left unread, when the branch has
	// no branch-level Neon Auth to configure.
	NotBranchAuth *NotBranchAuth

	Domains          Loaded[[]neonapi.TrustedDomain]
	AllowLocalhost   Loaded[bool]
	EmailAndPassword Loaded[*neonapi.EmailAndPasswordConfig]
	OAuthProviders   Loaded[[]neonapi.OAuthProvider]
	EmailServer      Loaded[*neonapi.EmailServer]
	Plugins          Loaded[*neonapi.PluginConfigs]
	PhoneNumber      Loaded[*neonapi.PhoneNumberConfig]
	Webhooks         Loaded[*neonapi.WebhookConfig]

	// checkOnly makes every change stop once its form checked out, without
	// asking Neon: a copy between branches checks all its changes before
	// making the first.
	checkOnly bool
}

// ErrNotBranchAuth reports a settings change for a branch without
// branch-level Neon Auth.
var ErrNotBranchAuth = errors.New("neonauth: the branch has no branch-level Neon Auth")

// LoadSettings reads the project, the branch and its Neon Auth, then, for a
// branch with branch-level Neon Auth, the parts of the groups asked for, all
// in parallel. A failed project, branch or Neon Auth read fails the whole
// load; a failed part only marks that part.
func (s *SettingsService) LoadSettings(ctx context.Context, projectID, branchID string, groups ...SettingsGroup) (*BranchSettings, error) {
	bs := &BranchSettings{ProjectID: projectID, BranchID: branchID}
	var (
		project *neonapi.Project
		branch  *neonapi.Branch
		authErr error
		g       errgroup.Group
	)
	g.Go(func() (err error) { project, err = s.neon.GetProject(ctx, projectID); return err })
	g.Go(func() (err error) { branch, err = s.neon.GetBranch(ctx, projectID, branchID); return err })
	g.Go(func() error { bs.Integration, authErr = s.neon.GetBranchAuth(ctx, projectID, branchID); return nil })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	bs.ProjectName, bs.BranchName = project.Name, branch.Name
	switch {
	case errors.Is(authErr, neonapi.ErrNotFound):
		bs.Integration, bs.NotBranchAuth = nil, &NotBranchAuth{}
		return bs, nil
	case authErr != nil:
		return nil, authErr
	case !bs.Integration.AuthProvider.BranchLevel():
		bs.NotBranchAuth = &NotBranchAuth{Provider: bs.Integration.AuthProvider}
		return bs, nil
	}
	s.loadParts(ctx, bs, groups)
	return bs, nil
}

// loadParts reads the parts the groups show, in parallel.
func (s *SettingsService) loadParts(ctx context.Context, bs *BranchSettings, groups []SettingsGroup) {
	p, b := bs.ProjectID, bs.BranchID
	var g errgroup.Group
	for _, group := range groups {
		switch group {
		case GroupDomains:
			g.Go(func() error { bs.Domains.Value, bs.Domains.Err = s.neon.ListTrustedDomains(ctx, p, b); return nil })
			g.Go(func() error {
				bs.AllowLocalhost.Value, bs.AllowLocalhost.Err = s.neon.GetAllowLocalhost(ctx, p, b)
				return nil
			})
		case GroupSignIn:
			g.Go(func() error {
				bs.EmailAndPassword.Value, bs.EmailAndPassword.Err = s.neon.GetEmailAndPasswordConfig(ctx, p, b)
				return nil
			})
			g.Go(func() error {
				bs.OAuthProviders.Value, bs.OAuthProviders.Err = s.neon.ListOAuthProviders(ctx, p, b)
				return nil
			})
		case GroupEmail:
			g.Go(func() error {
				bs.EmailServer.Value, bs.EmailServer.Err = s.neon.GetEmailProvider(ctx, p, b)
				return nil
			})
		case GroupPlugins:
			g.Go(func() error { bs.Plugins.Value, bs.Plugins.Err = s.neon.GetPluginConfigs(ctx, p, b); return nil })
			g.Go(func() error {
				bs.PhoneNumber.Value, bs.PhoneNumber.Err = s.neon.GetPhoneNumberPlugin(ctx, p, b)
				return nil
			})
		case GroupWebhooks:
			g.Go(func() error { bs.Webhooks.Value, bs.Webhooks.Err = s.neon.GetWebhookConfig(ctx, p, b); return nil })
		}
	}
	_ = g.Wait()
}

// usable refuses a change to a branch the settings do not apply to.
func usable(bs *BranchSettings) error {
	if bs == nil || bs.NotBranchAuth != nil {
		return ErrNotBranchAuth
	}
	return nil
}

// change runs one Neon write for bs once its form checked out: a refused
// form is an *InvalidSettingsError and Neon is not asked; an unreadable
// answer is an *OutcomeUnknownError saying what may have happened, a clause
// such as "the trusted domain was added".
func change(bs *BranchSettings, errs FieldErrors, what string, write func() error) error {
	if err := usable(bs); err != nil {
		return err
	}
	if len(errs) > 0 {
		return &InvalidSettingsError{Fields: errs}
	}
	if bs.checkOnly {
		return nil
	}
	return unknownOutcome(write(), what)
}
