package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brokenStack is a copy of compose.yaml and deploy/compose in a temporary
// directory, with old replaced by new in one of them (file is
// "compose.yaml" or a name under deploy/compose); old must be there.
func brokenStack(t *testing.T, file, old, new string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "deploy", "compose"), 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"compose.yaml"}
	entries, err := os.ReadDir(filepath.Join(repoRoot, "deploy", "compose"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, filepath.Join("deploy", "compose", e.Name()))
	}
	changed := false
	for _, name := range names {
		text := readRepoFile(t, name)
		if name == file || name == filepath.Join("deploy", "compose", file) {
			if !strings.Contains(text, old) {
				t.Fatalf("%s no longer contains %q", name, old)
			}
			text, changed = strings.Replace(text, old, new, 1), true
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !changed {
		t.Fatalf("no file %s in the stack", file)
	}
	return dir
}

// TestComposeChecksCatchBrokenStacks feeds the checks copies of the stack
// each broken in one way, and sees each one fail for that reason.
func TestComposeChecksCatchBrokenStacks(t *testing.T) {
	known, sandboxKnown := dashboardEnvNames(t), sandboxEnvNames(t)
	probes, recipe := probePaths(t), recipeFlags(t)
	const compose = "compose.yaml"
	cases := []struct {
		name, file, old, new, want string
	}{
		{"not the compose schema", compose, "    retries: 12\n    start_period: 10s", "    retries: 12\n    start_periods: 10s", "does not load"},
		{"one replica", compose, "    hostname: dashboard-2\n", "    hostname: dashboard-2\n    entrypoint: [\"/usr/local/bin/dashboard\", \"version\"]\n", "want two dashboard services"},
		{"replicas with their own keys", compose, "    hostname: dashboard-2\n", "    hostname: dashboard-2\n    environment:\n      SESSION_KEYS: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", "different SESSION_KEYS"},
		{"replicas on their own stores", compose, "    hostname: dashboard-2\n", "    hostname: dashboard-2\n    environment:\n      STATE_DATABASE_URL: postgres://postgres@postgres:5432/other?sslmode=disable\n", "different STATE_DATABASE_URL"},
		{"variable config.go does not read", compose, "    AUTH_MODE: proxy\n", "    AUTH_MODE: proxy\n    LOG_LEVEL: debug\n", "LOG_LEVEL (dashboard-1) is not one config.go reads"},
		{"variable the sandbox does not read", compose, "      SANDBOX_SEED: \"true\"\n", "      SANDBOX_SEED: \"true\"\n      SANDBOX_PORT: \"4010\"\n", "SANDBOX_PORT is not one the sandbox command reads"},
		{"dashboards send another key", compose, "SANDBOX_API_KEY: local-sandbox-key", "SANDBOX_API_KEY: other-key", "NEON_API_KEY is not the key the sandbox accepts"},
		{"dashboards send to another port", compose, "SANDBOX_LISTEN: 0.0.0.0:4010", "SANDBOX_LISTEN: 0.0.0.0:4011", "sends to the sandbox on port 4010"},
		{"load balancer forgets a replica", "nginx.conf", "    server dashboard-2:8080 max_fails=1 fail_timeout=5s;\n", "", "want both replicas"},
		{"load balancer on another port", "nginx.conf", "listen 8080;", "listen 80;", "does not listen on port 8080"},
		{"replica published", compose, "    hostname: dashboard-1\n", "    hostname: dashboard-1\n    ports:\n      - \"127.0.0.1:8080:8080\"\n", "service dashboard-1 publishes port 8080"},
		{"proxy on every interface", compose, "\"127.0.0.1:4180:4180\"", "\"4180:4180\"", "want 127.0.0.1 only"},
		{"no healthcheck to wait for", compose, "      test: [\"CMD\", \"pg_isready\", \"-U\", \"postgres\", \"-d\", \"dashboard_state\"]\n", "      disable: true\n", "waits for postgres to be healthy, which has no healthcheck"},
		{"healthcheck on no route", compose, "healthcheck\", \"http://127.0.0.1:8080/readyz\"", "healthcheck\", \"http://127.0.0.1:8080/ready\"", "is not a probe route"},
		{"trust everyone on the network", compose, "AUTH_PROXY_TRUSTED: 10.89.2.10", "AUTH_PROXY_TRUSTED: 10.89.2.0/24", "want exactly the load balancer's fixed address"},
		{"identity from nobody", compose, "AUTH_MODE: proxy", "AUTH_MODE: none", "AUTH_MODE=none"},
		{"proxy image not pinned", compose, "oauth2-proxy:v7.15.6", "oauth2-proxy:latest", "oauth2-proxy image"},
		{"proxy flags not the recipe", compose, "      - --pass-user-headers=true\n", "      - --pass-user-headers=true\n      - --skip-auth-strip-headers=false\n", "want docs/security.md's recipe"},
		{"proxy client secret not dex's", compose, "OAUTH2_PROXY_CLIENT_SECRET: local-compose-client-secret", "OAUTH2_PROXY_CLIENT_SECRET: other", "client secret is not the one dex knows"},
		{"redirect not registered", "dex.yaml", "      - http://127.0.0.1:4180/oauth2/callback", "      - http://localhost:4180/oauth2/callback", "is not registered with dex"},
		{"proxy upstream skips the load balancer", compose, "--upstream=http://lb:8080/", "--upstream=http://dashboard-1:8080/", "names dashboard-1, which is no load balancer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, problems := loadCompose(brokenStack(t, c.file, c.old, c.new))
			if p != nil {
				problems = append(problems, checkCompose(p, known, sandboxKnown, probes, recipe)...)
			}
			wantProblem(t, problems, c.want)
		})
	}
}
