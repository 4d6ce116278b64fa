package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"
)

// organizationJSON is the spec's NeonAuthOrganizationConfig.
type organizationJSON struct {
	Enabled             bool   `json:"enabled"`
	OrganizationLimit   int    `json:"organization_limit"`
	MembershipLimit     int    `json:"membership_limit"`
	CreatorRole         string `json:"creator_role"`
	SendInvitationEmail bool   `json:"send_invitation_email"`
}

// magicLinkJSON is the spec's NeonAuthMagicLinkConfig.
type magicLinkJSON struct {
	Enabled       bool `json:"enabled"`
	ExpiresIn     int  `json:"expires_in"`
	DisableSignUp bool `json:"disable_sign_up"`
}

// phoneNumberJSON is the spec's NeonAuthPhoneNumberConfig.
type phoneNumberJSON struct {
	Enabled      bool `json:"enabled"`
	OTPExpiresIn int  `json:"otp_expires_in"`
}

// webhookJSON is the spec's NeonAuthWebhookConfig.
type webhookJSON struct {
	Enabled        bool     `json:"enabled"`
	WebhookURL     string   `json:"webhook_url,omitempty"`
	EnabledEvents  []string `json:"enabled_events"`
	TimeoutSeconds int      `json:"timeout_seconds"`
}

// Partial updates, the spec's *ConfigUpdate bodies.
type (
	organizationUpdate struct {
		Enabled             *bool   `json:"enabled"`
		OrganizationLimit   *int    `json:"organization_limit"`
		MembershipLimit     *int    `json:"membership_limit"`
		CreatorRole         *string `json:"creator_role"`
		SendInvitationEmail *bool   `json:"send_invitation_email"`
	}
	magicLinkUpdate struct {
		Enabled       *bool `json:"enabled"`
		ExpiresIn     *int  `json:"expires_in"`
		DisableSignUp *bool `json:"disable_sign_up"`
	}
	phoneNumberUpdate struct {
		Enabled      *bool `json:"enabled"`
		OTPExpiresIn *int  `json:"otp_expires_in"`
	}
	configUpdate struct {
		Name *string `json:"name"`
	}
	webhookRequest struct {
		Enabled        *bool     `json:"enabled"`
		WebhookURL     *string   `json:"webhook_url"`
		EnabledEvents  *[]string `json:"enabled_events"`
		TimeoutSeconds *int      `json:"timeout_seconds"`
	}
)

// webhookEvents are the events the spec lets a webhook receive.
var webhookEvents = []string{
	"user.before_create", "user.created", "send.otp", "send.magic_link",
	"organization.invitation.created", "organization.invitation.accepted", "phone_number.verified",
}

// inRange checks an optional integer field.
func inRange(v *int, field string, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return badRequest("%s must be from %d to %d", field, lo, hi)
	}
	return nil
}

// maxInt32 is the upper bound of the spec's int32 fields.
const maxInt32 = 1<<31 - 1

func (s *Sandbox) getPluginConfigs(w http.ResponseWriter, r *http.Request) error {
	return s.readAuth(w, r, "plugins", func(in *integration) any {
		a := &in.settings
		return struct {
			Organization     organizationJSON     `json:"organization"`
			MagicLink        magicLinkJSON        `json:"magic_link"`
			PhoneNumber      phoneNumberJSON      `json:"phone_number"`
			EmailProvider    any                  `json:"email_provider"`
			EmailAndPassword emailAndPasswordJSON `json:"email_and_password"`
			OAuthProviders   []oauthProviderJSON  `json:"oauth_providers"`
			AllowLocalhost   bool                 `json:"allow_localhost"`
		}{a.organization, a.magicLink, a.phoneNumber, a.emailServer.json(), a.emailAndPassword, oauthProvidersJSON(in), a.allowLocalhost}
	})
}

func (s *Sandbox) updateOrganizationPlugin(w http.ResponseWriter, r *http.Request) error {
	var req organizationUpdate
	return s.writeAuth(w, r, "the organization plugin", http.StatusOK, &req, func(in *integration) (any, error) {
		if err := inRange(req.OrganizationLimit, "organization_limit", 1, maxInt32); err != nil {
			return nil, err
		}
		if err := inRange(req.MembershipLimit, "membership_limit", 1, maxInt32); err != nil {
			return nil, err
		}
		if req.CreatorRole != nil && *req.CreatorRole != "owner" && *req.CreatorRole != "admin" {
			return nil, badRequest("creator_role must be owner or admin")
		}
		o := &in.settings.organization
		set(&o.Enabled, req.Enabled)
		set(&o.OrganizationLimit, req.OrganizationLimit)
		set(&o.MembershipLimit, req.MembershipLimit)
		set(&o.CreatorRole, req.CreatorRole)
		set(&o.SendInvitationEmail, req.SendInvitationEmail)
		return *o, nil
	})
}

func (s *Sandbox) updateMagicLinkPlugin(w http.ResponseWriter, r *http.Request) error {
	var req magicLinkUpdate
	return s.writeAuth(w, r, "the magic link plugin", http.StatusOK, &req, func(in *integration) (any, error) {
		if err := inRange(req.ExpiresIn, "expires_in", 5, 1440); err != nil {
			return nil, err
		}
		m := &in.settings.magicLink
		set(&m.Enabled, req.Enabled)
		set(&m.ExpiresIn, req.ExpiresIn)
		set(&m.DisableSignUp, req.DisableSignUp)
		return *m, nil
	})
}

func (s *Sandbox) getPhoneNumberPlugin(w http.ResponseWriter, r *http.Request) error {
	return s.readAuth(w, r, "the phone number plugin", func(in *integration) any { return in.settings.phoneNumber })
}

func (s *Sandbox) updatePhoneNumberPlugin(w http.ResponseWriter, r *http.Request) error {
	var req phoneNumberUpdate
	return s.writeAuth(w, r, "the phone number plugin", http.StatusOK, &req, func(in *integration) (any, error) {
		if err := inRange(req.OTPExpiresIn, "otp_expires_in", 60, 600); err != nil {
			return nil, err
		}
		p := &in.settings.phoneNumber
		set(&p.Enabled, req.Enabled)
		set(&p.OTPExpiresIn, req.OTPExpiresIn)
		return *p, nil
	})
}

// updateAuthConfig sets the application name, which getNeonAuth shows too.
func (s *Sandbox) updateAuthConfig(w http.ResponseWriter, r *http.Request) error {
	var req configUpdate
	return s.writeAuth(w, r, "the application name", http.StatusOK, &req, func(in *integration) (any, error) {
		if req.Name == nil {
			return nil, badRequest("name is required")
		}
		if n := utf8.RuneCountInString(*req.Name); n < 1 || n > 256 {
			return nil, badRequest("name must be 1 to 256 characters long")
		}
		in.settings.name = *req.Name
		return struct {
			Name string `json:"name"`
		}{in.settings.name}, nil
	})
}

func (s *Sandbox) getWebhookConfig(w http.ResponseWriter, r *http.Request) error {
	return s.readAuth(w, r, "webhooks", func(in *integration) any { return in.settings.webhook })
}

// updateWebhookConfig replaces the configuration (PUT); an enabled webhook
// needs an http(s) URL to post to.
func (s *Sandbox) updateWebhookConfig(w http.ResponseWriter, r *http.Request) error {
	var req webhookRequest
	return s.writeAuth(w, r, "webhooks", http.StatusOK, &req, func(in *integration) (any, error) {
		if req.Enabled == nil {
			return nil, badRequest("enabled is required")
		}
		next := webhookJSON{Enabled: *req.Enabled, WebhookURL: deref(req.WebhookURL), EnabledEvents: []string{}, TimeoutSeconds: 5}
		if next.WebhookURL != "" {
			u, err := url.Parse(next.WebhookURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
				return nil, badRequest("webhook_url %q is not an http or https URL", next.WebhookURL)
			}
		} else if next.Enabled {
			return nil, badRequest("webhook_url is required to enable the webhook")
		}
		if req.EnabledEvents != nil {
			for _, e := range *req.EnabledEvents {
				if !slices.Contains(webhookEvents, e) {
					return nil, badRequest("enabled_events: unknown event %q", e)
				}
				if !slices.Contains(next.EnabledEvents, e) {
					next.EnabledEvents = append(next.EnabledEvents, e)
				}
			}
		}
		if err := inRange(req.TimeoutSeconds, "timeout_seconds", 1, 10); err != nil {
			return nil, err
		}
		set(&next.TimeoutSeconds, req.TimeoutSeconds)
		in.settings.webhook = next
		return next, nil
	})
}
