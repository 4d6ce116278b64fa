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
		{ProjectID: "p-1", Provider: "stack", BranchID: "br-1", OwnedBy: "neon", CanTransfer: true},
		{ProjectID: "p-1", Provider: "stack", BranchID: "br-1", OwnedBy: "user", TransferStatus: "finished"},
	}}
	doc, _ := renderDoc(t, IntegrationsPanelView(panel))
	if doc.Find(`#integrations`).AttrOr("hx-swap-oob", "") != "true" {
		t.Error("OOB panel not marked for an out-of-band swap")
	}
	cards := byID(doc, "integration-card")
	if cards.Length() != 2 {
		t.Fatalf("cards = %d", cards.Length())
	}
	wants := []struct {
		transfer bool
		status   string
	}{
		{true, ""},
		{false, "transfer finished"},
	}
	for i, w := range wants {
		c := cards.Eq(i)
		if got := c.Find(`[data-testid="users-link"]`).AttrOr("href", ""); got != "/projects/p-1/users?provider=stack" {
			t.Errorf("card %d users link = %q, want the project's users page", i, got)
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

// TestIntegrationsPanelSaysEachThingOnce: a project with Stack Auth on main
// and Better Auth on dev. The Stack Auth card holds what is the
// integration's own; each branch's provider, database, URLs and links are in
// its row of the branch table, and nowhere else.
func TestIntegrationsPanelSaysEachThingOnce(t *testing.T) {
	const (
		stackJWKS = "https://api.stack-auth.test/p/apj-1/.well-known/jwks.json"
		devJWKS   = "https://auth.example/dev/.well-known/jwks.json"
		devBase   = "https://auth.example/dev/auth"
	)
	panel := IntegrationsPanel{ProjectID: "p-1",
		Cards: []IntegrationCard{{ProjectID: "p-1", Provider: "stack", AuthProviderProjectID: "apj-1", BranchID: "br-main", OwnedBy: "neon"}},
		Branches: BranchTable{ProjectID: "p-1", Rows: []BranchRow{
			{ID: "br-main", Name: "main", Default: true, Provider: "stack", DBName: "neondb", JWKSURL: stackJWKS},
			{ID: "br-dev", Name: "dev", Provider: "better_auth", DBName: "app", BaseURL: devBase, JWKSURL: devJWKS,
				UsersURL: BranchUsersURL("p-1", "better_auth", "br-dev"), ReadinessURL: ReadinessURL("p-1", "br-dev")},
		}},
	}
	doc, html := renderDoc(t, IntegrationsPanelView(panel))
	if n := byID(doc, "integration-card").Length(); n != 1 {
		t.Errorf("%d cards, want one, for the project-level integration", n)
	}
	if doc.Find(`[data-testid="integration-card"] dl`).Text() == "" || strings.Contains(doc.Find(`[data-testid="integration-card"]`).Text(), "neondb") {
		t.Error("the card repeats its branch's database, or has no facts of its own")
	}
	for _, v := range []string{stackJWKS, devJWKS, devBase} {
		// Each value shows once: the code element's text and its title.
		if n := doc.Find(`code[title="` + v + `"]`).Length(); n != 1 {
			t.Errorf("%s shown %d times, want once", v, n)
		}
	}
	for href, want := range map[string]int{
		"/projects/p-1/users?provider=stack":                  1,
		"/projects/p-1/branches/br-dev/users":                 1,
		"/projects/p-1/branches/br-dev/auth/readiness":        2, // the link and the badge's fallback
		"/projects/p-1/branches/br-dev/auth/settings/domains": 1,
	} {
		if n := doc.Find(`a[href="` + href + `"]`).Length(); n != want {
			t.Errorf("%d links to %s, want %d", n, href, want)
		}
	}
	if n := strings.Count(html, ">main<"); n != 1 {
		t.Errorf("main named %d times, want once", n)
	}
	// The row's links are items of a list, so none runs into the next.
	if n := doc.Find(`[data-branch-id="br-dev"] ul.link-list > li > a`).Length(); n != 3 {
		t.Errorf("dev's row has %d listed links, want 3", n)
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

func TestIntegrationsPanelEmptyState(t *testing.T) {
	branches := BranchTable{ProjectID: "p-1", Rows: []BranchRow{{ID: "br-1", Name: "main", Default: true}}}
	for _, tc := range []struct {
		name  string
		panel IntegrationsPanel
		empty bool
		hint  bool
	}{
		{"admin, nothing enabled", IntegrationsPanel{ProjectID: "p-1", Branches: branches, CanWrite: true}, true, true},
		{"viewer, nothing enabled", IntegrationsPanel{ProjectID: "p-1", Branches: branches}, true, false},
		{"stack card", IntegrationsPanel{ProjectID: "p-1", Branches: branches, CanWrite: true,
			Cards: []IntegrationCard{{ProjectID: "p-1", Provider: "stack"}}}, false, false},
		{"branches unreadable", IntegrationsPanel{ProjectID: "p-1", CanWrite: true,
			Branches: BranchTable{ProjectID: "p-1", Problem: &Problem{Title: "Could not list branches"}}}, false, false},
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
			if tc.empty && !strings.Contains(byID(doc, "integrations-empty").Text(), "on main.") {
				t.Errorf("empty state %q does not name the default branch", byID(doc, "integrations-empty").Text())
			}
			if byID(doc, "branch-table-panel").Length() != 1 {
				t.Error("the branch table is missing")
			}
		})
	}
}
