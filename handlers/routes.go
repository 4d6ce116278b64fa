package handlers

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonauth"
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
	const settings = "/projects/:id/branches/:branch/auth/settings"
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
	}
	// A project's users are its Stack Auth users; Better Auth's belong to a
	// branch, and the project-level routes send them there.
	routes = append(routes, h.projectUsersRoutes()...)
	routes = append(routes, h.usersRoutes("/projects/:id/branches/:branch/users")...)
	routes = append(routes, h.peopleRoutes("/projects/:id/branches/:branch")...)
	routes = append(routes, h.auditRoutes()...)
	routes = append(routes, []Route{
		{get, "/projects/:id/branches/:branch/auth/readiness", h.branchReadiness, viewer, "", "a branch's Neon Auth production readiness checklist, read through the read cache (the dashboard's own changes show at once, changes made elsewhere after \"Refresh from Neon\" or `CACHE_FRESHNESS`); 404 page when the branch has no branch-level Neon Auth", false},
		{get, "/projects/:id/branches/:branch/auth/readiness/badge", h.branchReadinessBadge, viewer, "", "a branch's readiness badge (htmx fragment the project page loads per branch-level Neon Auth row when the row scrolls into view), from the read cache like the checklist; Neon failures and incomplete answers answer their status with an \"unavailable\" badge carrying Neon's message and request id; its reads come last in Neon's rate budget, and when there is no room for them it answers 503 with Retry-After at once, with a \"busy\" badge that asks again once by itself (`?retry=1`) and then on a click", false},
		{get, "/projects/:id/auth/compare", h.compareBranches, viewer, "", "two branches' Neon Auth settings side by side (`?a=`, `?b=` branch ids; default branch vs the first other; `?only=differences`); secrets only as set/unset, webhook URLs whole for admins", false},
		{get, "/projects/:id/auth/copy", h.previewCopy, admin, "", "every change copying branch `from`'s settings onto branch `to` would make (`group=` to narrow), with the secrets it needs typed", false},
		{post, "/projects/:id/auth/copy", h.applyCopy, admin, "auth.settings.copy", "make the copy previewed (re-read live; refused if either branch changed); one audit line per change, then the request's", false},
		{post, "/projects/:id/refresh", h.refreshProject, viewer, "neon.refresh", "\"Refresh from Neon\": forget the project's cached Neon reads, so its pages show changes made outside the dashboard (the Neon Console); sends nothing to Neon, so viewers may; back to `return_to` (a page of the same project, else the project page) with a flash", false},
		{get, "/jobs", h.listJobs, viewer, "", "the recent jobs of every replica (index builds, session revocations, settings copies): kind, target, who started it, status, progress, replica, lease age, times, error", false},
		{get, settings, h.showSettingsIndex, viewer, "", "a branch's Neon Auth settings, read through the read cache like the checklist (each group's page and form): sends to the first group", false},
		{get, settings + "/domains", h.showSettings(neonauth.GroupDomains), viewer, "", "trusted domains and localhost (forms for admins, values for viewers); settings pages are for branch-level Neon Auth only", false},
		{post, settings + "/domains", h.addTrustedDomain, admin, "auth.domains.add", "trust one more domain (an origin, checked before Neon is asked)", false},
		{post, settings + "/domains/remove", h.removeTrustedDomain, admin, "auth.domains.remove", "stop trusting a domain", false},
		{post, settings + "/domains/localhost", h.setAllowLocalhost, admin, "auth.localhost.update", "allow or refuse localhost", false},
		{get, settings + "/sign-in", h.showSettings(neonauth.GroupSignIn), viewer, "", "email and password sign-in and OAuth providers", false},
		{post, settings + "/sign-in/email-password", h.updateEmailAndPassword, admin, "auth.email_password.update", "save every email and password setting", false},
		{post, settings + "/sign-in/oauth", h.addOAuthProvider, admin, "auth.oauth.add", "add an OAuth provider (shared or own credentials)", false},
		{post, settings + "/sign-in/oauth/:provider", h.updateOAuthProvider, admin, "auth.oauth.update", "change a provider's own credentials; an empty secret keeps Neon's", false},
		{post, settings + "/sign-in/oauth/:provider/remove", h.removeOAuthProvider, admin, "auth.oauth.remove", "remove an OAuth provider", false},
		{get, settings + "/email", h.showSettings(neonauth.GroupEmail), viewer, "", "the email server (shared or own SMTP)", false},
		{post, settings + "/email", h.updateEmailServer, admin, "auth.email.update", "save the email server; an empty password keeps Neon's", false},
		{post, settings + "/email/test", h.sendTestEmail, admin, "auth.email.test", "send a test email through the SMTP settings typed; the outcome shows in the form", false},
		{get, settings + "/plugins", h.showSettings(neonauth.GroupPlugins), viewer, "", "organization, magic link and phone number plugins", false},
		{post, settings + "/plugins/organization", h.updateOrganization, admin, "auth.plugins.organization", "save the organization plugin", false},
		{post, settings + "/plugins/magic-link", h.updateMagicLink, admin, "auth.plugins.magic_link", "save the magic link plugin", false},
		{post, settings + "/plugins/phone-number", h.updatePhoneNumber, admin, "auth.plugins.phone_number", "save the phone number plugin", false},
		{get, settings + "/webhooks", h.showSettings(neonauth.GroupWebhooks), viewer, "", "the webhook: endpoint, events, timeout", false},
		{post, settings + "/webhooks", h.updateWebhooks, admin, "auth.webhooks.update", "replace the webhook configuration", false},
		{get, settings + "/application", h.showSettings(neonauth.GroupApplication), viewer, "", "the application name and the integration's URLs", false},
		{post, settings + "/application", h.updateApplication, admin, "auth.application.update", "save the application name", false},
		{get, static.Prefix + "*", h.serveStatic, public, "", "embedded assets under content-hashed names", false},
		{get, faviconPath, h.serveFavicon, public, "", "the icon, for browsers that look for it there", false},
		{get, healthPath, h.healthz, probe, "", "liveness: 200 `ok`", false},
		{get, readyPath, h.readyz, probe, "", "readiness: the Neon API answers with the key (cached 15 s)", false},
		{get, metricsPath, h.serveMetrics, public, "", "Prometheus metrics; `METRICS_TOKEN` bearer, or loopback peers only", false},
		{get, identity.LoginPath, sec.Login, public, "", "start signing in (`?next=` a path on this site)", true},
		{get, identity.CallbackPath, sec.Callback, public, "", "the identity provider's redirect back", true},
		{post, identity.LogoutPath, sec.Logout, identity.AnyRole, "auth.logout", "sign out (with the CSRF token)", true},
		{get, identity.SignedOutPath, sec.SignedOut, public, "", "confirms the sign-out", true},
	}...)
	return routes
}

// projectUsersRoutes are the project-level users routes, each redirecting
// Better Auth's users to their branch's route.
func (h *Handler) projectUsersRoutes() []Route {
	rs := h.usersRoutes("/projects/:id/users")
	for i := range rs {
		rs[i].Handler = h.projectUsers(rs[i].Handler)
	}
	return rs
}

// usersRoutes are the users routes under base: a project's Stack Auth users
// (/projects/:id/users) or a branch's Better Auth users
// (/projects/:id/branches/:branch/users).
func (h *Handler) usersRoutes(users string) []Route {
	const (
		get, post = http.MethodGet, http.MethodPost
		viewer    = identity.Viewer
		admin     = identity.Admin
	)
	return []Route{
		{get, users, h.usersPage, viewer, "", "the users of one integration: a project's Stack Auth users (`?provider=stack`) or a branch's Better Auth users (under `/branches/:branch`; a project-level link asking for `better_auth` redirects there, to `?branch=` or the branch that has it); `?q=` lookup", false},
		{post, users, h.createUser, admin, "user.create", "create a user; starts the live sync check", false},
		{get, users + "/browse", h.browseUsers, viewer, "", "browse the users table (`?q=&status=&role=&size=50|100|200&at=YYYY-MM-DD`, paged by `?after=`/`?before=` cursors or `?last=1`); htmx gets the table, others the page", false},
		{get, users + "/count", h.userCount, viewer, "", "how many users the browse filter matches: an estimate on large tables, `?exact=1` counts (htmx; others redirect to browse)", false},
		{get, users + "/export", h.exportUsers, admin, "user.export", "download the users the browse filter matches (`?format=csv|jsonl`), streamed; audited with the row count", false},
		{get, users + "/index", h.showIndexAdvisor, viewer, "", "whether an index serves the users browse order, and what creating one costs (htmx panel; the page otherwise); polls itself while a build runs", false},
		{post, users + "/index", h.createUsersIndex, admin, "users.index.create", "start building an offered index (CREATE INDEX CONCURRENTLY) in the background: the browse-order one, with `purpose=email` the email-lookup one (users_sync), with `purpose=sessions` the sessions-order one on neon_auth.session (Better Auth)", false},
		{post, users + "/index/delete", h.dropUsersIndex, admin, "users.index.drop", "drop a browse-order or email-lookup index, or one a failed build left INVALID (`index=`)", false},
		{get, users + "/signups", h.showSignups, viewer, "", "signups and deletions per day or week as an SVG chart with its table (`?range=30d|90d|365d&bucket=day|week`; htmx panel, the page otherwise)", false},
		{get, users + "/lookup", h.usersLookup, viewer, "", "the \"check sync\" box's answer (htmx; the page otherwise)", false},
		{get, users + "/:uid", h.userSync, viewer, "", "a sync check as a full page (the no-JS \"check again\")", false},
		{get, users + "/:uid/sync", h.userSync, viewer, "", "the polled sync check (`?since=`, `?watch=create|delete|role`, `&role=`); sends `HX-Trigger: users-changed` once synced", false},
		{get, users + "/:uid/detail", h.userDetail, viewer, "", "every column of one user, its raw_json and sync timeline, with the actions that apply", false},
		{get, users + "/:uid/delete", h.deleteUserForm, viewer, "", "confirm a user deletion", false},
		{post, users + "/:uid/delete", h.deleteUser, admin, "user.delete", "delete the user; starts watching for the deletion", false},
		{post, users + "/:uid/role", h.setUserRole, admin, "user.role", "set a Better Auth user's role; starts watching for it", false},
	}
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
	e.Pre(h.replicaHeader)
	e.Use(abortCutResponses)
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
	e.Use(trackFreshness)
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
