package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// wantRoleField checks whether the enable form's role applies: shown and
// sent for Stack Auth, hidden and disabled (so never sent) otherwise.
func wantRoleField(t *testing.T, r *testResponse, applies bool) {
	t.Helper()
	field := r.byTestID("role-field")
	if field.Length() != 1 {
		t.Fatalf("no role field:\n%.3000s", r.Body)
	}
	_, hidden := field.Attr("hidden")
	_, disabled := r.byTestID("role-select").Attr("disabled")
	if hidden == applies || disabled == applies {
		t.Errorf("role field hidden=%t, select disabled=%t; want both %t", hidden, disabled, !applies)
	}
	if only, _ := field.Attr("data-provider-only"); only != string(authprovider.Stack) {
		t.Errorf("role field is for %q, want Stack Auth's only", only)
	}
}

// TestEnableFormPreselectsBetterAuth: whatever the project runs already,
// the form offers the current generation, branch-level Better Auth, and its
// fields alone: the role, which only Stack Auth takes, is hidden and
// disabled until Stack Auth is picked.
func TestEnableFormPreselectsBetterAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		arrange func(a *testApp)
	}{
		{"no Neon Auth yet", func(*testApp) {}},
		{"Stack Auth on the project", func(a *testApp) { a.enableStack() }},
		{"Better Auth on the default branch", func(a *testApp) { a.enableBetterAuth() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t)
			tc.arrange(a)
			r := a.get("/projects/" + a.projectID)
			r.wantStatus(t, http.StatusOK)
			opt := r.byTestID("provider-select").Find("option[selected]")
			if v, _ := opt.Attr("value"); opt.Length() != 1 || v != string(authprovider.BetterAuth) {
				t.Errorf("provider preselected = %q (%d selected), want better_auth", v, opt.Length())
			}
			if _, ok := r.byTestID("provider-select").Attr("data-provider-switch"); !ok {
				t.Error("the provider select does not drive the fields that depend on it")
			}
			wantRoleField(t, r, false)
			if inc, _ := r.byTestID("branch-select").Attr("hx-include"); inc != "#enable-provider" {
				t.Errorf("branch select hx-include = %q: the branch's fields would not know the provider", inc)
			}
			// The form's hx-disabled-elt names its submit button, which the
			// select's own request would look for inside the select.
			if d, _ := r.byTestID("branch-select").Attr("hx-disabled-elt"); d != "unset" {
				t.Errorf("branch select hx-disabled-elt = %q, want unset", d)
			}
		})
	}
}

// TestEnableFormFieldsFollowTheProvider: the form shown again after a
// refusal, and the branch's fields swapped in, show the role for Stack Auth
// only.
func TestEnableFormFieldsFollowTheProvider(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	path := "/projects/" + a.projectID + "/integrations"
	for _, p := range authprovider.All {
		v := enableValues(a, string(p))
		v.Set("database", "otherdb")
		for _, htmx := range []bool{true, false} {
			r := a.post(path, v, htmx)
			r.wantStatus(t, http.StatusUnprocessableEntity)
			if sel, _ := r.byTestID("provider-select").Find("option[selected]").Attr("value"); sel != string(p) {
				t.Errorf("%s, htmx=%t: provider kept = %q", p, htmx, sel)
			}
			wantRoleField(t, r, p == authprovider.Stack)
		}
	}

	options := "/projects/" + a.projectID + "/branches/" + a.project.BranchID + "/options"
	for query, applies := range map[string]bool{"": false, "?provider=better_auth": false, "?provider=stack": true, "?provider=okta": false} {
		r := a.htmxGet(options+query, "branch-fields")
		r.wantStatus(t, http.StatusOK)
		wantRoleField(t, r, applies)
	}
}

// TestEnableBetterAuthIgnoresTheRole: a role posted with Better Auth (a page
// from before, or by hand) plays no part: not checked, not sent to Neon, and
// not named by the audit line, which does name the role of a Stack Auth
// enable.
func TestEnableBetterAuthIgnoresTheRole(t *testing.T) {
	audit := &lockedBuffer{}
	a := newTestApp(t,
		withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: identity.AuditTransport(nil)})),
		withHandler(func(h *Handler) {
			cfg := secAuthConfig(t)
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
			sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", AuditLog: audit})
			if err != nil {
				t.Fatal(err)
			}
			h.Security = sec
		}))
	a.Client.Transport = &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.get("/projects/"+a.projectID).wantStatus(t, http.StatusOK)
	path := "/projects/" + a.projectID + "/integrations"

	ba := enableValues(a, "better_auth")
	ba.Set("role", "intruder")
	a.htmxPost(path, ba).wantStatus(t, http.StatusCreated)

	other := a.createProject("other-app")
	stack := url.Values{"provider": {"stack"}, "branch_id": {other.BranchID}, "database": {"neondb"}, "role": {"neondb_owner"}}
	a.htmxPost("/projects/"+other.ID+"/integrations", stack).wantStatus(t, http.StatusCreated)

	lines := audit.Lines(t)
	if len(lines) != 2 {
		t.Fatalf("%d audit lines, want 2:\n%s", len(lines), audit)
	}
	if got := lines[0]["target"]; got != "provider=better_auth" || lines[0]["action"] != "neon_auth.enable" || lines[0]["outcome"] != "ok" {
		t.Errorf("Better Auth's audit line: target %v, action %v, outcome %v; want provider=better_auth alone", got, lines[0]["action"], lines[0]["outcome"])
	}
	if got := lines[1]["target"]; got != "provider=stack role=neondb_owner" {
		t.Errorf("Stack Auth's audit line: target %v, want provider=stack role=neondb_owner", got)
	}
	if strings.Contains(audit.String(), "intruder") {
		t.Error("the role posted with Better Auth reached the audit log")
	}
	in, err := a.Neon.GetBranchAuth(context.Background(), a.projectID, a.project.BranchID)
	if err != nil || in.AuthProvider != authprovider.BetterAuth {
		t.Errorf("Better Auth on the branch = %+v, %v", in, err)
	}
}

// envBlock parses the .env block into its variables, in order.
func envBlock(t *testing.T, r *testResponse) (names []string, values map[string]string) {
	t.Helper()
	values = map[string]string{}
	for line := range strings.Lines(r.text("env-block")) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			t.Fatalf(".env line %q has no =", line)
		}
		names = append(names, k)
		values[k] = v
	}
	return names, values
}

// TestEnableResultEnvMatchesThePage: the .env block after enabling holds the
// values the page lists for the app, under the names Neon's guides use, and
// says what else the app needs; a secret is masked in both.
func TestEnableResultEnvMatchesThePage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider authprovider.Provider
		names    []string
		// shown are the data-testids of the values the block quotes.
		shown []string
	}{
		{authprovider.BetterAuth, []string{"NEON_AUTH_BASE_URL", "NEON_AUTH_JWKS_URL"}, []string{"base-url", "result-jwks-url"}},
		{authprovider.Stack, []string{"NEXT_PUBLIC_STACK_PROJECT_ID", "NEXT_PUBLIC_STACK_PUBLISHABLE_CLIENT_KEY", "STACK_SECRET_SERVER_KEY"},
			[]string{"auth-provider-project-id", "pub-client-key", "secret-key"}},
	} {
		t.Run(string(tc.provider), func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t)
			for i, htmx := range []bool{true, false} {
				if i > 0 {
					// Each enable goes to a project of its own.
					a.project = a.createProject("no-js-app")
					a.projectID = a.project.ID
				}
				r := a.post("/projects/"+a.projectID+"/integrations", enableValues(a, string(tc.provider)), htmx)
				if htmx {
					r.wantStatus(t, http.StatusCreated)
				} else {
					r.wantStatus(t, http.StatusOK)
				}
				names, values := envBlock(t, r)
				if strings.Join(names, " ") != strings.Join(tc.names, " ") {
					t.Errorf("htmx=%t: .env names %v, want %v", htmx, names, tc.names)
				}
				app := r.byTestID("result-app-values")
				if n := app.Find("dd code").Length(); n != len(tc.shown) {
					t.Errorf("htmx=%t: the page lists %d values for the app, want %d", htmx, n, len(tc.shown))
				}
				for i, id := range tc.shown {
					code := app.Find(`[data-testid="` + id + `"]`)
					want := strings.TrimSpace(code.Text())
					if code.Length() != 1 || want == "" {
						t.Errorf("htmx=%t: %s is not among the app's values", htmx, id)
						continue
					}
					if got := values[tc.names[i]]; got != want {
						t.Errorf("htmx=%t: %s=%q in the block, %q on the page", htmx, tc.names[i], got, want)
					}
				}
				also := strings.Join(strings.Fields(r.text("env-also")), " ")
				if !strings.Contains(also, "DATABASE_URL, the connection string of database neondb on branch main") {
					t.Errorf("htmx=%t: the page does not name the connection string the app needs: %q", htmx, also)
				}
				if got := strings.Contains(also, "NEON_AUTH_COOKIE_SECRET"); got != tc.provider.BranchLevel() {
					t.Errorf("htmx=%t: cookie secret named = %t: %q", htmx, got, also)
				}
				secret, _ := r.byTestID("secret-key").Attr("data-secret")
				if secret == "" || strings.Count(r.Body, secret) != 1 {
					t.Errorf("htmx=%t: the secret is not in the answer exactly once", htmx)
				}
				if tc.provider.BranchLevel() {
					// Neon's answer holds Stack Auth's kind of keys too; they
					// are shown once, apart, and not in the block.
					if r.byTestID("other-keys").Find(`[data-testid="secret-key"]`).Length() != 1 || strings.Contains(r.text("env-block"), views.SecretMask) {
						t.Errorf("htmx=%t: the unused keys are not set apart from the block", htmx)
					}
				} else if values["STACK_SECRET_SERVER_KEY"] != views.SecretMask {
					t.Errorf("htmx=%t: the secret is not masked in the block", htmx)
				}
			}
		})
	}
}
