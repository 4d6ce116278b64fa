package identity

import (
	"cmp"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

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
	if !p.trusted.contains(r) {
		if p.cfg.claimsIdentity(r.Header) {
			// Someone reached the dashboard without going through the proxy and
			// claims to be somebody: worth a warning, never an identity.
			claimed := cmp.Or(r.Header.Get(p.cfg.EmailHeader), r.Header.Get(p.cfg.UserHeader))
			return Identity{}, &authFailure{reason: "identity header from untrusted peer", claimed: cut(claimed, 120), warn: true}
		}
		return Identity{}, &authFailure{reason: "request did not come through the trusted proxy"}
	}
	if h := p.cfg.foreignHeader(r.Header); h != "" {
		// The proxy sets its own headers and passes the rest on, so this one
		// came from the client.
		return Identity{}, malformed("request carries "+h+", which is not the configured proxy header set (AUTH_PROXY_HEADERS)", r.Header.Get(h))
	}
	var vals [3]string
	for i, name := range []string{p.cfg.UserHeader, p.cfg.EmailHeader, p.cfg.GroupsHeader} {
		v, err := single(r.Header, name)
		if err != nil {
			return Identity{}, malformed(err.Error(), "")
		}
		vals[i] = v
	}
	user, email, groups := vals[0], vals[1], vals[2]
	if user == "" && email == "" {
		return Identity{}, &authFailure{reason: "trusted proxy sent no identity header"}
	}
	if email == "" && strings.Contains(user, "@") {
		email = user
	}
	if user == "" {
		user = email
	}
	for _, v := range []string{user, email} {
		if strings.Contains(v, ",") {
			// One header, two people: never split into identities.
			return Identity{}, malformed("identity header names more than one person", v)
		}
	}
	id := Identity{User: user, Email: email, Groups: splitList(groups)}
	if err := id.check(); err != nil {
		return Identity{}, malformed("identity headers: "+err.Error(), "")
	}
	return id, nil
}

// malformed is a failure for an identity the dashboard refuses to read:
// conflicting, repeated or malformed identity headers or claims.
func malformed(reason, claimed string) *authFailure {
	return &authFailure{reason: reason, claimed: cut(claimed, 120), warn: true, malformed: true}
}

// cut truncates s to at most n bytes without splitting a character, for log
// lines and messages only: identities are refused when too long, never cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
