package handlers

import (
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
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

// Secret is a configuration value that must never reach a log line, an error
// or a %v of the struct holding it. Reveal returns the value for the one place
// that needs it.
type Secret string

// redacted is what a Secret prints as.
const redacted = "[redacted]"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String hides the value from fmt.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue hides the value from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText hides the value from encoders, JSON included.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// SessionKeys are the secrets that sign and encrypt cookies, newest first. The
// first key seals new cookies; every key still opens old ones, so a key can be
// rotated by putting a new one in front and dropping the old one a session
// lifetime later.
type SessionKeys [][]byte

// String hides the keys from fmt.
func (k SessionKeys) String() string { return fmt.Sprintf("[%d session keys redacted]", len(k)) }

// GoString hides the keys from %#v.
func (k SessionKeys) GoString() string { return k.String() }

// LogValue hides the keys from slog.
func (k SessionKeys) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MinSessionKeyBytes is the least key material a session key may hold: the
// signing and encryption keys derived from it are only as strong as it is.
const MinSessionKeyBytes = 32

// ParseSessionKeys reads SESSION_KEYS: comma-separated keys, newest first, each
// written as hex or base64 (standard or URL alphabet, padded or not) and
// decoding to at least MinSessionKeyBytes. Every bad entry is reported, by
// position only, since the value is a secret.
func ParseSessionKeys(raw string) (SessionKeys, error) {
	var (
		keys SessionKeys
		errs []error
	)
	for i, entry := range strings.Split(raw, ",") {
		key, err := decodeSessionKey(strings.TrimSpace(entry))
		if err != nil {
			errs = append(errs, fmt.Errorf("SESSION_KEYS entry %d: %w", i+1, err))
			continue
		}
		keys = append(keys, key)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return keys, nil
}

// decodeSessionKey decodes one key. The first encoding that reads the text
// decides; a key too short under it is refused rather than tried as another.
func decodeSessionKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty key")
	}
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	} {
		b, err := dec(s)
		if err != nil {
			continue
		}
		if len(b) < MinSessionKeyBytes {
			return nil, fmt.Errorf("decodes to %d bytes; need at least %d (try: openssl rand -hex 32)", len(b), MinSessionKeyBytes)
		}
		return b, nil
	}
	return nil, errors.New("is neither hex nor base64 (try: openssl rand -hex 32)")
}

// ProxyAuthConfig names the headers an authenticating proxy sets. Each list is
// tried in order; the defaults cover oauth2-proxy's two header styles.
type ProxyAuthConfig struct {
	UserHeaders   []string
	EmailHeaders  []string
	GroupsHeaders []string
}

// JWTAuthConfig verifies an identity assertion signed by an access proxy.
type JWTAuthConfig struct {
	// Header carries the token, e.g. Cf-Access-Jwt-Assertion.
	Header string
	// JWKSURL serves the proxy's public keys; they are cached and fetched again
	// when a token names a key id not seen before.
	JWKSURL  string
	Issuer   string
	Audience string
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
	ClientSecret Secret
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
	MetricsToken Secret
}

// Defaults for settings left unset.
const (
	DefaultSessionMaxAge = 12 * time.Hour
	maxSessionMaxAge     = 7 * 24 * time.Hour
)

// Default header names, matching oauth2-proxy's --pass-user-headers
// (X-Forwarded-*) and --set-xauthrequest (X-Auth-Request-*), which nginx
// auth_request and Traefik forward auth copy through.
var (
	DefaultProxyUserHeaders   = []string{"X-Forwarded-User", "X-Auth-Request-User"}
	DefaultProxyEmailHeaders  = []string{"X-Forwarded-Email", "X-Auth-Request-Email"}
	DefaultProxyGroupsHeaders = []string{"X-Forwarded-Groups", "X-Auth-Request-Groups"}
)

// ParseAuthEnv reads AUTH_* and METRICS_TOKEN through getenv (os.Getenv in
// main, a map in tests). SessionKeys and CookieSecure are left for the caller,
// which reads SESSION_KEYS and COOKIE_SECURE for all cookies. It only parses;
// Validate decides whether the result is usable.
func ParseAuthEnv(getenv func(string) string) (AuthConfig, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	list := func(k string) []string { return splitList(env(k)) }
	cfg := AuthConfig{
		Mode:    AuthMode(strings.ToLower(env("AUTH_MODE"))),
		Contact: env("AUTH_CONTACT"),
		Proxy: ProxyAuthConfig{
			UserHeaders:   orDefault(list("AUTH_PROXY_USER_HEADER"), DefaultProxyUserHeaders),
			EmailHeaders:  orDefault(list("AUTH_PROXY_EMAIL_HEADER"), DefaultProxyEmailHeaders),
			GroupsHeaders: orDefault(list("AUTH_PROXY_GROUPS_HEADER"), DefaultProxyGroupsHeaders),
		},
		JWT: JWTAuthConfig{
			Header:      env("AUTH_JWT_HEADER"),
			JWKSURL:     env("AUTH_JWT_JWKS_URL"),
			Issuer:      env("AUTH_JWT_ISSUER"),
			Audience:    env("AUTH_JWT_AUDIENCE"),
			Algorithms:  orDefault(list("AUTH_JWT_ALGORITHMS"), []string{"RS256", "ES256"}),
			EmailClaim:  cmp.Or(env("AUTH_JWT_EMAIL_CLAIM"), "email"),
			GroupsClaim: cmp.Or(env("AUTH_JWT_GROUPS_CLAIM"), "groups"),
		},
		OIDC: OIDCAuthConfig{
			Issuer:       env("AUTH_OIDC_ISSUER"),
			ClientID:     env("AUTH_OIDC_CLIENT_ID"),
			ClientSecret: Secret(env("AUTH_OIDC_CLIENT_SECRET")),
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
		MetricsToken:  Secret(env("METRICS_TOKEN")),
	}
	if cfg.Mode == "" {
		cfg.Mode = AuthModeNone
	}
	var err error
	if cfg.TrustedProxies, err = ParseTrustedProxies(env("AUTH_PROXY_TRUSTED")); err != nil {
		return AuthConfig{}, err
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

// Validate checks that the configuration is complete for its mode and safe for
// listenAddr. AUTH_MODE=none is refused unless every address the server binds
// is loopback, because it makes anyone who can connect an admin.
func (cfg AuthConfig) Validate(listenAddr string) error {
	for _, p := range cfg.TrustedProxies {
		if p.Bits() == 0 {
			return fmt.Errorf("AUTH_PROXY_TRUSTED: %s trusts every address; list the proxy's addresses", p)
		}
	}
	if cfg.SessionMaxAge <= 0 || cfg.SessionMaxAge > maxSessionMaxAge {
		return fmt.Errorf("AUTH_SESSION_MAX_AGE %s: must be between 1s and %s", cfg.SessionMaxAge, maxSessionMaxAge)
	}
	if cfg.LogoutURL != "" {
		if err := checkLogoutURL(cfg.LogoutURL); err != nil {
			return err
		}
	}
	switch cfg.Mode {
	case AuthModeNone:
		if !loopbackListen(listenAddr) {
			return fmt.Errorf("AUTH_MODE=none lets anyone who can connect act as admin, so it only works on a loopback address (127.0.0.1:8080, [::1]:8080, localhost:8080), not %q; "+
				"set AUTH_MODE to proxy, jwt or oidc to listen elsewhere", listenAddr)
		}
		return nil
	case AuthModeProxy:
		if len(cfg.TrustedProxies) == 0 {
			return errors.New("AUTH_MODE=proxy needs AUTH_PROXY_TRUSTED: the addresses or CIDRs of the proxy that sets the identity headers")
		}
		if len(cfg.Proxy.UserHeaders)+len(cfg.Proxy.EmailHeaders) == 0 {
			return errors.New("AUTH_MODE=proxy needs at least one user or email header")
		}
	case AuthModeJWT:
		var missing []string
		for k, v := range map[string]string{"AUTH_JWT_HEADER": cfg.JWT.Header, "AUTH_JWT_JWKS_URL": cfg.JWT.JWKSURL, "AUTH_JWT_ISSUER": cfg.JWT.Issuer, "AUTH_JWT_AUDIENCE": cfg.JWT.Audience} {
			if v == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("AUTH_MODE=jwt needs %s (header e.g. Cf-Access-Jwt-Assertion, X-Goog-IAP-JWT-Assertion or X-Pomerium-Jwt-Assertion)", strings.Join(sortStrings(missing), ", "))
		}
		if err := checkHTTPURL("AUTH_JWT_JWKS_URL", cfg.JWT.JWKSURL); err != nil {
			return err
		}
		for _, alg := range cfg.JWT.Algorithms {
			if strings.EqualFold(alg, "none") || strings.HasPrefix(strings.ToUpper(alg), "HS") {
				return fmt.Errorf("AUTH_JWT_ALGORITHMS: %s is not allowed; use the proxy's asymmetric algorithm (RS256, ES256, ...)", alg)
			}
		}
	case AuthModeOIDC:
		var missing []string
		for k, v := range map[string]string{"AUTH_OIDC_ISSUER": cfg.OIDC.Issuer, "AUTH_OIDC_CLIENT_ID": cfg.OIDC.ClientID, "AUTH_OIDC_CLIENT_SECRET": cfg.OIDC.ClientSecret.Reveal(), "AUTH_OIDC_REDIRECT_URL": cfg.OIDC.RedirectURL} {
			if v == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("AUTH_MODE=oidc needs %s", strings.Join(sortStrings(missing), ", "))
		}
		if err := checkHTTPURL("AUTH_OIDC_ISSUER", cfg.OIDC.Issuer); err != nil {
			return err
		}
		if err := checkHTTPURL("AUTH_OIDC_REDIRECT_URL", cfg.OIDC.RedirectURL); err != nil {
			return err
		}
		if !strings.HasSuffix(strings.TrimRight(cfg.OIDC.RedirectURL, "/"), authPrefix+"callback") {
			return fmt.Errorf("AUTH_OIDC_REDIRECT_URL %q: must end in %scallback", cfg.OIDC.RedirectURL, authPrefix)
		}
		if !containsFold(cfg.OIDC.Scopes, "openid") {
			return errors.New("AUTH_OIDC_SCOPES must include openid")
		}
		if len(cfg.SessionKeys) == 0 {
			return errors.New("AUTH_MODE=oidc needs SESSION_KEYS to seal the sign-in cookie (comma-separated, newest first; e.g. openssl rand -hex 32)")
		}
		for i, k := range cfg.SessionKeys {
			if len(k) < MinSessionKeyBytes {
				return fmt.Errorf("SESSION_KEYS entry %d: %d bytes; need at least %d (try: openssl rand -hex 32)", i+1, len(k), MinSessionKeyBytes)
			}
		}
	default:
		return fmt.Errorf("AUTH_MODE %q: want none, proxy, jwt or oidc", cfg.Mode)
	}
	return cfg.Roles.Validate()
}

// loopbackListen reports whether a listen address binds loopback only. An empty
// host (":8080") binds every interface, so it is not loopback.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

func checkHTTPURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s %q: want an http(s) URL", name, raw)
	}
	return nil
}

// checkLogoutURL accepts an absolute http(s) URL or a path on this host, since
// the sign-out link is rendered into every page.
func checkLogoutURL(raw string) error {
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") {
		return nil
	}
	return checkHTTPURL("AUTH_LOGOUT_URL", raw)
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
