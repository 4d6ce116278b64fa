package identity

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Access says who may call a route. Every entry of the route table has one.
type Access string

// The access levels, from most open to most closed.
const (
	// Probe routes answer anyone, under any Host name, without an identity:
	// orchestrators call them by IP address.
	Probe Access = "probe"
	// Public routes answer anyone without an identity: static files, the
	// sign-in pages, and /metrics, which checks its own token.
	Public Access = "public"
	// AnyRole routes read the identity when there is one but need no role,
	// and still check CSRF and write audit lines: signing out, which must
	// work for people without a role and with an expired session.
	AnyRole Access = "any-role"
	// Viewer routes need the viewer or the admin role.
	Viewer Access = "viewer"
	// Admin routes need the admin role.
	Admin Access = "admin"
)

// Rule is what Security needs from one entry of the route table: who may
// call it, and for state-changing routes the audit action it is logged as.
type Rule struct {
	Method string
	Path   string
	Access Access
	// Audit names the action in audit lines, e.g. "user.create". Every
	// state-changing route has one.
	Audit string
}

// Mutating reports whether a method changes state. Everything but GET, HEAD
// and OPTIONS needs a CSRF token, writes an audit line, and may not be public.
func Mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// CheckRules refuses a route table with a route of unknown access, a
// state-changing route that is public or has no audit action, or the same
// route twice.
func CheckRules(rules []Rule) error {
	var errs []error
	seen := map[string]bool{}
	for _, r := range rules {
		key := r.Method + " " + r.Path
		switch r.Access {
		case Probe, Public, AnyRole, Viewer, Admin:
		default:
			errs = append(errs, fmt.Errorf("%s: access %q; want probe, public, any-role, viewer or admin", key, r.Access))
		}
		if Mutating(r.Method) && (r.Access == Probe || r.Access == Public) {
			errs = append(errs, fmt.Errorf("%s changes state, so it cannot be %s", key, r.Access))
		}
		if Mutating(r.Method) && r.Audit == "" {
			errs = append(errs, fmt.Errorf("%s changes state but has no audit action", key))
		}
		if seen[key] {
			errs = append(errs, fmt.Errorf("%s is listed twice", key))
		}
		seen[key] = true
	}
	return errors.Join(errs...)
}

// allows reports whether id may call a route with access a. Unknown levels
// allow nobody.
func (a Access) allows(id Identity) (bool, denyReason) {
	switch a {
	case Probe, Public, AnyRole:
		return true, ""
	case Viewer:
		if id.CanView() {
			return true, ""
		}
		return false, denyNoRole
	case Admin:
		switch {
		case id.CanWrite():
			return true, ""
		case id.CanView():
			return false, denyViewer
		}
		return false, denyNoRole
	}
	return false, denyNoRole
}

// fallbackAccess is the rule for a request whose route is not in the table:
// a 404, a 405, or a route someone added without an entry. Reading needs a
// role; anything else needs the admin role.
func fallbackAccess(method string) Access {
	if Mutating(method) {
		return Admin
	}
	return Viewer
}

// Require is the role check built from one route table entry, added to the
// route itself. Behind Security the same rule has already been enforced,
// with the explanatory page, before the CSRF check; Require makes the table
// the only place a route's role is written, and keeps it enforced where
// Security is absent (handler tests).
func Require(a Access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if ok, reason := a.allows(From(c)); !ok {
				msg := "You don't have access to this dashboard; ask an admin."
				if reason == denyViewer {
					msg = "Your role can only look; ask an admin."
				}
				return echo.NewHTTPError(http.StatusForbidden, msg)
			}
			return next(c)
		}
	}
}

// authorize enforces the route's access rule on the server for every route,
// present or future: people the policy does not know see a 403 page
// everywhere but the public routes, and only admins reach admin routes.
// Routes missing from the table get fallbackAccess.
func (s *Security) authorize(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := fallbackAccess(c.Request().Method)
		if r, ok := s.rule(c); ok {
			a = r.Access
		}
		if ok, reason := a.allows(From(c)); !ok {
			return s.deny(c, http.StatusForbidden, reason)
		}
		return next(c)
	}
}
