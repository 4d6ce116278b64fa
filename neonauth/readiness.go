package neonauth

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// Status is one readiness verdict. Pages show it as a colour and always as
// words too (Label), so that it never rests on colour alone.
type Status string

// The verdicts, from best to worst. Info is for optional settings: it is shown
// but never makes a branch less ready, so a branch can be green without them.
const (
	StatusGreen Status = "green"
	StatusInfo  Status = "info"
	StatusAmber Status = "amber"
	StatusRed   Status = "red"
)

// rank orders the verdicts for the summary; info ranks with green.
func (s Status) rank() int {
	switch s {
	case StatusAmber:
		return 1
	case StatusRed:
		return 2
	}
	return 0
}

// Label is the verdict in words.
func (s Status) Label() string {
	switch s {
	case StatusGreen:
		return "Ready"
	case StatusInfo:
		return "Optional"
	case StatusAmber:
		return "Attention"
	case StatusRed:
		return "Blocking"
	}
	return string(s)
}

// The settings forms that fix readiness items, as the last part of
// /projects/:id/branches/:branch/auth/settings/<form>.
const (
	FormDomains  = string(GroupDomains)
	FormSignIn   = string(GroupSignIn)
	FormEmail    = string(GroupEmail)
	FormWebhooks = string(GroupWebhooks)
)

// ReadinessItem is one production readiness check of a branch.
type ReadinessItem struct {
	// Key names the check in data-testid attributes and tests, e.g.
	// "trusted-domains".
	Key    string
	Title  string
	Status Status
	// Explanation says what was found and, unless green, why it matters.
	Explanation string
	// Form is the settings form that changes what the check reads.
	Form string
	// Destination is the webhook's whole URL, for admins: the explanation
	// names its scheme and host only, since a path or query may carry a
	// token.
	Destination string
}

// ReadinessSummary is a branch's readiness in a few words and numbers: the
// worst verdict and how many checks have each. It is what a badge shows.
type ReadinessSummary struct {
	// Status is the worst of green, amber and red; info counts as green.
	Status                  Status
	Green, Info, Amber, Red int
}

// Label is the summary verdict in words.
func (s ReadinessSummary) Label() string {
	switch s.Status {
	case StatusRed:
		return "Not ready"
	case StatusAmber:
		return "Needs attention"
	}
	return "Ready"
}

// Text is the summary as one sentence for screen readers and tooltips, e.g.
// "Not ready: 2 blocking, 1 needing attention, 3 ready".
func (s ReadinessSummary) Text() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(s.Red, "blocking")
	add(s.Amber, "needing attention")
	add(s.Green, "ready")
	add(s.Info, "optional")
	return s.Label() + ": " + strings.Join(parts, ", ")
}

// Readiness is a branch's production readiness: one item per check, in the
// order a person would fix them, and their summary.
type Readiness struct {
	ProjectID string
	Branch    neonapi.Branch
	Items     []ReadinessItem
	Summary   ReadinessSummary
}

// Summarize counts items by verdict and finds the worst.
func Summarize(items []ReadinessItem) ReadinessSummary {
	sum := ReadinessSummary{Status: StatusGreen}
	for _, it := range items {
		switch it.Status {
		case StatusGreen:
			sum.Green++
		case StatusInfo:
			sum.Info++
		case StatusAmber:
			sum.Amber++
		case StatusRed:
			sum.Red++
		}
		if it.Status.rank() > sum.Status.rank() {
			sum.Status = it.Status
		}
	}
	return sum
}

// CheckReadiness judges settings read by ReadBranchSettings. The default
// branch is the one production traffic reaches, so settings that are normal
// while developing are red there and amber on other branches; a setting that
// breaks sign-in or exposes users wherever it is used is red on every branch.
func CheckReadiness(s *SettingsSnapshot) *Readiness {
	items := []ReadinessItem{
		checkDomains(s),
		checkLocalhost(s),
		checkOAuth(s),
		checkEmailServer(s),
		checkEmailVerification(s),
		checkWebhooks(s),
	}
	return &Readiness{ProjectID: s.ProjectID, Branch: s.Branch, Items: items, Summary: Summarize(items)}
}

// devStatus is the verdict for a development convenience left on: red on the
// default branch, which serves production, amber elsewhere, where it is often
// what the branch is for.
func devStatus(s *SettingsSnapshot) Status {
	if s.Branch.Default {
		return StatusRed
	}
	return StatusAmber
}

// checkDomains is red without a trusted domain on any branch: Better Auth
// redirects only to trusted domains, so sign-in from a deployed app fails
// until its domain is added (localhost, allowed separately, is no deployed
// app). It is amber when a trusted domain other than a loopback one uses
// plain http, where session cookies would travel unencrypted.
func checkDomains(s *SettingsSnapshot) ReadinessItem {
	it := ReadinessItem{Key: "trusted-domains", Title: "Trusted domains", Form: FormDomains}
	if len(s.Domains) == 0 {
		it.Status = StatusRed
		it.Explanation = "No trusted domain is set. Neon Auth redirects only to trusted domains after sign-in, so signing in from your deployed app fails until you add its domain."
		return it
	}
	names := make([]string, len(s.Domains))
	var plain []string
	for i, d := range s.Domains {
		names[i] = d.Domain
		if u, err := url.Parse(strings.Replace(d.Domain, "://*.", "://wildcard.", 1)); err == nil && u.Scheme == "http" && !loopback(u.Hostname()) {
			plain = append(plain, d.Domain)
		}
	}
	if len(plain) > 0 {
		it.Status = StatusAmber
		it.Explanation = fmt.Sprintf("%s %s plain http: session cookies would travel unencrypted. Trust the https address instead.", strings.Join(plain, ", "), plural(len(plain), "uses", "use"))
		return it
	}
	it.Status = StatusGreen
	it.Explanation = fmt.Sprintf("%d trusted %s: %s.", len(names), plural(len(names), "domain", "domains"), strings.Join(names, ", "))
	return it
}

// loopback reports hosts that only reach the machine itself.
func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// checkLocalhost is devStatus while localhost is allowed: any page served
// from localhost, a developer's server or another program on a user's
// machine, may then run the auth flows against the branch's users.
func checkLocalhost(s *SettingsSnapshot) ReadinessItem {
	it := ReadinessItem{Key: "localhost", Title: "Localhost access off", Form: FormDomains}
	switch {
	case !s.AllowLocalhost:
		it.Status = StatusGreen
		it.Explanation = "Localhost is not allowed: only trusted domains can run the auth flows."
	case s.Branch.Default:
		it.Status = StatusRed
		it.Explanation = "Localhost is allowed on the default branch, which serves production: any page on localhost, a developer's server or another program on a user's machine, can run sign-in flows against your real users. Turn it off."
	default:
		it.Status = StatusAmber
		it.Explanation = "Localhost is allowed. That suits developing against this branch; turn it off before real users sign in through it."
	}
	return it
}

// checkOAuth is red on every branch while a configured provider uses Neon's
// shared development credentials: people then consent to Neon's OAuth app,
// not yours, and the accounts they create are tied to an app you cannot
// configure or take over. No provider at all is green: social sign-in is
// optional.
func checkOAuth(s *SettingsSnapshot) ReadinessItem {
	it := ReadinessItem{Key: "oauth-credentials", Title: "Own OAuth credentials", Form: FormSignIn}
	var shared, own []string
	for _, p := range s.OAuth {
		if p.Type == neonapi.OAuthShared {
			shared = append(shared, OAuthProviderName(p.ID))
		} else {
			own = append(own, OAuthProviderName(p.ID))
		}
	}
	switch {
	case len(shared) > 0:
		it.Status = StatusRed
		it.Explanation = fmt.Sprintf("%s %s Neon's shared development credentials: people see Neon's app on the consent screen, and their accounts are tied to an OAuth app you do not control. Add your own client id and secret.", strings.Join(shared, ", "), plural(len(shared), "uses", "use"))
	case len(own) == 0:
		it.Status = StatusGreen
		it.Explanation = "No social sign-in provider is configured, so no OAuth credentials are needed."
	default:
		it.Status = StatusGreen
		it.Explanation = fmt.Sprintf("%s %s your own OAuth %s.", strings.Join(own, ", "), plural(len(own), "uses", "use"), plural(len(own), "app", "apps"))
	}
	return it
}

// checkEmailServer is devStatus while auth emails (verification codes,
// password resets, invitations) go through Neon's shared server, which is
// meant for development: it sends from Neon's address, under low limits.
func checkEmailServer(s *SettingsSnapshot) ReadinessItem {
	it := ReadinessItem{Key: "email-provider", Title: "Own email server", Form: FormEmail}
	if s.EmailServer.Type == neonapi.EmailServerStandard {
		it.Status = StatusGreen
		it.Explanation = "Auth emails go through your own SMTP server"
		if s.EmailServer.SenderEmail != "" {
			it.Explanation += ", sent as " + s.EmailServer.SenderEmail
		}
		it.Explanation += "."
		return it
	}
	it.Status = devStatus(s)
	it.Explanation = "Auth emails (verification codes, password resets, invitations) go through Neon's shared email server, which is meant for development: it sends from Neon's address under low sending limits. Configure your own SMTP server."
	return it
}

// checkEmailVerification is devStatus while people can sign in with email and
// password without verifying their address: anyone can then register with
// someone else's address, and an account made that way can be linked to the
// owner's social sign-in later. With email and password sign-in off there is
// nothing to verify, which is green.
func checkEmailVerification(s *SettingsSnapshot) ReadinessItem {
	it := ReadinessItem{Key: "email-verification", Title: "Email verification required", Form: FormSignIn}
	ep := s.EmailAndPassword
	switch {
	case !ep.Enabled:
		it.Status = StatusGreen
		it.Explanation = "Email and password sign-in is off, so there are no addresses to verify."
	case ep.RequireEmailVerification:
		it.Status = StatusGreen
		it.Explanation = "People must verify their address before they can sign in"
		if ep.EmailVerificationMethod != "" {
			it.Explanation += " (by " + verificationMethod(ep.EmailVerificationMethod) + ")"
		}
		it.Explanation += "."
	default:
		it.Status = devStatus(s)
		it.Explanation = "People can sign in without verifying their email address, so anyone can register with someone else's address. Require email verification."
	}
	return it
}

// verificationMethod names a verification method in a sentence.
func verificationMethod(m neonapi.EmailVerificationMethod) string {
	switch m {
	case neonapi.EmailVerificationOTP:
		return "one-time code"
	case neonapi.EmailVerificationLink:
		return "link"
	}
	return string(m)
}

// checkWebhooks is info without a webhook, since webhooks are optional. It
// is red, on every branch, when the phone number plugin is on and no enabled
// webhook receives send.otp: Neon delivers sign-in codes for phone numbers
// only through that event, so phone sign-in cannot work.
func checkWebhooks(s *SettingsSnapshot) ReadinessItem {
	it := ReadinessItem{Key: "webhooks", Title: "Webhooks", Form: FormWebhooks}
	w := s.Webhook
	on := w.Enabled && w.WebhookURL != ""
	phone := s.Plugins.PhoneNumber != nil && s.Plugins.PhoneNumber.Enabled
	switch {
	case phone && !(on && slices.Contains(w.EnabledEvents, neonapi.WebhookSendOTP)):
		it.Status = StatusRed
		it.Explanation = "The phone number plugin is on, but no enabled webhook receives the send.otp event, which is how sign-in codes reach phones: phone sign-in cannot work."
	case on && len(w.EnabledEvents) > 0:
		it.Status = StatusGreen
		events := make([]string, len(w.EnabledEvents))
		for i, e := range w.EnabledEvents {
			events[i] = string(e)
		}
		it.Explanation = fmt.Sprintf("%s %s posted to %s.", strings.Join(events, ", "), plural(len(events), "is", "are"), WebhookHost(w.WebhookURL))
		it.Destination = w.WebhookURL
	case on:
		it.Status = StatusInfo
		it.Explanation = "The webhook is on but receives no events. Webhooks are optional."
	default:
		it.Status = StatusInfo
		it.Explanation = "No webhook is configured. Webhooks are optional: they let your backend react to sign-ups, or deliver codes and links itself."
	}
	return it
}

// WebhookHost is where a webhook posts, without its path and query, which
// may carry a token.
func WebhookHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "an address that cannot be parsed"
	}
	return u.Scheme + "://" + u.Host
}

// plural picks the singular or plural word for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
