package deploy_test

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/oauth2proxytest"
)

// The objects the manifests are about, by name.
const (
	dashboardName = "neonauth-dashboard"
	proxyName     = "oauth2-proxy"
	kustomizeDir  = "kubernetes"
)

// manifests are the rendered objects, decoded into their types.
type manifests struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	pdbs        []*policyv1.PodDisruptionBudget
	policies    []*networkingv1.NetworkPolicy
	// problems are objects that would not decode strictly or that do not
	// belong (a Secret with values, an unexpected kind).
	problems []string
}

// render builds the kustomization at dir of fsys, as kubectl apply -k
// would, and decodes every object strictly: a field its type does not have
// is a problem, as the API server's strict field validation would make it.
func render(t *testing.T, fsys filesys.FileSystem, dir string) *manifests {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	m := &manifests{
		deployments: map[string]*appsv1.Deployment{},
		services:    map[string]*corev1.Service{},
		configMaps:  map[string]*corev1.ConfigMap{},
	}
	for _, res := range resMap.Resources() {
		y, err := res.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		kind, name := res.GetKind(), res.GetName()
		var decodeErr error
		switch kind {
		case "Deployment":
			var d appsv1.Deployment
			decodeErr = yaml.UnmarshalStrict(y, &d)
			m.deployments[name] = &d
		case "Service":
			var s corev1.Service
			decodeErr = yaml.UnmarshalStrict(y, &s)
			m.services[name] = &s
		case "ConfigMap":
			var c corev1.ConfigMap
			decodeErr = yaml.UnmarshalStrict(y, &c)
			m.configMaps[name] = &c
		case "PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			decodeErr = yaml.UnmarshalStrict(y, &p)
			m.pdbs = append(m.pdbs, &p)
		case "NetworkPolicy":
			var p networkingv1.NetworkPolicy
			decodeErr = yaml.UnmarshalStrict(y, &p)
			m.policies = append(m.policies, &p)
		case "Namespace":
			decodeErr = yaml.UnmarshalStrict(y, &corev1.Namespace{})
		case "Ingress":
			decodeErr = yaml.UnmarshalStrict(y, &networkingv1.Ingress{})
		case "Secret":
			m.problems = append(m.problems, "Secret "+name+" is in the manifests: secrets are created by the operator and referenced, never shipped")
		default:
			m.problems = append(m.problems, "unexpected kind "+kind+" ("+name+")")
		}
		if decodeErr != nil {
			m.problems = append(m.problems, fmt.Sprintf("%s %s does not decode strictly: %v", kind, name, decodeErr))
		}
	}
	return m
}

// diskFS is the repository's deploy directory on disk.
func diskFS() filesys.FileSystem { return filesys.MakeFsOnDisk() }

// TestKubernetesManifests renders the base and the example overlay and
// checks everything the dashboard needs of them.
func TestKubernetesManifests(t *testing.T) {
	env := dashboardEnvNames(t)
	probes := probePaths(t)
	recipe := recipeFlags(t)
	readme := readRepoFile(t, "deploy/kubernetes/README.md")
	for _, dir := range []string{"base", "overlays/example"} {
		t.Run(dir, func(t *testing.T) {
			m := render(t, diskFS(), filepath.Join(kustomizeDir, dir))
			noProblems(t, "kustomize build "+dir, checkManifests(m, env, probes, recipe, readme))
		})
	}
}

// checkManifests is every check of the rendered manifests.
func checkManifests(m *manifests, env, probes map[string]bool, recipe []string, readme string) []string {
	problems := slices.Clone(m.problems)
	dash, proxy := m.deployments[dashboardName], m.deployments[proxyName]
	if dash == nil || proxy == nil {
		return append(problems, fmt.Sprintf("want Deployments %s and %s, have %v", dashboardName, proxyName, keys(m.deployments)))
	}
	problems = append(problems, checkDashboard(dash, probes)...)
	for _, d := range []*appsv1.Deployment{dash, proxy} {
		problems = append(problems, checkHardened(d)...)
		problems = append(problems, checkSecretRefs(d, readme)...)
	}
	problems = append(problems, checkDashboardEnv(m, dash, env)...)
	problems = append(problems, checkPDB(m, dash, proxy)...)
	problems = append(problems, checkNetworkPolicy(m, dash, proxy)...)
	problems = append(problems, checkProxy(m, proxy, dash, recipe)...)
	return problems
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// checkDashboard: two replicas, rolling updates that never go below them,
// spread across nodes, probes on the routes the route table gives probes.
func checkDashboard(d *appsv1.Deployment, probes map[string]bool) []string {
	var problems []string
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		problems = append(problems, fmt.Sprintf("dashboard replicas %v, want 2", d.Spec.Replicas))
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.String() != "0" {
		problems = append(problems, "dashboard strategy must be RollingUpdate with maxUnavailable 0")
	}
	pod := d.Spec.Template
	spread := false
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.TopologyKey == "kubernetes.io/hostname" && c.LabelSelector != nil && selects(c.LabelSelector.MatchLabels, pod.Labels) {
			spread = true
		}
	}
	if a := pod.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if term.TopologyKey == "kubernetes.io/hostname" && term.LabelSelector != nil && selects(term.LabelSelector.MatchLabels, pod.Labels) {
				spread = true
			}
		}
	}
	if !spread {
		problems = append(problems, "dashboard pods are not spread across nodes (no topology spread or anti-affinity on kubernetes.io/hostname selecting them)")
	}
	c := container(d)
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		want  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, ""}} {
		switch {
		case p.probe == nil && p.want == "":
		case p.probe == nil || p.probe.HTTPGet == nil:
			problems = append(problems, "dashboard has no HTTP "+p.name+" probe")
		case !probes[p.probe.HTTPGet.Path]:
			problems = append(problems, fmt.Sprintf("dashboard %s probe path %s is not a probe route of the route table", p.name, p.probe.HTTPGet.Path))
		case p.want != "" && p.probe.HTTPGet.Path != p.want:
			problems = append(problems, fmt.Sprintf("dashboard %s probe path %s, want %s", p.name, p.probe.HTTPGet.Path, p.want))
		case !hasPort(c, p.probe.HTTPGet.Port.String()):
			problems = append(problems, fmt.Sprintf("dashboard %s probe port %s is not a container port", p.name, p.probe.HTTPGet.Port.String()))
		}
	}
	return problems
}

// container is a Deployment's one container.
func container(d *appsv1.Deployment) *corev1.Container {
	if len(d.Spec.Template.Spec.Containers) != 1 {
		return &corev1.Container{}
	}
	return &d.Spec.Template.Spec.Containers[0]
}

// hasPort reports whether port (a name or a number) is one of c's ports.
func hasPort(c *corev1.Container, port string) bool {
	for _, p := range c.Ports {
		if p.Name == port || fmt.Sprint(p.ContainerPort) == port {
			return true
		}
	}
	return false
}

// selects reports whether a selector's labels all match labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// dashboardSettings are the dashboard's non-secret settings: its env
// literals and the keys of the ConfigMaps it reads whole.
func dashboardSettings(m *manifests, d *appsv1.Deployment) (map[string]string, []string) {
	settings := map[string]string{}
	var problems []string
	c := container(d)
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := m.configMaps[from.ConfigMapRef.Name]
			if cm == nil {
				problems = append(problems, "dashboard reads ConfigMap "+from.ConfigMapRef.Name+", which the manifests do not have")
				continue
			}
			for k, v := range cm.Data {
				settings[k] = v
			}
		default:
			problems = append(problems, "dashboard envFrom must name ConfigMaps only; secrets are read one key at a time")
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			settings[e.Name] = e.Value
		}
	}
	return settings, problems
}

// checkDashboardEnv: every variable the dashboard is given is one it reads,
// and its identity settings are ones it accepts.
func checkDashboardEnv(m *manifests, d *appsv1.Deployment, known map[string]bool) []string {
	settings, problems := dashboardSettings(m, d)
	names := keys(settings)
	for _, e := range container(d).Env {
		names = append(names, e.Name)
	}
	for _, name := range names {
		switch {
		case !known[name]:
			problems = append(problems, "dashboard variable "+name+" is not one config.go reads")
		case isSecretEnv(name) && settings[name] != "":
			problems = append(problems, "dashboard variable "+name+" is a secret with a literal value")
		}
	}
	listen := settings["LISTEN_ADDR"]
	if listen == "" {
		listen = "0.0.0.0:8080" // the image's
	}
	// The NetworkPolicy admits oauth2-proxy's pods, whose addresses come
	// from the cluster's (private) pod network: AUTH_PROXY_TRUSTED names
	// that network, never an address outside the cluster.
	trusted, err := identity.ParseTrustedProxies(settings["AUTH_PROXY_TRUSTED"])
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, p := range trusted {
		if !p.Addr().IsPrivate() || (p.Addr().Is4() && p.Bits() < 8) {
			problems = append(problems, fmt.Sprintf("AUTH_PROXY_TRUSTED %s is not a private pod network", p))
		}
	}
	return append(problems, checkAuthEnv(settings, listen)...)
}

// checkPDB: a budget of at least one selecting exactly the dashboard pods.
func checkPDB(m *manifests, dash, proxy *appsv1.Deployment) []string {
	for _, p := range m.pdbs {
		if p.Spec.Selector == nil || !selects(p.Spec.Selector.MatchLabels, dash.Spec.Template.Labels) {
			continue
		}
		if selects(p.Spec.Selector.MatchLabels, proxy.Spec.Template.Labels) {
			return []string{"the dashboard's PodDisruptionBudget also selects oauth2-proxy's pods"}
		}
		if p.Spec.MinAvailable == nil || p.Spec.MinAvailable.String() != "1" {
			return []string{fmt.Sprintf("the dashboard's PodDisruptionBudget minAvailable is %v, want 1", p.Spec.MinAvailable)}
		}
		return nil
	}
	return []string{"no PodDisruptionBudget selects the dashboard pods"}
}

// checkNetworkPolicy: into the dashboard only from oauth2-proxy's pods, on
// its port; out only to DNS, Postgres and HTTPS.
func checkNetworkPolicy(m *manifests, dash, proxy *appsv1.Deployment) []string {
	var pol *networkingv1.NetworkPolicy
	for _, p := range m.policies {
		if selects(p.Spec.PodSelector.MatchLabels, dash.Spec.Template.Labels) {
			pol = p
		}
	}
	if pol == nil {
		return []string{"no NetworkPolicy selects the dashboard pods"}
	}
	var problems []string
	if !slices.Contains(pol.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(pol.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		problems = append(problems, "the dashboard's NetworkPolicy must restrict both Ingress and Egress")
	}
	if len(pol.Spec.Ingress) == 0 {
		problems = append(problems, "the dashboard's NetworkPolicy lets nothing in, not even oauth2-proxy")
	}
	for _, rule := range pol.Spec.Ingress {
		if len(rule.From) == 0 {
			problems = append(problems, "an ingress rule of the dashboard's NetworkPolicy has no 'from': it admits everyone")
		}
		for _, peer := range rule.From {
			if peer.IPBlock != nil || peer.NamespaceSelector != nil || peer.PodSelector == nil || !selects(peer.PodSelector.MatchLabels, proxy.Spec.Template.Labels) {
				problems = append(problems, "the dashboard's NetworkPolicy admits a peer other than oauth2-proxy's pods")
			}
		}
		for _, port := range rule.Ports {
			if port.Port == nil || !hasPort(container(dash), port.Port.String()) {
				problems = append(problems, "the dashboard's NetworkPolicy admits a port the dashboard does not serve")
			}
		}
	}
	allowed := map[string]bool{"53": true, "5432": true, "443": true}
	for _, rule := range pol.Spec.Egress {
		if len(rule.Ports) == 0 {
			problems = append(problems, "an egress rule of the dashboard's NetworkPolicy has no ports: it lets everything out")
		}
		for _, port := range rule.Ports {
			if port.Port == nil || !allowed[port.Port.String()] {
				problems = append(problems, fmt.Sprintf("the dashboard's NetworkPolicy lets out port %v; want only DNS (53), Postgres (5432) and HTTPS (443)", port.Port))
			}
		}
	}
	return problems
}

// checkProxy: oauth2-proxy at the pinned version, with docs/security.md's
// flags (secrets from Secrets by variable, HTTPS so no
// --cookie-secure=false), passing the user headers upstream to the
// dashboard's Service.
func checkProxy(m *manifests, d, dash *appsv1.Deployment, recipe []string) []string {
	var problems []string
	c := container(d)
	if want := "quay.io/oauth2-proxy/oauth2-proxy:" + oauth2proxytest.Version; c.Image != want {
		problems = append(problems, fmt.Sprintf("oauth2-proxy image %s, want %s (the version the sign-in tests run)", c.Image, want))
	}
	args, bad := proxyArgs(c.Args)
	for _, a := range bad {
		problems = append(problems, "oauth2-proxy argument "+a+" is not --name=value")
	}
	vars := map[string]string{}
	set := keys(args)
	for _, e := range c.Env {
		switch {
		case strings.HasPrefix(e.Name, "OAUTH2_PROXY_"):
			set = append(set, envFlag(e.Name))
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			cm := m.configMaps[e.ValueFrom.ConfigMapKeyRef.Name]
			if cm == nil || cm.Data[e.ValueFrom.ConfigMapKeyRef.Key] == "" {
				problems = append(problems, "oauth2-proxy variable "+e.Name+" reads a ConfigMap key the manifests do not have")
				continue
			}
			vars[e.Name] = cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]
		default:
			vars[e.Name] = e.Value
		}
	}
	slices.Sort(set)
	https := slices.DeleteFunc(slices.Clone(recipe), func(f string) bool { return f == "cookie-secure" })
	if !slices.Equal(set, https) {
		problems = append(problems, fmt.Sprintf("oauth2-proxy is configured with %v, want docs/security.md's recipe over HTTPS %v", set, https))
	}
	expand := func(v string) string {
		for name, value := range vars {
			v = strings.ReplaceAll(v, "$("+name+")", value)
		}
		if strings.Contains(v, "$(") {
			problems = append(problems, "oauth2-proxy argument value "+v+" names a variable the container does not set")
		}
		return v
	}
	if args["pass-user-headers"] != "true" {
		problems = append(problems, "oauth2-proxy must run with --pass-user-headers=true")
	}
	if !slices.Contains(strings.Fields(args["scope"]), "groups") {
		problems = append(problems, "oauth2-proxy's --scope must ask for groups (docs/security.md)")
	}
	if u, err := url.Parse(expand(args["redirect-url"])); err != nil || u.Scheme != "https" || u.Path != "/oauth2/callback" {
		problems = append(problems, "oauth2-proxy's --redirect-url must be https://<host>/oauth2/callback")
	}
	expand(args["oidc-issuer-url"])
	expand(args["client-id"])
	expand(args["email-domain"])
	svc := m.services[dashboardName]
	if svc == nil || !selects(svc.Spec.Selector, dash.Spec.Template.Labels) || len(svc.Spec.Ports) == 0 {
		return append(problems, "no Service "+dashboardName+" selects the dashboard pods")
	}
	if want := fmt.Sprintf("http://%s:%d/", svc.Name, svc.Spec.Ports[0].Port); args["upstream"] != want {
		problems = append(problems, fmt.Sprintf("oauth2-proxy --upstream=%s, want the dashboard's Service %s", args["upstream"], want))
	}
	if !hasPort(container(dash), svc.Spec.Ports[0].TargetPort.String()) {
		problems = append(problems, "the dashboard Service's targetPort is not a dashboard container port")
	}
	return problems
}
