package identity

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/internal/secret"
)

// AuthMode selects where the dashboard learns who is calling (AUTH_MODE).
type AuthMode string

// The identity modes. None exists for a developer's laptop: it is refused
// unless the dashboard listens on loopback only.
const (
	// AuthModeNone trusts everyone who can connect, as an anonymous admin.
	AuthModeNone AuthMode = "none"
	// AuthModeProxy reads identity headers set by oauth2-proxy, nginx
	// auth_request or Traefik forward auth, from trusted peers only.
	AuthModeProxy AuthMode = "proxy"
	// AuthModeJWT verifies a signed assertion header from Cloudflare Access,
	// Google IAP or Pomerium.
	AuthModeJWT AuthMode = "jwt"
	// AuthModeOIDC signs people in itself with OpenID Connect.
	AuthModeOIDC AuthMode = "oidc"
)

// ProxyAuthConfig names the one set of headers the authenticating proxy
// sets (AUTH_PROXY_HEADERS, each name adjustable). Exactly these are read;
// a request carrying another set's identity headers is refused, since the
// proxy passes on whatever headers the browser adds.
type ProxyAuthConfig struct {
	UserHeader   string
	EmailHeader  string
	GroupsHeader string
	// Ignored are headers the same proxy sets beside the identity, such as
	// oauth2-proxy's X-Forwarded-Preferred-Username: never read, never
	// trusted, and not refused as another set's identity headers.
	Ignored []string
}

// JWTAuthConfig verifies an identity assertion signed by an access proxy.
type JWTAuthConfig struct {
	// Header carries the token, e.g. Cf-Access-Jwt-Assertion.
	Header string
	// JWKSURL serves the proxy's public keys; they are cached and fetched again
	// when a token names a key id not seen before.
	JWKSURL string
	// JWKSMinRefresh is the least time between two fetches of JWKSURL, so
	// tokens with made-up key ids cannot make the dashboard hammer it.
	JWKSMinRefresh time.Duration
	Issuer         string
	Audience       string
	// Algorithms allowed to sign; anything else is rejected before verifying.
	Algorithms []string
	// EmailClaim and GroupsClaim name the claims to read; a dot walks into
	// nested objects ("custom.groups").
	EmailClaim  string
	GroupsClaim string
}

// OIDCAuthConfig is the dashboard's own OpenID Connect client registration.
type OIDCAuthConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret secret.Value
	// RedirectURL is the public URL of /auth/callback, as registered with the
	// provider.
	RedirectURL string
	Scopes      []string
	EmailClaim  string
	GroupsClaim string
}

// AuthConfig is everything the security middleware is configured with, read
// from the environment by ParseAuthEnv and checked by Validate.
type AuthConfig struct {
	Mode AuthMode
	// TrustedProxies are the direct peers whose identity headers (proxy mode)
	// and X-Forwarded-Proto (every mode) are believed.
	TrustedProxies []netip.Prefix
	Proxy          ProxyAuthConfig
	JWT            JWTAuthConfig
	OIDC           OIDCAuthConfig
	Roles          RolePolicy
	// Contact tells people without access who grants it, e.g. "#platform-team".
	Contact string
	// AllowedHosts are the Host names the dashboard answers to (ALLOWED_HOSTS,
	// lower-cased, optionally with a port); empty means any in modes other
	// than none, which answers loopback names only.
	AllowedHosts []string
	// LogoutURL is where the sign-out link points in proxy and jwt modes, e.g.
	// oauth2-proxy's /oauth2/sign_out; OIDC mode has its own /auth/logout.
	LogoutURL string

	// SessionKeys seal the OIDC session cookie: the decoded SESSION_KEYS,
	// which the caller reads along with the rest of its cookie settings.
	SessionKeys SessionKeys
	// SessionMaxAge bounds a sign-in (AUTH_SESSION_MAX_AGE).
	SessionMaxAge time.Duration
	// CookieSecure forces the Secure flag and HSTS even when the dashboard
	// cannot tell that browsers reach it over HTTPS (COOKIE_SECURE, read by
	// the caller).
	CookieSecure bool
	// MetricsToken, when set, is the bearer token /metrics requires from any
	// address; when empty /metrics answers loopback peers only (METRICS_TOKEN).
	MetricsToken secret.Value
}

// Defaults for settings left unset.
const (
	DefaultSessionMaxAge = 12 * time.Hour
	maxSessionMaxAge     = 7 * 24 * time.Hour
	// DefaultJWKSMinRefresh is the least time between two fetches of the
	// access proxy's key set (AUTH_JWT_JWKS_MIN_REFRESH).
	DefaultJWKSMinRefresh = 30 * time.Second
	maxJWKSMinRefresh     = time.Hour
)

// ParseAuthEnv reads AUTH_*, ALLOWED_HOSTS and METRICS_TOKEN through getenv (os.Getenv in
// main, a map in tests). SessionKeys and CookieSecure are left for the caller,
// which reads SESSION_KEYS and COOKIE_SECURE for all cookies. It only parses;
// Validate decides whether the result is usable.
func ParseAuthEnv(getenv func(string) string) (AuthConfig, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	list := func(k string) []string { return splitList(env(k)) }
	cfg := AuthConfig{
		Mode:    AuthMode(strings.ToLower(env("AUTH_MODE"))),
		Contact: env("AUTH_CONTACT"),
		JWT: JWTAuthConfig{
			Header:         env("AUTH_JWT_HEADER"),
			JWKSURL:        env("AUTH_JWT_JWKS_URL"),
			Issuer:         env("AUTH_JWT_ISSUER"),
			Audience:       env("AUTH_JWT_AUDIENCE"),
			Algorithms:     orDefault(list("AUTH_JWT_ALGORITHMS"), []string{"RS256", "ES256"}),
			EmailClaim:     cmp.Or(env("AUTH_JWT_EMAIL_CLAIM"), "email"),
			GroupsClaim:    cmp.Or(env("AUTH_JWT_GROUPS_CLAIM"), "groups"),
			JWKSMinRefresh: DefaultJWKSMinRefresh,
		},
		OIDC: OIDCAuthConfig{
			Issuer:       env("AUTH_OIDC_ISSUER"),
			ClientID:     env("AUTH_OIDC_CLIENT_ID"),
			ClientSecret: secret.Value(env("AUTH_OIDC_CLIENT_SECRET")),
			RedirectURL:  env("AUTH_OIDC_REDIRECT_URL"),
			Scopes:       orDefault(splitFields(env("AUTH_OIDC_SCOPES")), []string{"openid", "email", "profile"}),
			EmailClaim:   cmp.Or(env("AUTH_OIDC_EMAIL_CLAIM"), "email"),
			GroupsClaim:  cmp.Or(env("AUTH_OIDC_GROUPS_CLAIM"), "groups"),
		},
		Roles: RolePolicy{
			Admins:  Grants{Emails: list("AUTH_ADMIN_EMAILS"), Domains: list("AUTH_ADMIN_DOMAINS"), Groups: list("AUTH_ADMIN_GROUPS")},
			Viewers: Grants{Emails: list("AUTH_VIEWER_EMAILS"), Domains: list("AUTH_VIEWER_DOMAINS"), Groups: list("AUTH_VIEWER_GROUPS")},
		},
		LogoutURL:     env("AUTH_LOGOUT_URL"),
		SessionMaxAge: DefaultSessionMaxAge,
		MetricsToken:  secret.Value(env("METRICS_TOKEN")),
	}
	if cfg.Mode == "" {
		cfg.Mode = AuthModeNone
	}
	var err error
	if cfg.Proxy, err = parseProxyHeaders(env); err != nil {
		return AuthConfig{}, err
	}
	if cfg.TrustedProxies, err = ParseTrustedProxies(env("AUTH_PROXY_TRUSTED")); err != nil {
		return AuthConfig{}, err
	}
	if cfg.AllowedHosts, err = ParseAllowedHosts(env("ALLOWED_HOSTS")); err != nil {
		return AuthConfig{}, err
	}
	if v := env("AUTH_JWT_JWKS_MIN_REFRESH"); v != "" {
		if cfg.JWT.JWKSMinRefresh, err = time.ParseDuration(v); err != nil {
			return AuthConfig{}, fmt.Errorf("AUTH_JWT_JWKS_MIN_REFRESH %q: want a duration such as 30s", v)
		}
	}
	if v := env("AUTH_SESSION_MAX_AGE"); v != "" {
		if cfg.SessionMaxAge, err = time.ParseDuration(v); err != nil {
			return AuthConfig{}, fmt.Errorf("AUTH_SESSION_MAX_AGE %q: want a duration such as 12h", v)
		}
	}
	return cfg, nil
}

// ParseTrustedProxies reads AUTH_PROXY_TRUSTED: comma-separated addresses and
// CIDRs ("10.0.0.0/8, 127.0.0.1, ::1").
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(s) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("AUTH_PROXY_TRUSTED: %q is neither an IP address nor a CIDR", item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// splitList splits a comma-separated setting, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// splitFields splits on commas and spaces, as scope lists come either way.
func splitFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func orDefault(v, def []string) []string {
	if len(v) == 0 {
		return append([]string(nil), def...)
	}
	return v
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
