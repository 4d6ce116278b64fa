package neonapi

import (
	"context"
	"fmt"
	"net/http"
)

// EmailVerificationMethod is how new addresses are verified
// (NeonAuthEmailVerificationMethod).
type EmailVerificationMethod string

// Verification methods: a one-time code, or a link (which needs the branch's
// own email server).
const (
	EmailVerificationOTP  EmailVerificationMethod = "otp"
	EmailVerificationLink EmailVerificationMethod = "link"
)

// EmailAndPasswordConfig is a branch's email-and-password sign-in settings
// (NeonAuthEmailAndPasswordConfig).
type EmailAndPasswordConfig struct {
	Enabled                       bool                    `json:"enabled" neon:"required"`
	EmailVerificationMethod       EmailVerificationMethod `json:"email_verification_method"`
	RequireEmailVerification      bool                    `json:"require_email_verification" neon:"required"`
	AutoSignInAfterVerification   bool                    `json:"auto_sign_in_after_verification" neon:"required"`
	SendVerificationEmailOnSignUp bool                    `json:"send_verification_email_on_sign_up" neon:"required"`
	SendVerificationEmailOnSignIn bool                    `json:"send_verification_email_on_sign_in" neon:"required"`
	DisableSignUp                 bool                    `json:"disable_sign_up" neon:"required"`
}

// EmailAndPasswordConfigUpdate is the body of
// updateNeonAuthEmailAndPasswordConfig; nil fields are left unchanged.
type EmailAndPasswordConfigUpdate struct {
	Enabled                       *bool                    `json:"enabled,omitempty"`
	EmailVerificationMethod       *EmailVerificationMethod `json:"email_verification_method,omitempty"`
	RequireEmailVerification      *bool                    `json:"require_email_verification,omitempty"`
	AutoSignInAfterVerification   *bool                    `json:"auto_sign_in_after_verification,omitempty"`
	SendVerificationEmailOnSignUp *bool                    `json:"send_verification_email_on_sign_up,omitempty"`
	SendVerificationEmailOnSignIn *bool                    `json:"send_verification_email_on_sign_in,omitempty"`
	DisableSignUp                 *bool                    `json:"disable_sign_up,omitempty"`
}

// GetEmailAndPasswordConfig returns a branch's email-and-password settings
// (operationId getNeonAuthEmailAndPasswordConfig).
func (c *Client) GetEmailAndPasswordConfig(ctx context.Context, projectID, branchID string) (*EmailAndPasswordConfig, error) {
	var out EmailAndPasswordConfig
	if err := c.branchAuth(ctx, "getNeonAuthEmailAndPasswordConfig", http.MethodGet, projectID, branchID, "/email_and_password", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateEmailAndPasswordConfig changes the fields set in req and returns the
// whole configuration (operationId updateNeonAuthEmailAndPasswordConfig).
func (c *Client) UpdateEmailAndPasswordConfig(ctx context.Context, projectID, branchID string, req EmailAndPasswordConfigUpdate) (*EmailAndPasswordConfig, error) {
	const op = "updateNeonAuthEmailAndPasswordConfig"
	if m := req.EmailVerificationMethod; m != nil && *m != EmailVerificationOTP && *m != EmailVerificationLink {
		return nil, fmt.Errorf("%w: %s: email verification method %q is not otp or link", ErrInvalidArgument, op, *m)
	}
	var out EmailAndPasswordConfig
	if err := c.branchAuth(ctx, op, http.MethodPatch, projectID, branchID, "/email_and_password", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EmailServerType tells which server sends a branch's auth emails.
type EmailServerType string

// Email servers: the branch's own SMTP server, or Neon's shared one.
const (
	EmailServerStandard EmailServerType = "standard"
	EmailServerShared   EmailServerType = "shared"
)

// EmailServer is a branch's email provider (NeonAuthEmailServerConfig, one of
// StandardEmailServer and SharedEmailServer, told apart by Type). Host, Port,
// Username and Password belong to a standard server only. Password is
// write-only: reads leave it empty.
type EmailServer struct {
	Type        EmailServerType `json:"type" neon:"required"`
	Host        string          `json:"host,omitempty"`
	Port        int             `json:"port,omitempty"`
	Username    string          `json:"username,omitempty"`
	Password    Secret          `json:"password,omitzero"`
	SenderEmail string          `json:"sender_email,omitempty"`
	SenderName  string          `json:"sender_name,omitempty"`
}

// standardEmailServerBody is StandardEmailServer on the wire, every field
// required, the password revealed.
type standardEmailServerBody struct {
	Type        EmailServerType `json:"type,omitempty"`
	Host        string          `json:"host"`
	Port        int             `json:"port"`
	Username    string          `json:"username"`
	Password    string          `json:"password"`
	SenderEmail string          `json:"sender_email"`
	SenderName  string          `json:"sender_name"`
}

// sharedEmailServerBody is SharedEmailServer on the wire.
type sharedEmailServerBody struct {
	Type        EmailServerType `json:"type"`
	SenderEmail string          `json:"sender_email,omitempty"`
	SenderName  string          `json:"sender_name,omitempty"`
}

// GetEmailProvider returns the server that sends a branch's auth emails
// (operationId getNeonAuthEmailProvider).
func (c *Client) GetEmailProvider(ctx context.Context, projectID, branchID string) (*EmailServer, error) {
	var out EmailServer
	if err := c.branchAuth(ctx, "getNeonAuthEmailProvider", http.MethodGet, projectID, branchID, "/email_provider", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateEmailProvider switches a branch's auth emails to s and returns the new
// configuration (operationId updateNeonAuthEmailProvider). A standard server
// needs every field, the password included.
func (c *Client) UpdateEmailProvider(ctx context.Context, projectID, branchID string, s EmailServer) (*EmailServer, error) {
	const op = "updateNeonAuthEmailProvider"
	var body any
	var secret string
	switch s.Type {
	case EmailServerStandard:
		secret = s.Password.Reveal()
		body = standardEmailServerBody{s.Type, s.Host, s.Port, s.Username, secret, s.SenderEmail, s.SenderName}
	case EmailServerShared:
		if s.Host != "" || s.Port != 0 || s.Username != "" || s.Password.IsSet() {
			return nil, fmt.Errorf("%w: %s: a shared email server takes only a sender", ErrInvalidArgument, op)
		}
		body = sharedEmailServerBody{s.Type, s.SenderEmail, s.SenderName}
	default:
		return nil, fmt.Errorf("%w: %s: email server type %q is not standard or shared", ErrInvalidArgument, op, s.Type)
	}
	var out EmailServer
	if err := c.branchAuth(ctx, op, http.MethodPatch, projectID, branchID, "/email_provider", body, &out, secret); err != nil {
		return nil, err
	}
	return &out, nil
}

// SendTestEmailRequest is the body of sendNeonAuthTestEmail
// (SendNeonAuthTestEmailRequest): the SMTP settings to try and where to send
// the message.
type SendTestEmailRequest struct {
	Host           string `json:"host"`
	Port           int    `json:"port"`
	Username       string `json:"username"`
	Password       Secret `json:"password"`
	SenderEmail    string `json:"sender_email"`
	SenderName     string `json:"sender_name"`
	RecipientEmail string `json:"recipient_email"`
}

// sendTestEmailBody is SendTestEmailRequest on the wire, the password revealed.
type sendTestEmailBody struct {
	standardEmailServerBody
	RecipientEmail string `json:"recipient_email"`
}

// SendTestEmailResult says whether the test message went out
// (SendNeonAuthTestEmailResponse); a failure is an answer, not an error.
type SendTestEmailResult struct {
	Success      bool   `json:"success" neon:"required"`
	ErrorMessage string `json:"error_message,omitempty"`
}

// SendTestEmail has Neon send a test message through the given SMTP settings
// (operationId sendNeonAuthTestEmail).
func (c *Client) SendTestEmail(ctx context.Context, projectID, branchID string, req SendTestEmailRequest) (*SendTestEmailResult, error) {
	const op = "sendNeonAuthTestEmail"
	if err := require(op, "recipient email", req.RecipientEmail); err != nil {
		return nil, err
	}
	var out SendTestEmailResult
	body := sendTestEmailBody{standardEmailServerBody{"", req.Host, req.Port, req.Username, req.Password.Reveal(), req.SenderEmail, req.SenderName}, req.RecipientEmail}
	if err := c.branchAuth(ctx, op, http.MethodPost, projectID, branchID, "/send_test_email", body, &out, body.Password); err != nil {
		return nil, err
	}
	return &out, nil
}
