package identity

import (
	"cmp"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// maxIdentityValue bounds what is read from an identity header or claim, so a
// misbehaving proxy cannot blow up cookies, pages or log lines.
const maxIdentityValue = 320

// maxGroups bounds how many groups one identity keeps.
const maxGroups = 256

// trustedPeers holds AUTH_PROXY_TRUSTED. Only the TCP peer counts: a client
// can write any X-Forwarded-For it likes, but it cannot choose its own address.
type trustedPeers []netip.Prefix

// peerAddr returns the address of the direct peer (RemoteAddr).
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		// RemoteAddr without a port happens with some test transports.
		a, err := netip.ParseAddr(r.RemoteAddr)
		return a.Unmap(), err == nil
	}
	return ap.Addr().Unmap(), true
}

func (t trustedPeers) contains(r *http.Request) bool {
	a, ok := peerAddr(r)
	if !ok {
		return false
	}
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// proxyAuth reads the identity that oauth2-proxy, nginx auth_request or
// Traefik forward auth put in request headers.
type proxyAuth struct {
	cfg     ProxyAuthConfig
	trusted trustedPeers
}

func (p *proxyAuth) authenticate(c echo.Context) (Identity, *authFailure) {
	r := c.Request()
	user := firstHeader(r.Header, p.cfg.UserHeaders)
	email := firstHeader(r.Header, p.cfg.EmailHeaders)
	if !p.trusted.contains(r) {
		if user != "" || email != "" || firstHeader(r.Header, p.cfg.GroupsHeaders) != "" {
			// Someone reached the dashboard without going through the proxy and
			// claims to be somebody: worth a warning, never an identity.
			return Identity{}, &authFailure{reason: "identity header from untrusted peer", claimed: cut(cmp.Or(email, user), 120), warn: true}
		}
		return Identity{}, &authFailure{reason: "request did not come through the trusted proxy"}
	}
	if user == "" && email == "" {
		return Identity{}, &authFailure{reason: "trusted proxy sent no identity header"}
	}
	if email == "" && strings.Contains(user, "@") {
		email = user
	}
	if user == "" {
		user = email
	}
	return Identity{
		User:   cut(user, maxIdentityValue),
		Email:  cut(email, maxIdentityValue),
		Groups: splitGroups(firstHeader(r.Header, p.cfg.GroupsHeaders)),
	}, nil
}

// firstHeader returns the first non-empty header among names.
func firstHeader(h http.Header, names []string) string {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// splitGroups reads a comma-separated groups header, as oauth2-proxy sends it.
func splitGroups(s string) []string {
	var out []string
	for _, g := range splitList(s) {
		if len(out) == maxGroups {
			break
		}
		out = append(out, cut(g, maxIdentityValue))
	}
	return out
}

// cut truncates s to at most n bytes without splitting a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
