package neonapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// secretValue is what every redaction test tries to leak.
const secretValue = "s3cr3t-0123456789abcdef"

// leaks reports the outputs that reveal secretValue, as is or hex-encoded.
func leaks(outputs []string) []string {
	hex := fmt.Sprintf("%x", secretValue)
	var bad []string
	for _, out := range outputs {
		if strings.Contains(out, secretValue) || strings.Contains(strings.ToLower(out), hex) {
			bad = append(bad, out)
		}
	}
	return bad
}

// printed formats v with every verb that could reach a field's value, and
// logs it with both slog handlers and encoding/json.
func printed(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("value", "v", v)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("value", "v", v)
	out = append(out, logs.String())
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%T): %v", v, err)
	}
	return append(out, string(data))
}

func TestSecretRedacts(t *testing.T) {
	s := neonapi.NewSecret(secretValue)
	values := map[string]any{
		"Secret":                     s,
		"*Secret":                    &s,
		"OAuthProvider":              neonapi.OAuthProvider{ID: neonapi.OAuthGitHub, ClientID: "cid", ClientSecret: s},
		"AddOAuthProviderRequest":    &neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGitHub, ClientSecret: s},
		"UpdateOAuthProviderRequest": neonapi.UpdateOAuthProviderRequest{ClientSecret: s},
		"EmailServer":                neonapi.EmailServer{Type: neonapi.EmailServerStandard, Password: s},
		"SendTestEmailRequest":       neonapi.SendTestEmailRequest{Host: "h", Password: s},
		"ConnectionDetails":          neonapi.ConnectionDetails{ConnectionURI: s, Parameters: neonapi.ConnectionParameters{Password: s}},
		"Role":                       neonapi.Role{Name: "r", Password: s},
		"PluginConfigs": neonapi.PluginConfigs{EmailProvider: &neonapi.EmailServer{Password: s},
			OAuthProviders: []neonapi.OAuthProvider{{ClientSecret: s}}},
		"map":   map[string]neonapi.Secret{"k": s},
		"slice": []neonapi.Secret{s},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			out := printed(t, v)
			for _, bad := range leaks(out) {
				t.Errorf("output reveals the secret: %s", bad)
			}
			if !strings.Contains(strings.Join(out, "\n"), "[REDACTED]") {
				t.Errorf("no output shows the placeholder: %q", out)
			}
		})
	}
	// fmt cannot call the methods of a Secret in an unexported field; what
	// it prints instead must not be the value either.
	hidden := struct {
		name string
		pw   neonapi.Secret
	}{"x", s}
	for _, bad := range leaks(printed(t, hidden)) {
		t.Errorf("a Secret in an unexported field is revealed: %s", bad)
	}
	if s.Reveal() != secretValue || !s.IsSet() {
		t.Error("printing changed the secret")
	}
}

func TestEmptySecretPrintsEmpty(t *testing.T) {
	var s neonapi.Secret
	if got := fmt.Sprintf("%v|%s|%#v", s, s, s); got != "||" {
		t.Errorf("an empty secret prints as %q, want nothing", got)
	}
	data, _ := json.Marshal(neonapi.OAuthProvider{ID: neonapi.OAuthGoogle, Type: neonapi.OAuthShared})
	if strings.Contains(string(data), "client_secret") {
		t.Errorf("an unset secret is encoded: %s", data)
	}
}

func TestSecretDecodes(t *testing.T) {
	var p neonapi.OAuthProvider
	if err := json.Unmarshal([]byte(`{"id":"github","type":"standard","client_secret":"`+secretValue+`"}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.ClientSecret.Reveal() != secretValue {
		t.Errorf("decoded secret %q", p.ClientSecret.Reveal())
	}
	for _, bad := range leaks(printed(t, p)) {
		t.Errorf("a decoded secret is revealed: %s", bad)
	}
}

// TestSecretsStayOutOfErrors makes the server quote the request body in its
// error, as a proxy or a validation message might: the secrets the request
// carried must not reach the error text.
func TestSecretsStayOutOfErrors(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		msg, _ := json.Marshal(map[string]string{"code": "BAD " + body.String(), "message": "rejected " + body.String()})
		_, _ = w.Write(msg)
	}
	c, rec := newTestClient(t, echo)
	ctx := context.Background()
	s := neonapi.NewSecret(secretValue)
	calls := map[string]error{
		"AddOAuthProvider": errOf(c.AddOAuthProvider(ctx, "p", "b", neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGitHub, ClientID: "cid", ClientSecret: s})),
		"UpdateOAuthProvider": errOf(c.UpdateOAuthProvider(ctx, "p", "b", neonapi.OAuthGitHub,
			neonapi.UpdateOAuthProviderRequest{ClientSecret: s})),
		"UpdateEmailProvider": errOf(c.UpdateEmailProvider(ctx, "p", "b", neonapi.EmailServer{Type: neonapi.EmailServerStandard,
			Host: "h", Port: 25, Username: "u", Password: s, SenderEmail: "a@example.com", SenderName: "A"})),
		"SendTestEmail": errOf(c.SendTestEmail(ctx, "p", "b", neonapi.SendTestEmailRequest{Host: "h", Port: 25, Password: s,
			RecipientEmail: "r@example.com"})),
	}
	for name, err := range calls {
		var apiErr *neonapi.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: error %v, want the server's 400", name, err)
		}
		out := append(printed(t, err), err.Error(), apiErr.Message, apiErr.Code, fmt.Sprintf("%+v", *apiErr))
		for _, bad := range leaks(out) {
			t.Errorf("%s: the error reveals the secret: %s", name, bad)
		}
		if !strings.Contains(apiErr.Message, "[REDACTED]") {
			t.Errorf("%s: message %q, want the secret replaced by the placeholder", name, apiErr.Message)
		}
	}
	// The secrets did travel, in the request bodies only.
	for _, r := range rec.all() {
		if !strings.Contains(string(r.Body), secretValue) {
			t.Errorf("%s %s sent %s, without the secret", r.Method, r.Path, r.Body)
		}
		if strings.Contains(r.Path+"?"+r.Query, secretValue) {
			t.Errorf("the secret is in the URL %s?%s", r.Path, r.Query)
		}
	}
}

// TestSecretsStayOutOfRequestErrors covers a request that gets no answer.
func TestSecretsStayOutOfRequestErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c, err := neonapi.New(testKey, neonapi.WithBaseURL(url), neonapi.WithoutRateLimit(), neonapi.WithRetryPolicy(fastRetries))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AddOAuthProvider(context.Background(), "p", "b", neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGitHub, ClientID: "cid", ClientSecret: neonapi.NewSecret(secretValue)})
	var reqErr *neonapi.RequestError
	if !errors.As(err, &reqErr) {
		t.Fatalf("error %v, want a *RequestError", err)
	}
	for _, bad := range leaks(printed(t, err)) {
		t.Errorf("the error reveals the secret: %s", bad)
	}
}
