package neonauth

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// A change's before and after name only what changed, and no secret or
// sensitive value is in either, whatever changed.
func TestAuditDiffRedactsSecrets(t *testing.T) {
	const password, secret, host, token = "smtp-pass-4471", "oauth-secret-9932", "smtp.internal.example", "tok-5521"
	before := &BranchSettings{
		EmailServer:    Loaded[*neonapi.EmailServer]{Value: &neonapi.EmailServer{Type: neonapi.EmailServerShared}},
		OAuthProviders: Loaded[[]neonapi.OAuthProvider]{Value: []neonapi.OAuthProvider{{ID: neonapi.OAuthGoogle, Type: neonapi.OAuthShared}}},
		Webhooks:       Loaded[*neonapi.WebhookConfig]{Value: &neonapi.WebhookConfig{Enabled: true, WebhookURL: "https://hooks.example.com/a?token=" + token}},
	}
	after := &BranchSettings{
		EmailServer: Loaded[*neonapi.EmailServer]{Value: &neonapi.EmailServer{Type: neonapi.EmailServerStandard, Host: host, Port: 587,
			Username: "mailer", Password: neonapi.NewSecret(password), SenderEmail: "auth@example.com"}},
		OAuthProviders: Loaded[[]neonapi.OAuthProvider]{Value: []neonapi.OAuthProvider{{ID: neonapi.OAuthGoogle, Type: neonapi.OAuthStandard,
			ClientID: "cid", ClientSecret: neonapi.NewSecret(secret)}}},
		Webhooks: Loaded[*neonapi.WebhookConfig]{Value: &neonapi.WebhookConfig{Enabled: true, WebhookURL: "https://hooks.example.com/b?token=other"}},
	}
	b, a := AuditDiff(before.AuditValues(GroupEmail), after.AuditValues(GroupEmail), "email_server.password")
	want := map[string][2]string{
		"email_server.type":         {"shared", "standard"},
		"email_server.host":         {"not set", AuditChanged},
		"email_server.username":     {"not set", AuditChanged},
		"email_server.password":     {"not set", AuditChanged},
		"email_server.port":         {"0", "587"},
		"email_server.sender_email": {"", "auth@example.com"},
	}
	check := func(b, a map[string]string, want map[string][2]string) {
		t.Helper()
		if len(b) != len(want) || len(a) != len(want) {
			t.Errorf("before %v after %v, want %v", b, a, want)
		}
		for k, w := range want {
			if b[k] != w[0] || a[k] != w[1] {
				t.Errorf("%s: %q → %q, want %q → %q", k, b[k], a[k], w[0], w[1])
			}
		}
		enc, _ := json.Marshal([]any{b, a})
		for _, s := range []string{password, secret, host, token, "mailer"} {
			if strings.Contains(string(enc), s) {
				t.Errorf("%s reached the diff: %s", s, enc)
			}
		}
	}
	check(b, a, want)

	// A secret retyped with nothing else changed still shows as changed.
	b, a = AuditDiff(after.AuditValues(GroupEmail), after.AuditValues(GroupEmail), "email_server.password")
	check(b, a, map[string][2]string{"email_server.password": {AuditRedacted, AuditChanged}})
	b, a = AuditDiff(after.AuditValues(GroupEmail), after.AuditValues(GroupEmail))
	check(b, a, map[string][2]string{})

	b, a = AuditDiff(before.AuditValues(GroupSignIn), after.AuditValues(GroupSignIn), "oauth.google.client_secret")
	check(b, a, map[string][2]string{
		"oauth.google.type":          {"shared", "standard"},
		"oauth.google.client_id":     {"", "cid"},
		"oauth.google.client_secret": {"not set", AuditChanged},
	})
	b, a = AuditDiff(before.AuditValues(GroupWebhooks), after.AuditValues(GroupWebhooks))
	check(b, a, map[string][2]string{"webhook.url": {"https://hooks.example.com", "https://hooks.example.com " + AuditChanged}})
}
