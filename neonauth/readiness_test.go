package neonauth

import (
	"context"
	"errors"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// authEnv is a project whose default branch has Better Auth with the
// sandbox's defaults (Neon's documented ones), and a preview branch created
// from it afterwards, which inherits a copy of those settings.
type authEnv struct {
	*serviceEnv
	preview string
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	e := newServiceEnv(t)
	ctx := context.Background()
	if _, err := e.neon.EnableBranchAuth(ctx, e.project.ID, e.project.BranchID, neonapi.EnableBranchAuthRequest{
		AuthProvider: authprovider.BetterAuth, DatabaseName: e.project.DatabaseName,
	}); err != nil {
		t.Fatalf("enable Better Auth: %v", err)
	}
	br, err := e.neon.CreateBranch(ctx, e.project.ID, neonapi.CreateBranchRequest{Name: "preview"})
	if err != nil {
		t.Fatalf("create branch: %v", err)
	}
	return &authEnv{serviceEnv: e, preview: br.Branch.ID}
}

// readiness checks a branch and indexes its items by key.
func (e *authEnv) readiness(t *testing.T, branchID string) (*Readiness, map[string]ReadinessItem) {
	t.Helper()
	r, err := e.svc.BranchReadiness(context.Background(), e.project.ID, branchID)
	if err != nil {
		t.Fatalf("BranchReadiness(%s): %v", branchID, err)
	}
	byKey := map[string]ReadinessItem{}
	for _, it := range r.Items {
		if _, dup := byKey[it.Key]; dup {
			t.Fatalf("item %q listed twice", it.Key)
		}
		if it.Explanation == "" || it.Title == "" || it.Form == "" {
			t.Errorf("item %q lacks a title, an explanation or a form: %+v", it.Key, it)
		}
		byKey[it.Key] = it
	}
	return r, byKey
}

func statuses(items map[string]ReadinessItem) map[string]Status {
	out := map[string]Status{}
	for k, it := range items {
		out[k] = it.Status
	}
	return out
}

// TestReadinessOfNeonDefaults: a branch with Neon's default settings is not
// ready, and the default branch is judged more strictly than a preview.
func TestReadinessOfNeonDefaults(t *testing.T) {
	e := newAuthEnv(t)
	for _, tc := range []struct {
		branch string
		want   map[string]Status
		sum    ReadinessSummary
	}{
		{e.project.BranchID, map[string]Status{
			"trusted-domains": StatusRed, "localhost": StatusRed, "oauth-credentials": StatusRed,
			"email-provider": StatusRed, "email-verification": StatusRed, "webhooks": StatusInfo,
		}, ReadinessSummary{Status: StatusRed, Red: 5, Info: 1}},
		{e.preview, map[string]Status{
			"trusted-domains": StatusRed, "localhost": StatusAmber, "oauth-credentials": StatusRed,
			"email-provider": StatusAmber, "email-verification": StatusAmber, "webhooks": StatusInfo,
		}, ReadinessSummary{Status: StatusRed, Red: 2, Amber: 3, Info: 1}},
	} {
		r, items := e.readiness(t, tc.branch)
		if got := statuses(items); !equalMaps(got, tc.want) {
			t.Errorf("branch %s: statuses %v, want %v", tc.branch, got, tc.want)
		}
		if r.Summary != tc.sum {
			t.Errorf("branch %s: summary %+v, want %+v", tc.branch, r.Summary, tc.sum)
		}
		if r.Branch.ID != tc.branch || r.ProjectID != e.project.ID {
			t.Errorf("readiness names branch %q of %q", r.Branch.ID, r.ProjectID)
		}
	}
}

func equalMaps[K, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestReadinessRulesTurnGreen changes one setting at a time through the
// client, on the default branch, and watches only its item turn green; the
// last step leaves every item green.
func TestReadinessRulesTurnGreen(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	pid, bid := e.project.ID, e.project.BranchID
	steps := []struct {
		key    string
		before Status
		fix    func() error
	}{
		{"trusted-domains", StatusRed, func() error {
			return e.neon.AddTrustedDomain(ctx, pid, bid, neonapi.AddTrustedDomainRequest{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth})
		}},
		{"localhost", StatusRed, func() error {
			_, err := e.neon.UpdateAllowLocalhost(ctx, pid, bid, false)
			return err
		}},
		{"oauth-credentials", StatusRed, func() error {
			_, err := e.neon.UpdateOAuthProvider(ctx, pid, bid, neonapi.OAuthGoogle, neonapi.UpdateOAuthProviderRequest{
				ClientID: "1234.apps.googleusercontent.com", ClientSecret: neonapi.NewSecret("google-secret"),
			})
			return err
		}},
		{"email-provider", StatusRed, func() error {
			_, err := e.neon.UpdateEmailProvider(ctx, pid, bid, neonapi.EmailServer{
				Type: neonapi.EmailServerStandard, Host: "smtp.example.com", Port: 587, Username: "mailer",
				Password: neonapi.NewSecret("smtp-secret"), SenderEmail: "auth@example.com", SenderName: "Example",
			})
			return err
		}},
		{"email-verification", StatusRed, func() error {
			on := true
			_, err := e.neon.UpdateEmailAndPasswordConfig(ctx, pid, bid, neonapi.EmailAndPasswordConfigUpdate{RequireEmailVerification: &on})
			return err
		}},
		{"webhooks", StatusInfo, func() error {
			_, err := e.neon.UpdateWebhookConfig(ctx, pid, bid, neonapi.WebhookConfig{
				Enabled: true, WebhookURL: "https://hooks.example.com/auth?token=abc", EnabledEvents: []neonapi.WebhookEvent{neonapi.WebhookUserCreated},
			})
			return err
		}},
	}
	for _, st := range steps {
		_, before := e.readiness(t, bid)
		if got := before[st.key].Status; got != st.before {
			t.Fatalf("%s before the fix: %s (%s), want %s", st.key, got, before[st.key].Explanation, st.before)
		}
		if err := st.fix(); err != nil {
			t.Fatalf("fix %s: %v", st.key, err)
		}
		_, after := e.readiness(t, bid)
		for k, it := range after {
			want := before[k].Status
			if k == st.key {
				want = StatusGreen
			}
			if it.Status != want {
				t.Errorf("after fixing %s: %s is %s (%s), want %s", st.key, k, it.Status, it.Explanation, want)
			}
		}
	}
	r, _ := e.readiness(t, bid)
	if want := (ReadinessSummary{Status: StatusGreen, Green: 6}); r.Summary != want || r.Summary.Label() != "Ready" {
		t.Errorf("all fixed: summary %+v (%q), want %+v", r.Summary, r.Summary.Label(), want)
	}
	for _, it := range r.Items {
		if it.Key == "webhooks" && it.Explanation != "user.created is posted to https://hooks.example.com." {
			t.Errorf("webhook explanation %q shows more than the destination's host", it.Explanation)
		}
	}
}

// TestReadinessSecondaryRules covers the verdicts besides a setting's
// default and its fix: plain http domains, a provider removed rather than
// given credentials, sign-in without email and password, and phone sign-in
// with no webhook to deliver its codes.
func TestReadinessSecondaryRules(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	pid, bid := e.project.ID, e.project.BranchID
	check := func(step, key string, want Status) {
		t.Helper()
		_, items := e.readiness(t, bid)
		if got := items[key]; got.Status != want {
			t.Errorf("%s: %s is %s (%s), want %s", step, key, got.Status, got.Explanation, want)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	dom := func(d string) neonapi.AddTrustedDomainRequest {
		return neonapi.AddTrustedDomainRequest{Domain: d, AuthProvider: authprovider.BetterAuth}
	}

	must(e.neon.AddTrustedDomain(ctx, pid, bid, dom("http://localhost:3000")))
	check("a loopback http domain", "trusted-domains", StatusGreen)
	must(e.neon.AddTrustedDomain(ctx, pid, bid, dom("http://app.example.com")))
	check("a plain http domain", "trusted-domains", StatusAmber)
	must(e.neon.DeleteTrustedDomains(ctx, pid, bid, neonapi.DeleteTrustedDomainsRequest{AuthProvider: authprovider.BetterAuth, Domains: []string{"http://app.example.com"}}))
	check("the http domain removed", "trusted-domains", StatusGreen)

	_, err := e.neon.AddOAuthProvider(ctx, pid, bid, neonapi.AddOAuthProviderRequest{ID: neonapi.OAuthGitHub, ClientID: "gh-id", ClientSecret: neonapi.NewSecret("gh-secret")})
	must(err)
	check("github own, google shared", "oauth-credentials", StatusRed)
	must(e.neon.DeleteOAuthProvider(ctx, pid, bid, neonapi.OAuthGoogle))
	check("google removed", "oauth-credentials", StatusGreen)
	must(e.neon.DeleteOAuthProvider(ctx, pid, bid, neonapi.OAuthGitHub))
	check("no provider at all", "oauth-credentials", StatusGreen)

	off := false
	_, err = e.neon.UpdateEmailAndPasswordConfig(ctx, pid, bid, neonapi.EmailAndPasswordConfigUpdate{Enabled: &off})
	must(err)
	check("email and password off", "email-verification", StatusGreen)

	on, otp := true, neonapi.WebhookSendOTP
	_, err = e.neon.UpdatePhoneNumberPlugin(ctx, pid, bid, neonapi.PhoneNumberConfigUpdate{Enabled: &on})
	must(err)
	check("phone sign-in without a webhook", "webhooks", StatusRed)
	hook := neonapi.WebhookConfig{Enabled: true, WebhookURL: "https://hooks.example.com/auth", EnabledEvents: []neonapi.WebhookEvent{neonapi.WebhookUserCreated}}
	_, err = e.neon.UpdateWebhookConfig(ctx, pid, bid, hook)
	must(err)
	check("phone sign-in, webhook without send.otp", "webhooks", StatusRed)
	hook.EnabledEvents = append(hook.EnabledEvents, otp)
	_, err = e.neon.UpdateWebhookConfig(ctx, pid, bid, hook)
	must(err)
	check("phone sign-in, send.otp delivered", "webhooks", StatusGreen)
	hook.Enabled = false
	_, err = e.neon.UpdateWebhookConfig(ctx, pid, bid, hook)
	must(err)
	check("phone sign-in, webhook switched off", "webhooks", StatusRed)
}

// TestReadinessWithoutBranchAuth: a branch without Better Auth, and one
// served by project-level Stack Auth, are told apart from a missing branch.
func TestReadinessWithoutBranchAuth(t *testing.T) {
	e := newServiceEnv(t)
	ctx := context.Background()
	_, err := e.svc.BranchReadiness(ctx, e.project.ID, e.project.BranchID)
	var none *NoBranchAuthError
	if !errors.As(err, &none) || !errors.Is(err, ErrNoBranchAuth) || none.Branch.ID != e.project.BranchID || none.Provider != "" {
		t.Errorf("no Neon Auth: err = %v (%+v), want a NoBranchAuthError naming the branch", err, none)
	}

	_, err = e.svc.BranchReadiness(ctx, e.project.ID, "br-no-such-branch")
	if !errors.Is(err, neonapi.ErrNotFound) || errors.Is(err, ErrNoBranchAuth) {
		t.Errorf("missing branch: err = %v, want Neon's 404", err)
	}

	if _, err := e.neon.CreateIntegration(ctx, neonapi.CreateIntegrationRequest{
		AuthProvider: authprovider.Stack, ProjectID: e.project.ID, BranchID: e.project.BranchID,
		DatabaseName: e.project.DatabaseName, RoleName: e.project.RoleName,
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.BranchReadiness(ctx, e.project.ID, e.project.BranchID)
	if !errors.As(err, &none) || none.Provider != authprovider.Stack {
		t.Errorf("Stack Auth: err = %v (%+v), want a NoBranchAuthError naming Stack Auth", err, none)
	}
}

// TestSummarize: info never lowers the verdict, and the text counts each kind.
func TestSummarize(t *testing.T) {
	items := func(ss ...Status) []ReadinessItem {
		out := make([]ReadinessItem, len(ss))
		for i, s := range ss {
			out[i] = ReadinessItem{Status: s}
		}
		return out
	}
	for _, tc := range []struct {
		in   []ReadinessItem
		want Status
		text string
	}{
		{items(StatusGreen, StatusInfo), StatusGreen, "Ready: 1 ready, 1 optional"},
		{items(StatusGreen, StatusAmber, StatusInfo), StatusAmber, "Needs attention: 1 needing attention, 1 ready, 1 optional"},
		{items(StatusRed, StatusAmber, StatusRed), StatusRed, "Not ready: 2 blocking, 1 needing attention"},
	} {
		s := Summarize(tc.in)
		if s.Status != tc.want || s.Text() != tc.text {
			t.Errorf("Summarize = %s %q, want %s %q", s.Status, s.Text(), tc.want, tc.text)
		}
	}
}
