package neonapi_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

func TestClientNeverPrintsKey(t *testing.T) {
	c, err := neonapi.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	holder := struct {
		Client *neonapi.Client
		inner  *neonapi.Client
	}{c, c}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, &holder))
	}
	outputs = append(outputs, fmt.Sprint(c), fmt.Sprintln(c), c.String(), c.GoString())

	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("client", "c", c, "h", holder)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("client", "c", c, "h", holder)
	outputs = append(outputs, logs.String())

	hexKey := fmt.Sprintf("%x", testKey)
	for _, out := range outputs {
		if strings.Contains(out, testKey) || strings.Contains(strings.ToLower(out), hexKey) {
			t.Errorf("output reveals the key: %s", out)
		}
	}
	if got := fmt.Sprintf("%v", c); !strings.Contains(got, "[REDACTED]") || !strings.Contains(got, "console.neon.tech") {
		t.Errorf("%%v = %q, want the base URL and a redaction marker", got)
	}
}

func TestIntegrationKeysNeverPrintSecret(t *testing.T) {
	const secret = "ssk_0123456789abcdef"
	keys := neonapi.IntegrationKeys{AuthProvider: authprovider.Stack, PubClientKey: "pck_visible", SecretServerKey: secret}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs = append(outputs, fmt.Sprintf(verb, keys), fmt.Sprintf(verb, &keys))
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("enabled", "keys", keys)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("enabled", "keys", &keys)
	outputs = append(outputs, logs.String())
	for _, out := range outputs {
		if strings.Contains(out, secret) || !strings.Contains(out, "pck_visible") {
			t.Errorf("output %q reveals the secret or hides the public key", out)
		}
	}
	if keys.SecretServerKey != secret {
		t.Error("printing changed the keys")
	}
}
