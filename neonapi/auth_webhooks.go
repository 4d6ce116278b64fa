package neonapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// WebhookEvent names an auth event a webhook can receive
// (NeonAuthWebhookConfig.enabled_events).
type WebhookEvent string

// The webhook events the spec knows.
const (
	WebhookUserBeforeCreate    WebhookEvent = "user.before_create"
	WebhookUserCreated         WebhookEvent = "user.created"
	WebhookSendOTP             WebhookEvent = "send.otp"
	WebhookSendMagicLink       WebhookEvent = "send.magic_link"
	WebhookInvitationCreated   WebhookEvent = "organization.invitation.created"
	WebhookInvitationAccepted  WebhookEvent = "organization.invitation.accepted"
	WebhookPhoneNumberVerified WebhookEvent = "phone_number.verified"
)

// WebhookEvents lists every event the spec knows, in its order.
var WebhookEvents = []WebhookEvent{
	WebhookUserBeforeCreate, WebhookUserCreated, WebhookSendOTP, WebhookSendMagicLink,
	WebhookInvitationCreated, WebhookInvitationAccepted, WebhookPhoneNumberVerified,
}

// WebhookConfig is where a branch's auth events are posted
// (NeonAuthWebhookConfig). The spec carries no signing secret for it.
type WebhookConfig struct {
	Enabled       bool           `json:"enabled" neon:"required"`
	WebhookURL    string         `json:"webhook_url,omitempty"`
	EnabledEvents []WebhookEvent `json:"enabled_events,omitempty"`
	// TimeoutSeconds is how long Neon waits for the endpoint, 1 to 10; zero
	// leaves Neon's default.
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// GetWebhookConfig returns a branch's webhook configuration (operationId
// getNeonAuthWebhookConfig).
func (c *Client) GetWebhookConfig(ctx context.Context, projectID, branchID string) (*WebhookConfig, error) {
	var out WebhookConfig
	if err := c.branchAuth(ctx, "getNeonAuthWebhookConfig", http.MethodGet, projectID, branchID, "/webhooks", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateWebhookConfig replaces a branch's webhook configuration with cfg
// (operationId updateNeonAuthWebhookConfig).
func (c *Client) UpdateWebhookConfig(ctx context.Context, projectID, branchID string, cfg WebhookConfig) (*WebhookConfig, error) {
	const op = "updateNeonAuthWebhookConfig"
	if cfg.TimeoutSeconds != 0 {
		if err := checkRange(op, "timeout", &cfg.TimeoutSeconds, 1, 10); err != nil {
			return nil, err
		}
	}
	for _, e := range cfg.EnabledEvents {
		if !slices.Contains(WebhookEvents, e) {
			return nil, fmt.Errorf("%w: %s: unknown webhook event %q", ErrInvalidArgument, op, e)
		}
	}
	var out WebhookConfig
	if err := c.branchAuth(ctx, op, http.MethodPut, projectID, branchID, "/webhooks", cfg, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
