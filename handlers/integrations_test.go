package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

func TestProjectPagePrefillsTheEnableForm(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)

	if got := r.text("project-name"); got != "demo-app" {
		t.Errorf("project name = %q", got)
	}
	selected := func(testid string) (value, label string) {
		opt := r.byTestID(testid).Find("option[selected]")
		if opt.Length() != 1 {
			t.Fatalf("%s: %d selected options, want 1", testid, opt.Length())
		}
		v, _ := opt.Attr("value")
		return v, strings.TrimSpace(opt.Text())
	}
	if v, label := selected("branch-select"); v != a.project.BranchID || label != "main (default)" {
		t.Errorf("branch preselected = %q %q, want %q main (default)", v, label, a.project.BranchID)
	}
	if v, _ := selected("database-select"); v != "neondb" {
		t.Errorf("database preselected = %q, want neondb", v)
	}
	if v, _ := selected("role-select"); v != "neondb_owner" {
		t.Errorf("role preselected = %q, want neondb_owner", v)
	}
	if v, _ := selected("provider-select"); v != "better_auth" {
		t.Errorf("provider preselected = %q, want better_auth, the current generation", v)
	}
	form := r.byTestID("enable-form")
	if action, _ := form.Attr("action"); action != "/projects/"+a.projectID+"/integrations" {
		t.Errorf("enable form action = %q", action)
	}
	if method, _ := form.Attr("method"); method != "post" {
		t.Errorf("enable form method = %q", method)
	}
	if form.Find(`input[type="hidden"][name="_csrf"]`).Length() != 1 {
		t.Error("enable form has no CSRF field")
	}
	if tpl, _ := r.byTestID("branch-select").Attr("data-path-template"); tpl != "/projects/"+a.projectID+"/branches/%7Bvalue%7D/options" {
		t.Errorf("branch select path template = %q", tpl)
	}
	// Nothing is enabled: one empty state, naming both levels, leading to
	// the enable form.
	empty := strings.Join(strings.Fields(r.text("integrations-empty")), " ")
	for _, want := range []string{"not enabled on this project", "Stack Auth (project-level)", "Better Auth (branch-level) on main"} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty state %q does not say %q", empty, want)
		}
	}
	if href, _ := r.byTestID("enable-hint").Attr("href"); href != "#enable-form-card" || r.Doc.Find("#enable-form-card").Length() != 1 {
		t.Errorf("empty state links to %q, want the enable form", href)
	}
	if r.byTestID("integration-card").Length() != 0 {
		t.Error("the empty state is followed by an integration card")
	}
}

func TestProjectPageNamesEachLevel(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableStack()
	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("integrations-empty").Length() != 0 {
		t.Error("empty state shown beside a Stack Auth integration")
	}
	card := r.Doc.Find(`[data-testid="integration-card"][data-provider="stack"]`)
	if got := strings.TrimSpace(card.Find(`[data-testid="card-provider"]`).Text()); got != "Stack Auth (project-level)" {
		t.Errorf("card title = %q, want Stack Auth (project-level)", got)
	}
	// The card is the project-level integration; its branch's row names
	// the provider and its level, and the branch-level links are not
	// offered for it.
	main := r.Doc.Find(`[data-testid="branch-row"][data-branch-id="` + a.project.BranchID + `"]`)
	if got := strings.Join(strings.Fields(main.Find(`[data-testid="branch-auth-cell"]`).Text()), " "); !strings.HasPrefix(got, "Stack Auth project-level") {
		t.Errorf("main's Neon Auth cell = %q, want Stack Auth project-level", got)
	}
	if n := main.Find(`[data-testid="branch-users-link"], [data-testid="branch-settings-link"]`).Length(); n != 0 {
		t.Errorf("main's row has %d users or settings links; Stack Auth's are on its card", n)
	}
	if strings.Contains(r.Body, "Neon Auth on the default branch") {
		t.Error("the page still uses the ambiguous default-branch wording")
	}
}

func TestBranchOptionsFragment(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	r := a.htmxGet("/projects/"+a.projectID+"/branches/"+a.project.BranchID+"/options", "branch-fields")
	r.wantStatus(t, http.StatusOK)
	if v, _ := r.byTestID("database-select").Find("option[selected]").Attr("value"); v != "neondb" {
		t.Errorf("database option = %q, want neondb selected", v)
	}
	if v, _ := r.byTestID("role-select").Find("option[selected]").Attr("value"); v != "neondb_owner" {
		t.Errorf("role option = %q, want neondb_owner selected", v)
	}
	if r.Doc.Find("title").Length() != 0 {
		t.Error("options answered a full page")
	}

	// Opened without htmx, the link leads to the page with that branch picked.
	page := a.get("/projects/" + a.projectID + "/branches/" + a.project.BranchID + "/options")
	page.wantStatus(t, http.StatusSeeOther)
	if got, want := page.Header.Get("Location"), "/projects/"+a.projectID+"?branch="+a.project.BranchID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	missing := a.htmxGet("/projects/"+a.projectID+"/branches/br-missing-123/options", "branch-fields")
	missing.wantStatus(t, http.StatusNotFound)
	if missing.byTestID("api-error").Length() == 0 || missing.text("request-id") == "" {
		t.Errorf("unknown branch: no error with request id: %s", missing.Body)
	}
}

func enableValues(a *testApp, provider string) url.Values {
	return url.Values{
		"provider":  {provider},
		"branch_id": {a.project.BranchID},
		"database":  {"neondb"},
		"role":      {"neondb_owner"},
	}
}

func TestEnableStackShowsKeysOnce(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	path := "/projects/" + a.projectID + "/integrations"

	r := a.htmxPost(path, enableValues(a, "stack"))
	r.wantStatus(t, http.StatusCreated)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	secret, _ := r.byTestID("secret-key").Attr("data-secret")
	if !strings.HasPrefix(secret, "ssk_") {
		t.Fatalf("secret key = %q, want an ssk_ key", secret)
	}
	if n := strings.Count(r.Body, secret); n != 1 {
		t.Errorf("the secret appears %d times in the response, want exactly once", n)
	}
	if got := r.text("secret-key"); got == secret || !strings.Contains(got, "•") {
		t.Errorf("secret is shown unmasked: %q", got)
	}
	projectKey := r.text("auth-provider-project-id")
	pubKey := r.text("pub-client-key")
	if projectKey == "" || !strings.HasPrefix(pubKey, "pck_") {
		t.Errorf("keys missing: project %q, publishable %q", projectKey, pubKey)
	}
	wantEnv := "NEXT_PUBLIC_STACK_PROJECT_ID=" + projectKey + "\n" +
		"NEXT_PUBLIC_STACK_PUBLISHABLE_CLIENT_KEY=" + pubKey + "\n" +
		"STACK_SECRET_SERVER_KEY=••••••••••••••••"
	if got := r.text("env-block"); got != wantEnv {
		t.Errorf("env block =\n%s\nwant\n%s", got, wantEnv)
	}
	if ref, _ := r.byTestID("env-block").Attr("data-secret-ref"); ref != "secret-key" {
		t.Errorf("env block does not point its copy button at the secret (data-secret-ref=%q)", ref)
	}
	if got := r.text("users-table"); got != "neon_auth.users_sync" {
		t.Errorf("users table = %q", got)
	}
	if !strings.Contains(r.text("once-note"), "shown once; it is not stored") {
		t.Errorf("once note = %q", r.text("once-note"))
	}
	// The cards come along out of band, with the new integration.
	oob := r.Doc.Find(`#integrations[hx-swap-oob="true"]`)
	if oob.Find(`[data-testid="integration-card"][data-provider="stack"]`).Length() != 1 {
		t.Error("htmx answer does not refresh the integration cards")
	}

	// The page never shows the secret again.
	page := a.get("/projects/" + a.projectID)
	page.wantStatus(t, http.StatusOK)
	if strings.Contains(page.Body, secret) {
		t.Error("the project page shows the secret after the enabling response")
	}
	card := page.Doc.Find(`[data-testid="integration-card"][data-provider="stack"]`)
	if card.Length() != 1 {
		t.Fatal("no stack card on the project page")
	}
	if got := strings.TrimSpace(card.Find(`[data-testid="owned-by"]`).Text()); got != "Neon-owned" {
		t.Errorf("owned by = %q", got)
	}
	if href, _ := card.Find(`[data-testid="users-link"]`).Attr("href"); href != "/projects/"+a.projectID+"/users?provider=stack" {
		t.Errorf("users link = %q", href)
	}

	// A second enable is refused by Neon with 409, shown in the form.
	again := a.htmxPost(path, enableValues(a, "stack"))
	again.wantStatus(t, http.StatusConflict)
	if !strings.Contains(again.text("api-error"), "Neon Auth is already enabled with Stack Auth on this project") {
		t.Errorf("conflict message = %q", again.text("api-error"))
	}
	if again.text("request-id") == "" {
		t.Error("conflict shows no request id")
	}
	if again.byTestID("enable-form").Length() != 1 || again.byTestID("secret-key").Length() != 0 {
		t.Error("conflict answer should be the form again, without keys")
	}
}

func TestEnableWithoutJavaScript(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	r := a.postForm("/projects/"+a.projectID+"/integrations", enableValues(a, "stack"))
	// The keys cannot travel through a redirect, so the answer is the page.
	r.wantStatus(t, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	if r.Doc.Find("title").Length() != 1 || r.text("project-name") != "demo-app" {
		t.Error("no-JS enable did not answer the full project page")
	}
	if secret, _ := r.byTestID("secret-key").Attr("data-secret"); !strings.HasPrefix(secret, "ssk_") {
		t.Errorf("secret = %q", secret)
	}
	if r.Doc.Find(`[data-testid="integration-card"][data-provider="stack"]`).Length() != 1 {
		t.Error("the new integration's card is missing")
	}

	again := a.postForm("/projects/"+a.projectID+"/integrations", enableValues(a, "stack"))
	again.wantStatus(t, http.StatusConflict)
	if again.Doc.Find("title").Length() != 1 || !strings.Contains(again.text("api-error"), "already enabled") {
		t.Errorf("no-JS conflict: %q", again.text("api-error"))
	}
}

func TestEnableValidation(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	path := "/projects/" + a.projectID + "/integrations"
	cases := []struct {
		name    string
		edit    func(url.Values)
		field   string
		message string
	}{
		{"unknown provider", func(v url.Values) { v.Set("provider", "okta") }, "provider", "Pick Stack Auth or Better Auth."},
		{"missing provider", func(v url.Values) { v.Del("provider") }, "provider", "Pick Stack Auth or Better Auth."},
		{"unknown branch", func(v url.Values) { v.Set("branch_id", "br-nope-1") }, "branch", "Pick one of this project’s branches."},
		{"unknown database", func(v url.Values) { v.Set("database", "otherdb") }, "database", "Pick a database of branch main."},
		{"unknown role", func(v url.Values) { v.Set("role", "intruder") }, "role", "Pick a role of branch main."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := enableValues(a, "stack")
			tc.edit(v)
			for _, htmx := range []bool{true, false} {
				r := a.post(path, v, htmx)
				r.wantStatus(t, http.StatusUnprocessableEntity)
				if got := r.text("field-error-" + tc.field); got != tc.message {
					t.Errorf("htmx=%t: field error %q = %q, want %q", htmx, tc.field, got, tc.message)
				}
				if r.byTestID("secret-key").Length() != 0 {
					t.Error("keys shown for an invalid form")
				}
			}
		})
	}
	// Nothing was enabled.
	ints, err := a.Neon.ListIntegrations(context.Background(), a.projectID)
	if err != nil || len(ints) != 0 {
		t.Errorf("integrations after invalid posts = %v, %v; want none", ints, err)
	}
}

func TestEnableBetterAuth(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	r := a.htmxPost("/projects/"+a.projectID+"/integrations", enableValues(a, "better_auth"))
	r.wantStatus(t, http.StatusCreated)
	base := r.text("base-url")
	if base == "" {
		t.Fatalf("no base URL in the result: %s", r.Body)
	}
	if env := r.text("env-block"); !strings.HasPrefix(env, "NEON_AUTH_BASE_URL="+base) {
		t.Errorf("env block = %q, want NEON_AUTH_BASE_URL=%s first", env, base)
	}
	if got := r.text("users-table"); got != `neon_auth.user` {
		t.Errorf("users table = %q", got)
	}
	// The out-of-band panel was read after the change, the branch's row
	// included.
	rowSel := `[data-testid="branch-row"][data-branch-id="` + a.project.BranchID + `"]`
	if oob := r.Doc.Find(`#integrations[hx-swap-oob="true"]`); oob.Find(rowSel).AttrOr("data-provider", "") != "better_auth" {
		t.Errorf("refreshed panel's default branch row = %q, want Better Auth", strings.Join(strings.Fields(oob.Find(rowSel).Text()), " "))
	}

	// Better Auth is branch-level: its branch's row is the one place it
	// shows, with the links to its users and settings; there is no card.
	page := a.get("/projects/" + a.projectID)
	row := page.Doc.Find(rowSel)
	if p, _ := row.Attr("data-provider"); p != "better_auth" {
		t.Errorf("default branch provider = %q, want better_auth", p)
	}
	if href, _ := row.Find(`[data-testid="branch-users-link"]`).Attr("href"); href != "/projects/"+a.projectID+"/branches/"+a.project.BranchID+"/users" {
		t.Errorf("users link = %q", href)
	}
	if n := page.byTestID("integration-card").Length(); n != 0 {
		t.Errorf("%d integration cards for a branch-level integration, want none", n)
	}
	if page.byTestID("transfer-link").Length() != 0 {
		t.Error("Better Auth is offered an ownership transfer")
	}
}

// neonAuthSchemaExists asks the project's database whether neon_auth exists.
func neonAuthSchemaExists(t *testing.T, a *testApp) bool {
	t.Helper()
	ctx := context.Background()
	uri, err := a.Neon.GetConnectionURI(ctx, a.projectID, neonapi.ConnectionURIOptions{
		BranchID: a.project.BranchID, DatabaseName: a.project.DatabaseName, RoleName: a.project.RoleName,
	})
	if err != nil {
		t.Fatalf("connection uri: %v", err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'neon_auth')`).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func TestProjectPageNeonFailures(t *testing.T) {
	t.Parallel()
	t.Run("unknown project", func(t *testing.T) {
		a := newTestApp(t)
		r := a.get("/projects/no-such-project-1")
		r.wantStatus(t, http.StatusNotFound)
		if r.text("request-id") == "" {
			t.Errorf("404 without request id: %s", r.text("api-error"))
		}
	})
	t.Run("malformed id never reaches Neon", func(t *testing.T) {
		a := newTestApp(t)
		r := a.get("/projects/NOT_AN_ID")
		r.wantStatus(t, http.StatusNotFound)
		if r.byTestID("error-page").Length() != 1 {
			t.Error("no error page")
		}
	})
	t.Run("Neon unavailable beyond retries", func(t *testing.T) {
		a := newTestApp(t)
		a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/projects/" + a.projectID})
		r := a.get("/projects/" + a.projectID)
		r.wantStatus(t, http.StatusBadGateway)
		if r.byTestID("error-page").Length() != 1 || r.text("request-id") == "" {
			t.Errorf("503s did not render the error page with a request id: %s", r.text("api-error"))
		}
	})
	t.Run("failed integrations read degrades its panel only", func(t *testing.T) {
		a := newTestApp(t)
		a.enableStack()
		a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/auth/integrations"})
		r := a.get("/projects/" + a.projectID)
		r.wantStatus(t, http.StatusOK)
		panel := r.byTestID("integrations")
		if panel.Find(`[data-testid="api-error"]`).Length() != 1 || panel.Find(`[data-testid="request-id"]`).Text() == "" {
			t.Errorf("integrations panel does not show the failure: %q", panel.Text())
		}
		if r.text("project-name") != "demo-app" || r.byTestID("enable-form").Length() != 1 {
			t.Error("the rest of the page is missing")
		}
	})
}

// TestUnreachableNeonKeepsTheForm drops the connection of each change once
// it is sent, so that no answer at all comes back: the form stays, with what
// was typed and the unknown outcome beside it (the change may have been
// made), instead of giving way to an error box.
func TestUnreachableNeonKeepsTheForm(t *testing.T) {
	t.Parallel()
	t.Run("enable", func(t *testing.T) {
		a := newTestApp(t)
		a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultDrop, Count: 5, PathContains: "/projects/auth/create"})
		r := a.htmxPost("/projects/"+a.projectID+"/integrations", enableValues(a, "stack"))
		r.wantStatus(t, http.StatusBadGateway)
		if r.byTestID("enable-form").Length() != 1 || r.byTestID("secret-key").Length() != 0 {
			t.Fatalf("want the form again, without keys:\n%s", r.Body)
		}
		if got := r.text("api-error"); !strings.Contains(got, "Outcome unknown: the connection to Neon dropped") || r.text("request-id") == "" {
			t.Errorf("error box = %q, request id %q", got, r.text("request-id"))
		}
		if href, _ := r.byTestID("outcome-check").Attr("href"); href != "/projects/"+a.projectID {
			t.Errorf("check link = %q", href)
		}
		if v, _ := r.byTestID("database-select").Find("option[selected]").Attr("value"); v != "neondb" {
			t.Errorf("database kept = %q, want neondb", v)
		}
	})
	t.Run("delete", func(t *testing.T) {
		a := newTestApp(t)
		a.enableStack()
		a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultDrop, Count: 5, PathContains: "/auth/integration/stack"})
		r := a.htmxPost("/projects/"+a.projectID+"/integrations/stack/delete", url.Values{"confirm_name": {"demo-app"}, "delete_data": {"true"}})
		r.wantStatus(t, http.StatusBadGateway)
		if got := r.text("api-error"); !strings.Contains(got, "Outcome unknown: the connection to Neon dropped") || strings.Contains(got, "Neon did not delete") {
			t.Errorf("error box = %q", got)
		}
		if typed, _ := r.byTestID("confirm-name").Attr("value"); typed != "demo-app" {
			t.Errorf("typed name kept = %q, want demo-app", typed)
		}
		if _, checked := r.byTestID("delete-data").Attr("checked"); !checked {
			t.Error("delete_data not kept")
		}
		ints, err := a.Neon.ListIntegrations(context.Background(), a.projectID)
		if err != nil || len(ints) != 1 {
			t.Errorf("integrations after the failed delete = %v, %v; want the stack one", ints, err)
		}
	})
}

func TestViewerSeesNoWriteControls(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
	a.enableStack()
	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)
	if r.Doc.Find(`[data-testid="integration-card"]`).Length() != 1 {
		t.Fatal("viewer does not see the integration")
	}
	for _, id := range []string{"enable-form", "delete-form", "transfer-link"} {
		if r.byTestID(id).Length() != 0 {
			t.Errorf("viewer sees %s", id)
		}
	}
	if !strings.Contains(r.text("identity"), "vic") || !strings.Contains(r.text("identity"), "viewer") {
		t.Errorf("identity = %q", r.text("identity"))
	}
	// A viewer who opens the transfer step directly gets an explanation, not
	// a form the server would refuse.
	tr := a.get("/projects/" + a.projectID + "/integrations/stack/transfer")
	tr.wantStatus(t, http.StatusOK)
	if tr.byTestID("transfer-form").Length() != 0 || tr.byTestID("transfer-needs-admin").Length() != 1 {
		t.Error("viewer's transfer page offers the form")
	}
}

func TestEnableFormSuggestsBetterAuthOnceStackIsOn(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableStack()
	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)
	opt := r.byTestID("provider-select").Find("option[selected]")
	if v, _ := opt.Attr("value"); opt.Length() != 1 || v != "better_auth" {
		t.Errorf("provider preselected = %q (%d selected), want better_auth: a second Stack Auth would only conflict", v, opt.Length())
	}
}
