package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
)

// Identity is the person behind a request (identity.Identity); pages ask for
// it to decide which controls to show.
type Identity = identity.Identity

// The roles pages tell apart.
const (
	RoleAdmin  = identity.RoleAdmin
	RoleViewer = identity.RoleViewer
)

// IdentityFrom returns the request's identity (identity.From).
func IdentityFrom(c echo.Context) Identity { return identity.From(c) }

// CSRFToken returns the token forms and htmx requests must send back.
func CSRFToken(c echo.Context) string { return identity.CSRFToken(c) }
