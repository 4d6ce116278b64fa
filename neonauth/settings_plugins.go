package neonauth

import (
	"context"
	"strconv"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// OrganizationForm is the organization plugin (NeonAuthOrganizationConfig):
// every field of the spec's object, the limits as typed.
type OrganizationForm struct {
	Enabled             bool
	OrganizationLimit   string
	MembershipLimit     string
	CreatorRole         string
	SendInvitationEmail bool
}

// OrganizationFormFrom is the form showing Neon's configuration, or the
// spec's defaults when Neon left the plugin out.
func OrganizationFormFrom(c *neonapi.OrganizationConfig) OrganizationForm {
	if c == nil {
		c = &neonapi.OrganizationConfig{Enabled: true, OrganizationLimit: 10, MembershipLimit: 100, CreatorRole: neonapi.CreatorRoleOwner}
	}
	return OrganizationForm{
		Enabled:             c.Enabled,
		OrganizationLimit:   strconv.Itoa(c.OrganizationLimit),
		MembershipLimit:     strconv.Itoa(c.MembershipLimit),
		CreatorRole:         c.CreatorRole,
		SendInvitationEmail: c.SendInvitationEmail,
	}
}

// UpdateOrganization saves the organization plugin
// (updateNeonAuthOrganizationPlugin).
func (s *SettingsService) UpdateOrganization(ctx context.Context, bs *BranchSettings, f OrganizationForm) error {
	errs := FieldErrors{}
	orgs := intField(errs, "organization_limit", f.OrganizationLimit, 1, maxInt32)
	members := intField(errs, "membership_limit", f.MembershipLimit, 1, maxInt32)
	oneOf(errs, "creator_role", f.CreatorRole, neonapi.CreatorRoleOwner, neonapi.CreatorRoleAdmin)
	req := neonapi.OrganizationConfigUpdate{
		Enabled: &f.Enabled, OrganizationLimit: &orgs, MembershipLimit: &members,
		CreatorRole: &f.CreatorRole, SendInvitationEmail: &f.SendInvitationEmail,
	}
	return change(bs, errs, "the organization plugin was saved", func() error {
		_, err := s.neon.UpdateOrganizationPlugin(ctx, bs.ProjectID, bs.BranchID, req)
		return err
	})
}

// MagicLinkForm is the magic link plugin (NeonAuthMagicLinkConfig), with
// disable_sign_up asked the way round people think of it.
type MagicLinkForm struct {
	Enabled bool
	// ExpiresIn is the link's lifetime in minutes, as typed.
	ExpiresIn   string
	AllowSignUp bool
}

// MagicLinkFormFrom is the form showing Neon's configuration, or the spec's
// defaults when Neon left the plugin out.
func MagicLinkFormFrom(c *neonapi.MagicLinkConfig) MagicLinkForm {
	if c == nil {
		c = &neonapi.MagicLinkConfig{ExpiresIn: 5}
	}
	return MagicLinkForm{Enabled: c.Enabled, ExpiresIn: strconv.Itoa(c.ExpiresIn), AllowSignUp: !c.DisableSignUp}
}

// UpdateMagicLink saves the magic link plugin
// (updateNeonAuthMagicLinkPlugin).
func (s *SettingsService) UpdateMagicLink(ctx context.Context, bs *BranchSettings, f MagicLinkForm) error {
	errs := FieldErrors{}
	expires := intField(errs, "expires_in", f.ExpiresIn, 5, 1440)
	disable := !f.AllowSignUp
	req := neonapi.MagicLinkConfigUpdate{Enabled: &f.Enabled, ExpiresIn: &expires, DisableSignUp: &disable}
	return change(bs, errs, "the magic link plugin was saved", func() error {
		_, err := s.neon.UpdateMagicLinkPlugin(ctx, bs.ProjectID, bs.BranchID, req)
		return err
	})
}

// PhoneNumberForm is the phone number plugin (NeonAuthPhoneNumberConfig).
type PhoneNumberForm struct {
	Enabled bool
	// OTPExpiresIn is the code's lifetime in seconds, as typed; empty keeps
	// Neon's.
	OTPExpiresIn string
}

// PhoneNumberFormFrom is the form showing Neon's configuration.
func PhoneNumberFormFrom(c *neonapi.PhoneNumberConfig) PhoneNumberForm {
	if c == nil {
		return PhoneNumberForm{}
	}
	f := PhoneNumberForm{Enabled: c.Enabled}
	if c.OTPExpiresIn != 0 {
		f.OTPExpiresIn = strconv.Itoa(c.OTPExpiresIn)
	}
	return f
}

// UpdatePhoneNumber saves the phone number plugin
// (updateNeonAuthPhoneNumberPlugin).
func (s *SettingsService) UpdatePhoneNumber(ctx context.Context, bs *BranchSettings, f PhoneNumberForm) error {
	errs := FieldErrors{}
	req := neonapi.PhoneNumberConfigUpdate{Enabled: &f.Enabled, OTPExpiresIn: optionalInt(errs, "otp_expires_in", f.OTPExpiresIn, 60, 600)}
	return change(bs, errs, "the phone number plugin was saved", func() error {
		_, err := s.neon.UpdatePhoneNumberPlugin(ctx, bs.ProjectID, bs.BranchID, req)
		return err
	})
}
