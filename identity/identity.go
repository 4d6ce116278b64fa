// Package identity decides who is asking and what they may do: the identity
// modes (none, proxy, jwt, oidc), roles, sessions, CSRF, security headers and
// the audit log. Security puts all of it in front of every route.
package identity

import "github.com/labstack/echo/v4"

// Role is what a signed-in person may do in the dashboard.
type Role string

// The dashboard's roles. Admins may change things; viewers may only look.
// RoleNone is a signed-in person the role policy does not know: they see a
// page saying who to ask, and nothing else.
const (
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
	RoleNone   Role = ""
)

// Identity is the person behind a request, as the identity middleware found it.
type Identity struct {
	// User is the identity provider's name for the person: the proxy's user
	// header, or the token's subject.
	User   string
	Email  string
	Groups []string
	Role   Role
	// Anonymous is set when no identity provider is configured (loopback only).
	Anonymous bool
}

// CanWrite reports whether the identity may run mutations.
func (id Identity) CanWrite() bool { return id.Role == RoleAdmin }

// CanView reports whether the identity may see the dashboard at all.
func (id Identity) CanView() bool { return id.Role == RoleAdmin || id.Role == RoleViewer }

// DisplayName is how pages and audit lines name the person: the email when
// there is one, since that is what colleagues recognise.
func (id Identity) DisplayName() string {
	switch {
	case id.Email != "":
		return id.Email
	case id.User != "":
		return id.User
	}
	return "unknown"
}

// identityKey is the echo context key under which the middleware stores the
// request's Identity.
const identityKey = "identity"

// From returns the request's identity. Without identity middleware the
// request is anonymous with the admin role, which is only allowed on loopback.
func From(c echo.Context) Identity {
	if id, ok := c.Get(identityKey).(Identity); ok {
		return id
	}
	return Identity{User: "nobody", Role: RoleAdmin, Anonymous: true}
}

// Attach makes id the request's identity, as the identity middleware does.
// Tests use it to act as someone without a sign-in.
func Attach(c echo.Context, id Identity) { c.Set(identityKey, id) }

// csrfKey is the echo context key where the CSRF middleware leaves the token.
const csrfKey = "csrf"

// CSRFToken returns the token that forms and htmx requests must send back.
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(csrfKey).(string)
	return s
}
