package neonauth

import (
	"context"
	"slices"
	"strings"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// planner builds one group's steps from the two branches' snapshots, with
// the comparison's fields, so a step shows each setting exactly as the
// comparison page does.
type planner struct {
	src, dst *SettingsSnapshot
	fields   map[string]field
}

// changes lists the settings among keys whose values differ, with what the
// fingerprint covers of them.
func (p planner) changes(keys ...string) ([]CopyChange, string) {
	var out []CopyChange
	var raw strings.Builder
	for _, k := range keys {
		f, ok := p.fields[k]
		if !ok {
			continue
		}
		rf := f.raw
		if rf == nil {
			rf = f.show
		}
		before, after := value(p.dst, rf), value(p.src, rf)
		raw.WriteString(k + "\x1f" + before + "\x1f" + after + "\x1e")
		if before != after {
			out = append(out, CopyChange{Label: f.label, Before: value(p.dst, f.show), After: value(p.src, f.show)})
		}
	}
	return out, raw.String()
}

// settingsStep is the step that saves one settings form with the source's
// values, when any of keys differs.
func (p planner) settingsStep(key string, g SettingsGroup, action, title string, keys []string, apply func(context.Context, *SettingsService, *BranchSettings, CopyValues) error) []CopyStep {
	ch, raw := p.changes(keys...)
	if len(ch) == 0 {
		return nil
	}
	return []CopyStep{{Key: key, Group: g, Action: action, Title: title, Changes: ch, raw: raw, apply: apply}}
}

// groupSteps lists the steps that make dst's settings of group g the same as
// src's.
func groupSteps(g SettingsGroup, src, dst *SettingsSnapshot, fullURLs bool) []CopyStep {
	p := planner{src: src, dst: dst, fields: fieldsByKey(src, dst, fullURLs)}
	switch g {
	case GroupApplication:
		name := src.Auth.Name
		return p.settingsStep("application", g, "auth.application.update", "Set the application name", []string{"app-name"},
			func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				return s.UpdateApplication(ctx, bs, ApplicationForm{Name: name})
			})
	case GroupDomains:
		return p.domainSteps()
	case GroupEmail:
		return p.emailServerSteps()
	case GroupSignIn:
		// Ways in are added before any is taken away: providers added or
		// changed first, then email and password, then providers removed,
		// so a copy stopped midway never leaves the branch without a way
		// to sign in that it had.
		var adds, removes []CopyStep
		for _, id := range OAuthProviderIDs {
			switch st := p.oauthSteps(id); {
			case len(st) == 1 && st[0].Action == "auth.oauth.remove":
				removes = append(removes, st...)
			default:
				// A provider moved back to shared credentials is removed
				// and added again, in that order, next to each other.
				adds = append(adds, st...)
			}
		}
		f := EmailAndPasswordFormFrom(&src.EmailAndPassword)
		steps := append(adds, p.settingsStep("email-password", g, "auth.email_password.update", "Save the email and password sign-in settings",
			[]string{"email-password", "verification-method", "require-verification", "auto-sign-in", "verify-on-sign-up", "verify-on-sign-in", "allow-sign-up"},
			func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				return s.UpdateEmailAndPassword(ctx, bs, f)
			})...)
		return append(steps, removes...)
	case GroupPlugins:
		return p.pluginSteps()
	case GroupWebhooks:
		f := WebhookFormFrom(&src.Webhook)
		return p.settingsStep("webhooks", g, "auth.webhooks.update", "Save the webhook", []string{"webhook", "webhook-url", "webhook-events", "webhook-timeout"},
			func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				return s.UpdateWebhooks(ctx, bs, f)
			})
	}
	return nil
}

// domainSteps trusts each of src's domains dst lacks, stops trusting each
// dst has that src does not, and copies the localhost setting.
func (p planner) domainSteps() []CopyStep {
	has := func(s *SettingsSnapshot, d string) bool {
		return slices.ContainsFunc(s.Domains, func(t neonapi.TrustedDomain) bool { return t.Domain == d })
	}
	var steps []CopyStep
	for _, d := range p.src.Domains {
		if has(p.dst, d.Domain) {
			continue
		}
		domain := d.Domain
		steps = append(steps, CopyStep{
			Key: "domain-add " + domain, Group: GroupDomains, Action: "auth.domains.add", Target: domain,
			Title: "Trust " + domain, Changes: []CopyChange{{Label: "Trusted domain", Before: "not trusted", After: "trusted"}},
			raw: domain,
			apply: func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				_, err := s.AddTrustedDomain(ctx, bs, domain)
				return err
			},
		})
	}
	for _, d := range p.dst.Domains {
		if has(p.src, d.Domain) {
			continue
		}
		domain := d.Domain
		steps = append(steps, CopyStep{
			Key: "domain-remove " + domain, Group: GroupDomains, Action: "auth.domains.remove", Target: domain,
			Title: "Stop trusting " + domain, Changes: []CopyChange{{Label: "Trusted domain", Before: "trusted", After: "not trusted"}},
			raw: domain,
			apply: func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				return s.RemoveTrustedDomain(ctx, bs, domain)
			},
		})
	}
	allow := p.src.AllowLocalhost
	title := "Refuse localhost"
	if allow {
		title = "Allow localhost"
	}
	return append(steps, p.settingsStep("localhost", GroupDomains, "auth.localhost.update", title, []string{"allow-localhost"},
		func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
			return s.SetAllowLocalhost(ctx, bs, allow)
		})...)
}

// emailServerSteps switches dst to src's email server. Neon never returns an
// SMTP password, so copying the branch's own server asks for it, unless dst
// already holds one for the same server and user.
func (p planner) emailServerSteps() []CopyStep {
	steps := p.settingsStep("email-server", GroupEmail, "auth.email.update", "Save the email server",
		[]string{"email-server", "smtp-host", "smtp-port", "smtp-username", "sender-email", "sender-name"}, nil)
	if len(steps) == 0 {
		return nil
	}
	se, de := p.src.EmailServer, p.dst.EmailServer
	f := EmailServerFormFrom(&se)
	st := &steps[0]
	if se.Type == neonapi.EmailServerStandard {
		keep := de.Type == neonapi.EmailServerStandard && de.Host == se.Host && de.Username == se.Username
		in := CopyInput{Field: "email_password", Label: "SMTP password", Secret: true, Optional: keep}
		if keep {
			in.Hint = "Leave empty to keep the password the branch already holds for this server."
		}
		st.Inputs = []CopyInput{in}
	}
	st.apply = func(ctx context.Context, s *SettingsService, bs *BranchSettings, in CopyValues) error {
		f := f
		f.Password = in.secret("email_password")
		return s.UpdateEmailServer(ctx, bs, f)
	}
	return steps
}

// oauthSteps makes dst's provider id the same as src's: added, removed,
// moved between Neon's shared credentials and the owner's own, or given
// src's client id. Neon returns neither a client secret nor a Microsoft
// tenant, so own credentials ask for the secret (and offer the tenant).
func (p planner) oauthSteps(id neonapi.OAuthProviderID) []CopyStep {
	sp, dp := oauthProvider(p.src, id), oauthProvider(p.dst, id)
	if sp == nil && dp == nil {
		return nil
	}
	key, name := "oauth-"+string(id), OAuthProviderName(id)
	ch, raw := p.changes(key, key+"-client-id", key+"-client-secret")
	step := func(suffix, action, title string, apply func(context.Context, *SettingsService, *BranchSettings, CopyValues) error) CopyStep {
		return CopyStep{Key: key + suffix, Group: GroupSignIn, Action: action, Target: string(id), Title: title, Changes: ch, raw: raw, apply: apply}
	}
	remove := step("-remove", "auth.oauth.remove", "Remove "+name+" sign-in",
		func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
			return s.RemoveOAuthProvider(ctx, bs, string(id))
		})
	if sp == nil {
		return []CopyStep{remove}
	}
	secretField, tenantField := key+"_client_secret", key+"_microsoft_tenant_id"
	inputs := []CopyInput{{Field: secretField, Label: name + " client secret", Secret: true}}
	if TakesTenant(id) {
		inputs = append(inputs, CopyInput{Field: tenantField, Label: name + " tenant", Optional: true,
			Hint: "Neon does not list it: leave empty for any Microsoft account, or type your tenant id or domain."})
	}
	ownForm := func(in CopyValues) OAuthProviderForm {
		return OAuthProviderForm{ID: string(id), Credentials: OAuthOwnCredentials, ClientID: sp.ClientID,
			ClientSecret: in.secret(secretField), MicrosoftTenantID: strings.TrimSpace(in[tenantField])}
	}
	srcOwn := UsesOwnCredentials(*sp)
	if !srcOwn {
		add := step("-add", "auth.oauth.add", "Add "+name+" sign-in with Neon's shared credentials",
			func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				return s.AddOAuthProvider(ctx, bs, OAuthProviderForm{ID: string(id), Credentials: OAuthSharedCredentials})
			})
		switch {
		case dp == nil:
			return []CopyStep{add}
		case UsesOwnCredentials(*dp):
			// Neon changes own credentials only; back to shared is a new
			// provider.
			remove.Title = "Remove " + name + " sign-in with the branch's own credentials"
			return []CopyStep{remove, add}
		}
		return nil
	}
	if dp == nil {
		st := step("-add", "auth.oauth.add", "Add "+name+" sign-in with your own OAuth app", func(ctx context.Context, s *SettingsService, bs *BranchSettings, in CopyValues) error {
			return s.AddOAuthProvider(ctx, bs, ownForm(in))
		})
		st.Inputs = inputs
		return []CopyStep{st}
	}
	if UsesOwnCredentials(*dp) && dp.ClientID == sp.ClientID {
		return nil // the same app; its secret cannot be compared
	}
	st := step("-update", "auth.oauth.update", "Use your own OAuth app for "+name, func(ctx context.Context, s *SettingsService, bs *BranchSettings, in CopyValues) error {
		return s.UpdateOAuthProvider(ctx, bs, ownForm(in))
	})
	st.Inputs = inputs
	return []CopyStep{st}
}

// pluginSteps saves each plugin whose settings differ. A plugin Neon left
// out of the source's answer has nothing to copy.
func (p planner) pluginSteps() []CopyStep {
	var steps []CopyStep
	pl := p.src.Plugins
	if pl.Organization != nil {
		f := OrganizationFormFrom(pl.Organization)
		steps = append(steps, p.settingsStep("organization", GroupPlugins, "auth.plugins.organization", "Save the organization plugin",
			[]string{"organization", "organization-limit", "membership-limit", "creator-role", "invitation-email"},
			func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				return s.UpdateOrganization(ctx, bs, f)
			})...)
	}
	if pl.MagicLink != nil {
		f := MagicLinkFormFrom(pl.MagicLink)
		steps = append(steps, p.settingsStep("magic-link", GroupPlugins, "auth.plugins.magic_link", "Save the magic link plugin",
			[]string{"magic-link", "magic-link-expiry", "magic-link-sign-up"},
			func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				return s.UpdateMagicLink(ctx, bs, f)
			})...)
	}
	if pl.PhoneNumber != nil {
		f := PhoneNumberFormFrom(pl.PhoneNumber)
		steps = append(steps, p.settingsStep("phone-number", GroupPlugins, "auth.plugins.phone_number", "Save the phone number plugin",
			[]string{"phone-number", "phone-otp-expiry"},
			func(ctx context.Context, s *SettingsService, bs *BranchSettings, _ CopyValues) error {
				return s.UpdatePhoneNumber(ctx, bs, f)
			})...)
	}
	return steps
}
