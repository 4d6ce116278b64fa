package neonapi

import (
	"context"
	"fmt"
	"net/http"
)

// PluginConfigs is every Better Auth plugin setting of a branch in one answer
// (NeonAuthPluginConfigs); a nil field is one Neon left out.
type PluginConfigs struct {
	Organization     *OrganizationConfig     `json:"organization,omitempty"`
	MagicLink        *MagicLinkConfig        `json:"magic_link,omitempty"`
	PhoneNumber      *PhoneNumberConfig      `json:"phone_number,omitempty"`
	EmailProvider    *EmailServer            `json:"email_provider,omitempty"`
	EmailAndPassword *EmailAndPasswordConfig `json:"email_and_password,omitempty"`
	OAuthProviders   []OAuthProvider         `json:"oauth_providers,omitempty"`
	AllowLocalhost   *bool                   `json:"allow_localhost,omitempty"`
}

// GetPluginConfigs returns every plugin setting of a branch (operationId
// getNeonAuthPluginConfigs).
func (c *Client) GetPluginConfigs(ctx context.Context, projectID, branchID string) (*PluginConfigs, error) {
	var out PluginConfigs
	if err := c.branchAuth(ctx, "getNeonAuthPluginConfigs", http.MethodGet, projectID, branchID, "/plugins", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Organization creator roles (NeonAuthOrganizationConfig.creator_role).
const (
	CreatorRoleOwner = "owner"
	CreatorRoleAdmin = "admin"
)

// OrganizationConfig is the organization plugin (NeonAuthOrganizationConfig):
// multi-tenant organizations with members and invitations.
type OrganizationConfig struct {
	Enabled             bool   `json:"enabled" neon:"required"`
	OrganizationLimit   int    `json:"organization_limit"`
	MembershipLimit     int    `json:"membership_limit"`
	CreatorRole         string `json:"creator_role"`
	SendInvitationEmail bool   `json:"send_invitation_email"`
}

// OrganizationConfigUpdate is the body of updateNeonAuthOrganizationPlugin; nil
// fields are left unchanged.
type OrganizationConfigUpdate struct {
	Enabled             *bool   `json:"enabled,omitempty"`
	OrganizationLimit   *int    `json:"organization_limit,omitempty"`
	MembershipLimit     *int    `json:"membership_limit,omitempty"`
	CreatorRole         *string `json:"creator_role,omitempty"`
	SendInvitationEmail *bool   `json:"send_invitation_email,omitempty"`
}

// maxInt32 bounds the int32 fields of the plugin schemas.
const maxInt32 = 1<<31 - 1

// UpdateOrganizationPlugin changes the organization plugin and returns its
// whole configuration (operationId updateNeonAuthOrganizationPlugin).
func (c *Client) UpdateOrganizationPlugin(ctx context.Context, projectID, branchID string, req OrganizationConfigUpdate) (*OrganizationConfig, error) {
	const op = "updateNeonAuthOrganizationPlugin"
	if err := checkRange(op, "organization limit", req.OrganizationLimit, 1, maxInt32); err != nil {
		return nil, err
	}
	if err := checkRange(op, "membership limit", req.MembershipLimit, 1, maxInt32); err != nil {
		return nil, err
	}
	if r := req.CreatorRole; r != nil && *r != CreatorRoleOwner && *r != CreatorRoleAdmin {
		return nil, fmt.Errorf("%w: %s: creator role %q is not owner or admin", ErrInvalidArgument, op, *r)
	}
	var out OrganizationConfig
	if err := c.branchAuth(ctx, op, http.MethodPatch, projectID, branchID, "/plugins/organization", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MagicLinkConfig is the magic link plugin (NeonAuthMagicLinkConfig):
// passwordless sign-in through a link sent by email.
type MagicLinkConfig struct {
	Enabled bool `json:"enabled" neon:"required"`
	// ExpiresIn is the link's lifetime in minutes, 5 to 1440.
	ExpiresIn     int  `json:"expires_in"`
	DisableSignUp bool `json:"disable_sign_up"`
}

// MagicLinkConfigUpdate is the body of updateNeonAuthMagicLinkPlugin; nil
// fields are left unchanged.
type MagicLinkConfigUpdate struct {
	Enabled       *bool `json:"enabled,omitempty"`
	ExpiresIn     *int  `json:"expires_in,omitempty"`
	DisableSignUp *bool `json:"disable_sign_up,omitempty"`
}

// UpdateMagicLinkPlugin changes the magic link plugin and returns its whole
// configuration (operationId updateNeonAuthMagicLinkPlugin).
func (c *Client) UpdateMagicLinkPlugin(ctx context.Context, projectID, branchID string, req MagicLinkConfigUpdate) (*MagicLinkConfig, error) {
	const op = "updateNeonAuthMagicLinkPlugin"
	if err := checkRange(op, "expires in", req.ExpiresIn, 5, 1440); err != nil {
		return nil, err
	}
	var out MagicLinkConfig
	if err := c.branchAuth(ctx, op, http.MethodPatch, projectID, branchID, "/plugins/magic-link", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PhoneNumberConfig is the phone number plugin (NeonAuthPhoneNumberConfig):
// sign-in with a one-time code, delivered through the send.otp webhook.
type PhoneNumberConfig struct {
	Enabled bool `json:"enabled" neon:"required"`
	// OTPExpiresIn is the code's lifetime in seconds, 60 to 600; zero when
	// Neon left it out.
	OTPExpiresIn int `json:"otp_expires_in,omitempty"`
}

// PhoneNumberConfigUpdate is the body of updateNeonAuthPhoneNumberPlugin; nil
// fields are left unchanged.
type PhoneNumberConfigUpdate struct {
	Enabled      *bool `json:"enabled,omitempty"`
	OTPExpiresIn *int  `json:"otp_expires_in,omitempty"`
}

// GetPhoneNumberPlugin returns the phone number plugin's configuration
// (operationId getNeonAuthPhoneNumberPlugin).
func (c *Client) GetPhoneNumberPlugin(ctx context.Context, projectID, branchID string) (*PhoneNumberConfig, error) {
	var out PhoneNumberConfig
	if err := c.branchAuth(ctx, "getNeonAuthPhoneNumberPlugin", http.MethodGet, projectID, branchID, "/plugins/phone-number", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdatePhoneNumberPlugin changes the phone number plugin and returns its
// whole configuration (operationId updateNeonAuthPhoneNumberPlugin).
func (c *Client) UpdatePhoneNumberPlugin(ctx context.Context, projectID, branchID string, req PhoneNumberConfigUpdate) (*PhoneNumberConfig, error) {
	const op = "updateNeonAuthPhoneNumberPlugin"
	if err := checkRange(op, "OTP lifetime", req.OTPExpiresIn, 60, 600); err != nil {
		return nil, err
	}
	var out PhoneNumberConfig
	if err := c.branchAuth(ctx, op, http.MethodPatch, projectID, branchID, "/plugins/phone-number", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
