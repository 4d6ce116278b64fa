package neonauth

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// rows indexes a comparison's rows by key.
func rows(t *testing.T, c *Comparison) map[string]CompareRow {
	t.Helper()
	out := map[string]CompareRow{}
	differs := 0
	for _, s := range c.Sections {
		for _, r := range s.Rows {
			if _, dup := out[r.Key]; dup {
				t.Fatalf("row %q listed twice", r.Key)
			}
			out[r.Key] = r
			if r.Differs {
				differs++
			}
		}
	}
	if differs != c.Differences {
		t.Errorf("Differences = %d, but %d rows differ", c.Differences, differs)
	}
	return out
}

// TestCompareMarksDifferencesWithoutSecrets: a preview branch starts as a
// copy of its parent; changed settings are marked, secrets show only as set
// or not set, and no secret reaches the comparison in any form.
func TestCompareMarksDifferencesWithoutSecrets(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	pid, main, preview := e.project.ID, e.project.BranchID, e.preview

	c, err := e.svc.CompareBranches(ctx, pid, main, preview, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Differences != 0 {
		t.Errorf("a fresh branch differs from its parent in %d rows: %+v", c.Differences, c.Sections)
	}
	if c.A.Branch.ID != main || c.B.Branch.ID != preview || !c.A.Branch.Default || c.A.Settings == nil || c.B.Settings == nil {
		t.Errorf("sides: %+v / %+v", c.A.Branch, c.B.Branch)
	}

	const oauthSecret, smtpPassword = "oauth-secret-d41d8cd9", "smtp-password-8f00b204"
	if _, err := e.neon.UpdateOAuthProvider(ctx, pid, preview, neonapi.OAuthGoogle, neonapi.UpdateOAuthProviderRequest{
		ClientID: "preview.apps.googleusercontent.com", ClientSecret: neonapi.NewSecret(oauthSecret),
	}); err != nil {
		t.Fatal(err)
	}
	server := neonapi.EmailServer{
		Type: neonapi.EmailServerStandard, Host: "smtp.example.com", Port: 587, Username: "mailer-a",
		Password: neonapi.NewSecret(smtpPassword), SenderEmail: "auth@example.com", SenderName: "Example",
	}
	if _, err := e.neon.UpdateEmailProvider(ctx, pid, main, server); err != nil {
		t.Fatal(err)
	}
	server.Username = "mailer-b"
	if _, err := e.neon.UpdateEmailProvider(ctx, pid, preview, server); err != nil {
		t.Fatal(err)
	}
	if err := e.neon.AddTrustedDomain(ctx, pid, preview, neonapi.AddTrustedDomainRequest{Domain: "https://preview.example.com", AuthProvider: authprovider.BetterAuth}); err != nil {
		t.Fatal(err)
	}

	c, err = e.svc.CompareBranches(ctx, pid, main, preview, false)
	if err != nil {
		t.Fatal(err)
	}
	got := rows(t, c)
	want := map[string][2]string{
		"trusted-domains":            {"none", "https://preview.example.com"},
		"oauth-google":               {"Neon's shared credentials", "own credentials"},
		"oauth-google-client-id":     {"none", "preview.apps.googleusercontent.com"},
		"oauth-google-client-secret": {"not set", "set"},
		// Both read "set", but the user names differ.
		"smtp-username": {"set", "set"},
	}
	for key, w := range want {
		r, ok := got[key]
		if !ok || !r.Differs || r.A != w[0] || r.B != w[1] {
			t.Errorf("row %s = %+v, want %q vs %q marked as differing", key, r, w[0], w[1])
		}
	}
	for _, key := range []string{"email-server", "smtp-host", "smtp-port", "smtp-password", "allow-localhost", "database"} {
		if r := got[key]; r.Differs || r.A == "" {
			t.Errorf("row %s = %+v, want the same value on both", key, r)
		}
	}
	if r := got["smtp-password"]; r.A != "set" || r.B != "set" {
		t.Errorf("smtp-password = %+v, want set on both", r)
	}
	if c.Differences != len(want) {
		t.Errorf("Differences = %d, want %d", c.Differences, len(want))
	}
	for _, dump := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", c.Sections)} {
		for _, secret := range []string{oauthSecret, smtpPassword, "mailer-a", "mailer-b", "smtp.example.com"} {
			if strings.Contains(dump, secret) {
				t.Errorf("the comparison contains %q", secret)
			}
		}
	}
	for _, r := range got {
		for _, v := range []string{r.A, r.B} {
			if strings.Contains(v, "mailer") || strings.Contains(v, "smtp.example.com") || strings.Contains(v, "secret") || strings.Contains(v, "password-") {
				t.Errorf("row %s shows %q", r.Key, v)
			}
		}
	}
}

// TestCompareWithBranchWithoutAuth: a branch made before Neon Auth was
// enabled has none; the comparison says so rather than failing.
func TestCompareWithBranchWithoutAuth(t *testing.T) {
	e := newServiceEnv(t)
	ctx := context.Background()
	bare, err := e.neon.CreateBranch(ctx, e.project.ID, neonapi.CreateBranchRequest{Name: "before-auth"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.neon.EnableBranchAuth(ctx, e.project.ID, e.project.BranchID, neonapi.EnableBranchAuthRequest{
		AuthProvider: authprovider.BetterAuth, DatabaseName: e.project.DatabaseName,
	}); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.CompareBranches(ctx, e.project.ID, e.project.BranchID, bare.Branch.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.A.Settings == nil || c.A.Provider != authprovider.BetterAuth || c.B.Settings != nil || c.B.Provider != "" || c.B.Branch.Name != "before-auth" {
		t.Fatalf("sides: A %+v %q, B %+v %q", c.A.Branch, c.A.Provider, c.B.Branch, c.B.Provider)
	}
	r := rows(t, c)
	if d := r["allow-localhost"]; d.A != "allowed" || d.B != "—" || !d.Differs {
		t.Errorf("allow-localhost = %+v", d)
	}
	if c.Differences != len(r) {
		t.Errorf("%d of %d rows differ; every settings row should", c.Differences, len(r))
	}

	if _, err := e.svc.CompareBranches(ctx, e.project.ID, e.project.BranchID, "br-missing", false); err == nil {
		t.Error("a missing branch compared without an error")
	}
}
