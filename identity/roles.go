package identity

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Grants lists who receives one role: exact emails, whole email domains, or
// identity-provider groups. Emails and domains are compared in the canonical
// form canonical.go describes (ASCII case ignored, nothing else folded, IDNs
// as punycode); groups exactly, case included.
type Grants struct {
	Emails  []string
	Domains []string
	Groups  []string
}

// empty reports whether the grants name nobody.
func (g Grants) empty() bool {
	return len(g.Emails) == 0 && len(g.Domains) == 0 && len(g.Groups) == 0
}

// everyone reports whether "*" appears, meaning any signed-in person.
func (g Grants) everyone() bool {
	return slices.Contains(g.Emails, "*") || slices.Contains(g.Domains, "*") || slices.Contains(g.Groups, "*")
}

// match reports whether the grants name the person. An email without a
// canonical form matches no email or domain grant; the groups may still match.
func (g Grants) match(email string, groups []string) bool {
	if g.everyone() {
		return true
	}
	if addr, err := canonicalEmail(email); err == nil {
		domain := addr[strings.LastIndexByte(addr, '@')+1:]
		for _, e := range g.Emails {
			if want, err := canonicalEmail(e); err == nil && want == addr {
				return true
			}
		}
		for _, d := range g.Domains {
			if want, err := canonicalDomain(strings.TrimPrefix(d, "@")); err == nil && want == domain {
				return true
			}
		}
	}
	for _, want := range g.Groups {
		if slices.Contains(groups, want) {
			return true
		}
	}
	return false
}

// check refuses grant entries that have no canonical form, naming the
// setting (prefix is AUTH_ADMIN or AUTH_VIEWER): such an entry could never
// match anyone, and is a typo or a look-alike character worth knowing about
// at startup.
func (g Grants) check(prefix string) error {
	var errs []error
	for _, e := range g.Emails {
		if e == "*" {
			continue
		}
		if err := checkEmail(e); err != nil {
			errs = append(errs, fmt.Errorf("%s_EMAILS: %q: %w", prefix, e, err))
		} else if _, err := canonicalEmail(e); err != nil {
			errs = append(errs, fmt.Errorf("%s_EMAILS: %q: the domain is %w", prefix, e, err))
		}
	}
	for _, d := range g.Domains {
		if d == "*" {
			continue
		}
		if _, err := canonicalDomain(strings.TrimPrefix(d, "@")); err != nil {
			errs = append(errs, fmt.Errorf("%s_DOMAINS: %q is %w", prefix, d, err))
		}
	}
	for _, gr := range g.Groups {
		if err := checkName("group", gr); err != nil {
			errs = append(errs, fmt.Errorf("%s_GROUPS: %w", prefix, err))
		}
	}
	return errors.Join(errs...)
}

// RolePolicy decides each identity's role from the AUTH_ADMIN_* and
// AUTH_VIEWER_* lists. Admin wins when both match.
type RolePolicy struct {
	Admins  Grants
	Viewers Grants
}

// Validate refuses policies that would lock everyone out or let everyone in as
// admin, which are both configuration mistakes rather than choices.
func (p RolePolicy) Validate() error {
	if p.Admins.empty() {
		return errors.New("no admin configured: set AUTH_ADMIN_EMAILS, AUTH_ADMIN_DOMAINS or AUTH_ADMIN_GROUPS")
	}
	if p.Admins.everyone() {
		return errors.New(`AUTH_ADMIN_*: "*" would make every signed-in person an admin; list emails, domains or groups instead`)
	}
	return errors.Join(p.Admins.check("AUTH_ADMIN"), p.Viewers.check("AUTH_VIEWER"))
}

// RoleFor returns the role the policy grants, or RoleNone.
func (p RolePolicy) RoleFor(email string, groups []string) Role {
	switch {
	case p.Admins.match(email, groups):
		return RoleAdmin
	case p.Viewers.match(email, groups):
		return RoleViewer
	}
	return RoleNone
}

// RelevantGroup reports whether a group name appears in any grant, exactly as
// match compares it. Sessions keep only those, since some providers send
// hundreds of groups and a cookie holds about 4 KB.
func (p RolePolicy) RelevantGroup(group string) bool {
	return slices.Contains(p.Admins.Groups, group) || slices.Contains(p.Viewers.Groups, group)
}
