package identity

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// ProxyHeaderSets are the identity header sets proxies send, by the name
// AUTH_PROXY_HEADERS picks them with: the headers oauth2-proxy sets on the
// upstream request with --pass-user-headers (x-forwarded, the default), and
// the ones an auth_request-style proxy (nginx auth_request, Traefik forward
// auth) sets on the upstream request from its auth server's answer, such as
// oauth2-proxy's /oauth2/auth with --set-xauthrequest (x-auth-request).
//
// Each set also names the headers the same proxy sets beside the identity:
// oauth2-proxy adds X-Forwarded-Preferred-Username whenever the provider
// sends preferred_username. Those are its own, so they are neither read nor
// taken for another set's identity.
var ProxyHeaderSets = map[string]ProxyAuthConfig{
	"x-forwarded": {UserHeader: "X-Forwarded-User", EmailHeader: "X-Forwarded-Email", GroupsHeader: "X-Forwarded-Groups",
		Ignored: []string{"X-Forwarded-Preferred-Username"}},
	"x-auth-request": {UserHeader: "X-Auth-Request-User", EmailHeader: "X-Auth-Request-Email", GroupsHeader: "X-Auth-Request-Groups",
		Ignored: []string{"X-Auth-Request-Preferred-Username"}},
}

// DefaultProxyHeaders is the header set read unless AUTH_PROXY_HEADERS says
// otherwise.
const DefaultProxyHeaders = "x-forwarded"

// knownIdentityHeaders are headers that name a person in some proxy's
// convention. Whichever set is configured, the others arriving at the
// dashboard can only have been added by the client, through a proxy that
// passes unknown headers on.
var knownIdentityHeaders = []string{
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
	"X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups", "X-Auth-Request-Preferred-Username",
	"Remote-User", "Remote-Email", "Remote-Groups", "Remote-Name",
}

// parseProxyHeaders reads AUTH_PROXY_HEADERS and the single-name overrides
// AUTH_PROXY_USER_HEADER, AUTH_PROXY_EMAIL_HEADER and AUTH_PROXY_GROUPS_HEADER.
func parseProxyHeaders(env func(string) string) (ProxyAuthConfig, error) {
	setName := strings.ToLower(cmp.Or(env("AUTH_PROXY_HEADERS"), DefaultProxyHeaders))
	set, ok := ProxyHeaderSets[setName]
	if !ok {
		return ProxyAuthConfig{}, fmt.Errorf("AUTH_PROXY_HEADERS %q: want x-forwarded (oauth2-proxy's upstream headers) or x-auth-request (nginx auth_request, Traefik forward auth)", setName)
	}
	for _, o := range []struct {
		name string
		dst  *string
	}{
		{"AUTH_PROXY_USER_HEADER", &set.UserHeader},
		{"AUTH_PROXY_EMAIL_HEADER", &set.EmailHeader},
		{"AUTH_PROXY_GROUPS_HEADER", &set.GroupsHeader},
	} {
		v := env(o.name)
		if v == "" {
			continue
		}
		if !httpguts.ValidHeaderFieldName(v) {
			return ProxyAuthConfig{}, fmt.Errorf("%s %q: want one header name; the dashboard reads exactly one header for each part of the identity", o.name, v)
		}
		*o.dst = http.CanonicalHeaderKey(v)
	}
	return set, nil
}

// names are the configured header names.
func (p ProxyAuthConfig) names() []string {
	var out []string
	for _, n := range []string{p.UserHeader, p.EmailHeader, p.GroupsHeader} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// foreignHeader returns an identity header the request carries that the
// configured proxy does not set, or "".
func (p ProxyAuthConfig) foreignHeader(h http.Header) string {
	mine := append(p.names(), p.Ignored...)
	for _, n := range knownIdentityHeaders {
		if _, present := h[n]; present && !slices.Contains(mine, n) {
			return n
		}
	}
	return ""
}

// claimsIdentity reports whether the request carries any identity header,
// configured or not.
func (p ProxyAuthConfig) claimsIdentity(h http.Header) bool {
	for _, n := range append(p.names(), knownIdentityHeaders...) {
		if _, present := h[n]; present {
			return true
		}
	}
	return false
}

// single returns a header's one value. More than one line of the same
// header means two sources disagree about who is asking, so it is refused.
func single(h http.Header, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	switch vs := h.Values(name); len(vs) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(vs[0]), nil
	default:
		return "", fmt.Errorf("%s sent %d times", name, len(vs))
	}
}
