package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/static"
)

// Route is one entry of the route table. The table is the one place that
// says which routes exist, who may call each and what each change is called
// in the audit log: the router, the role checks, the audit log and
// docs/routes.md are all derived from it.
type Route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	// Access says who may call the route (identity.Admin, identity.Viewer,
	// ...). State-changing routes are never public.
	Access identity.Access
	// Audit names the action in audit lines; every state-changing route has
	// one.
	Audit string
	// Doc says what the route serves, for docs/routes.md.
	Doc string
	// OIDCOnly routes exist only when the dashboard runs its own sign-in
	// (AUTH_MODE=oidc).
	OIDCOnly bool
}

// Routes is the route table: every route the dashboard can serve, in the
// order docs/routes.md lists them. Echo registers the ones the configuration
// enables.
func (h *Handler) Routes() []Route {
	const (
		get, post = http.MethodGet, http.MethodPost
		viewer    = identity.Viewer
		admin     = identity.Admin
		public    = identity.Public
		probe     = identity.Probe
	)
	sec := h.Security
	routes := []Route{
		{get, "/", h.listProjects, viewer, "", "projects list (same as /projects)", false},
		{get, "/projects", h.listProjects, viewer, "", "projects list; `?q=` searches by name or id, `?cursor=` is the next page; htmx requests get the rows only", false},
		{get, "/projects/:id", h.showProject, viewer, "", "a project's Neon Auth: integrations, enable form, danger zone", false},
		{get, "/projects/:id/branches/:branch/options", h.branchOptions, viewer, "", "database and role choices for the enable form (htmx)", false},
		{post, "/projects/:id/integrations", h.enableIntegration, admin, "neon_auth.enable", "enable Neon Auth (stack or better_auth); the keys are shown once", false},
		{get, "/projects/:id/integrations/stack/transfer", h.confirmTransfer, viewer, "", "confirm an ownership transfer (viewers get an explanation)", false},
		{post, "/projects/:id/integrations/stack/transfer", h.transferOwnership, admin, "neon_auth.transfer", "start the transfer; shows Stack Auth's claim URL", false},
		{get, "/projects/:id/integrations/stack/keys", h.confirmSDKKeys, viewer, "", "confirm issuing new Stack Auth SDK keys (viewers get an explanation)", false},
		{post, "/projects/:id/integrations/stack/keys", h.createSDKKeys, admin, "neon_auth.sdk_keys", "issue new SDK keys, shown once", false},
		{post, "/projects/:id/integrations/:provider/delete", h.deleteIntegration, admin, "neon_auth.delete", "delete (stack) or disable (better_auth) Neon Auth", false},
		{get, "/projects/:id/users", h.usersPage, viewer, "", "users of an integration (`?provider=stack|better_auth`, `?q=` lookup)", false},
		{post, "/projects/:id/users", h.createUser, admin, "user.create", "create a user; starts the live sync check", false},
		{get, "/projects/:id/users/latest", h.latestUsers, viewer, "", "latest users table with the header's counts out of band (htmx refresh)", false},
		{get, "/projects/:id/users/browse", h.browseUsers, viewer, "", "browse the users table (`?q=&status=&role=&size=50|100|200&at=YYYY-MM-DD`, paged by `?after=`/`?before=` cursors or `?last=1`); htmx gets the table, others the page", false},
		{get, "/projects/:id/users/count", h.userCount, viewer, "", "how many users the browse filter matches: an estimate on large tables, `?exact=1` counts (htmx; others redirect to browse)", false},
		{get, "/projects/:id/users/export", h.exportUsers, admin, "user.export", "download the users the browse filter matches (`?format=csv|jsonl`), streamed; audited with the row count", false},
		{get, "/projects/:id/users/lookup", h.usersLookup, viewer, "", "the \"check sync\" box's answer (htmx; the page otherwise)", false},
		{get, "/projects/:id/users/:uid", h.userSync, viewer, "", "a sync check as a full page (the no-JS \"check again\")", false},
		{get, "/projects/:id/users/:uid/sync", h.userSync, viewer, "", "the polled sync check (`?since=`, `?watch=create|delete|role`, `&role=`); sends `HX-Trigger: users-changed` once synced", false},
		{get, "/projects/:id/users/:uid/detail", h.userDetail, viewer, "", "every column of one user, its raw_json and sync timeline, with the actions that apply", false},
		{get, "/projects/:id/users/:uid/delete", h.deleteUserForm, viewer, "", "confirm a user deletion", false},
		{post, "/projects/:id/users/:uid/delete", h.deleteUser, admin, "user.delete", "delete the user; starts watching for the deletion", false},
		{post, "/projects/:id/users/:uid/role", h.setUserRole, admin, "user.role", "set a Better Auth user's role; starts watching for it", false},
		{get, static.Prefix + "*", h.serveStatic, public, "", "embedded assets under content-hashed names", false},
		{get, faviconPath, h.serveFavicon, public, "", "the icon, for browsers that look for it there", false},
		{get, healthPath, h.healthz, probe, "", "liveness: 200 `ok`", false},
		{get, readyPath, h.readyz, probe, "", "readiness: the Neon API answers with the key (cached 15 s)", false},
		{get, metricsPath, h.serveMetrics, public, "", "Prometheus metrics; `METRICS_TOKEN` bearer, or loopback peers only", false},
		{get, identity.LoginPath, sec.Login, public, "", "start signing in (`?next=` a path on this site)", true},
		{get, identity.CallbackPath, sec.Callback, public, "", "the identity provider's redirect back", true},
		{post, identity.LogoutPath, sec.Logout, identity.AnyRole, "auth.logout", "sign out (with the CSRF token)", true},
		{get, identity.SignedOutPath, sec.SignedOut, public, "", "confirms the sign-out", true},
	}
	return routes
}

// served is the part of the table this configuration serves: the sign-in
// routes only when the dashboard runs its own OIDC sign-in.
func (h *Handler) served() []Route {
	var out []Route
	for _, r := range h.Routes() {
		if r.OIDCOnly && !h.Security.OIDC() {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Rules are the route table's entries as identity.Security reads them.
func Rules(routes []Route) []identity.Rule {
	out := make([]identity.Rule, len(routes))
	for i, r := range routes {
		out[i] = identity.Rule{Method: r.Method, Path: r.Path, Access: r.Access, Audit: r.Audit}
	}
	return out
}

// Echo returns a ready server: error handler, middleware and every route.
func (h *Handler) Echo() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = h.HTTPErrorHandler
	e.Pre(headAsGet)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		// The stack goes with the error to the one structured line the error
		// handler logs, not to Echo's own plain-text logger.
		LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
			return fmt.Errorf("panic: %w\n%s", err, stack)
		},
	}))
	if h.Metrics != nil {
		// Outside security, so refusals are counted too.
		e.Use(h.Metrics.Middleware)
	}
	e.Use(compressPages())
	routes := h.served()
	if h.Security != nil {
		// Before any route: every route, present or future, sits behind it.
		h.Security.Install(e, Rules(routes))
	}
	for _, r := range routes {
		e.Add(r.Method, r.Path, r.Handler, identity.Require(r.Access))
	}
	return e
}
