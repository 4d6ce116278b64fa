package neonauth

import (
	"context"
	"strings"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// EmailAndPasswordForm is the email-and-password sign-in form
// (NeonAuthEmailAndPasswordConfig): every field of the spec's object, with
// disable_sign_up asked the way round people think of it.
type EmailAndPasswordForm struct {
	Enabled                     bool
	VerificationMethod          string
	RequireEmailVerification    bool
	AutoSignInAfterVerification bool
	SendVerificationOnSignUp    bool
	SendVerificationOnSignIn    bool
	AllowSignUp                 bool
}

// EmailAndPasswordFormFrom is the form showing Neon's configuration.
func EmailAndPasswordFormFrom(c *neonapi.EmailAndPasswordConfig) EmailAndPasswordForm {
	return EmailAndPasswordForm{
		Enabled:                     c.Enabled,
		VerificationMethod:          string(c.EmailVerificationMethod),
		RequireEmailVerification:    c.RequireEmailVerification,
		AutoSignInAfterVerification: c.AutoSignInAfterVerification,
		SendVerificationOnSignUp:    c.SendVerificationEmailOnSignUp,
		SendVerificationOnSignIn:    c.SendVerificationEmailOnSignIn,
		AllowSignUp:                 !c.DisableSignUp,
	}
}

// UpdateEmailAndPassword saves every field of the form
// (updateNeonAuthEmailAndPasswordConfig).
func (s *SettingsService) UpdateEmailAndPassword(ctx context.Context, bs *BranchSettings, f EmailAndPasswordForm) error {
	errs := FieldErrors{}
	oneOf(errs, "email_verification_method", f.VerificationMethod, string(neonapi.EmailVerificationOTP), string(neonapi.EmailVerificationLink))
	method := neonapi.EmailVerificationMethod(f.VerificationMethod)
	disable := !f.AllowSignUp
	req := neonapi.EmailAndPasswordConfigUpdate{
		Enabled:                       &f.Enabled,
		EmailVerificationMethod:       &method,
		RequireEmailVerification:      &f.RequireEmailVerification,
		AutoSignInAfterVerification:   &f.AutoSignInAfterVerification,
		SendVerificationEmailOnSignUp: &f.SendVerificationOnSignUp,
		SendVerificationEmailOnSignIn: &f.SendVerificationOnSignIn,
		DisableSignUp:                 &disable,
	}
	return change(bs, errs, "the email and password settings were saved", func() error {
		_, err := s.neon.UpdateEmailAndPasswordConfig(ctx, bs.ProjectID, bs.BranchID, req)
		return err
	})
}

// OAuth credential choices: Neon's shared development app, or the branch
// owner's own OAuth app.
const (
	OAuthSharedCredentials = "shared"
	OAuthOwnCredentials    = "own"
)

// OAuthProviderIDs lists the social providers the spec knows, in its order.
var OAuthProviderIDs = []neonapi.OAuthProviderID{neonapi.OAuthGoogle, neonapi.OAuthGitHub, neonapi.OAuthMicrosoft, neonapi.OAuthVercel}

// OAuthProviderName is a provider's product name.
func OAuthProviderName(id neonapi.OAuthProviderID) string {
	switch id {
	case neonapi.OAuthGoogle:
		return "Google"
	case neonapi.OAuthGitHub:
		return "GitHub"
	case neonapi.OAuthMicrosoft:
		return "Microsoft"
	case neonapi.OAuthVercel:
		return "Vercel"
	}
	return string(id)
}

// OAuthProviderForm adds a social sign-in provider or changes one's
// credentials. ClientSecret is write-only: a form never shows it back, and
// left empty on a change it keeps the secret Neon holds.
type OAuthProviderForm struct {
	ID                string
	Credentials       string
	ClientID          string
	ClientSecret      neonapi.Secret
	MicrosoftTenantID string
}

// TakesTenant reports whether a provider takes a directory tenant: only
// Microsoft does.
func TakesTenant(id neonapi.OAuthProviderID) bool { return id == neonapi.OAuthMicrosoft }

// tenantField checks the Microsoft tenant, which only Microsoft takes.
func (f OAuthProviderForm) tenantField(errs FieldErrors) {
	if f.MicrosoftTenantID == "" {
		return
	}
	if !TakesTenant(neonapi.OAuthProviderID(f.ID)) {
		errs.add("microsoft_tenant_id", "Only Microsoft takes a tenant; leave this empty.")
		return
	}
	textField(errs, "microsoft_tenant_id", f.MicrosoftTenantID, false, 256)
	if strings.ContainsAny(f.MicrosoftTenantID, " \t/") {
		errs.add("microsoft_tenant_id", "Enter a tenant id, a domain, or common, organizations or consumers.")
	}
}

// AddOAuthProvider configures a social sign-in provider
// (addBranchNeonAuthOauthProvider): with Neon's shared credentials, or with
// the client id and secret of the owner's own OAuth app.
func (s *SettingsService) AddOAuthProvider(ctx context.Context, bs *BranchSettings, f OAuthProviderForm) error {
	errs := FieldErrors{}
	if !neonapi.OAuthProviderID(f.ID).Valid() {
		errs.add("provider", "Pick Google, GitHub, Microsoft or Vercel.")
	}
	oneOf(errs, "credentials", f.Credentials, OAuthSharedCredentials, OAuthOwnCredentials)
	req := neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthProviderID(f.ID)}
	switch f.Credentials {
	case OAuthOwnCredentials:
		textField(errs, "client_id", f.ClientID, true, maxFieldLen)
		if !f.ClientSecret.IsSet() {
			errs.add("client_secret", "Enter the client secret of your OAuth app.")
		}
		f.tenantField(errs)
		req.ClientID, req.ClientSecret, req.MicrosoftTenantID = f.ClientID, f.ClientSecret, f.MicrosoftTenantID
	case OAuthSharedCredentials:
		// Shared credentials take nothing; a typed value would be dropped
		// without a word, so it is refused instead.
		for field, v := range map[string]string{"client_id": f.ClientID, "microsoft_tenant_id": f.MicrosoftTenantID} {
			if v != "" {
				errs.add(field, "Shared credentials take no client id or tenant: clear this or pick your own credentials.")
			}
		}
		if f.ClientSecret.IsSet() {
			errs.add("client_secret", "Shared credentials take no secret: clear this or pick your own credentials.")
		}
	}
	return change(bs, errs, "the OAuth provider was added", func() error {
		_, err := s.neon.AddOAuthProvider(ctx, bs.ProjectID, bs.BranchID, req)
		return err
	})
}

// ConfiguredOAuthProvider finds a configured provider in the loaded list.
func (bs *BranchSettings) ConfiguredOAuthProvider(id string) *neonapi.OAuthProvider {
	for i, p := range bs.OAuthProviders.Value {
		if string(p.ID) == id {
			return &bs.OAuthProviders.Value[i]
		}
	}
	return nil
}

// UsesOwnCredentials reports whether a configured provider signs users in
// through the owner's own OAuth app, whose secret Neon then holds.
func UsesOwnCredentials(p neonapi.OAuthProvider) bool {
	return p.Type == neonapi.OAuthStandard || p.ClientSecret.IsSet()
}

// UpdateOAuthProvider changes a configured provider's own credentials
// (updateBranchNeonAuthOauthProvider). Moving from shared credentials needs
// both the client id and secret; afterwards an empty secret keeps the one
// Neon holds. The provider must be in bs's list, which must have loaded.
func (s *SettingsService) UpdateOAuthProvider(ctx context.Context, bs *BranchSettings, f OAuthProviderForm) error {
	if err := usable(bs); err != nil {
		return err
	}
	if bs.OAuthProviders.Err != nil {
		return bs.OAuthProviders.Err
	}
	current := bs.ConfiguredOAuthProvider(f.ID)
	errs := FieldErrors{}
	switch {
	case current == nil:
		errs.add("provider", "This provider is not configured on the branch; add it instead.")
	case !UsesOwnCredentials(*current) && !f.ClientSecret.IsSet():
		errs.add("client_secret", "Enter the client secret of your OAuth app.")
	}
	textField(errs, "client_id", f.ClientID, true, maxFieldLen)
	f.tenantField(errs)
	req := neonapi.UpdateOAuthProviderRequest{ClientID: f.ClientID, ClientSecret: f.ClientSecret, MicrosoftTenantID: f.MicrosoftTenantID}
	return change(bs, errs, "the OAuth provider was changed", func() error {
		_, err := s.neon.UpdateOAuthProvider(ctx, bs.ProjectID, bs.BranchID, neonapi.OAuthProviderID(f.ID), req)
		return err
	})
}

// RemoveOAuthProvider stops offering a social provider
// (deleteBranchNeonAuthOauthProvider).
func (s *SettingsService) RemoveOAuthProvider(ctx context.Context, bs *BranchSettings, id string) error {
	errs := FieldErrors{}
	if !neonapi.OAuthProviderID(id).Valid() {
		errs.add("provider", "Pick Google, GitHub, Microsoft or Vercel.")
	}
	return change(bs, errs, "the OAuth provider was removed", func() error {
		return s.neon.DeleteOAuthProvider(ctx, bs.ProjectID, bs.BranchID, neonapi.OAuthProviderID(id))
	})
}
