package neonauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// Secrets the copy tests type; none may reach a plan.
const (
	copySMTPPassword = "smtp-pass-5e884898"
	copyOAuthSecret  = "oauth-secret-a665a459"
)

// makeReady configures the default branch for production through the
// client: a trusted domain, no localhost, own Google credentials, an own
// SMTP server, verification required, a webhook whose URL has a path.
func makeReady(t *testing.T, e *authEnv) {
	t.Helper()
	ctx := context.Background()
	pid, bid := e.project.ID, e.project.BranchID
	on := true
	for _, step := range []func() error{
		func() error {
			return e.neon.AddTrustedDomain(ctx, pid, bid, neonapi.AddTrustedDomainRequest{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth})
		},
		func() error { _, err := e.neon.UpdateAllowLocalhost(ctx, pid, bid, false); return err },
		func() error {
			_, err := e.neon.UpdateOAuthProvider(ctx, pid, bid, neonapi.OAuthGoogle, neonapi.UpdateOAuthProviderRequest{
				ClientID: "1234.apps.googleusercontent.com", ClientSecret: neonapi.NewSecret("main-google-secret"),
			})
			return err
		},
		func() error {
			_, err := e.neon.UpdateEmailProvider(ctx, pid, bid, neonapi.EmailServer{
				Type: neonapi.EmailServerStandard, Host: "smtp.example.com", Port: 587, Username: "mailer",
				Password: neonapi.NewSecret("main-smtp-secret"), SenderEmail: "auth@example.com", SenderName: "Example",
			})
			return err
		},
		func() error {
			_, err := e.neon.UpdateEmailAndPasswordConfig(ctx, pid, bid, neonapi.EmailAndPasswordConfigUpdate{RequireEmailVerification: &on})
			return err
		},
		func() error {
			_, err := e.neon.UpdateWebhookConfig(ctx, pid, bid, neonapi.WebhookConfig{
				Enabled: true, WebhookURL: "https://hooks.example.com/neon/auth-events", EnabledEvents: []neonapi.WebhookEvent{neonapi.WebhookEvents[0]},
			})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatalf("configure the default branch: %v", err)
		}
	}
}

func stepKeys(p *CopyPlan) []string {
	out := make([]string, len(p.Steps))
	for i, st := range p.Steps {
		out[i] = st.Key
	}
	return out
}

// writeBodies records the paths and bodies of the writes a client sends, to
// show that a typed secret reached Neon; the requests also pass through the
// environment's log.
type writeBodies struct {
	e     *authEnv
	mu    sync.Mutex
	calls []string
}

func (w *writeBodies) client(t *testing.T) *neonapi.Client {
	t.Helper()
	c, err := neonapi.New("test-key", neonapi.WithBaseURL(w.e.apiURL), neonapi.WithoutRateLimit(), neonapi.WithHTTPClient(&http.Client{Transport: w}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *writeBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		w.mu.Lock()
		w.calls = append(w.calls, r.URL.Path+" "+string(b))
		w.mu.Unlock()
	}
	return w.e.log.RoundTrip(r)
}

func (w *writeBodies) find(path string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.calls {
		if p, body, _ := strings.Cut(c, " "); strings.HasSuffix(p, path) {
			return body
		}
	}
	return ""
}

// noStep is a step's callback for tests that do not audit.
func noStep(context.Context, CopyStep, error) {}

func sameCtx(ctx context.Context) context.Context { return ctx }

// TestCopyMakesTheTargetMatch: a plan lists each change with the secrets it
// needs; refused without them and made with them, after which the fresh
// branch is as ready as its source and a new plan is empty.
func TestCopyMakesTheTargetMatch(t *testing.T) {
	e := newAuthEnv(t)
	makeReady(t, e)
	ctx := context.Background()
	bodies := &writeBodies{e: e}
	svc := NewSettingsService(bodies.client(t))
	pid, main, preview := e.project.ID, e.project.BranchID, e.preview

	plan, err := svc.PlanCopy(ctx, pid, main, preview, CopyGroups, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"domain-add https://app.example.com", "localhost", "email-server", "oauth-google-update", "email-password", "webhooks"}
	if got := stepKeys(plan); !slices.Equal(got, want) {
		t.Fatalf("steps %q, want %q", got, want)
	}
	var inputs []string
	for _, in := range plan.Inputs() {
		inputs = append(inputs, in.Field)
		if !in.Secret || in.Optional {
			t.Errorf("input %+v: want a required secret", in)
		}
	}
	if !slices.Equal(inputs, []string{"email_password", "oauth-google_client_secret"}) {
		t.Errorf("inputs %q", inputs)
	}
	// Admins see the webhook's whole URL.
	wh := plan.StepsIn(GroupWebhooks)[0]
	if !slices.ContainsFunc(wh.Changes, func(c CopyChange) bool { return c.After == "https://hooks.example.com/neon/auth-events" }) {
		t.Errorf("webhook changes %+v lack the whole URL", wh.Changes)
	}

	e.log.Take()
	errs := svc.CheckCopy(plan, CopyValues{})
	if len(errs) != 2 || errs["email_password"] == "" || errs["oauth-google_client_secret"] == "" {
		t.Errorf("check without secrets: %v", errs)
	}
	if errs := svc.CheckCopy(plan, CopyValues{"email_password": copySMTPPassword, "oauth-google_client_secret": copyOAuthSecret}); len(errs) != 0 {
		t.Errorf("check with secrets: %v", errs)
	}
	if calls := e.log.Take(); len(calls) != 0 {
		t.Errorf("checking asked Neon: %q", calls)
	}

	var audited []string
	res := svc.ApplyCopy(ctx, plan, CopyValues{"email_password": copySMTPPassword, "oauth-google_client_secret": copyOAuthSecret}, sameCtx,
		func(_ context.Context, st CopyStep, err error) {
			if err != nil {
				t.Errorf("step %s: %v", st.Key, err)
			}
			audited = append(audited, st.Action)
		})
	if res.Failed != nil || len(res.Applied) != len(want) || len(res.NotAttempted) != 0 {
		t.Fatalf("result: applied %d, failed %v (%v), not attempted %d", len(res.Applied), res.Failed, res.Err, len(res.NotAttempted))
	}
	if !slices.Equal(audited, []string{"auth.domains.add", "auth.localhost.update", "auth.email.update", "auth.oauth.update", "auth.email_password.update", "auth.webhooks.update"}) {
		t.Errorf("audited %q", audited)
	}
	var writes []string
	for _, c := range e.log.Take() {
		if !strings.HasPrefix(c, "GET ") {
			writes = append(writes, c)
		}
		if strings.Contains(c, copySMTPPassword) || strings.Contains(c, copyOAuthSecret) {
			t.Errorf("a request line carries a secret: %s", c)
		}
	}
	if len(writes) != len(want) || !strings.Contains(strings.Join(writes, " "), "/branches/"+preview+"/") || strings.Contains(strings.Join(writes, " "), "/branches/"+main+"/") {
		t.Errorf("writes %q: want %d, all to the preview branch", writes, len(want))
	}

	// The secrets were sent to Neon, each in its own write.
	for _, want := range []struct{ path, secret string }{
		{"/auth/email_provider", copySMTPPassword}, {"/auth/oauth_providers/google", copyOAuthSecret},
	} {
		if body := bodies.find(want.path); !strings.Contains(body, want.secret) {
			t.Errorf("the write to %s did not carry its secret: %q", want.path, body)
		}
	}
	c, err := NewSettingsService(e.neon).PlanCopy(ctx, pid, main, preview, CopyGroups, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Steps) != 0 {
		t.Errorf("after the copy a new plan still has %q", stepKeys(c))
	}
	r, _ := e.readiness(t, preview)
	if r.Summary.Red != 0 || r.Summary.Amber != 0 {
		t.Errorf("the preview after the copy: %+v", r.Summary)
	}
}

// TestCopyStopsAtTheFirstFailure: a refusal midway leaves the steps before
// it made, says which failed, and makes none after it; a write whose answer
// never came is marked unknown.
func TestCopyStopsAtTheFirstFailure(t *testing.T) {
	for _, tc := range []struct {
		kind    sandbox.FaultKind
		unknown bool
	}{{sandbox.FaultLocked, false}, {sandbox.FaultDrop, true}} {
		t.Run(string(tc.kind), func(t *testing.T) {
			e := newAuthEnv(t)
			makeReady(t, e)
			ctx := context.Background()
			svc := NewSettingsService(e.neon)
			pid, main, preview := e.project.ID, e.project.BranchID, e.preview
			plan, err := svc.PlanCopy(ctx, pid, main, preview, CopyGroups, false)
			if err != nil {
				t.Fatal(err)
			}
			e.sb.InjectFault(sandbox.Fault{Kind: tc.kind, Count: 5, PathContains: "/branches/" + preview + "/auth/email_provider", Method: "PATCH"})
			res := svc.ApplyCopy(ctx, plan, CopyValues{"email_password": copySMTPPassword, "oauth-google_client_secret": copyOAuthSecret}, sameCtx, noStep)
			if res.Failed == nil || res.Failed.Key != "email-server" {
				t.Fatalf("failed step %+v (%v)", res.Failed, res.Err)
			}
			if got := stepKeys(&CopyPlan{Steps: res.Applied}); !slices.Equal(got, []string{"domain-add https://app.example.com", "localhost"}) {
				t.Errorf("applied %q", got)
			}
			if len(res.NotAttempted) != 3 {
				t.Errorf("not attempted %q", stepKeys(&CopyPlan{Steps: res.NotAttempted}))
			}
			if res.Unknown() != tc.unknown {
				t.Errorf("unknown = %v for %s: %v", res.Unknown(), tc.kind, res.Err)
			}
			e.sb.ClearFaults()
			// Neon holds exactly what the result says: the domain and
			// localhost copied, sign-in untouched.
			left, err := svc.PlanCopy(ctx, pid, main, preview, CopyGroups, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := stepKeys(left); !slices.Equal(got, []string{"email-server", "oauth-google-update", "email-password", "webhooks"}) && !tc.unknown {
				t.Errorf("left to copy %q", got)
			}
		})
	}
}

// TestCopyPlanFollowsTheBranches: the fingerprint changes when either branch
// does; groups left out are not touched; the same branch twice and a branch
// without Better Auth are refused.
func TestCopyPlanFollowsTheBranches(t *testing.T) {
	e := newAuthEnv(t)
	makeReady(t, e)
	ctx := context.Background()
	svc := NewSettingsService(e.neon)
	pid, main, preview := e.project.ID, e.project.BranchID, e.preview

	domains, err := svc.PlanCopy(ctx, pid, main, preview, []SettingsGroup{GroupDomains}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := stepKeys(domains); !slices.Equal(got, []string{"domain-add https://app.example.com", "localhost"}) {
		t.Errorf("domains only: %q", got)
	}
	if err := e.neon.AddTrustedDomain(ctx, pid, preview, neonapi.AddTrustedDomainRequest{Domain: "https://preview.example.com", AuthProvider: authprovider.BetterAuth}); err != nil {
		t.Fatal(err)
	}
	again, err := svc.PlanCopy(ctx, pid, main, preview, []SettingsGroup{GroupDomains}, false)
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint == domains.Fingerprint {
		t.Error("the fingerprint did not change with the target branch")
	}
	if got := stepKeys(again); !slices.Contains(got, "domain-remove https://preview.example.com") {
		t.Errorf("a domain only the target trusts is not removed: %q", got)
	}

	if _, err := svc.PlanCopy(ctx, pid, main, main, CopyGroups, false); !errors.Is(err, ErrCopySameBranch) {
		t.Errorf("same branch: %v", err)
	}
	bare, err := e.neon.CreateBranch(ctx, pid, neonapi.CreateBranchRequest{Name: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.neon.DisableBranchAuth(ctx, pid, bare.Branch.ID, false); err != nil {
		t.Fatal(err)
	}
	var none *NoBranchAuthError
	if _, err := svc.PlanCopy(ctx, pid, main, bare.Branch.ID, CopyGroups, false); !errors.As(err, &none) || none.Branch.ID != bare.Branch.ID {
		t.Errorf("branch without Better Auth: %v", err)
	}
}

// TestCopyAddsWaysInBeforeTakingAnyAway: in the sign-in group, providers
// added or changed come first (one moved back to shared credentials is
// removed and added again, side by side), then email and password, then the
// providers the source does not have; so a copy stopped midway never leaves
// the branch without a way in that it had.
func TestCopyAddsWaysInBeforeTakingAnyAway(t *testing.T) {
	src := &SettingsSnapshot{
		Branch:           neonapi.Branch{ID: "br-src"},
		EmailAndPassword: neonapi.EmailAndPasswordConfig{Enabled: false},
		OAuth:            []neonapi.OAuthProvider{{ID: neonapi.OAuthGoogle, Type: neonapi.OAuthShared}},
	}
	dst := &SettingsSnapshot{
		Branch:           neonapi.Branch{ID: "br-dst"},
		EmailAndPassword: neonapi.EmailAndPasswordConfig{Enabled: true},
		OAuth: []neonapi.OAuthProvider{
			{ID: neonapi.OAuthGoogle, Type: neonapi.OAuthStandard, ClientID: "own.apps.googleusercontent.com"},
			{ID: neonapi.OAuthGitHub, Type: neonapi.OAuthShared},
		},
	}
	got := stepKeys(planCopy(src, dst, []SettingsGroup{GroupSignIn}, false))
	want := []string{"oauth-google-remove", "oauth-google-add", "email-password", "oauth-github-remove"}
	if !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
}
