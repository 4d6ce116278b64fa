package sandbox

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// trustedDomainJSON is the spec's NeonAuthRedirectURIWhitelistDomain.
type trustedDomainJSON struct {
	Domain       string `json:"domain"`
	AuthProvider string `json:"auth_provider"`
}

type (
	addDomainRequest struct {
		Domain       *string `json:"domain"`
		AuthProvider *string `json:"auth_provider"`
	}
	deleteDomainsRequest struct {
		AuthProvider *string `json:"auth_provider"`
		Domains      *[]struct {
			Domain *string `json:"domain"`
		} `json:"domains"`
	}
	allowLocalhostJSON struct {
		AllowLocalhost *bool `json:"allow_localhost"`
	}
)

// hostPattern accepts DNS names, IPv4 addresses and a leading "*." wildcard,
// which Better Auth's trusted origins allow.
var hostPattern = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// normalizeDomain checks a trusted domain, an origin such as
// "https://app.example.com:8443", and returns it lower-cased without a
// trailing slash, so that one domain cannot be listed twice in two spellings.
func normalizeDomain(raw string) (string, error) {
	bad := func(why string) (string, error) {
		return "", badRequest("domain %q is not valid: %s", raw, why)
	}
	// The wildcard is not a valid URL host; parse with a stand-in.
	u, err := url.Parse(strings.Replace(raw, "://*.", "://wildcard.", 1))
	switch {
	case err != nil:
		return bad("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("the scheme must be http or https")
	case u.Host == "" || u.Opaque != "":
		return bad("a host is required")
	case u.User != nil:
		return bad("credentials are not allowed")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return bad("a query or fragment is not allowed")
	case u.Path != "" && u.Path != "/":
		return bad("a path is not allowed")
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(raw, "://*.") {
		host = "*." + strings.TrimPrefix(host, "wildcard.")
	}
	if !hostPattern.MatchString(host) {
		return bad("the host is not a domain name")
	}
	out := strings.ToLower(u.Scheme) + "://" + host
	if p := u.Port(); p != "" {
		if n, ok := parsePort(p); !ok || n == 0 {
			return bad("the port must be from 1 to 65535")
		}
		out += ":" + p
	}
	return out, nil
}

// checkAuthProvider checks the auth_provider a request names against the
// branch's integration.
func checkAuthProvider(in *integration, v *string) error {
	p, err := requireProvider(v)
	if err != nil {
		return err
	}
	if p != in.provider {
		return badRequest("auth_provider %s does not match branch %s, which uses %s", p, in.branch.id, in.provider)
	}
	return nil
}

func domainsJSON(in *integration) any {
	list := []trustedDomainJSON{}
	for _, d := range in.settings.domains {
		list = append(list, trustedDomainJSON{d, in.provider})
	}
	return struct {
		Domains []trustedDomainJSON `json:"domains"`
	}{list}
}

func (s *Sandbox) listDomains(w http.ResponseWriter, r *http.Request) error {
	return s.readAuth(w, r, "", domainsJSON)
}

func (s *Sandbox) addDomain(w http.ResponseWriter, r *http.Request) error {
	var req addDomainRequest
	return s.writeAuth(w, r, "", http.StatusCreated, &req, func(in *integration) (any, error) {
		if err := checkAuthProvider(in, req.AuthProvider); err != nil {
			return nil, err
		}
		if req.Domain == nil {
			return nil, badRequest("domain is required")
		}
		d, err := normalizeDomain(*req.Domain)
		if err != nil {
			return nil, err
		}
		if slices.Contains(in.settings.domains, d) {
			return nil, conflict("domain %s is already trusted on branch %s", d, in.branch.id)
		}
		in.settings.domains = append(in.settings.domains, d)
		return nil, nil
	})
}

// deleteDomains removes every listed domain, or none when one of them is not
// trusted.
func (s *Sandbox) deleteDomains(w http.ResponseWriter, r *http.Request) error {
	var req deleteDomainsRequest
	return s.writeAuth(w, r, "", http.StatusOK, &req, func(in *integration) (any, error) {
		if err := checkAuthProvider(in, req.AuthProvider); err != nil {
			return nil, err
		}
		if req.Domains == nil {
			return nil, badRequest("domains is required")
		}
		var drop []string
		for _, item := range *req.Domains {
			if item.Domain == nil {
				return nil, badRequest("each of domains needs a domain")
			}
			d, err := normalizeDomain(*item.Domain)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(in.settings.domains, d) {
				return nil, notFound("domain %s is not trusted on branch %s", d, in.branch.id)
			}
			drop = append(drop, d)
		}
		in.settings.domains = slices.DeleteFunc(in.settings.domains, func(d string) bool { return slices.Contains(drop, d) })
		return nil, nil
	})
}

func allowLocalhostBody(in *integration) any {
	return struct {
		AllowLocalhost bool `json:"allow_localhost"`
	}{in.settings.allowLocalhost}
}

func (s *Sandbox) getAllowLocalhost(w http.ResponseWriter, r *http.Request) error {
	return s.readAuth(w, r, "", allowLocalhostBody)
}

func (s *Sandbox) updateAllowLocalhost(w http.ResponseWriter, r *http.Request) error {
	var req allowLocalhostJSON
	return s.writeAuth(w, r, "", http.StatusOK, &req, func(in *integration) (any, error) {
		if req.AllowLocalhost == nil {
			return nil, badRequest("allow_localhost is required")
		}
		in.settings.allowLocalhost = *req.AllowLocalhost
		return allowLocalhostBody(in), nil
	})
}
