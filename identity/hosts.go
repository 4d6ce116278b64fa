package identity

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/views"
)

// ParseAllowedHosts reads ALLOWED_HOSTS: comma-separated host names, each
// optionally with a port ("dash.example.com, dash.example.com:8443"). A name
// without a port matches any port. Entries are returned lower-cased.
func ParseAllowedHosts(s string) ([]string, error) {
	var out []string
	for _, item := range splitList(s) {
		host, port, err := splitHost(item)
		if err != nil || !validHostName(host) {
			return nil, fmt.Errorf("ALLOWED_HOSTS: %q is not a host name or host:port (no scheme, path or wildcard)", item)
		}
		out = append(out, joinHost(host, port))
	}
	return out, nil
}

// splitHost splits "host", "host:port", "[v6]" or "[v6]:port", without a
// trailing dot and with ASCII letters lower-cased: Unicode lower-casing would
// turn the Kelvin sign into k and let a look-alike name through.
func splitHost(s string) (host, port string, err error) {
	host = s
	if h, p, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("bad port %q", p)
		}
		host, port = h, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	return strings.TrimSuffix(asciiLower(host), "."), port, nil
}

// joinHost is splitHost's inverse, in the form entries are compared in.
func joinHost(host, port string) string {
	if port == "" {
		return host
	}
	return net.JoinHostPort(host, port)
}

// validHostName accepts DNS names and IP addresses.
func validHostName(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// loopbackHost reports whether a Host names this machine's loopback
// interface: localhost, 127.0.0.0/8 or ::1, written literally.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// hostAllowed applies the Host rule: AUTH_MODE=none answers loopback names
// and ALLOWED_HOSTS; other modes answer ALLOWED_HOSTS, or any name when it
// is empty.
func (s *Security) hostAllowed(raw string) bool {
	host, port, err := splitHost(raw)
	if err != nil || host == "" {
		return false
	}
	if s.cfg.Mode == AuthModeNone && loopbackHost(host) {
		return true
	}
	if len(s.cfg.AllowedHosts) == 0 {
		return s.cfg.Mode != AuthModeNone
	}
	for _, a := range s.cfg.AllowedHosts {
		if a == host || (port != "" && a == joinHost(host, port)) {
			return true
		}
	}
	return false
}

// checkHost refuses a request addressed to a Host name the dashboard does
// not answer to, before any handler, cookie or identity. Without it, a web
// page whose name an attacker points at 127.0.0.1 (DNS rebinding) could
// read and drive a dashboard in AUTH_MODE=none from the victim's browser,
// the Host header being the only sign. Probes answer any name, since
// orchestrators call them by IP address.
func (s *Security) checkHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r, ok := s.rule(c); ok && r.Access == Probe {
			return next(c)
		}
		r := c.Request()
		if s.hostAllowed(r.Host) {
			return next(c)
		}
		s.logger.Warn("request for another host refused", "host", cut(r.Host, 200), "peer", peerString(r),
			"method", r.Method, "path", cut(r.URL.Path, 200), "request_id", requestID(c))
		msg := "This dashboard does not answer to the name \u201c" + cut(r.Host, 100) + "\u201d. "
		if s.cfg.Mode == AuthModeNone {
			msg += "With AUTH_MODE=none it answers only on localhost, 127.0.0.1 and [::1] (and names in ALLOWED_HOSTS), so that other web sites cannot reach it through your browser. Open it as http://127.0.0.1 or http://localhost."
		} else {
			msg += "It answers only to the names in ALLOWED_HOSTS; open it through its usual address, or ask whoever runs it to add this name."
		}
		return s.problem(c, http.StatusMisdirectedRequest, views.AuthProblem{
			Title: "Wrong address for this dashboard", Message: msg, TestID: "wrong-host",
		})
	}
}
