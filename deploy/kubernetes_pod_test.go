package deploy_test

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// checkHardened: non-root, read-only root filesystem, no escalation, no
// capabilities, RuntimeDefault seccomp, requests and limits, no volume but
// an emptyDir.
func checkHardened(d *appsv1.Deployment) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, d.Name+": "+fmt.Sprintf(format, a...)) }
	pod := d.Spec.Template.Spec
	psc := pod.SecurityContext
	if len(pod.Containers) != 1 || len(pod.InitContainers) > 0 {
		bad("want exactly one container")
	}
	c := container(d)
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if !isTrue(sc.RunAsNonRoot) && !isTrue(psc.RunAsNonRoot) {
		bad("runAsNonRoot is not set")
	}
	if (sc.RunAsUser != nil && *sc.RunAsUser == 0) || (psc.RunAsUser != nil && *psc.RunAsUser == 0) {
		bad("runs as uid 0")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		bad("root filesystem is not read-only")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		bad("allowPrivilegeEscalation is not false")
	}
	if isTrue(sc.Privileged) {
		bad("is privileged")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		bad("capabilities must drop ALL and add none")
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		bad("seccomp profile is not RuntimeDefault")
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := c.Resources.Requests[res]
		lim, hasLim := c.Resources.Limits[res]
		switch {
		case !hasReq || !hasLim:
			bad("%s request and limit must both be set", res)
		case req.Cmp(lim) > 0:
			bad("%s request %s is above its limit %s", res, req.String(), lim.String())
		}
	}
	for _, v := range pod.Volumes {
		if v.EmptyDir == nil {
			bad("volume %s is not an emptyDir", v.Name)
		}
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		bad("shares a host namespace")
	}
	return problems
}

func isTrue(b *bool) bool { return b != nil && *b }

// checkSecretRefs: a secret variable is never a literal, always a
// secretKeyRef, to a Secret and key deploy/kubernetes/README.md tells the
// operator to create.
func checkSecretRefs(d *appsv1.Deployment, readme string) []string {
	var problems []string
	c := container(d)
	for _, e := range c.Env {
		if !isSecretEnv(e.Name) {
			continue
		}
		ref := (*corev1.SecretKeySelector)(nil)
		if e.ValueFrom != nil {
			ref = e.ValueFrom.SecretKeyRef
		}
		switch {
		case e.Value != "" || ref == nil:
			problems = append(problems, fmt.Sprintf("%s: %s is a secret and must come from a secretKeyRef, not a value", d.Name, e.Name))
		case !strings.Contains(readme, "`"+ref.Name+"`") || !strings.Contains(readme, "`"+ref.Key+"`"):
			problems = append(problems, fmt.Sprintf("%s: %s reads Secret %s key %s, which deploy/kubernetes/README.md does not tell the operator to create", d.Name, e.Name, ref.Name, ref.Key))
		}
	}
	for _, a := range append(slices.Clone(c.Args), c.Command...) {
		if strings.HasPrefix(a, "--client-secret") || strings.HasPrefix(a, "--cookie-secret") {
			problems = append(problems, fmt.Sprintf("%s: %s is an argument, which anyone on the node can read; use the OAUTH2_PROXY_* variable from a Secret", d.Name, a))
		}
	}
	return problems
}
