package neonauth

import (
	"slices"
	"strconv"
	"strings"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// CompareSide is one branch of a comparison.
type CompareSide struct {
	Branch neonapi.Branch
	// Settings is nil when the branch has no branch-level Neon Auth.
	Settings *SettingsSnapshot
	// Provider is what serves the branch instead when Settings is nil: Stack
	// Auth, or "" for nothing.
	Provider authprovider.Provider
}

// CompareRow is one setting of both branches. A and B are what a page may
// show: secrets appear only as "set" or "not set", and values the Neon API
// marks sensitive (SMTP host and user name) the same way. Differs compares
// the values themselves where Neon returns them, so two different SMTP hosts
// differ although both read "set".
type CompareRow struct {
	Key     string
	Label   string
	A, B    string
	Differs bool
}

// CompareSection groups rows the way the settings forms do.
type CompareSection struct {
	Title string
	Rows  []CompareRow
}

// Comparison is two branches' Neon Auth settings side by side.
type Comparison struct {
	ProjectID string
	A, B      CompareSide
	Sections  []CompareSection
	// Differences counts the rows that differ.
	Differences int
}

// Displayed values shared by many rows.
const (
	valueSet        = "set"
	valueNotSet     = "not set"
	valueNone       = "none"
	valueNotEnabled = "—"
)

// field is one compared setting: how it reads on a page and, where they are
// not the same, the raw value that decides whether the branches differ.
type field struct {
	key, label string
	show       func(*SettingsSnapshot) string
	raw        func(*SettingsSnapshot) string
}

// Compare lines up two branches' settings. A side without Neon Auth shows
// "—" in every settings row, which therefore all differ from a side with it.
func Compare(projectID string, a, b CompareSide, fullURLs bool) *Comparison {
	c := &Comparison{ProjectID: projectID, A: a, B: b}
	for _, sec := range compareSections(a.Settings, b.Settings, fullURLs) {
		cs := CompareSection{Title: sec.title}
		for _, f := range sec.fields {
			row := CompareRow{Key: f.key, Label: f.label, A: value(a.Settings, f.show), B: value(b.Settings, f.show)}
			raw := f.raw
			if raw == nil {
				raw = f.show
			}
			row.Differs = value(a.Settings, raw) != value(b.Settings, raw)
			if row.Differs {
				c.Differences++
			}
			cs.Rows = append(cs.Rows, row)
		}
		c.Sections = append(c.Sections, cs)
	}
	return c
}

// fieldsByKey lists every compared field by key.
func fieldsByKey(a, b *SettingsSnapshot, fullURLs bool) map[string]field {
	out := map[string]field{}
	for _, sec := range compareSections(a, b, fullURLs) {
		for _, f := range sec.fields {
			out[f.key] = f
		}
	}
	return out
}

// value applies f to s, or gives the placeholder for a branch without Neon
// Auth.
func value(s *SettingsSnapshot, f func(*SettingsSnapshot) string) string {
	if s == nil {
		return valueNotEnabled
	}
	return f(s)
}

type section struct {
	title  string
	fields []field
}

// compareSections lists what is compared. Per-provider OAuth rows appear only
// for providers either branch has configured. fullURLs shows a webhook's
// whole URL rather than its scheme and host.
func compareSections(a, b *SettingsSnapshot, fullURLs bool) []section {
	return []section{
		{"Neon Auth", []field{
			{key: "database", label: "Database", show: func(s *SettingsSnapshot) string { return s.Auth.DBName }},
			{key: "app-name", label: "Application name", show: func(s *SettingsSnapshot) string { return orNone(s.Auth.Name) }},
		}},
		{"Domains", []field{
			{key: "trusted-domains", label: "Trusted domains", show: domainList},
			{key: "allow-localhost", label: "Localhost", show: func(s *SettingsSnapshot) string { return yesNo(s.AllowLocalhost, "allowed", "not allowed") }},
		}},
		{"Social sign-in", oauthFields(a, b)},
		{"Email and password", emailPasswordFields()},
		{"Email server", emailServerFields()},
		{"Plugins", pluginFields()},
		{"Webhooks", webhookFields(fullURLs)},
	}
}

func domainList(s *SettingsSnapshot) string {
	ds := make([]string, len(s.Domains))
	for i, d := range s.Domains {
		ds[i] = d.Domain
	}
	if len(ds) == 0 {
		return valueNone
	}
	slices.Sort(ds) // a set: the order they were added in is no difference
	return strings.Join(ds, ", ")
}

// oauthFields compares each provider's credentials. A client secret is only
// ever "set" or "not set": Neon does not return it, and where it might, it
// stays a neonapi.Secret that is never revealed.
func oauthFields(a, b *SettingsSnapshot) []field {
	var out []field
	for _, id := range []neonapi.OAuthProviderID{neonapi.OAuthGoogle, neonapi.OAuthGitHub, neonapi.OAuthMicrosoft, neonapi.OAuthVercel} {
		if oauthProvider(a, id) == nil && oauthProvider(b, id) == nil {
			continue
		}
		name, key := OAuthProviderName(id), "oauth-"+string(id)
		out = append(out,
			field{key: key, label: name, show: func(s *SettingsSnapshot) string {
				p := oauthProvider(s, id)
				switch {
				case p == nil:
					return "not configured"
				case p.Type == neonapi.OAuthShared:
					return "Neon's shared credentials"
				}
				return "own credentials"
			}},
			field{key: key + "-client-id", label: name + " client id", show: func(s *SettingsSnapshot) string {
				if p := oauthProvider(s, id); p != nil && p.ClientID != "" {
					return p.ClientID
				}
				return valueNone
			}},
			field{key: key + "-client-secret", label: name + " client secret", show: func(s *SettingsSnapshot) string {
				p := oauthProvider(s, id)
				return yesNo(p != nil && (p.Type == neonapi.OAuthStandard || p.ClientSecret.IsSet()), valueSet, valueNotSet)
			}},
		)
	}
	if len(out) == 0 {
		out = append(out, field{key: "oauth", label: "Providers", show: func(*SettingsSnapshot) string { return valueNone }})
	}
	return out
}

func oauthProvider(s *SettingsSnapshot, id neonapi.OAuthProviderID) *neonapi.OAuthProvider {
	if s == nil {
		return nil
	}
	for i := range s.OAuth {
		if s.OAuth[i].ID == id {
			return &s.OAuth[i]
		}
	}
	return nil
}

func emailPasswordFields() []field {
	flag := func(key, label string, get func(neonapi.EmailAndPasswordConfig) bool) field {
		return field{key: key, label: label, show: func(s *SettingsSnapshot) string { return yesNo(get(s.EmailAndPassword), "on", "off") }}
	}
	return []field{
		flag("email-password", "Email and password sign-in", func(c neonapi.EmailAndPasswordConfig) bool { return c.Enabled }),
		{key: "verification-method", label: "Verification method", show: func(s *SettingsSnapshot) string {
			return orNone(verificationMethod(s.EmailAndPassword.EmailVerificationMethod))
		}},
		flag("require-verification", "Verification required", func(c neonapi.EmailAndPasswordConfig) bool { return c.RequireEmailVerification }),
		flag("auto-sign-in", "Sign in after verifying", func(c neonapi.EmailAndPasswordConfig) bool { return c.AutoSignInAfterVerification }),
		flag("verify-on-sign-up", "Verification email on sign-up", func(c neonapi.EmailAndPasswordConfig) bool { return c.SendVerificationEmailOnSignUp }),
		flag("verify-on-sign-in", "Verification email on sign-in", func(c neonapi.EmailAndPasswordConfig) bool { return c.SendVerificationEmailOnSignIn }),
		{key: "allow-sign-up", label: "New sign-ups", show: func(s *SettingsSnapshot) string {
			return yesNo(!s.EmailAndPassword.DisableSignUp, "allowed", "not allowed")
		}},
	}
}

// emailServerFields compares the email server. The password is write-only
// in the Neon API; a standard server always has one. Host and user name are
// marked sensitive in the API's spec, so they show as set or not set while
// still being compared.
func emailServerFields() []field {
	std := func(s *SettingsSnapshot) bool { return s.EmailServer.Type == neonapi.EmailServerStandard }
	sensitive := func(key, label string, get func(neonapi.EmailServer) string) field {
		return field{key: key, label: label,
			show: func(s *SettingsSnapshot) string { return yesNo(get(s.EmailServer) != "", valueSet, valueNotSet) },
			raw:  func(s *SettingsSnapshot) string { return get(s.EmailServer) },
		}
	}
	return []field{
		{key: "email-server", label: "Server", show: func(s *SettingsSnapshot) string {
			return yesNo(std(s), "your own SMTP server", "Neon's shared server")
		}},
		sensitive("smtp-host", "SMTP host", func(e neonapi.EmailServer) string { return e.Host }),
		{key: "smtp-port", label: "SMTP port", show: func(s *SettingsSnapshot) string { return number(s.EmailServer.Port) }},
		sensitive("smtp-username", "SMTP user name", func(e neonapi.EmailServer) string { return e.Username }),
		{key: "smtp-password", label: "SMTP password", show: func(s *SettingsSnapshot) string {
			return yesNo(std(s) || s.EmailServer.Password.IsSet(), valueSet, valueNotSet)
		}},
		{key: "sender-email", label: "Sender address", show: func(s *SettingsSnapshot) string { return orNone(s.EmailServer.SenderEmail) }},
		{key: "sender-name", label: "Sender name", show: func(s *SettingsSnapshot) string { return orNone(s.EmailServer.SenderName) }},
	}
}

func pluginFields() []field {
	org := func(s *SettingsSnapshot) neonapi.OrganizationConfig { return deref(s.Plugins.Organization) }
	magic := func(s *SettingsSnapshot) neonapi.MagicLinkConfig { return deref(s.Plugins.MagicLink) }
	phone := func(s *SettingsSnapshot) neonapi.PhoneNumberConfig { return deref(s.Plugins.PhoneNumber) }
	return []field{
		{key: "organization", label: "Organizations", show: func(s *SettingsSnapshot) string { return yesNo(org(s).Enabled, "on", "off") }},
		{key: "organization-limit", label: "Organizations per user", show: func(s *SettingsSnapshot) string { return number(org(s).OrganizationLimit) }},
		{key: "membership-limit", label: "Members per organization", show: func(s *SettingsSnapshot) string { return number(org(s).MembershipLimit) }},
		{key: "creator-role", label: "Creator's role", show: func(s *SettingsSnapshot) string { return orNone(org(s).CreatorRole) }},
		{key: "invitation-email", label: "Invitation emails", show: func(s *SettingsSnapshot) string { return yesNo(org(s).SendInvitationEmail, "on", "off") }},
		{key: "magic-link", label: "Magic link", show: func(s *SettingsSnapshot) string { return yesNo(magic(s).Enabled, "on", "off") }},
		{key: "magic-link-expiry", label: "Magic link lifetime (minutes)", show: func(s *SettingsSnapshot) string { return number(magic(s).ExpiresIn) }},
		{key: "magic-link-sign-up", label: "New sign-ups by magic link", show: func(s *SettingsSnapshot) string {
			return yesNo(!magic(s).DisableSignUp, "allowed", "not allowed")
		}},
		{key: "phone-number", label: "Phone number", show: func(s *SettingsSnapshot) string { return yesNo(phone(s).Enabled, "on", "off") }},
		{key: "phone-otp-expiry", label: "Phone code lifetime (seconds)", show: func(s *SettingsSnapshot) string { return number(phone(s).OTPExpiresIn) }},
	}
}

// webhookFields compares the webhook. Its URL shows whole to admins, who can
// read it on the webhook form anyway, and otherwise as scheme and host only,
// since a path or query may carry a token; the whole URL is compared either
// way.
func webhookFields(fullURLs bool) []field {
	return []field{
		{key: "webhook", label: "Webhook", show: func(s *SettingsSnapshot) string { return yesNo(s.Webhook.Enabled, "on", "off") }},
		{key: "webhook-url", label: "Destination", show: func(s *SettingsSnapshot) string {
			switch {
			case s.Webhook.WebhookURL == "":
				return valueNone
			case fullURLs:
				return s.Webhook.WebhookURL
			}
			return WebhookHost(s.Webhook.WebhookURL)
		}, raw: func(s *SettingsSnapshot) string { return s.Webhook.WebhookURL }},
		{key: "webhook-events", label: "Events", show: func(s *SettingsSnapshot) string {
			ev := make([]string, len(s.Webhook.EnabledEvents))
			for i, e := range s.Webhook.EnabledEvents {
				ev[i] = string(e)
			}
			if len(ev) == 0 {
				return valueNone
			}
			slices.Sort(ev)
			return strings.Join(ev, ", ")
		}},
		{key: "webhook-timeout", label: "Timeout (seconds)", show: func(s *SettingsSnapshot) string { return number(s.Webhook.TimeoutSeconds) }},
	}
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func orNone(s string) string {
	if s == "" {
		return valueNone
	}
	return s
}

// number shows a count or limit; zero is Neon leaving it out.
func number(n int) string {
	if n == 0 {
		return valueNone
	}
	return strconv.Itoa(n)
}
