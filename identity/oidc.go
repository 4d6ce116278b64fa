package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/neonauth-admin/dashboard/internal/web"
)

// The dashboard's own sign-in routes (OIDC mode only).
const (
	authPrefix = "/auth/"
	// LoginPath starts a sign-in.
	LoginPath = authPrefix + "login"
	// CallbackPath is where the identity provider sends people back.
	CallbackPath = authPrefix + "callback"
	// LogoutPath ends the dashboard session (POST with the CSRF token).
	LogoutPath = authPrefix + "logout"
	// SignedOutPath confirms the sign-out.
	SignedOutPath = authPrefix + "signed-out"
)

// Cookie names. Over HTTPS they get the __Host- prefix, which browsers only
// accept from this exact host with Secure and Path=/, so a sibling subdomain
// cannot plant its own.
const (
	authCookie  = "dashboard_auth"
	loginCookie = "dashboard_login"
)

// loginMaxAge bounds how long a person may spend at the identity provider
// between /auth/login and /auth/callback.
const loginMaxAge = 10 * time.Minute

// outboundTimeout bounds each request to the identity provider or a JWKS URL.
const outboundTimeout = 15 * time.Second

// oidcAuth signs people in with the OpenID Connect authorization code flow
// (PKCE, state and nonce) and keeps who they are in a sealed cookie.
type oidcAuth struct {
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client
	store    *sessions.CookieStore
	maxAge   time.Duration
	claims   claimNames
	roles    RolePolicy
	now      func() time.Time
	// secure reports whether the browser reached this request over HTTPS,
	// which picks the cookie names and attributes.
	secure func(echo.Context) bool
}

// newOIDCAuth discovers the provider. It runs at startup so a wrong issuer or
// an unreachable provider stops the dashboard with a clear message instead of
// failing every sign-in later.
func newOIDCAuth(ctx context.Context, cfg AuthConfig, client *http.Client, now func() time.Time) (*oidcAuth, error) {
	ctx = oidc.ClientContext(ctx, client)
	dctx, cancel := context.WithTimeout(ctx, outboundTimeout)
	defer cancel()
	provider, err := oidc.NewProvider(dctx, cfg.OIDC.Issuer)
	if err != nil {
		return nil, fmt.Errorf("AUTH_OIDC_ISSUER %q: discovery failed: %w", cfg.OIDC.Issuer, err)
	}
	return &oidcAuth{
		provider: provider,
		oauth: oauth2.Config{
			ClientID:     cfg.OIDC.ClientID,
			ClientSecret: cfg.OIDC.ClientSecret.Reveal(),
			Endpoint:     provider.Endpoint(),
			RedirectURL:  cfg.OIDC.RedirectURL,
			Scopes:       cfg.OIDC.Scopes,
		},
		verifier: provider.VerifierContext(ctx, &oidc.Config{ClientID: cfg.OIDC.ClientID, Now: now}),
		client:   client,
		store:    newCookieStore(cfg.SessionKeys, false, int(cfg.SessionMaxAge/time.Second)),
		maxAge:   cfg.SessionMaxAge,
		claims:   claimNames{email: cfg.OIDC.EmailClaim, groups: cfg.OIDC.GroupsClaim},
		roles:    cfg.Roles,
		now:      now,
	}, nil
}

// signedIn is what the session cookie holds: enough to rebuild the Identity
// and decide the role on every request, so a role change in the configuration
// applies at once, without waiting for people to sign in again.
type signedIn struct {
	Subject string   `json:"sub"`
	User    string   `json:"user"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	Expires int64    `json:"exp"`
}

func (a *oidcAuth) authenticate(c echo.Context) (Identity, *authFailure) {
	r := c.Request()
	name := cookieName(authCookie, a.secure(c))
	if _, err := r.Cookie(name); err != nil {
		return Identity{}, &authFailure{reason: "not signed in"}
	}
	sess, err := a.store.Get(r, name)
	if err != nil {
		// Sealed with a retired key, tampered with, or past its MaxAge.
		return Identity{}, &authFailure{reason: "session cookie unreadable or expired"}
	}
	raw, _ := sess.Values["id"].(string)
	var s signedIn
	if raw == "" || json.Unmarshal([]byte(raw), &s) != nil {
		return Identity{}, &authFailure{reason: "not signed in"}
	}
	if a.now().Unix() >= s.Expires {
		return Identity{}, &authFailure{reason: "session expired"}
	}
	return Identity{User: s.User, Email: s.Email, Groups: s.Groups}, nil
}

// Login starts the authorization code flow. state ties the callback to this
// browser, nonce ties the ID token to this login, and the PKCE verifier ties
// the code exchange to this server; all three live in a short-lived sealed
// cookie, never in the URL.
func (s *Security) Login(c echo.Context) error {
	a := s.oidc
	secure := s.isHTTPS(c)
	state, nonce := randomToken(), randomToken()
	verifier := oauth2.GenerateVerifier()
	sess, _ := a.store.New(c.Request(), cookieName(loginCookie, secure))
	sess.Values = map[any]any{
		"state":    state,
		"nonce":    nonce,
		"verifier": verifier,
		"next":     safeNext(c.QueryParam("next")),
	}
	sess.Options = cookieOptions(secure, int(loginMaxAge/time.Second))
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("oidc: save login state: %w", err)
	}
	target := a.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	return c.Redirect(http.StatusFound, target)
}

// addUserInfo fills email and groups from the userinfo endpoint when the ID
// token leaves them out, as several providers do unless configured otherwise.
// The answer only counts if it is about the same subject.
func (a *oidcAuth) addUserInfo(ctx context.Context, tok *oauth2.Token, subject string, claims map[string]any) {
	_, hasEmail := claims[a.claims.email]
	if hasEmail && claimAt(claims, a.claims.groups) != nil {
		return
	}
	if a.provider.UserInfoEndpoint() == "" {
		return
	}
	info, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != subject {
		return
	}
	var extra map[string]any
	if info.Claims(&extra) != nil {
		return
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
}

// Logout ends the dashboard session. It is a POST with a CSRF token, so no
// other site can sign people out behind their back.
func (s *Security) Logout(c echo.Context) error {
	secure := s.isHTTPS(c)
	http.SetCookie(c.Response(), &http.Cookie{
		Name: cookieName(authCookie, secure), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
	return web.Redirect(c, SignedOutPath)
}

// SignedOut confirms the sign-out.
func (s *Security) SignedOut(c echo.Context) error {
	return s.page(c, http.StatusOK, s.signedOutPage(c))
}

// safeNext keeps the post-login redirect on this site: a path, never
// "//evil.example" or "/\evil.example", which browsers treat as another host.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(u.Path, authPrefix) {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	return next
}

// loginURLFor is where an unauthenticated request is sent to sign in,
// returning to next afterwards.
func loginURLFor(next string) string {
	next = safeNext(next)
	if next == "/" {
		return LoginPath
	}
	return LoginPath + "?next=" + url.QueryEscape(next)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func equalConstantTime(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// printable keeps letters, digits and a few separators, for echoing an error
// code that arrived in a URL.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			return r
		}
		return -1
	}, s)
}

// peerString is the direct peer's address for log lines.
func peerString(r *http.Request) string {
	if a, ok := peerAddr(r); ok {
		return a.String()
	}
	return ""
}
