package deploy_test

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// brokenCopy is deploy/kubernetes in memory with one file's text changed,
// the old text required to be there so that a case cannot go stale.
func brokenCopy(t *testing.T, file, old, new string) filesys.FileSystem {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	changed := false
	err := fs.WalkDir(os.DirFS(kustomizeDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path.Join(kustomizeDir, p))
		if err != nil {
			return err
		}
		text := string(b)
		if p == file {
			if !strings.Contains(text, old) {
				t.Fatalf("%s no longer contains %q", p, old)
			}
			text, changed = strings.Replace(text, old, new, 1), true
		}
		return mem.WriteFile(path.Join("/", kustomizeDir, p), []byte(text))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Fatalf("no file %s under %s", file, kustomizeDir)
	}
	return mem
}

// TestKubernetesChecksCatchBrokenManifests feeds the checks copies of the
// base each broken in one way, and sees each one fail for that reason.
func TestKubernetesChecksCatchBrokenManifests(t *testing.T) {
	env := dashboardEnvNames(t)
	probes := probePaths(t)
	recipe := recipeFlags(t)
	readme := readRepoFile(t, "deploy/kubernetes/README.md")
	const (
		dash   = "base/dashboard-deployment.yaml"
		proxy  = "base/oauth2-proxy-deployment.yaml"
		policy = "base/dashboard-networkpolicy.yaml"
		kust   = "base/kustomization.yaml"
	)
	cases := []struct {
		name, file, old, new, want string
	}{
		{"one replica", dash, "replicas: 2", "replicas: 1", "dashboard replicas"},
		{"rollout may drop a replica", dash, "maxUnavailable: 0", "maxUnavailable: 1", "maxUnavailable 0"},
		{"field the type does not have", dash, "maxUnavailable: 0", "maxUnavailabel: 0", "does not decode strictly"},
		{"writable root filesystem", dash, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "root filesystem is not read-only"},
		{"privilege escalation", dash, "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "allowPrivilegeEscalation is not false"},
		{"root user", dash, "runAsUser: 65532", "runAsUser: 0", "runs as uid 0"},
		{"capability kept", dash, `drop: ["ALL"]`, `drop: ["NET_RAW"]`, "capabilities must drop ALL"},
		{"unconfined seccomp", dash, "type: RuntimeDefault", "type: Unconfined", "seccomp profile is not RuntimeDefault"},
		{"no memory limit", dash, "              memory: 512Mi\n", "", "memory request and limit must both be set"},
		{"host volume", dash, "      containers:\n", "      volumes:\n        - name: host\n          hostPath:\n            path: /var\n      containers:\n", "volume host is not an emptyDir"},
		{"not spread", dash, "topologyKey: kubernetes.io/hostname", "topologyKey: example.com/rack", "not spread across nodes"},
		{"probe on no route", dash, "path: /readyz", "path: /ready-now", "readiness probe path /ready-now is not a probe route"},
		{"secret as a literal", dash, "- name: SESSION_KEYS\n              valueFrom:\n                secretKeyRef:\n                  name: neonauth-dashboard\n                  key: session-keys",
			"- name: SESSION_KEYS\n              value: 0123456789abcdef0123456789abcdef", "SESSION_KEYS is a secret"},
		{"secret the README does not name", dash, "key: state-database-url", "key: state-url", "key state-url, which deploy/kubernetes/README.md does not"},
		{"variable config.go does not read", kust, "- COOKIE_SECURE=true", "- COOKIE_SECURE=true\n      - LOG_LEVEL=debug", "LOG_LEVEL is not one config.go reads"},
		{"secret in the ConfigMap", kust, "- COOKIE_SECURE=true", "- COOKIE_SECURE=true\n      - NEON_API_KEY=napi_1234", "NEON_API_KEY is a secret with a literal value"},
		{"trust every address", kust, "AUTH_PROXY_TRUSTED=10.244.0.0/16", "AUTH_PROXY_TRUSTED=0.0.0.0/0", "trusts every address"},
		{"trust addresses outside the cluster", kust, "AUTH_PROXY_TRUSTED=10.244.0.0/16", "AUTH_PROXY_TRUSTED=203.0.113.0/24", "not a private pod network"},
		{"identity without proxy", kust, "AUTH_MODE=proxy", "AUTH_MODE=jwt", "AUTH_MODE"},
		{"PDB selects no pod", "base/dashboard-pdb.yaml", "app.kubernetes.io/component: dashboard", "app.kubernetes.io/component: web", "no PodDisruptionBudget selects the dashboard pods"},
		{"PDB allows none", "base/dashboard-pdb.yaml", "minAvailable: 1", "minAvailable: 0", "minAvailable is 0, want 1"},
		{"policy selects no pod", policy, "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: neonauth-dashboard", "  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: other", "no NetworkPolicy selects the dashboard pods"},
		{"ingress from another pod", policy, "app.kubernetes.io/component: sign-in-proxy", "app.kubernetes.io/component: anything", "admits a peer other than oauth2-proxy's pods"},
		{"ingress from everywhere", policy, "    - from:\n        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: oauth2-proxy\n              app.kubernetes.io/component: sign-in-proxy\n", "    - from: []\n", "has no 'from'"},
		{"egress to another port", policy, "port: 443", "port: 80", "lets out port 80"},
		{"proxy image not pinned", proxy, "oauth2-proxy:v7.15.6", "oauth2-proxy:latest", "oauth2-proxy image"},
		{"proxy secret as an argument", proxy, "- --pass-user-headers=true", "- --pass-user-headers=true\n            - --client-secret=hunter2", "--client-secret=hunter2 is an argument"},
		{"proxy flags not the recipe", proxy, "- --pass-user-headers=true", "- --pass-user-headers=true\n            - --skip-auth-strip-headers=false", "want docs/security.md's recipe"},
		{"proxy without user headers", proxy, "--pass-user-headers=true", "--pass-user-headers=false", "--pass-user-headers=true"},
		{"proxy upstream elsewhere", proxy, "--upstream=http://neonauth-dashboard:8080/", "--upstream=http://neonauth-dashboard:80/", "want the dashboard's Service"},
		{"proxy over plain HTTP", kust, "REDIRECT_URL=https://", "REDIRECT_URL=http://", "--redirect-url must be https"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := render(t, brokenCopy(t, c.file, c.old, c.new), path.Join("/", kustomizeDir, "base"))
			wantProblem(t, checkManifests(m, env, probes, recipe, readme), c.want)
		})
	}
}
