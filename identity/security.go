package identity

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/internal/requestid"
	"github.com/neonauth-admin/dashboard/internal/web"
	"github.com/neonauth-admin/dashboard/views"
)

// ServerMaxHeaderBytes bounds request headers: identity headers, assertions
// and cookies fit in a few KB, and the standard library's 1 MB is far more than
// a client needs to send.
const ServerMaxHeaderBytes = 64 << 10

// MaxRequestBody bounds every request body: the dashboard's forms are a few
// fields each.
const MaxRequestBody = "64K"

// SecurityOptions is what NewSecurity needs besides the configuration.
type SecurityOptions struct {
	// Auth is the parsed configuration (ParseAuthEnv).
	Auth AuthConfig
	// ListenAddr is the server's listen address, checked against
	// AUTH_MODE=none.
	ListenAddr string
	// Logger receives operational lines: rejected identities, denials.
	Logger *slog.Logger
	// AuditLog receives one JSON line per mutation; nil discards them.
	AuditLog io.Writer
	// AuditStore, when set, also keeps every audit line in the
	// hash-chained audit trail; a change is refused (503) while it cannot be
	// written.
	AuditStore AuditStore
	// HTTPClient reaches the identity provider and JWKS URLs; nil uses one
	// with a 15 s timeout.
	HTTPClient *http.Client
	// Now replaces the clock in tests.
	Now func() time.Time
}

// Security is the dashboard's protection in one place: identity, roles, CSRF,
// security headers, body limit and audit log. Install puts all of it on an
// echo instance, so no route can be added without it.
type Security struct {
	cfg     AuthConfig
	auth    authenticator
	oidc    *oidcAuth
	trusted trustedPeers
	logger  *slog.Logger
	audit   *Auditor
	csrf    echo.MiddlewareFunc
}

// authenticator finds who is behind a request, or says why nobody is.
type authenticator interface {
	authenticate(c echo.Context) (Identity, *authFailure)
}

// authFailure is why a request has no identity. Reasons go to the log only;
// the browser gets a page that explains what to do.
type authFailure struct {
	reason string
	// claimed is who an untrusted request claimed to be, for the log.
	claimed string
	// warn marks failures worth a warning (forged headers, bad signatures),
	// as opposed to someone who simply has not signed in yet.
	warn bool
	// malformed marks an identity that was sent but is refused: conflicting,
	// repeated or malformed. The page says so rather than asking to sign in.
	malformed bool
}

// noneAuth is AUTH_MODE=none: everyone is the anonymous admin.
type noneAuth struct{}

func (noneAuth) authenticate(echo.Context) (Identity, *authFailure) {
	return Identity{User: "nobody", Role: RoleAdmin, Anonymous: true}, nil
}

// NewSecurity validates the configuration against the listen address and
// prepares the chosen identity mode. In OIDC mode it contacts the provider
// for discovery, so a wrong issuer fails here rather than at the first sign-in.
func NewSecurity(ctx context.Context, opts SecurityOptions) (*Security, error) {
	cfg := opts.Auth
	if err := cfg.Validate(opts.ListenAddr); err != nil {
		return nil, err
	}
	s := &Security{
		cfg:     cfg,
		trusted: trustedPeers(cfg.TrustedProxies),
		logger:  opts.Logger,
		audit:   NewAuditor(opts.AuditLog),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.audit.st.store, s.audit.st.logger = opts.AuditStore, s.logger
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	client := outboundClient(opts.HTTPClient)
	switch cfg.Mode {
	case AuthModeNone:
		s.auth = noneAuth{}
	case AuthModeProxy:
		s.auth = &proxyAuth{cfg: cfg.Proxy, trusted: s.trusted}
	case AuthModeJWT:
		s.auth = newJWTAuth(cfg.JWT, client, now)
	case AuthModeOIDC:
		a, err := newOIDCAuth(ctx, cfg, client, now)
		if err != nil {
			return nil, err
		}
		a.secure = s.isHTTPS
		s.auth, s.oidc = a, a
	}
	s.csrf = s.csrfMiddleware()
	return s, nil
}

// Mode is the identity mode in force.
func (s *Security) Mode() AuthMode { return s.cfg.Mode }

// OIDC reports whether the dashboard runs its own OpenID Connect sign-in, and
// so serves the /auth/ routes.
func (s *Security) OIDC() bool { return s != nil && s.oidc != nil }

// SignOut says how the layout's sign-out control works: in OIDC mode a POST
// form to /auth/logout (post is true); in proxy and jwt modes a link to
// AUTH_LOGOUT_URL, if set; nothing in none mode.
func (s *Security) SignOut() (url string, post bool) {
	switch s.cfg.Mode {
	case AuthModeOIDC:
		return LogoutPath, true
	case AuthModeProxy, AuthModeJWT:
		return s.cfg.LogoutURL, false
	}
	return "", false
}

// Install adds the security middleware to e, with the route table's rules:
// who may call each route and the audit action of each mutation. Echo runs
// e.Use middleware for every route, whenever it was registered, so nothing
// the dashboard serves can bypass it; routes missing from rules get the
// strictest treatment. Install panics on rules CheckRules refuses, since
// those are mistakes in the route table itself.
func (s *Security) Install(e *echo.Echo, rules []Rule) {
	if err := CheckRules(rules); err != nil {
		panic(err)
	}
	table := make(map[string]Rule, len(rules))
	for _, r := range rules {
		table[r.Method+" "+r.Path] = r
	}
	e.Use(matchRule(table))
	e.Use(s.middleware()...)
}

// middleware is the chain Install adds after matching the rule, outermost
// first:
//
//   - request id: a fresh X-Request-ID, also sent to Neon, so a line in the
//     audit log matches a line in Neon's logs;
//   - headers: CSP, nosniff, frame and referrer policy, HSTS over HTTPS;
//   - host: 421 for a Host name the dashboard does not answer to (DNS
//     rebinding);
//   - body limit;
//   - identity: who is calling (401 or a redirect to sign in otherwise);
//   - audit: one JSON line per state-changing request, denied ones included;
//   - roles: the route's access rule; 403 for people without a role and for
//     viewers on admin routes;
//   - CSRF: a valid token on every state-changing request;
//   - audit trail: with a store, 503 before any change while it cannot be
//     written.
func (s *Security) middleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		s.requestID,
		s.headers,
		s.checkHost,
		s.bodyLimit(),
		s.identify,
		s.auditMutations,
		s.authorize,
		s.csrf,
		s.auditReady,
	}
}

// ruleKey is the echo context key of the matched route's Rule.
const ruleKey = "identity.rule"

// matchRule finds the route table's entry for the matched route. It goes by
// the matched route pattern, not the raw URL, so a crafted path cannot borrow
// another route's rule.
func matchRule(table map[string]Rule) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r, ok := table[c.Request().Method+" "+c.Path()]
			if !ok && c.Request().Method == http.MethodHead {
				// A HEAD request reads what the GET route serves.
				r, ok = table[http.MethodGet+" "+c.Path()]
			}
			if ok {
				c.Set(ruleKey, r)
			}
			return next(c)
		}
	}
}

// rule returns the matched route's entry; ok is false for routes missing
// from the table (404, 405, or a route added without an entry).
func (s *Security) rule(c echo.Context) (Rule, bool) {
	r, ok := c.Get(ruleKey).(Rule)
	return r, ok
}

// public reports whether a route needs no identity: probes, metrics (which
// check their own token), static files and the sign-in pages themselves.
func (s *Security) public(c echo.Context) bool {
	r, ok := s.rule(c)
	return ok && (r.Access == Public || r.Access == Probe)
}

// identify attaches the caller's Identity, with the role the policy grants,
// or answers for the missing identity itself.
func (s *Security) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.public(c) {
			return next(c)
		}
		id, fail := s.auth.authenticate(c)
		if fail != nil {
			if r, ok := s.rule(c); ok && r.Access == AnyRole {
				// Signing out works even with an expired session.
				return next(c)
			}
			return s.unauthenticated(c, fail)
		}
		if !id.Anonymous {
			id.Role = s.cfg.Roles.RoleFor(id.Email, id.Groups)
		}
		c.Set(identityKey, id)
		return next(c)
	}
}

// unauthenticated answers a request without identity. In OIDC mode browsers
// go to sign in (htmx requests are told to, through HX-Redirect); behind a
// proxy, the page explains that the proxy is the way in.
func (s *Security) unauthenticated(c echo.Context, f *authFailure) error {
	r := c.Request()
	level := slog.LevelDebug
	if f.warn {
		level = slog.LevelWarn
	}
	attrs := []any{"reason", f.reason, "peer", peerString(r), "method", r.Method, "path", cut(r.URL.Path, 200), "request_id", requestID(c)}
	if f.claimed != "" {
		attrs = append(attrs, "claimed", f.claimed)
	}
	s.logger.Log(r.Context(), level, "request without identity", attrs...)
	c.Set(deniedKey, denyUnauthenticated)

	p := views.AuthProblem{Title: "Sign-in required", TestID: string(denyUnauthenticated), Contact: s.cfg.Contact}
	switch {
	case f.malformed:
		p.Title, p.TestID = "Your identity could not be accepted", "bad-identity"
		p.Message = "The request named who you are in a way the dashboard does not accept (an identity header it is not configured to read, a header sent twice, " +
			"or a malformed or over-long email), so nothing was done. Open the dashboard through your company's sign-in address without tools that add headers; " +
			"if this keeps happening, tell whoever runs the dashboard."
	case s.cfg.Mode == AuthModeOIDC:
		next := r.URL.RequestURI()
		if web.IsHTMX(c) {
			if u, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil {
				next = u.RequestURI()
			}
			c.Response().Header().Set("HX-Redirect", loginURLFor(next))
			return c.NoContent(http.StatusUnauthorized)
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return c.Redirect(http.StatusFound, loginURLFor(next))
		}
		p.Message = "Your session has ended, so nothing was changed. Sign in again, then repeat what you were doing."
		p.ActionURL, p.ActionLabel = loginURLFor(""), "Sign in"
	case s.cfg.Mode == AuthModeJWT:
		p.Message = "The access proxy's sign-in assertion was missing or could not be verified. Reload the page to sign in again."
	default:
		p.Message = "The dashboard did not receive your identity from the sign-in proxy. Open it through your company's sign-in address."
	}
	if web.IsHTMX(c) {
		// Let the proxy run its own sign-in on a full page load.
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return s.problem(c, http.StatusUnauthorized, p)
}

// isHTTPS reports whether the browser reached the dashboard over HTTPS: TLS
// here, X-Forwarded-Proto from a trusted proxy, or COOKIE_SECURE=true. It
// picks the Secure flag, the __Host- cookie names and HSTS.
func (s *Security) isHTTPS(c echo.Context) bool {
	r := c.Request()
	if r.TLS != nil || s.cfg.CookieSecure {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get(echo.HeaderXForwardedProto), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https") && s.trusted.contains(r)
}

// requestID gives every request a fresh id, returned as X-Request-ID and sent
// to Neon with each API call the request makes. A client's own X-Request-ID is
// not reused: audit lines must not be attributable to ids a caller chose.
func (s *Security) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := uuid.NewString()
		r := c.Request()
		c.SetRequest(r.WithContext(requestid.With(r.Context(), id)))
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// requestID returns the id requestID assigned.
func requestID(c echo.Context) string { return requestid.From(c.Request().Context()) }
