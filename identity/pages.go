package identity

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/neonauth-admin/dashboard/internal/web"
	"github.com/neonauth-admin/dashboard/views"
)

// denyReason says why the dashboard refused a request; the audit log and the
// page's data-testid both use it.
type denyReason string

// The reasons a request is refused.
const (
	denyUnauthenticated denyReason = "unauthenticated"
	denyNoRole          denyReason = "forbidden"
	denyViewer          denyReason = "viewer"
	denyCSRF            denyReason = "csrf"
)

// deniedKey is the echo context key that marks a refused request.
const deniedKey = "security.denied"

// deny refuses a request with a page that says who the person is signed in as,
// what they may do, and who to ask.
func (s *Security) deny(c echo.Context, status int, reason denyReason) error {
	c.Set(deniedKey, reason)
	id := From(c)
	r := c.Request()
	s.logger.Warn("request denied", "reason", string(reason), "actor", id.DisplayName(), "role", string(id.Role),
		"method", r.Method, "route", c.Path(), "peer", peerString(r), "request_id", requestID(c))
	p := views.AuthProblem{SignedInAs: id.DisplayName(), Role: string(id.Role), Contact: s.cfg.Contact, TestID: string(reason)}
	if id.Anonymous {
		p.SignedInAs = ""
	}
	switch reason {
	case denyNoRole:
		p.Title = "You don't have access to this dashboard"
		p.Message = "You are signed in, but you are not on its admin or viewer list yet."
	case denyViewer:
		p.Title = "Viewers can't change things"
		p.Message = "Your role is viewer: you can browse projects and check that users synced, but changes (enabling Neon Auth, new keys, creating, deleting, roles, transfers) need the admin role. Nothing was changed."
	case denyCSRF:
		p.Title = "This form has expired"
		p.Message = "The request did not carry a valid security token, so nothing was changed. Reload the page and try again."
		p.Contact = ""
	}
	return s.problem(c, status, p)
}

// problem renders an AuthProblem: the panel alone for htmx, a page otherwise.
func (s *Security) problem(c echo.Context, status int, p views.AuthProblem) error {
	if web.IsHTMX(c) {
		return s.page(c, status, views.AuthProblemPanel(p))
	}
	return s.page(c, status, views.AuthProblemPage(s.Chrome(c, p.Title), p))
}

func (s *Security) signedOutPage(c echo.Context) templ.Component {
	return views.SignedOutPage(s.Chrome(c, "Signed out"), LoginPath)
}

// Chrome is the identity part of the layout model: who is looking, what they
// may do, the CSRF token, and the sign-out control for anyone signed in. Page
// handlers add flashes and breadcrumbs. Without Security (handler tests, with
// no identity middleware) the request is the anonymous admin, as From says;
// with it, a request the middleware let through without an identity (public
// routes) shows nobody.
func (s *Security) Chrome(c echo.Context, title string) views.Chrome {
	ch := views.Chrome{Title: title, CSRFToken: CSRFToken(c)}
	id, ok := c.Get(identityKey).(Identity)
	if !ok && s == nil {
		id, ok = From(c), true
	}
	if !ok {
		return ch
	}
	ch.User, ch.Role, ch.CanWrite, ch.Anonymous = id.DisplayName(), string(id.Role), id.CanWrite(), id.Anonymous
	if s != nil && !id.Anonymous {
		// Someone refused for lack of a role may want to switch accounts.
		ch.SignOutURL, ch.SignOutPost = s.SignOut()
	}
	return ch
}

// page writes a component with status, rendered into a buffer first so a
// failure cannot leave half a page.
func (s *Security) page(c echo.Context, status int, comp templ.Component) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	return web.Render(c, status, comp)
}
