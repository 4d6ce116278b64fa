package identity

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

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
	var err error
	switch cfg.Mode {
	case AuthModeNone:
		if !loopbackListen(listenAddr) {
			return fmt.Errorf("AUTH_MODE=none lets anyone who can connect act as admin, so it only works on a loopback address (127.0.0.1:8080, [::1]:8080, localhost:8080), not %q; "+
				"set AUTH_MODE to proxy, jwt or oidc to listen elsewhere", listenAddr)
		}
		return nil
	case AuthModeProxy:
		err = cfg.validateProxy()
	case AuthModeJWT:
		err = cfg.validateJWT()
	case AuthModeOIDC:
		err = cfg.validateOIDC()
	default:
		return fmt.Errorf("AUTH_MODE %q: want none, proxy, jwt or oidc", cfg.Mode)
	}
	if err != nil {
		return err
	}
	return cfg.Roles.Validate()
}

func (cfg AuthConfig) validateProxy() error {
	if len(cfg.TrustedProxies) == 0 {
		return errors.New("AUTH_MODE=proxy needs AUTH_PROXY_TRUSTED: the addresses or CIDRs of the proxy that sets the identity headers")
	}
	if cfg.Proxy.UserHeader == "" && cfg.Proxy.EmailHeader == "" {
		return errors.New("AUTH_MODE=proxy needs a user or an email header")
	}
	return nil
}

func (cfg AuthConfig) validateJWT() error {
	missing := missingSettings(map[string]string{"AUTH_JWT_HEADER": cfg.JWT.Header, "AUTH_JWT_JWKS_URL": cfg.JWT.JWKSURL, "AUTH_JWT_ISSUER": cfg.JWT.Issuer, "AUTH_JWT_AUDIENCE": cfg.JWT.Audience})
	if len(missing) > 0 {
		return fmt.Errorf("AUTH_MODE=jwt needs %s (header e.g. Cf-Access-Jwt-Assertion, X-Goog-IAP-JWT-Assertion or X-Pomerium-Jwt-Assertion)", strings.Join(missing, ", "))
	}
	if err := checkHTTPURL("AUTH_JWT_JWKS_URL", cfg.JWT.JWKSURL); err != nil {
		return err
	}
	if cfg.JWT.JWKSMinRefresh < time.Second || cfg.JWT.JWKSMinRefresh > maxJWKSMinRefresh {
		return fmt.Errorf("AUTH_JWT_JWKS_MIN_REFRESH %s: must be between 1s and %s", cfg.JWT.JWKSMinRefresh, maxJWKSMinRefresh)
	}
	for _, alg := range cfg.JWT.Algorithms {
		if strings.EqualFold(alg, "none") || strings.HasPrefix(strings.ToUpper(alg), "HS") {
			return fmt.Errorf("AUTH_JWT_ALGORITHMS: %s is not allowed; use the proxy's asymmetric algorithm (RS256, ES256, ...)", alg)
		}
	}
	return nil
}

func (cfg AuthConfig) validateOIDC() error {
	missing := missingSettings(map[string]string{"AUTH_OIDC_ISSUER": cfg.OIDC.Issuer, "AUTH_OIDC_CLIENT_ID": cfg.OIDC.ClientID, "AUTH_OIDC_CLIENT_SECRET": cfg.OIDC.ClientSecret.Reveal(), "AUTH_OIDC_REDIRECT_URL": cfg.OIDC.RedirectURL})
	if len(missing) > 0 {
		return fmt.Errorf("AUTH_MODE=oidc needs %s", strings.Join(missing, ", "))
	}
	if err := checkHTTPURL("AUTH_OIDC_ISSUER", cfg.OIDC.Issuer); err != nil {
		return err
	}
	if err := checkHTTPURL("AUTH_OIDC_REDIRECT_URL", cfg.OIDC.RedirectURL); err != nil {
		return err
	}
	if !strings.HasSuffix(strings.TrimRight(cfg.OIDC.RedirectURL, "/"), CallbackPath) {
		return fmt.Errorf("AUTH_OIDC_REDIRECT_URL %q: must end in %s", cfg.OIDC.RedirectURL, CallbackPath)
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
	return nil
}

// missingSettings names the empty settings, sorted.
func missingSettings(settings map[string]string) []string {
	var missing []string
	for k, v := range settings {
		if v == "" {
			missing = append(missing, k)
		}
	}
	return sortStrings(missing)
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
