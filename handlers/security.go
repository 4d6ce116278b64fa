package handlers

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/static"
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
	// Metrics collects Prometheus metrics; nil makes a fresh set.
	Metrics *Metrics
	// Ready reports whether the Neon API is usable (see NeonReadiness); nil
	// is always ready.
	Ready ReadyFunc
	// HTTPClient reaches the identity provider and JWKS URLs; nil uses one
	// with a 15 s timeout.
	HTTPClient *http.Client
	// Now replaces the clock in tests.
	Now func() time.Time
}

// Security is the dashboard's protection in one place: identity, roles, CSRF,
// security headers, body limit, audit log, metrics and health routes. Install
// puts all of it on an echo instance, so no route can be added without it.
type Security struct {
	cfg     AuthConfig
	auth    authenticator
	oidc    *oidcAuth
	trusted trustedPeers
	logger  *slog.Logger
	audit   *Auditor
	metrics *Metrics
	ready   *readiness
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
		metrics: opts.Metrics,
		ready:   newReadiness(opts.Ready, opts.Now),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
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
		s.auth = newJWTAuth(oidc.ClientContext(ctx, client), cfg.JWT)
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

// Metrics returns the metrics set, for the Neon client's observer and the
// sync check.
func (s *Security) Metrics() *Metrics { return s.metrics }

// SignOut says how the layout's sign-out control works: in OIDC mode a POST
// form to /auth/logout (post is true); in proxy and jwt modes a link to
// AUTH_LOGOUT_URL, if set; nothing in none mode.
func (s *Security) SignOut() (url string, post bool) {
	switch s.cfg.Mode {
	case AuthModeOIDC:
		return logoutPath, true
	case AuthModeProxy, AuthModeJWT:
		return s.cfg.LogoutURL, false
	}
	return "", false
}

// Install adds the security middleware and the health, readiness, metrics and
// sign-in routes to e. Echo runs e.Use middleware for every route, whenever it
// was registered, so nothing the dashboard serves can bypass it.
func (s *Security) Install(e *echo.Echo) {
	e.Use(s.Middleware()...)
	s.Routes(e)
}

// Middleware is the chain Install adds, outermost first:
//
//   - request id: a fresh X-Request-ID, also sent to Neon, so a line in the
//     audit log matches a line in Neon's logs;
//   - metrics: counts every response by route pattern and status;
//   - headers: CSP, nosniff, frame and referrer policy, HSTS over HTTPS;
//   - body limit;
//   - identity: who is calling (401 or a redirect to sign in otherwise);
//   - audit: one JSON line per state-changing request, denied ones included;
//   - roles: 403 for people without a role and for viewers sending anything
//     but GET, HEAD or OPTIONS;
//   - CSRF: a valid token on every state-changing request.
func (s *Security) Middleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		s.requestID,
		s.metrics.middleware,
		s.headers,
		s.bodyLimit(),
		s.identify,
		s.auditMutations,
		s.authorize,
		s.csrf,
	}
}

// Routes registers /healthz, /readyz and /metrics, and in OIDC mode the
// sign-in routes.
func (s *Security) Routes(e *echo.Echo) {
	e.GET(healthPath, s.healthz)
	e.GET(readyPath, s.readyz)
	e.GET(metricsPath, s.serveMetrics)
	if s.oidc != nil {
		e.GET(loginPath, s.login)
		e.GET(callbackPath, s.callback)
		e.POST(logoutPath, s.logout)
		e.GET(signedOutPath, s.signedOut)
	}
}

// public reports whether a route needs no identity: probes, metrics (which
// check their own token) and static files, plus the sign-in pages themselves.
// It goes by the matched route pattern, not the raw URL, so a crafted path
// cannot borrow a public route's exemption.
func (s *Security) public(c echo.Context) bool {
	switch p := c.Path(); p {
	case healthPath, readyPath, metricsPath:
		return true
	case loginPath, callbackPath, signedOutPath:
		return s.oidc != nil
	default:
		return strings.HasPrefix(p, static.Prefix)
	}
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
			if c.Path() == logoutPath {
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
	switch s.cfg.Mode {
	case AuthModeOIDC:
		next := r.URL.RequestURI()
		if isHTMX(c) {
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
	case AuthModeJWT:
		p.Message = "The access proxy's sign-in assertion was missing or could not be verified. Reload the page to sign in again."
	default:
		p.Message = "The dashboard did not receive your identity from the sign-in proxy. Open it through your company's sign-in address."
	}
	if isHTMX(c) {
		// Let the proxy run its own sign-in on a full page load.
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return s.problem(c, http.StatusUnauthorized, p)
}

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
	id := IdentityFrom(c)
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
	if isHTMX(c) {
		return s.page(c, status, views.AuthProblemPanel(p))
	}
	return s.page(c, status, views.AuthProblemPage(s.chrome(c, p.Title), p))
}

func (s *Security) signedOutPage(c echo.Context) templ.Component {
	return views.SignedOutPage(s.chrome(c, "Signed out"), loginPath)
}

// chrome is the layout model for the security pages: only what the
// middleware knows, no flashes, and the sign-out control for anyone signed in.
func (s *Security) chrome(c echo.Context, title string) views.Chrome {
	ch := views.Chrome{Title: title, CSRFToken: CSRFToken(c)}
	if id, ok := c.Get(identityKey).(Identity); ok {
		ch.User, ch.Role, ch.CanWrite, ch.Anonymous = id.DisplayName(), string(id.Role), id.CanWrite(), id.Anonymous
		if !id.Anonymous {
			// Someone refused for lack of a role may want to switch accounts.
			ch.SignOutURL, ch.SignOutPost = s.SignOut()
		}
	}
	return ch
}

// page writes a component with status, rendered into a buffer first so a
// failure cannot leave half a page.
func (s *Security) page(c echo.Context, status int, comp templ.Component) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(status)
	}
	return renderBuffered(c, status, comp)
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
		c.SetRequest(r.WithContext(neonapi.WithRequestID(r.Context(), id)))
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// requestID returns the id requestID assigned.
func requestID(c echo.Context) string { return neonapi.RequestIDFrom(c.Request().Context()) }

// NewSessionStore returns the cookie store for the dashboard's sessions. Each
// key is one SESSION_KEYS secret, newest first; from each, separate signing
// and encryption keys are derived, so cookies are both tamper-proof and
// unreadable. Without keys a random one is made: fine for a local demo, but
// every restart signs everybody out. Cookies are HttpOnly, SameSite=Lax and
// expire after maxAge seconds.
func NewSessionStore(keys [][]byte, secure bool, maxAge int) *sessions.CookieStore {
	return newCookieStore(keys, secure, maxAge)
}

func newCookieStore(keys [][]byte, secure bool, maxAge int) *sessions.CookieStore {
	if len(keys) == 0 {
		k := make([]byte, MinSessionKeyBytes)
		_, _ = rand.Read(k)
		keys = [][]byte{k}
	}
	pairs := make([][]byte, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, deriveKey(k, "cookie signing", 64), deriveKey(k, "cookie encryption", 32))
	}
	store := sessions.NewCookieStore(pairs...)
	store.MaxAge(maxAge)
	store.Options = cookieOptions(secure, maxAge)
	return store
}

// deriveKey stretches one configured secret into a key for one purpose.
func deriveKey(secret []byte, purpose string, n int) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, "neonauth-admin "+purpose, n)
	if err != nil {
		// Only possible for lengths above 255*32 bytes.
		panic(err)
	}
	return k
}
