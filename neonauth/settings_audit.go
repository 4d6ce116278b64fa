package neonauth

import (
	"slices"
	"strconv"
	"strings"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// The placeholders an audit entry shows for a secret: set, or replaced by
// the change.
const (
	AuditRedacted = "[redacted]"
	AuditChanged  = "[changed]"
	auditNotSet   = "not set"
)

// auditValue is one setting as the audit trail sees it: raw decides whether
// it changed, shown is what the entry may say. For secrets and the values
// Neon marks sensitive (SMTP host and user name) shown is only
// AuditRedacted or "not set"; a secret Neon never returns (the SMTP
// password) has no raw value, and changed only when a form typed one.
type auditValue struct {
	raw, shown string
	secret     bool
}

// AuditValues are a group's settings as the audit trail records them,
// by field name; only the parts bs read are there.
type AuditValues map[string]auditValue

// AuditValues flattens the group's settings of bs for the audit trail's
// before and after; no secret is ever in them.
func (bs *BranchSettings) AuditValues(group SettingsGroup) AuditValues {
	v := AuditValues{}
	if bs == nil || bs.NotBranchAuth != nil {
		return v
	}
	switch group {
	case GroupDomains:
		if bs.Domains.Err == nil {
			ds := make([]string, len(bs.Domains.Value))
			for i, d := range bs.Domains.Value {
				ds[i] = d.Domain
			}
			slices.Sort(ds)
			v.plain("trusted_domains", strings.Join(ds, ", "))
		}
		if bs.AllowLocalhost.Err == nil {
			v.plain("allow_localhost", strconv.FormatBool(bs.AllowLocalhost.Value))
		}
	case GroupSignIn:
		if c := bs.EmailAndPassword.Value; bs.EmailAndPassword.Err == nil && c != nil {
			v.emailAndPassword(*c)
		}
		if bs.OAuthProviders.Err == nil {
			for _, p := range bs.OAuthProviders.Value {
				v.oauth(p)
			}
		}
	case GroupEmail:
		if e := bs.EmailServer.Value; bs.EmailServer.Err == nil && e != nil {
			v.emailServer(*e)
		}
	case GroupPlugins:
		if p := bs.Plugins.Value; bs.Plugins.Err == nil && p != nil {
			v.plugins(*p)
		}
		if p := bs.PhoneNumber.Value; bs.PhoneNumber.Err == nil && p != nil {
			v.plain("phone_number.enabled", strconv.FormatBool(p.Enabled))
			v.plain("phone_number.otp_expires_in", strconv.Itoa(p.OTPExpiresIn))
		}
	case GroupWebhooks:
		if w := bs.Webhooks.Value; bs.Webhooks.Err == nil && w != nil {
			v.plain("webhook.enabled", strconv.FormatBool(w.Enabled))
			// A path or query may carry a token: the entry shows scheme and
			// host, and says when the rest changed.
			host := ""
			if w.WebhookURL != "" {
				host = WebhookHost(w.WebhookURL)
			}
			v["webhook.url"] = auditValue{raw: w.WebhookURL, shown: host, secret: true}
			ev := make([]string, len(w.EnabledEvents))
			for i, e := range w.EnabledEvents {
				ev[i] = string(e)
			}
			slices.Sort(ev)
			v.plain("webhook.events", strings.Join(ev, ", "))
			v.plain("webhook.timeout_seconds", strconv.Itoa(w.TimeoutSeconds))
		}
	case GroupApplication:
		if bs.Integration != nil {
			v.plain("application_name", bs.Integration.Name)
		}
	}
	return v
}

func (v AuditValues) plain(key, value string) { v[key] = auditValue{raw: value, shown: value} }

// sensitive is a value compared in full but shown only as set or not.
func (v AuditValues) sensitive(key, value string) {
	v[key] = auditValue{raw: value, shown: redactedIf(value != ""), secret: true}
}

func redactedIf(set bool) string {
	if set {
		return AuditRedacted
	}
	return auditNotSet
}

func (v AuditValues) emailAndPassword(c neonapi.EmailAndPasswordConfig) {
	v.plain("email_password.enabled", strconv.FormatBool(c.Enabled))
	v.plain("email_password.verification_method", string(c.EmailVerificationMethod))
	v.plain("email_password.require_email_verification", strconv.FormatBool(c.RequireEmailVerification))
	v.plain("email_password.auto_sign_in_after_verification", strconv.FormatBool(c.AutoSignInAfterVerification))
	v.plain("email_password.send_verification_email_on_sign_up", strconv.FormatBool(c.SendVerificationEmailOnSignUp))
	v.plain("email_password.send_verification_email_on_sign_in", strconv.FormatBool(c.SendVerificationEmailOnSignIn))
	v.plain("email_password.disable_sign_up", strconv.FormatBool(c.DisableSignUp))
}

func (v AuditValues) oauth(p neonapi.OAuthProvider) {
	key := "oauth." + string(p.ID)
	v.plain(key+".type", string(p.Type))
	v.plain(key+".client_id", p.ClientID)
	// Neon does not return the client secret: own credentials always
	// have one.
	v[key+".client_secret"] = auditValue{shown: redactedIf(p.Type == neonapi.OAuthStandard || p.ClientSecret.IsSet()), secret: true}
}

func (v AuditValues) emailServer(e neonapi.EmailServer) {
	v.plain("email_server.type", string(e.Type))
	v.sensitive("email_server.host", e.Host)
	v.plain("email_server.port", strconv.Itoa(e.Port))
	v.sensitive("email_server.username", e.Username)
	v["email_server.password"] = auditValue{shown: redactedIf(e.Type == neonapi.EmailServerStandard || e.Password.IsSet()), secret: true}
	v.plain("email_server.sender_email", e.SenderEmail)
	v.plain("email_server.sender_name", e.SenderName)
}

func (v AuditValues) plugins(p neonapi.PluginConfigs) {
	if o := p.Organization; o != nil {
		v.plain("organization.enabled", strconv.FormatBool(o.Enabled))
		v.plain("organization.organization_limit", strconv.Itoa(o.OrganizationLimit))
		v.plain("organization.membership_limit", strconv.Itoa(o.MembershipLimit))
		v.plain("organization.creator_role", o.CreatorRole)
		v.plain("organization.send_invitation_email", strconv.FormatBool(o.SendInvitationEmail))
	}
	if m := p.MagicLink; m != nil {
		v.plain("magic_link.enabled", strconv.FormatBool(m.Enabled))
		v.plain("magic_link.expires_in", strconv.Itoa(m.ExpiresIn))
		v.plain("magic_link.disable_sign_up", strconv.FormatBool(m.DisableSignUp))
	}
}

// AuditDiff is what a change did, for its audit entry: the fields whose
// value differs between before and after, each side as the entry may show
// it. typedSecrets names the secret fields the form set (an SMTP password,
// a client secret), which changed although Neon returns neither value: the
// after side says AuditChanged. No secret value is ever in the result.
func AuditDiff(before, after AuditValues, typedSecrets ...string) (b, a map[string]string) {
	b, a = map[string]string{}, map[string]string{}
	keys := make([]string, 0, len(before)+len(after))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		bv, inBefore := before[k]
		av, inAfter := after[k]
		typed := slices.Contains(typedSecrets, k)
		if inBefore && inAfter && bv == av && !typed {
			continue
		}
		b[k], a[k] = auditSide(bv, inBefore), auditSide(av, inAfter)
		switch {
		case !(bv.secret || av.secret) || !inAfter || !(typed || bv.raw != av.raw):
		case av.shown == AuditRedacted:
			a[k] = AuditChanged
		case av.shown != "" && av.shown != auditNotSet && av.shown == bv.shown:
			a[k] = av.shown + " " + AuditChanged
		}
	}
	return b, a
}

// auditSide is one side of a changed field: its shown value, or "absent"
// for a field that side does not have (a provider added or removed).
func auditSide(v auditValue, ok bool) string {
	if !ok {
		return "absent"
	}
	return v.shown
}
