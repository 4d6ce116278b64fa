package identity

import (
	"errors"
	"slices"
	"strings"
)

// Grants lists who receives one role: exact emails, whole email domains, or
// identity-provider groups. Matching ignores case, because providers and people
// disagree on how to capitalise both.
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

func (g Grants) match(email string, groups []string) bool {
	if g.everyone() {
		return true
	}
	if email != "" {
		for _, e := range g.Emails {
			if strings.EqualFold(e, email) {
				return true
			}
		}
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			domain := email[at+1:]
			for _, d := range g.Domains {
				if strings.EqualFold(strings.TrimPrefix(d, "@"), domain) {
					return true
				}
			}
		}
	}
	for _, want := range g.Groups {
		for _, have := range groups {
			if strings.EqualFold(want, have) {
				return true
			}
		}
	}
	return false
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
	return nil
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

// RelevantGroup reports whether a group name appears in any grant. Sessions
// keep only those, since some providers send hundreds of groups and a cookie
// holds about 4 KB.
func (p RolePolicy) RelevantGroup(group string) bool {
	for _, g := range [][]string{p.Admins.Groups, p.Viewers.Groups} {
		for _, want := range g {
			if strings.EqualFold(want, group) {
				return true
			}
		}
	}
	return false
}
