package main

import (
	"cmp"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// The people the accessibility test signs in through the proxy, besides the
// admin: one on the viewer list and one on no list at all.
const (
	a11yViewerEmail   = "vera@example.com"
	a11yStrangerEmail = "sam@example.com"
)

// a11yPage is one page of the dashboard as a person reaches it by its URL.
type a11yPage struct {
	// name says which page failed.
	name string
	// path may hold {project} (the demo project with Stack Auth and users),
	// {bare} (the demo project without Neon Auth), {user} (a demo user's id),
	// {auth} (the demo project with Better Auth) and {authbranch} (its
	// default branch).
	path string
	// as is who is signed in: "" for an admin, or viewer, stranger, nobody.
	as string
	// status is the answer the page comes with; zero means 200.
	status int64
	// ready is the data-testid of an element the page shows once it is there.
	ready string
	// settled, when set, is the data-testid of placeholders the page replaces
	// after it loads (lazy fragments); the audit waits until none is left.
	settled string
	// scroll, when set, is the data-testid of an element scrolled into view
	// first (if it is still there), as a person would, for fragments that
	// load when they are seen.
	scroll string
}

// a11yPages is every page of the dashboard reachable by URL. Each is audited
// with axe in the light and the dark scheme; a new page is one more line.
// Pages that exist only as the answer to a form (keys shown once, a sync
// check after a create) are audited where TestE2EGuide and
// TestE2EAccessibility submit those forms.
var a11yPages = []a11yPage{
	{name: "projects list", path: "/projects", ready: "project-row"},
	{name: "projects search without a match", path: "/projects?q=no-such-project", ready: "projects-empty"},
	{name: "project page", path: "/projects/{project}", ready: "integration-card"},
	{name: "project page without Neon Auth", path: "/projects/{bare}", ready: "integrations-empty"},
	{name: "project page with readiness badges", path: "/projects/{auth}", ready: "readiness-badge", settled: "readiness-slot", scroll: "readiness-slot"},
	{name: "transfer confirmation", path: "/projects/{project}/integrations/stack/transfer", ready: "transfer-confirm"},
	{name: "SDK keys confirmation", path: "/projects/{project}/integrations/stack/keys", ready: "sdk-keys-confirm"},
	{name: "users page", path: "/projects/{project}/users?provider=stack", ready: "browse-table"},
	{name: "user lookup, found", path: "/projects/{project}/users?provider=stack&q=grace%40example.com", ready: "lookup-result"},
	{name: "user lookup, not found", path: "/projects/{project}/users?provider=stack&q=nobody%40example.com", ready: "lookup-missing"},
	{name: "user sync page", path: "/projects/{project}/users/{user}?provider=stack", ready: "sync-panel"},
	{name: "users browser", path: "/projects/{project}/users/browse?provider=stack", ready: "browse-table"},
	{name: "user detail", path: "/projects/{project}/users/{user}/detail?provider=stack", ready: "user-detail"},
	{name: "user delete confirmation", path: "/projects/{project}/users/{user}/delete?provider=stack", ready: "delete-user"},
	{name: "users index advice", path: "/projects/{project}/users/index?provider=stack", ready: "index-create"},
	{name: "signups chart by day", path: "/projects/{project}/users/signups?provider=stack", ready: "signups-chart"},
	{name: "signups chart by week", path: "/projects/{project}/users/signups?provider=stack&range=365d&bucket=week", ready: "signups-chart"},
	{name: "signups chart, bad range", path: "/projects/{project}/users/signups?provider=stack&range=7y", status: http.StatusBadRequest, ready: "field-error-range"},
	{name: "unknown page", path: "/no-such-page", status: http.StatusNotFound, ready: "error-page"},
	{name: "branch readiness", path: "/projects/{auth}/branches/{authbranch}/auth/readiness", ready: "readiness-items"},
	{name: "branch comparison", path: "/projects/{auth}/auth/compare", ready: "compare-table"},
	{name: "comparison of a one-branch project", path: "/projects/{bare}/auth/compare", ready: "compare-one-branch"},
	{name: "unknown project", path: "/projects/no-such-project", status: http.StatusNotFound, ready: "error-page"},
	{name: "project page for a viewer", path: "/projects/{project}", as: "viewer", ready: "integration-card"},
	{name: "SDK keys page for a viewer", path: "/projects/{project}/integrations/stack/keys", as: "viewer", ready: "sdk-keys-needs-admin"},
	{name: "users page for a viewer", path: "/projects/{project}/users?provider=stack", as: "viewer", ready: "view-only"},
	{name: "branch readiness for a viewer", path: "/projects/{auth}/branches/{authbranch}/auth/readiness", as: "viewer", ready: "readiness-items"},
	{name: "users index advice for a viewer", path: "/projects/{project}/users/index?provider=stack", as: "viewer", ready: "index-admin-only"},
	{name: "no access", path: "/projects", as: "stranger", status: http.StatusForbidden, ready: "forbidden"},
	{name: "nobody signed in", path: "/projects", as: "nobody", status: http.StatusUnauthorized, ready: "unauthenticated"},
}

// a11yIdentities are the proxy headers of each kind of person.
var a11yIdentities = map[string]map[string]string{
	"":         {"X-Forwarded-Email": e2eAdminEmail, "X-Forwarded-User": e2eAdminUser},
	"viewer":   {"X-Forwarded-Email": a11yViewerEmail, "X-Forwarded-User": "vera"},
	"stranger": {"X-Forwarded-Email": a11yStrangerEmail, "X-Forwarded-User": "sam"},
	"nobody":   {},
}

// TestE2EAccessibility audits every page of the dashboard against WCAG 2.1
// A and AA with axe-core, in the light and the dark colour scheme, then the
// answers to the forms TestE2EGuide does not submit: new SDK keys, and
// Better Auth enabled with its users and their roles.
func TestE2EAccessibility(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)

	dash := startDashboardEnv(t, dbURL, map[string]string{"AUTH_VIEWER_EMAILS": a11yViewerEmail, "USERS_INDEX_ROWS": "1"})
	b := browsertest.New(t, browsertest.Options{Headers: a11yIdentities[""], Budget: 5 * time.Minute})
	id := browsertest.TestID

	b.Follow("open the projects page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects"))
	project, bare := findProject(b, demoProject), findProject(b, demoProjectWithoutAuth)
	authProject := findProject(b, demoProjectBranchAuth)
	b.Follow("open the users page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+project+"/users?provider=stack"))
	user := browsertest.Get(b, "find a demo user", chromedp.AttributeValue(id("browse-row"), "data-user-id")).Value
	if user == "" {
		b.Fail("find a demo user", fmt.Errorf("the users page of %s lists nobody", demoProject))
	}
	b.Follow("open the branch comparison", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+authProject+"/auth/compare"))
	authBranch := browsertest.Get(b, "find the default branch", chromedp.AttributeValue(chromedp.CSS(`[data-testid="compare-select-a"] option[selected]`), "value")).Value
	if authBranch == "" {
		b.Fail("find the default branch", fmt.Errorf("the comparison of %s picks no branch", demoProjectBranchAuth))
	}
	fill := strings.NewReplacer("{project}", project, "{bare}", bare, "{user}", user, "{auth}", authProject, "{authbranch}", authBranch)

	signedIn := ""
	for _, p := range a11yPages {
		if p.as != signedIn {
			b.SetHeaders(a11yIdentities[p.as])
			signedIn = p.as
		}
		b.Follow("open "+p.name, cmp.Or(p.status, http.StatusOK), chromedp.Navigate(dash.URL+fill.Replace(p.path)))
		if p.scroll != "" {
			// A fragment in view when the page loads is filled at once, so
			// the element may be gone already.
			browsertest.Get(b, "scroll to "+p.scroll, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
				const el = document.querySelector(%q);
				if (el) el.scrollIntoView();
				return true;
			})()`, string(id(p.scroll)))))
		}
		b.Run("wait for "+p.name, browsertest.Visible(id(p.ready)))
		if p.settled != "" {
			b.Run("wait for "+p.name+" to settle", browsertest.WaitGone(id(p.settled)))
		}
		b.CheckAccessibility(p.name)
	}
	b.SetHeaders(a11yIdentities[""])

	// "Load more" with the keyboard: focus moves to the first new row.
	b.Follow("open the projects one at a time", http.StatusOK, chromedp.Navigate(dash.URL+"/projects?limit=1"))
	b.Run("load more projects with the keyboard",
		browsertest.TabTo(id("more-projects"), 30),
		browsertest.FocusVisible(),
		chromedp.KeyEvent(kb.Enter),
		browsertest.WaitFocus(`[data-testid="project-row"]:nth-child(2) [data-testid="project-link"]`),
	)

	// The browse index: built with the keyboard while the panel polls
	// itself, then removed.
	b.Follow("open the index advice", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+project+"/users/index?provider=stack"))
	b.Run("create the index with the keyboard",
		browsertest.TabTo(id("index-create"), 40),
		chromedp.KeyEvent(kb.Enter),
		browsertest.WaitAttr(id("index-advisor"), "data-state", "served"),
	)
	b.CheckAccessibility("users index served")
	b.Run("remove the index",
		chromedp.Click(id("index-drop")),
		browsertest.WaitAttr(id("index-advisor"), "data-state", "advise"),
	)

	// New SDK keys: the confirmation, then the keys shown once.
	b.Follow("open the SDK keys page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+project+"/integrations/stack/keys"))
	b.Run("issue new SDK keys",
		chromedp.Click(`[data-testid="sdk-keys-form"] input[name="understand"]`),
		chromedp.Click(id("sdk-keys-submit")),
		browsertest.Visible(id("enable-result")),
	)
	b.CheckAccessibility("new SDK keys shown once")

	// Better Auth on the bare project: its keys, then its users with roles.
	// Enabled with the keyboard, focus lands on the keys that replaced the form.
	b.Follow("open the bare project", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+bare))
	b.Run("enable Better Auth with the keyboard",
		chromedp.SetValue(id("provider-select"), "better_auth"),
		browsertest.TabTo(id("enable-submit"), 40),
		chromedp.KeyEvent(kb.Enter),
		browsertest.Visible(id("enable-result")),
		browsertest.WaitFocus(id("enable-result")),
		browsertest.Visible(chromedp.CSS(`[data-testid="branch-row"][data-provider="better_auth"]`)),
	)
	b.CheckAccessibility("Better Auth enabled, keys shown once")
	b.Follow("open the Better Auth users", http.StatusOK, chromedp.Click(`[data-testid="branch-row"][data-provider="better_auth"] [data-testid="branch-users-link"]`))
	email := "rosalind-" + randomSuffix() + "@example.com"
	b.Run("create a Better Auth user",
		chromedp.SendKeys(chromedp.ID("user-email"), email),
		chromedp.Click(id("create-user-form")+` button[type="submit"]`),
		browsertest.WaitFocus(id("created-user")),
		browsertest.WaitAttr(id("sync-panel"), "data-state", "synced"),
		browsertest.WaitText(id("users-browser")+` [data-testid="browse-row"]`, email),
	)
	b.CheckAccessibility("Better Auth users with roles")

	// Better Auth's settings: every group's page, then a form refused at a
	// field, which takes focus to the field at fault.
	b.Follow("open the Better Auth project", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+bare))
	b.Follow("open the Better Auth settings", http.StatusOK, chromedp.Click(`[data-testid="branch-row"][data-provider="better_auth"] [data-testid="branch-settings-link"]`))
	for _, g := range []struct{ tab, card string }{
		{"sign-in", "settings-oauth"}, {"email", "settings-email-server"}, {"plugins", "settings-phone-number"},
		{"webhooks", "settings-webhooks"}, {"application", "settings-application"}, {"domains", "settings-localhost"},
	} {
		b.Follow("open the "+g.tab+" settings", http.StatusOK, chromedp.Click(id("settings-tab-"+g.tab)))
		b.Run("wait for the "+g.tab+" settings", browsertest.Visible(id(g.card)))
		b.CheckAccessibility("Better Auth settings: " + g.tab)
	}
	b.Run("add a domain without its scheme",
		chromedp.SendKeys(chromedp.ID("domains-domain"), "app.example.com"),
		chromedp.Click(id("domains-submit")),
		browsertest.Visible(id("field-error-domains-domain")),
		browsertest.WaitFocus(chromedp.CSS("#domains-domain")),
	)
	b.CheckAccessibility("Better Auth settings: a domain refused at the field")

	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported errors:\n  %s", strings.Join(p, "\n  "))
	}
	t.Logf("accessibility: %d pages × %d schemes audited with axe-core for %s", len(b.Audited()), len(browsertest.Schemes), strings.Join(browsertest.WCAGTags, ", "))
}

// findProject returns the id of the project named name on the projects page.
func findProject(b *browsertest.Browser, name string) string {
	id := browsertest.Get(b, "find project "+name, chromedp.Evaluate[string](`(() => {
		const link = [...document.querySelectorAll('[data-testid="project-row"] [data-testid="project-link"]')]
			.find(a => a.textContent.trim() === `+strconv.Quote(name)+`);
		return link ? link.closest('[data-testid="project-row"]').dataset.projectId : "";
	})()`))
	if id == "" {
		b.Fail("find project "+name, fmt.Errorf("no row for project %q", name))
	}
	return id
}

// TestE2EAccessibilitySignIn audits what only the dashboard's own OIDC
// sign-in shows: the header's sign-out form and the signed-out page, reached
// by signing in at a mock identity provider and out again, with the keyboard.
func TestE2EAccessibilitySignIn(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)

	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	addr := freeLoopbackAddr(t)
	dash := startDashboardEnv(t, dbURL, map[string]string{
		"AUTH_MODE":               "oidc",
		"LISTEN_ADDR":             addr,
		"AUTH_OIDC_ISSUER":        idp.Issuer(),
		"AUTH_OIDC_CLIENT_ID":     idp.ClientID,
		"AUTH_OIDC_CLIENT_SECRET": idp.ClientSecret,
		"AUTH_OIDC_REDIRECT_URL":  "http://" + addr + "/auth/callback",
		"AUTH_ADMIN_EMAILS":       mockoidc.DefaultUser().Email,
	})
	b := browsertest.New(t, browsertest.Options{Budget: 2 * time.Minute})
	id := browsertest.TestID

	// The identity provider signs the default user in without asking.
	b.Follow("sign in", http.StatusOK, chromedp.Navigate(dash.URL+"/projects"))
	b.Run("wait for the projects",
		browsertest.Visible(id("project-row")),
		browsertest.WaitText(id("identity"), mockoidc.DefaultUser().Email),
		browsertest.Visible(id("sign-out")),
	)
	b.CheckAccessibility("projects list with the sign-out form")
	b.Run("reach the sign-out button with the keyboard",
		browsertest.TabTo(id("sign-out")+` button[type="submit"]`, 10),
		browsertest.FocusVisible(),
	)
	b.Follow("sign out with the keyboard", http.StatusOK, chromedp.KeyEvent(kb.Enter))
	b.Run("wait for the signed-out page", browsertest.Visible(id("signed-out")))
	b.CheckAccessibility("signed-out page")
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported errors:\n  %s", strings.Join(p, "\n  "))
	}
}

// freeLoopbackAddr is a loopback address nothing listens on, for a server
// whose own URL must be configured before it starts (an OIDC redirect URL).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
