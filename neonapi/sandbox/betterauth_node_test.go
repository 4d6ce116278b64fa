package sandbox

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// betterAuthNode runs a step of internal/betterauthclient/client.mjs
// (Better Auth's own crypto from npm) and decodes its JSON line into out.
// It skips without node or the installed package, but fails under CI.
func betterAuthNode(t *testing.T, out any, args ...string) {
	t.Helper()
	dir := filepath.Join("..", "..", "internal", "betterauthclient")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "better-auth", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Better Auth's package is needed (node and npm ci in %s): %v", dir, err)
		}
		t.Skipf("Better Auth's package is not installed (npm ci in %s): %v", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"client.mjs"}, args...)...)
	cmd.Dir = dir
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client.mjs %s: %v", args[0], err)
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("node client.mjs %s printed %q: %v", args[0], stdout, err)
	}
}

// The JWKS private keys are encrypted as Better Auth's JWT plugin encrypts
// them: each side opens what the other sealed.
func TestPrivateKeyEncryptionMatchesBetterAuth(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	jwk := `{"crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kty":"OKP"}`
	stored, err := encryptPrivateKey(secret, []byte(jwk))
	if err != nil {
		t.Fatal(err)
	}
	var opened struct {
		Text string `json:"text"`
	}
	betterAuthNode(t, &opened, "decrypt", secret, stored)
	if opened.Text != jwk {
		t.Fatalf("Better Auth opened the sandbox's key as %q", opened.Text)
	}
	var sealed struct {
		Stored string `json:"stored"`
	}
	betterAuthNode(t, &sealed, "encrypt", secret, jwk)
	plain, err := decryptPrivateKey(secret, sealed.Stored)
	if err != nil || string(plain) != jwk {
		t.Fatalf("the sandbox opened Better Auth's key as %q, %v", plain, err)
	}
	if _, err := decryptPrivateKey("another secret", sealed.Stored); err == nil {
		t.Fatal("another secret opened the key")
	}
}
