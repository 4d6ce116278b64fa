package handlers

import (
	"context"
	"net/http"
	"net/url"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// dbPanelTimeout bounds the database work behind one page, so a database that
// accepts connections but never answers cannot hold the page hostage.
const dbPanelTimeout = 5 * time.Second

// usersScope is the integration a users route addresses: a project's
// Stack Auth integration (/projects/:id/users...), or the Better Auth of one
// branch (/projects/:id/branches/:branch/users...), since every branch has
// its own users.
type usersScope struct {
	projectID string
	provider  authprovider.Provider
	branchID  string
}

// ref names the scope's integration to the Neon Auth service.
func (s usersScope) ref() neonauth.Ref {
	return neonauth.Ref{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID}
}

// at is the scope as the views build its URLs.
func (s usersScope) at() views.UsersAt {
	return views.UsersAt{ProjectID: s.projectID, Provider: s.provider, BranchID: s.branchID}
}

// parseUsersScope reads :id, :branch and provider (query or form). On a
// branch's route the provider is the branch-level one, and a provider
// naming another is refused. An empty provider is allowed only where the
// caller can pick one itself.
func parseUsersScope(c echo.Context, providerRequired bool) (usersScope, error) {
	id, err := projectIDParam(c)
	if err != nil {
		return usersScope{}, err
	}
	v := c.FormValue("provider")
	p, ok := authprovider.Parse(v)
	if c.Param("branch") != "" {
		branchID, err := checkedBranchID(c.Param("branch"))
		if err != nil {
			return usersScope{}, err
		}
		if v != "" && !(ok && p.BranchLevel()) {
			return usersScope{}, echo.NewHTTPError(http.StatusBadRequest, "A branch's users are branch-level Neon Auth users; provider must be better_auth or left out.")
		}
		return usersScope{projectID: id, provider: authprovider.BetterAuth, branchID: branchID}, nil
	}
	s := usersScope{projectID: id, provider: p}
	if !ok && (v != "" || providerRequired) {
		return s, echo.NewHTTPError(http.StatusBadRequest, "provider must be stack or better_auth.")
	}
	return s, nil
}

// parseUserRoute reads the scope and :uid of a route about one user.
func parseUserRoute(c echo.Context) (usersScope, string, error) {
	s, err := parseUsersScope(c, true)
	if err != nil {
		return s, "", err
	}
	uid := c.Param("uid")
	if c.Request().URL.RawPath != "" {
		// Echo matched the escaped path, so its parameters are still escaped:
		// an id with a ',' or '/' arrives as %2C or %2F.
		if uid, err = url.PathUnescape(uid); err != nil {
			uid = ""
		}
	}
	if !validUserID(uid) {
		return s, "", echo.NewHTTPError(http.StatusNotFound, "That is not a user id.")
	}
	return s, uid, nil
}

// validUserID accepts what a Neon Auth user id can be: a Stack Auth or Better
// Auth id, bounded and printable.
func validUserID(id string) bool {
	if id == "" || len(id) > 256 || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// requireWrite refuses mutations to people whose role can only look.
func requireWrite(c echo.Context) error {
	if !IdentityFrom(c).CanWrite() {
		return echo.NewHTTPError(http.StatusForbidden, "Your role can only look; ask an admin.")
	}
	return nil
}

// readUsers opens r's users table and runs read on it, both within the time
// a panel may take: the one place a handler reaches a users database.
func (h *Handler) readUsers(ctx context.Context, r neonauth.Ref, read func(context.Context, neonauth.UserDirectory) error) error {
	ctx, cancel := context.WithTimeout(ctx, dbPanelTimeout)
	defer cancel()
	dir, err := h.Auth.OpenUsers(ctx, r)
	if err != nil {
		return err
	}
	return read(ctx, dir)
}
