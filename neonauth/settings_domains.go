package neonauth

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// trustedHostPattern is a lower-case DNS name or IPv4 address, optionally
// under a leading "*." wildcard, which Better Auth's trusted origins allow.
var trustedHostPattern = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// maxDomainLen bounds a trusted domain, an origin.
const maxDomainLen = 2048

// NormalizeTrustedDomain checks a trusted domain as typed and returns it as
// an origin ("https://app.example.com", "http://localhost:3000"): lower case,
// no trailing slash. What auth flows compare is the origin, so a path, a
// query or credentials would only mislead. msg is empty when raw is fine.
func NormalizeTrustedDomain(raw string) (origin, msg string) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", "Enter a domain such as https://app.example.com."
	case len(raw) > maxDomainLen:
		return "", "This is too long for a domain."
	case !strings.Contains(raw, "://"):
		return "", "Start with the scheme: https://" + strings.TrimPrefix(raw, "//") + " (or http:// for local development)."
	}
	// A wildcard is not a valid URL host; parse with a stand-in.
	u, err := url.Parse(strings.Replace(raw, "://*.", "://wildcard.", 1))
	switch {
	case err != nil:
		return "", "This is not a valid URL."
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "Use an https:// (or http://) address."
	case u.Host == "" || u.Opaque != "":
		return "", "Include a host name after the scheme."
	case u.User != nil:
		return "", "Leave out the user name and password."
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(raw, "#"):
		return "", "Leave out the query and fragment: only the origin counts."
	case u.Path != "" && u.Path != "/":
		return "", "Leave out the path: only the origin (scheme, host and port) counts."
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(raw, "://*.") {
		host = "*." + strings.TrimPrefix(host, "wildcard.")
	}
	if !trustedHostPattern.MatchString(host) {
		return "", "The host is not a domain name."
	}
	origin = strings.ToLower(u.Scheme) + "://" + host
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "The port must be from 1 to 65535."
		}
		origin += ":" + p
	}
	return origin, ""
}

// AddTrustedDomain lets the branch's auth flows redirect to one more origin
// (addBranchNeonAuthTrustedDomain) and returns it as added.
func (s *SettingsService) AddTrustedDomain(ctx context.Context, bs *BranchSettings, raw string) (string, error) {
	origin, msg := NormalizeTrustedDomain(raw)
	errs := FieldErrors{}
	if msg != "" {
		errs.add("domain", msg)
	}
	return origin, change(bs, errs, "the trusted domain was added", func() error {
		return s.neon.AddTrustedDomain(ctx, bs.ProjectID, bs.BranchID, neonapi.AddTrustedDomainRequest{
			Domain: origin, AuthProvider: authprovider.BetterAuth,
		})
	})
}

// RemoveTrustedDomain stops trusting one of the branch's domains
// (deleteBranchNeonAuthTrustedDomain). The domain is sent as Neon listed it.
func (s *SettingsService) RemoveTrustedDomain(ctx context.Context, bs *BranchSettings, domain string) error {
	errs := FieldErrors{}
	textField(errs, "domain", domain, true, maxDomainLen)
	return change(bs, errs, "the trusted domain was removed", func() error {
		return s.neon.DeleteTrustedDomains(ctx, bs.ProjectID, bs.BranchID, neonapi.DeleteTrustedDomainsRequest{
			AuthProvider: authprovider.BetterAuth, Domains: []string{domain},
		})
	})
}

// SetAllowLocalhost turns on or off auth flows from localhost without it
// being a trusted domain (updateNeonAuthAllowLocalhost).
func (s *SettingsService) SetAllowLocalhost(ctx context.Context, bs *BranchSettings, allow bool) error {
	return change(bs, nil, "the localhost setting was changed", func() error {
		_, err := s.neon.UpdateAllowLocalhost(ctx, bs.ProjectID, bs.BranchID, allow)
		return err
	})
}
