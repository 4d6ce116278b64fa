package handlers

// Routes (every route the dashboard serves; keep this table in step with Routes):
//
//	GET  /                                           projects list (same as /projects)
//	GET  /projects                                   projects list; ?q= search by name or id, ?cursor= next page;
//	                                                 htmx requests get the rows fragment only
//	GET  /projects/:id                               project → Neon Auth: integrations, enable form, danger zone
//	GET  /projects/:id/branches/:branch/options      database and role <select>s for the enable form (htmx)
//	POST /projects/:id/integrations                  enable Neon Auth (stack or better_auth); keys shown once
//	GET  /projects/:id/integrations/stack/transfer   confirm an ownership transfer
//	POST /projects/:id/integrations/stack/transfer   start the transfer; shows Stack Auth's claim URL
//	GET  /projects/:id/integrations/stack/keys       confirm issuing new Stack Auth SDK keys
//	POST /projects/:id/integrations/stack/keys       issue them; new keys shown once, like enabling
//	POST /projects/:id/integrations/:provider/delete delete (stack) or disable (better_auth) Neon Auth
//	GET  /projects/:id/users                         users of an integration (?provider=stack|better_auth, ?q= lookup)
//	POST /projects/:id/users                         create a user; starts the live sync check
//	GET  /projects/:id/users/latest                  latest users table with the header's counts out of band
//	                                                 (htmx refresh; also when a sync check concludes)
//	GET  /projects/:id/users/lookup                  "check sync" box answer (htmx; the page otherwise)
//	GET  /projects/:id/users/:uid                    a sync check as a full page (no-JS "check again")
//	GET  /projects/:id/users/:uid/sync               the polled sync check fragment (?since=ms&watch=create|delete|role,
//	                                                 &role= with watch=role);
//	                                                 once synced it sends HX-Trigger: users-changed
//	GET  /projects/:id/users/:uid/delete             confirm a user deletion
//	POST /projects/:id/users/:uid/delete             delete the user; starts watching for the deletion
//	POST /projects/:id/users/:uid/role               set a Better Auth user's role; starts watching for it
//	GET  /static/*                                   embedded assets under content-hashed names
//	GET  /favicon.ico                                the icon, for browsers that look for it there
//
// Security.Install (security.go) adds, with the middleware every route above sits behind:
//
//	GET  /healthz                                    liveness: 200 "ok"
//	GET  /readyz                                     readiness: Neon API reachable with the key (cached 15s)
//	GET  /metrics                                    Prometheus; METRICS_TOKEN bearer, or loopback only
//	GET  /auth/login, /auth/callback                 OIDC sign-in (AUTH_MODE=oidc only)
//	POST /auth/logout                                OIDC sign-out; GET /auth/signed-out confirms it

import (
	"fmt"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/neonauth-admin/dashboard/static"
)

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
	e.Use(compressPages())
	if h.Security != nil {
		// Before any route: every route, present or future, sits behind it.
		h.Security.Install(e)
	}
	h.Routes(e)
	return e
}

// Routes registers every dashboard route on e.
func (h *Handler) Routes(e *echo.Echo) {
	e.GET("/", h.listProjects)
	e.GET("/projects", h.listProjects)
	e.GET("/projects/:id", h.showProject)
	e.GET("/projects/:id/branches/:branch/options", h.branchOptions)
	e.POST("/projects/:id/integrations", h.enableIntegration)
	e.GET("/projects/:id/integrations/stack/transfer", h.confirmTransfer)
	e.POST("/projects/:id/integrations/stack/transfer", h.transferOwnership)
	e.GET("/projects/:id/integrations/stack/keys", h.confirmSDKKeys)
	e.POST("/projects/:id/integrations/stack/keys", h.createSDKKeys)
	e.POST("/projects/:id/integrations/:provider/delete", h.deleteIntegration)
	e.GET("/projects/:id/users", h.usersPage)
	e.POST("/projects/:id/users", h.createUser)
	e.GET("/projects/:id/users/latest", h.latestUsers)
	e.GET("/projects/:id/users/lookup", h.usersLookup)
	e.GET("/projects/:id/users/:uid", h.userSync)
	e.GET("/projects/:id/users/:uid/sync", h.userSync)
	e.GET("/projects/:id/users/:uid/delete", h.deleteUserForm)
	e.POST("/projects/:id/users/:uid/delete", h.deleteUser)
	e.POST("/projects/:id/users/:uid/role", h.setUserRole)

	e.GET(static.Prefix+"*", h.serveStatic)
	e.GET(faviconPath, h.serveFavicon)
}
