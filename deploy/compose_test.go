package deploy_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/oauth2proxytest"
)

// The compose stack's services the checks look for by name.
const (
	composeProxy = "oauth2-proxy"
	composeIdP   = "dex"
)

// loadCompose loads compose.yaml from dir as `docker compose up` would,
// its schema validated, with nothing set in the environment so that every
// ${VAR:-default} takes its default. A file that does not load is the
// problem returned.
func loadCompose(dir string) (*types.Project, []string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, []string{err.Error()}
	}
	b, err := os.ReadFile(filepath.Join(abs, "compose.yaml"))
	if err != nil {
		return nil, []string{err.Error()}
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "compose.yaml"), Content: b}},
		Environment: types.Mapping{},
	})
	if err != nil {
		return nil, []string{"compose.yaml does not load: " + err.Error()}
	}
	return p, nil
}

// TestComposeStack loads the repository's compose.yaml and checks the
// stack it describes.
func TestComposeStack(t *testing.T) {
	p, problems := loadCompose(repoRoot)
	noProblems(t, "load", problems)
	if p == nil {
		return
	}
	noProblems(t, "compose.yaml", checkCompose(p, dashboardEnvNames(t), sandboxEnvNames(t), probePaths(t), recipeFlags(t)))
}

// dashboardServices are the services running the dashboard's serve
// command: built from the repository, entrypoint left as the image's.
func dashboardServices(p *types.Project) []types.ServiceConfig {
	var out []types.ServiceConfig
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range p.Services {
			if !yield(n) {
				return
			}
		}
	}) {
		s := p.Services[name]
		if s.Build != nil && s.Build.Context == p.WorkingDir && len(s.Entrypoint) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// env is a service's environment with unset values as empty.
func env(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}

// checkCompose is every check of the stack.
func checkCompose(p *types.Project, known, sandboxKnown, probes map[string]bool, recipe []string) []string {
	var problems []string
	dashboards := dashboardServices(p)
	if len(dashboards) != 2 {
		return []string{fmt.Sprintf("want two dashboard services (built from the repository, running serve), have %d", len(dashboards))}
	}
	problems = append(problems, checkReplicasShare(dashboards)...)
	for _, d := range dashboards {
		problems = append(problems, checkComposeDashboard(p, d, known, probes)...)
	}
	for _, s := range p.Services {
		if slices.Equal(s.Entrypoint, []string{"/usr/local/bin/dashboard", "sandbox"}) {
			problems = append(problems, checkSandbox(s, dashboards, sandboxKnown)...)
		}
		for _, port := range s.Ports {
			switch {
			case s.Name != composeProxy && s.Name != composeIdP:
				problems = append(problems, fmt.Sprintf("service %s publishes port %d: only oauth2-proxy (and the sign-in page of the identity provider) may", s.Name, port.Target))
			case port.HostIP != "127.0.0.1":
				problems = append(problems, fmt.Sprintf("service %s publishes port %d on %q, want 127.0.0.1 only", s.Name, port.Target, port.HostIP))
			}
		}
		for dep, d := range s.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				continue
			}
			if hc := p.Services[dep].HealthCheck; hc == nil || hc.Disable || len(hc.Test) == 0 {
				problems = append(problems, fmt.Sprintf("%s waits for %s to be healthy, which has no healthcheck", s.Name, dep))
			}
		}
	}
	lb, lbProblems := checkProxyAndLB(p, dashboards, recipe)
	problems = append(problems, lbProblems...)
	if lb != nil {
		problems = append(problems, checkTrustedIsLB(p, lb, dashboards)...)
	}
	return problems
}

// checkReplicasShare: both replicas on one state store with one key set.
func checkReplicasShare(dashboards []types.ServiceConfig) []string {
	var problems []string
	a, b := env(dashboards[0]), env(dashboards[1])
	for _, name := range []string{"STATE_DATABASE_URL", "SESSION_KEYS"} {
		switch {
		case a[name] == "" || b[name] == "":
			problems = append(problems, fmt.Sprintf("%s must be set on both dashboard services", name))
		case a[name] != b[name]:
			problems = append(problems, fmt.Sprintf("the dashboard services have different %s: replicas must share it", name))
		}
	}
	return problems
}

// checkComposeDashboard: variables it reads, identity it accepts, a
// healthcheck on a probe route, waiting for its store and its Neon API.
func checkComposeDashboard(p *types.Project, d types.ServiceConfig, known, probes map[string]bool) []string {
	var problems []string
	e := env(d)
	for name := range e {
		if !known[name] {
			problems = append(problems, "dashboard variable "+name+" ("+d.Name+") is not one config.go reads")
		}
	}
	problems = append(problems, checkAuthEnv(e, e["LISTEN_ADDR"])...)
	hc := d.HealthCheck
	if hc == nil || len(hc.Test) != 4 || hc.Test[0] != "CMD" || hc.Test[1] != "/usr/local/bin/dashboard" || hc.Test[2] != "healthcheck" {
		problems = append(problems, d.Name+": want the healthcheck [CMD /usr/local/bin/dashboard healthcheck URL]")
	} else if u, err := url.Parse(hc.Test[3]); err != nil || !probes[u.Path] || u.Port() != listenPort(e["LISTEN_ADDR"]) {
		problems = append(problems, fmt.Sprintf("%s: healthcheck URL %s is not a probe route on the dashboard's port", d.Name, hc.Test[3]))
	}
	for _, dep := range []string{"postgres", "sandbox"} {
		if d.DependsOn[dep].Condition != types.ServiceConditionHealthy {
			problems = append(problems, fmt.Sprintf("%s must wait for %s to be healthy", d.Name, dep))
		}
	}
	return problems
}

// listenPort is the port of a LISTEN_ADDR.
func listenPort(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// checkProxyAndLB: oauth2-proxy at the pinned version with the recipe's
// flags, sending to the load balancer, whose nginx upstream is the two
// replicas. It returns the load balancer's service.
func checkProxyAndLB(p *types.Project, dashboards []types.ServiceConfig, recipe []string) (*types.ServiceConfig, []string) {
	var problems []string
	proxy, ok := p.Services[composeProxy]
	if !ok {
		return nil, []string{"no oauth2-proxy service"}
	}
	if want := "quay.io/oauth2-proxy/oauth2-proxy:" + oauth2proxytest.Version; proxy.Image != want {
		problems = append(problems, fmt.Sprintf("oauth2-proxy image %s, want %s", proxy.Image, want))
	}
	args, bad := proxyArgs(proxy.Command)
	for _, a := range bad {
		problems = append(problems, "oauth2-proxy argument "+a+" is not --name=value")
	}
	set := keys(args)
	for name := range proxy.Environment {
		set = append(set, envFlag(name))
	}
	slices.Sort(set)
	// The browser and oauth2-proxy reach dex by different names, so the
	// stack names dex's endpoints instead of discovering them.
	want := append(slices.Clone(recipe), "skip-oidc-discovery", "login-url", "redeem-url", "oidc-jwks-url")
	slices.Sort(want)
	if !slices.Equal(set, want) {
		problems = append(problems, fmt.Sprintf("oauth2-proxy is configured with %v, want docs/security.md's recipe and the named endpoints %v", set, want))
	}
	if args["pass-user-headers"] != "true" {
		problems = append(problems, "oauth2-proxy must run with --pass-user-headers=true")
	}
	problems = append(problems, checkIdP(p, proxy, args)...)
	up, err := url.Parse(args["upstream"])
	if err != nil || up.Host == "" {
		return nil, append(problems, "oauth2-proxy --upstream is not a URL")
	}
	lb, ok := p.Services[up.Hostname()]
	if !ok {
		return nil, append(problems, "oauth2-proxy --upstream names no service: "+up.Hostname())
	}
	conf := ""
	for _, v := range lb.Volumes {
		if v.Type == types.VolumeTypeBind && strings.HasSuffix(v.Target, ".conf") {
			b, err := os.ReadFile(v.Source)
			if err != nil {
				return &lb, append(problems, "the load balancer's config: "+err.Error())
			}
			conf = string(b)
		}
	}
	if conf == "" {
		return nil, append(problems, "oauth2-proxy's --upstream names "+lb.Name+", which is no load balancer: it mounts no nginx config")
	}
	return &lb, append(problems, checkNginx(conf, up.Port(), dashboards)...)
}

var (
	nginxUpstream = regexp.MustCompile(`(?s)upstream\s+(\S+)\s*\{(.*?)\}`)
	nginxServer   = regexp.MustCompile(`(?m)^\s*server\s+([^\s;]+)`)
	nginxListen   = regexp.MustCompile(`(?m)^\s*listen\s+(\d+)\s*;`)
	nginxPass     = regexp.MustCompile(`(?m)^\s*proxy_pass\s+http://([^\s;/]+)`)
)

// checkNginx: the load balancer listens where oauth2-proxy sends, passes
// everything to one upstream, and that upstream is exactly both replicas.
func checkNginx(conf, port string, dashboards []types.ServiceConfig) []string {
	var problems []string
	up := nginxUpstream.FindStringSubmatch(conf)
	if up == nil {
		return []string{"the load balancer's config has no upstream block"}
	}
	var servers, want []string
	for _, m := range nginxServer.FindAllStringSubmatch(up[2], -1) {
		servers = append(servers, m[1])
	}
	for _, d := range dashboards {
		want = append(want, d.Name+":"+listenPort(env(d)["LISTEN_ADDR"]))
	}
	slices.Sort(servers)
	slices.Sort(want)
	if !slices.Equal(servers, want) {
		problems = append(problems, fmt.Sprintf("the load balancer's upstream %s lists %v, want both replicas %v", up[1], servers, want))
	}
	if m := nginxListen.FindStringSubmatch(conf); m == nil || m[1] != port {
		problems = append(problems, "the load balancer does not listen on port "+port+", where oauth2-proxy sends")
	}
	for _, m := range nginxPass.FindAllStringSubmatch(conf, -1) {
		if m[1] != up[1] {
			problems = append(problems, "the load balancer passes to "+m[1]+", not its upstream "+up[1])
		}
	}
	return problems
}

// dexConfig is what the checks read of deploy/compose/dex.yaml.
type dexConfig struct {
	Issuer        string `json:"issuer"`
	StaticClients []struct {
		ID           string   `json:"id"`
		Secret       string   `json:"secret"`
		RedirectURIs []string `json:"redirectURIs"`
	} `json:"staticClients"`
}

// checkIdP: oauth2-proxy's client is the one dex knows, with its secret and
// redirect URL, at dex's issuer.
func checkIdP(p *types.Project, proxy types.ServiceConfig, args map[string]string) []string {
	idp, ok := p.Services[composeIdP]
	if !ok {
		return []string{"no identity provider service " + composeIdP}
	}
	var cfg dexConfig
	for _, v := range idp.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		b, err := os.ReadFile(v.Source)
		if err != nil {
			return []string{"dex's config: " + err.Error()}
		}
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			return []string{"dex's config: " + err.Error()}
		}
	}
	if cfg.Issuer == "" || cfg.Issuer != args["oidc-issuer-url"] {
		return []string{fmt.Sprintf("oauth2-proxy's issuer %q is not dex's %q", args["oidc-issuer-url"], cfg.Issuer)}
	}
	secret := env(proxy)["OAUTH2_PROXY_CLIENT_SECRET"]
	for _, c := range cfg.StaticClients {
		if c.ID == args["client-id"] {
			var problems []string
			if c.Secret != secret {
				problems = append(problems, "oauth2-proxy's client secret is not the one dex knows for "+c.ID)
			}
			if !slices.Contains(c.RedirectURIs, args["redirect-url"]) {
				problems = append(problems, "oauth2-proxy's redirect URL "+args["redirect-url"]+" is not registered with dex")
			}
			return problems
		}
	}
	return []string{"dex has no client " + args["client-id"]}
}

// checkTrustedIsLB: the replicas believe identity headers from the load
// balancer's fixed address, which is on their network, and from nothing
// else.
func checkTrustedIsLB(p *types.Project, lb *types.ServiceConfig, dashboards []types.ServiceConfig) []string {
	var problems []string
	for _, d := range dashboards {
		trusted, err := identity.ParseTrustedProxies(env(d)["AUTH_PROXY_TRUSTED"])
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		found := false
		for netName := range d.Networks {
			cfg := lb.Networks[netName]
			if cfg == nil || cfg.Ipv4Address == "" {
				continue
			}
			addr, err := netip.ParseAddr(cfg.Ipv4Address)
			if err != nil {
				continue
			}
			inSubnet := false
			for _, pool := range p.Networks[netName].Ipam.Config {
				if pre, err := netip.ParsePrefix(pool.Subnet); err == nil && pre.Contains(addr) {
					inSubnet = true
				}
			}
			if inSubnet && slices.Equal(trusted, []netip.Prefix{netip.PrefixFrom(addr, 32)}) {
				found = true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s trusts %v: want exactly the load balancer's fixed address on a network the two share", d.Name, trusted))
		}
	}
	return problems
}

// checkSandbox: variables the sandbox command reads, and the key the
// dashboards send when their Neon API is this sandbox.
func checkSandbox(s types.ServiceConfig, dashboards []types.ServiceConfig, known map[string]bool) []string {
	var problems []string
	e := env(s)
	for name := range e {
		if !known[name] {
			problems = append(problems, "sandbox variable "+name+" is not one the sandbox command reads")
		}
	}
	for _, d := range dashboards {
		de := env(d)
		u, err := url.Parse(de["NEON_API_URL"])
		if err != nil || u.Hostname() != s.Name {
			continue
		}
		if u.Port() != listenPort(e["SANDBOX_LISTEN"]) {
			problems = append(problems, fmt.Sprintf("%s sends to the sandbox on port %s, which listens on %s", d.Name, u.Port(), e["SANDBOX_LISTEN"]))
		}
		if key := e["SANDBOX_API_KEY"]; key != "" && key != de["NEON_API_KEY"] {
			problems = append(problems, d.Name+"'s NEON_API_KEY is not the key the sandbox accepts (SANDBOX_API_KEY)")
		}
	}
	return problems
}
