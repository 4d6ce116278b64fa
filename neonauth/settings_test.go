package neonauth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

func TestNormalizeTrustedDomain(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
		refused   bool
	}{
		{raw: "https://app.example.com", want: "https://app.example.com"},
		{raw: " HTTPS://App.Example.COM/ ", want: "https://app.example.com"},
		{raw: "http://localhost:3000", want: "http://localhost:3000"},
		{raw: "https://*.example.com", want: "https://*.example.com"},
		{raw: "https://10.0.0.7:8443", want: "https://10.0.0.7:8443"},
		{raw: "app.example.com", refused: true},
		{raw: "", refused: true},
		{raw: "ftp://example.com", refused: true},
		{raw: "https://example.com/path", refused: true},
		{raw: "https://example.com?x=1", refused: true},
		{raw: "https://example.com?", refused: true},
		{raw: "https://example.com#top", refused: true},
		{raw: "https://user:pw@example.com", refused: true},
		{raw: "https://exa mple.com", refused: true},
		{raw: "https://example.com:0", refused: true},
		{raw: "https://example.com:70000", refused: true},
		{raw: "https://", refused: true},
		{raw: "https://" + strings.Repeat("a", 2100) + ".com", refused: true},
	} {
		got, msg := NormalizeTrustedDomain(tc.raw)
		if tc.refused != (msg != "") || got != tc.want && !tc.refused {
			t.Errorf("NormalizeTrustedDomain(%.40q) = %q, %q; want %q (refused %v)", tc.raw, got, msg, tc.want, tc.refused)
		}
	}
}

// TestRefusedSettingsNeverReachNeon: a change with any field at fault is an
// *InvalidSettingsError naming the fields, not their values, and the API is
// never called (a nil API would panic).
func TestRefusedSettingsNeverReachNeon(t *testing.T) {
	s := NewSettingsService(nil)
	bs := &BranchSettings{ProjectID: "p", BranchID: "b", Integration: &neonapi.Integration{AuthProvider: authprovider.BetterAuth}}
	ctx := context.Background()
	const secret = "never-in-an-error-9c1"
	for name, err := range map[string]error{
		"oauth":    s.AddOAuthProvider(ctx, bs, OAuthProviderForm{ID: "github", Credentials: OAuthOwnCredentials, ClientSecret: neonapi.NewSecret(secret)}),
		"org":      s.UpdateOrganization(ctx, bs, OrganizationForm{OrganizationLimit: "0", MembershipLimit: "1", CreatorRole: "owner"}),
		"magic":    s.UpdateMagicLink(ctx, bs, MagicLinkForm{ExpiresIn: "4"}),
		"phone":    s.UpdatePhoneNumber(ctx, bs, PhoneNumberForm{OTPExpiresIn: "601"}),
		"webhooks": s.UpdateWebhooks(ctx, bs, WebhookForm{Enabled: true}),
		"app":      s.UpdateApplication(ctx, bs, ApplicationForm{Name: " "}),
		"method":   s.UpdateEmailAndPassword(ctx, bs, EmailAndPasswordForm{VerificationMethod: "sms"}),
	} {
		var invalid *InvalidSettingsError
		if !errors.As(err, &invalid) || !errors.Is(err, ErrInvalidSettings) || len(invalid.Fields) == 0 {
			t.Errorf("%s: err = %v, want an *InvalidSettingsError", name, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error carries the secret", name)
		}
	}
	_, err := s.SendTestEmail(ctx, bs, TestEmailForm{Server: EmailServerForm{Password: neonapi.NewSecret(secret)}})
	var invalid *InvalidSettingsError
	if !errors.As(err, &invalid) {
		t.Fatalf("test email: %v", err)
	}
	for _, f := range []string{"host", "port", "username", "sender_email", "sender_name", "recipient_email"} {
		if invalid.Fields[f] == "" {
			t.Errorf("test email: no message for %s", f)
		}
	}
	if _, ok := invalid.Fields["password"]; ok {
		t.Error("test email: a typed password is refused")
	}
	if err := s.SetAllowLocalhost(ctx, &BranchSettings{NotBranchAuth: &NotBranchAuth{Provider: authprovider.Stack}}, true); !errors.Is(err, ErrNotBranchAuth) {
		t.Errorf("a change to a Stack Auth branch: %v", err)
	}
}
