// Package deploy_test checks the deployment files against the code they
// run: deploy/kubernetes (rendered with kustomize, every object decoded
// strictly into its Kubernetes type) and compose.yaml (loaded and validated
// with compose-go). Each check returns the problems it finds, so that a
// subtest can feed it a broken copy and see the failure.
package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/handlers"
	"github.com/neonauth-admin/dashboard/identity"
)

// repoRoot is the repository, one level up from this package.
const repoRoot = ".."

// readRepoFile reads a file of the repository.
func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docEnvName is a variable at the start of a line of an environment table
// in a doc comment: "//\tLISTEN_ADDR       --listen ...".
var docEnvName = regexp.MustCompile(`(?m)^//\t+([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b`)

// authEnvName is a variable identity reads: config.go's doc comment says
// "AUTH_MODE and AUTH_*", and identity names each one in a string.
var authEnvName = regexp.MustCompile(`"(AUTH_[A-Z0-9_]*[A-Z0-9])"`)

// dashboardEnvNames is every variable the serve command reads: the tables
// of the doc comments of config.go and config_limits.go, and the AUTH_*
// names identity reads.
func dashboardEnvNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, file := range []string{"config.go", "config_limits.go"} {
		for _, m := range docEnvName.FindAllStringSubmatch(readRepoFile(t, file), -1) {
			names[m[1]] = true
		}
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "identity", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range authEnvName.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
	}
	for _, must := range []string{"LISTEN_ADDR", "NEON_API_KEY", "SESSION_KEYS", "STATE_DATABASE_URL", "AUTH_MODE", "AUTH_PROXY_TRUSTED", "REQUEST_TIMEOUT"} {
		if !names[must] {
			t.Fatalf("config.go's and config_limits.go's doc comments (or identity) no longer name %s: the parse of the variable names is broken", must)
		}
	}
	return names
}

// sandboxEnvNames is every variable the sandbox command reads, from
// sandbox.go's doc comment.
func sandboxEnvNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, m := range docEnvName.FindAllStringSubmatch(readRepoFile(t, "sandbox.go"), -1) {
		names[m[1]] = true
	}
	if !names["SANDBOX_LISTEN"] || !names["DATABASE_URL"] {
		t.Fatalf("sandbox.go's doc comment no longer names SANDBOX_LISTEN and DATABASE_URL: the parse is broken (%v)", names)
	}
	return names
}

// secretEnvNames are the variables whose values are secrets: never a
// literal in a manifest, always a reference to a Secret.
var secretEnvNames = []string{
	"NEON_API_KEY", "SESSION_KEYS", "STATE_DATABASE_URL", "DATABASE_URL",
	"OAUTH2_PROXY_CLIENT_SECRET", "OAUTH2_PROXY_COOKIE_SECRET",
	"AUTH_OIDC_CLIENT_SECRET", "METRICS_TOKEN",
}

// isSecretEnv reports whether name holds a secret (DATABASE_URL_<ID> too).
func isSecretEnv(name string) bool {
	return slices.Contains(secretEnvNames, name) || strings.HasPrefix(name, "DATABASE_URL_")
}

// probePaths are the paths the route table serves to probes (the routes
// whose access is identity.Probe): /healthz and /readyz.
func probePaths(t *testing.T) map[string]bool {
	t.Helper()
	paths := map[string]bool{}
	for _, r := range (&handlers.Handler{}).Routes() {
		if r.Access == identity.Probe && r.Method == "GET" {
			paths[r.Path] = true
		}
	}
	if !paths["/healthz"] || !paths["/readyz"] {
		t.Fatalf("the route table's probe routes are %v, want /healthz and /readyz among them", paths)
	}
	return paths
}

// recipeFlags are the flags of docs/security.md's oauth2-proxy recipe, the
// command the sign-in tests run.
func recipeFlags(t *testing.T) []string {
	t.Helper()
	block := regexp.MustCompile("(?s)```sh\n(#[^\n]*\n)*oauth2-proxy \\\\\n(.*?)\n\n").FindStringSubmatch(readRepoFile(t, "docs/security.md"))
	if block == nil {
		t.Fatal("docs/security.md has no sh block starting with the oauth2-proxy command")
	}
	var flags []string
	for _, m := range regexp.MustCompile(`--([a-z0-9-]+)`).FindAllStringSubmatch(block[2], -1) {
		flags = append(flags, m[1])
	}
	slices.Sort(flags)
	return flags
}

// proxyArgs splits oauth2-proxy's --name=value arguments.
func proxyArgs(args []string) (map[string]string, []string) {
	values := map[string]string{}
	var bad []string
	for _, a := range args {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !ok {
			bad = append(bad, a)
			continue
		}
		values[name] = value
	}
	return values, bad
}

// envFlag is the oauth2-proxy flag an OAUTH2_PROXY_* variable sets, for the
// two that carry secrets.
func envFlag(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "OAUTH2_PROXY_")), "_", "-")
}

// checkAuthEnv runs the dashboard's own identity checks on the settings:
// proxy mode, trusted peers named, nothing the dashboard would refuse.
func checkAuthEnv(env map[string]string, listen string) []string {
	auth, err := identity.ParseAuthEnv(func(k string) string { return env[k] })
	if err != nil {
		return []string{"the identity settings do not parse: " + err.Error()}
	}
	var problems []string
	if err := auth.Validate(listen); err != nil {
		problems = append(problems, "the dashboard would refuse its identity settings: "+err.Error())
	}
	if auth.Mode != identity.AuthModeProxy {
		problems = append(problems, "AUTH_MODE is "+string(auth.Mode)+", want proxy behind oauth2-proxy")
	}
	if len(auth.TrustedProxies) == 0 {
		problems = append(problems, "AUTH_PROXY_TRUSTED is empty")
	}
	return problems
}

// wantProblem fails unless one of problems contains want.
func wantProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; got:\n  %s", want, strings.Join(problems, "\n  "))
}

// noProblems fails with every problem found.
func noProblems(t *testing.T, what string, problems []string) {
	t.Helper()
	if len(problems) > 0 {
		t.Errorf("%s:\n  %s", what, strings.Join(problems, "\n  "))
	}
}
