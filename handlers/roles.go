package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
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

// safeMethod reports whether a request method only reads. Everything else
// changes state and needs the admin role and a CSRF token.
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// authorize enforces roles on the server for every route, present or future:
// people the policy does not know see a 403 page everywhere, and only admins may
// send anything but GET, HEAD or OPTIONS. The sign-in routes stay open so that
// someone without a role can still sign out and switch accounts.
func (s *Security) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.public(c) || s.signInRoute(c) {
			return next(c)
		}
		id := IdentityFrom(c)
		switch {
		case !id.CanView():
			return s.deny(c, http.StatusForbidden, denyNoRole)
		case !safeMethod(c.Request().Method) && !id.CanWrite():
			return s.deny(c, http.StatusForbidden, denyViewer)
		}
		return next(c)
	}
}

// signInRoute reports whether the request is for the dashboard's own OIDC
// sign-in routes. Only those exact routes are exempt from roles, so a future
// route under /auth/ gets no free pass.
func (s *Security) signInRoute(c echo.Context) bool {
	if s.oidc == nil {
		return false
	}
	switch c.Path() {
	case loginPath, callbackPath, logoutPath, signedOutPath:
		return true
	}
	return false
}
