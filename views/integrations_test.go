package views

import (
	"strings"
	"testing"
)

func TestEnableResultPanel(t *testing.T) {
	cases := []struct {
		name      string
		result    EnableResult
		wantEnv   string
		secretRef bool
	}{
		{
			name: "stack",
			result: EnableResult{ProjectID: "p-1", Provider: "stack", AuthProviderProjectID: "apj-1", PubClientKey: "pck_1",
				SecretServerKey: "ssk_secret", JWKSURL: "https://jwks", SchemaName: "neon_auth", TableName: "users_sync"},
			wantEnv:   "NEXT_PUBLIC_STACK_PROJECT_ID=apj-1\nNEXT_PUBLIC_STACK_PUBLISHABLE_CLIENT_KEY=pck_1\nSTACK_SECRET_SERVER_KEY=" + SecretMask,
			secretRef: true,
		},
		{
			name: "better_auth",
			result: EnableResult{ProjectID: "p-1", Provider: "better_auth", AuthProviderProjectID: "apj-2", PubClientKey: "pck_2",
				SecretServerKey: "ssk_other", JWKSURL: "https://auth/jwks", BaseURL: "https://auth", SchemaName: "neon_auth", TableName: "user"},
			wantEnv: "NEON_AUTH_BASE_URL=https://auth\nNEON_AUTH_JWKS_URL=https://auth/jwks",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, html := renderDoc(t, EnableResultPanel(tc.result))
			secret := byID(doc, "secret-key")
			if secret.AttrOr("data-secret", "") != tc.result.SecretServerKey {
				t.Errorf("data-secret = %q", secret.AttrOr("data-secret", ""))
			}
			if secret.Text() != SecretMask {
				t.Errorf("secret shown as %q, want the mask", secret.Text())
			}
			if n := strings.Count(html, tc.result.SecretServerKey); n != 1 {
				t.Errorf("secret appears %d times, want once", n)
			}
			if doc.Find(`button[data-reveal="secret-key"]`).Length() != 1 || doc.Find(`button[data-copy="secret-key"]`).Length() != 1 {
				t.Error("reveal or copy button missing")
			}
			env := byID(doc, "env-block")
			if env.Text() != tc.wantEnv {
				t.Errorf("env =\n%s\nwant\n%s", env.Text(), tc.wantEnv)
			}
			if _, ok := env.Attr("data-secret-ref"); ok != tc.secretRef {
				t.Errorf("env data-secret-ref present = %t, want %t", ok, tc.secretRef)
			}
			if !strings.Contains(byID(doc, "once-note").Text(), "This secret is shown once; it is not stored.") {
				t.Error("once note missing")
			}
			if got := byID(doc, "users-table").Text(); got != "neon_auth."+tc.result.TableName {
				t.Errorf("users table = %q", got)
			}
		})
	}
}

func TestIntegrationCards(t *testing.T) {
	panel := IntegrationsPanel{ProjectID: "p-1", OOB: true, Cards: []IntegrationCard{
		{ProjectID: "p-1", Provider: "stack", BranchID: "br-1", BranchName: "main", DBName: "neondb", OwnedBy: "neon", CanTransfer: true, JWKSURL: "https://jwks"},
		{ProjectID: "p-1", Provider: "better_auth", BranchID: "br-2", BranchName: "dev", DBName: "app", OwnedBy: "neon"},
		{ProjectID: "p-1", Provider: "stack", BranchID: "br-1", BranchName: "main", OwnedBy: "user", TransferStatus: "finished"},
	}}
	doc, _ := renderDoc(t, IntegrationsPanelView(panel))
	if doc.Find(`#integrations`).AttrOr("hx-swap-oob", "") != "true" {
		t.Error("OOB panel not marked for an out-of-band swap")
	}
	cards := byID(doc, "integration-card")
	if cards.Length() != 3 {
		t.Fatalf("cards = %d", cards.Length())
	}
	wants := []struct {
		users    string
		transfer bool
		status   string
	}{
		{"/projects/p-1/users?provider=stack", true, ""},
		{"/projects/p-1/branches/br-2/users", false, ""},
		{"/projects/p-1/users?provider=stack", false, "transfer finished"},
	}
	for i, w := range wants {
		c := cards.Eq(i)
		if got := c.Find(`[data-testid="users-link"]`).AttrOr("href", ""); got != w.users {
			t.Errorf("card %d users link = %q, want %q", i, got, w.users)
		}
		link := c.Find(`[data-testid="transfer-link"]`)
		if (link.Length() == 1) != w.transfer {
			t.Errorf("card %d transfer link shown = %t, want %t", i, link.Length() == 1, w.transfer)
		}
		if w.transfer && link.AttrOr("href", "") != "/projects/p-1/integrations/stack/transfer" {
			t.Errorf("card %d transfer href = %q", i, link.AttrOr("href", ""))
		}
		if got := strings.TrimSpace(c.Find(`[data-testid="transfer-status"]`).Text()); got != w.status {
			t.Errorf("card %d transfer status = %q, want %q", i, got, w.status)
		}
	}
}

func TestTransferPanelOpensSafely(t *testing.T) {
	doc, _ := renderDoc(t, TransferPanel(TransferResult{URL: "https://app.stack-auth.com/claim?code=abc"}))
	a := byID(doc, "transfer-url")
	if a.AttrOr("href", "") != "https://app.stack-auth.com/claim?code=abc" || a.AttrOr("target", "") != "_blank" || a.AttrOr("rel", "") != "noopener noreferrer" {
		t.Errorf("link attrs: href=%q target=%q rel=%q", a.AttrOr("href", ""), a.AttrOr("target", ""), a.AttrOr("rel", ""))
	}
	// A hostile URL from upstream must not become a script link.
	doc, _ = renderDoc(t, TransferPanel(TransferResult{URL: "javascript:alert(1)"}))
	if strings.HasPrefix(byID(doc, "transfer-url").AttrOr("href", ""), "javascript:") {
		t.Error("javascript: URL rendered as a link")
	}
}

func TestEnableFormView(t *testing.T) {
	f := EnableForm{
		ProjectID: "p-1", CSRFToken: "tok", Provider: "better_auth", Branch: "br-2",
		Branches: []Option{{"br-1", "main (default)"}, {"br-2", "dev"}},
		Fields: BranchFields{
			Databases: []Option{{"neondb", "neondb"}, {"app", "app"}}, Database: "app", DatabaseErr: "Pick a database of branch dev.",
			Roles: []Option{{"neondb_owner", "neondb_owner"}}, Role: "neondb_owner",
		},
		Errors:  EnableErrors{Branch: ""},
		Problem: &Problem{Title: "Neon Auth is already enabled", RequestID: "req-7", Status: 409},
	}
	doc, _ := renderDoc(t, EnableFormView(f))
	sel := func(id string) string { return byID(doc, id).Find("option[selected]").AttrOr("value", "") }
	if sel("provider-select") != "better_auth" || sel("branch-select") != "br-2" || sel("database-select") != "app" || sel("role-select") != "neondb_owner" {
		t.Errorf("selected: provider=%q branch=%q db=%q role=%q", sel("provider-select"), sel("branch-select"), sel("database-select"), sel("role-select"))
	}
	if got := byID(doc, "field-error-database").Text(); got != "Pick a database of branch dev." {
		t.Errorf("database error = %q", got)
	}
	if strings.TrimSpace(byID(doc, "request-id").Text()) != "req-7" {
		t.Error("Neon's refusal is not shown with its request id")
	}
	branch := byID(doc, "branch-select")
	if branch.AttrOr("hx-get", "") != "/projects/p-1/branches/br-2/options" || branch.AttrOr("hx-target", "") != "#branch-fields" {
		t.Errorf("branch select htmx: get=%q target=%q", branch.AttrOr("hx-get", ""), branch.AttrOr("hx-target", ""))
	}
	form := byID(doc, "enable-form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/projects/p-1/integrations" || form.AttrOr("hx-post", "") != "/projects/p-1/integrations" {
		t.Error("enable form does not post to the integrations URL")
	}
}

func TestBranchAuthView(t *testing.T) {
	cases := []struct {
		name  string
		panel BranchAuthPanel
		want  string
	}{
		{"enabled", BranchAuthPanel{BranchID: "br-1", BranchName: "main", Enabled: true, Provider: "better_auth", DBName: "neondb"},
			"Better Auth (branch-level) on main: enabled database neondb"},
		{"served by project-level Stack Auth", BranchAuthPanel{BranchID: "br-1", BranchName: "main", Enabled: true, Provider: "stack", DBName: "neondb"},
			"Better Auth (branch-level) on main: not enabled — main uses Stack Auth (project-level) above"},
		{"not enabled", BranchAuthPanel{BranchID: "br-1", BranchName: "main"}, "Better Auth (branch-level) on main: not enabled"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := renderDoc(t, BranchAuthView(tc.panel))
			if got := strings.Join(strings.Fields(byID(doc, "branch-auth").Text()), " "); got != tc.want {
				t.Errorf("line = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIntegrationsPanelEmptyState(t *testing.T) {
	branch := BranchAuthPanel{BranchID: "br-1", BranchName: "main"}
	for _, tc := range []struct {
		name     string
		panel    IntegrationsPanel
		empty    bool
		hint     bool
		branchUI bool
	}{
		{"admin, nothing enabled", IntegrationsPanel{ProjectID: "p-1", Branch: branch, CanWrite: true}, true, true, false},
		{"viewer, nothing enabled", IntegrationsPanel{ProjectID: "p-1", Branch: branch}, true, false, false},
		{"stack card", IntegrationsPanel{ProjectID: "p-1", Branch: branch, CanWrite: true,
			Cards: []IntegrationCard{{ProjectID: "p-1", Provider: "stack", BranchName: "main"}}}, false, false, true},
		{"branch unreadable", IntegrationsPanel{ProjectID: "p-1", CanWrite: true,
			Branch: BranchAuthPanel{Problem: &Problem{Title: "Could not read"}}}, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := renderDoc(t, IntegrationsPanelView(tc.panel))
			if got := byID(doc, "integrations-empty").Length() == 1; got != tc.empty {
				t.Errorf("empty state shown = %t, want %t", got, tc.empty)
			}
			if got := byID(doc, "enable-hint").AttrOr("href", "") == "#enable-form-card"; got != tc.hint {
				t.Errorf("link to the enable form = %t, want %t", got, tc.hint)
			}
			if tc.empty && !tc.hint && !strings.Contains(byID(doc, "integrations-empty").Text(), "Ask an admin") {
				t.Error("a viewer is not told who can enable it")
			}
			if got := byID(doc, "branch-auth").Length() == 1; got != tc.branchUI {
				t.Errorf("branch line shown = %t, want %t", got, tc.branchUI)
			}
		})
	}
}
