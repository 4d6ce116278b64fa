package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/views"
)

// demoProjectWithoutAuth is the project the demo seeds without Neon Auth.
const demoProjectWithoutAuth = "storefront"

// The person the authenticating proxy in front of the dashboard signs in.
const (
	e2eAdminEmail = "ada@example.com"
	e2eAdminUser  = "ada"
)

// TestE2EGuide walks Neon's "Manage Neon Auth using the API" guide through the
// dashboard in a real browser: enable Neon Auth on a project, see the keys
// once, create a user and watch it reach the database, transfer ownership,
// and delete the integration. The server is the real one in demo mode, signed
// in through trusted proxy headers.
func TestE2EGuide(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t) // skip before starting anything when there is no browser

	dash := startDashboard(t, dbURL)
	b := browsertest.New(t, browsertest.Options{
		Headers: map[string]string{
			"X-Forwarded-Email": e2eAdminEmail,
			"X-Forwarded-User":  e2eAdminUser,
		},
		// Each page is audited with axe in two colour schemes on the way.
		Budget: 3 * time.Minute,
	})
	id := browsertest.TestID

	// Projects → "storefront", which the demo seeds without Neon Auth.
	b.Follow("open the projects page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects"))
	b.Run("wait for the projects",
		browsertest.Visible(id("project-row")),
		browsertest.WaitText(id("identity"), e2eAdminEmail),
		browsertest.WaitText(id("identity"), "admin"),
	)
	project := struct{ ID, Name string }{Name: demoProjectWithoutAuth}
	project.ID = browsertest.Get(b, "find the project row", chromedp.Evaluate[string](`(() => {
		const link = [...document.querySelectorAll('[data-testid="project-row"] [data-testid="project-link"]')]
			.find(a => a.textContent.trim() === `+strconv.Quote(project.Name)+`);
		return link ? link.closest('[data-testid="project-row"]').dataset.projectId : "";
	})()`))
	if project.ID == "" {
		b.Fail("find the project row", fmt.Errorf("no row for project %q", project.Name))
	}
	row := chromedp.CSS(`[data-testid="project-row"][data-project-id="` + project.ID + `"]`)
	if got := browsertest.Get(b, "read the project's auth state", chromedp.TextContent(row+` [data-testid="auth-state"]`)); !strings.Contains(got, "not enabled") {
		b.Fail("check the project has no Neon Auth", fmt.Errorf("auth state = %q", strings.TrimSpace(got)))
	}
	b.CheckAccessibility("projects list")
	if n := len(browsertest.Get(b, "look for the anonymous banner", chromedp.Nodes(id("anonymous-banner"), chromedp.AtLeast(0)))); n != 0 {
		b.Fail("signed in through the proxy", errors.New("the page shows the anonymous banner"))
	}
	b.Follow("open the project", http.StatusOK, chromedp.Click(row+` [data-testid="project-link"]`))
	b.Run("look at the project",
		browsertest.WaitText(id("project-name"), project.Name),
		browsertest.Visible(id("integrations-empty")),
		browsertest.Visible(id("enable-form")),
	)
	b.CheckAccessibility("project page without Neon Auth")

	// The form preselects Better Auth, the current generation, on the
	// default branch and database neondb, without the role only Stack Auth
	// takes. Picking Stack Auth shows the role, neondb_owner preselected;
	// Neon Auth is enabled with that.
	for _, f := range []struct{ sel, want string }{
		{`[data-testid="provider-select"]`, "better_auth"},
		{`[data-testid="database-select"]`, "neondb"},
	} {
		if got := browsertest.Get(b, "read "+f.sel, chromedp.Value(chromedp.CSS(f.sel))); got != f.want {
			b.Fail("check the enable form's defaults", fmt.Errorf("%s = %q, want %q", f.sel, got, f.want))
		}
	}
	roleState := `(() => { const f = document.querySelector('[data-testid="role-field"]'), s = document.querySelector('[data-testid="role-select"]'); return f.hidden + "/" + s.disabled; })()`
	if got := browsertest.Get(b, "read the role field", chromedp.Evaluate[string](roleState)); got != "true/true" {
		b.Fail("check the enable form's defaults", fmt.Errorf("role field hidden/disabled = %s with Better Auth, want true/true", got))
	}
	b.Run("pick Stack Auth", chromedp.SetValue(id("provider-select"), "stack"))
	browsertest.Get(b, "tell the form the provider changed", chromedp.Evaluate[bool](
		`document.querySelector('[data-testid="provider-select"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	b.Run("wait for the role", browsertest.Visible(id("role-select")))
	if got := browsertest.Get(b, "read the role field", chromedp.Evaluate[string](roleState)); got != "false/false" {
		b.Fail("pick Stack Auth", fmt.Errorf("role field hidden/disabled = %s with Stack Auth, want false/false", got))
	}
	if got := browsertest.Get(b, "read the role", chromedp.Value(id("role-select"))); got != "neondb_owner" {
		b.Fail("pick Stack Auth", fmt.Errorf("role = %q, want neondb_owner", got))
	}
	branch := browsertest.Get(b, "read the selected branch", chromedp.TextContent(id("branch-select")+` option:checked`))
	if !strings.Contains(branch, "main (default)") {
		b.Fail("check the enable form's defaults", fmt.Errorf("selected branch %q, want the default branch main", branch))
	}
	b.Run("enable Neon Auth",
		chromedp.Click(id("enable-submit")),
		browsertest.Visible(id("enable-result")),
		browsertest.Visible(chromedp.CSS(`[data-testid="integration-card"][data-provider="stack"]`)),
	)
	b.CheckAccessibility("keys shown once")

	// The secret is masked until revealed; the .env block holds the three
	// variables of Neon's guide, with the secret masked too.
	secret := browsertest.Get(b, "read the secret", chromedp.AttributeValue(id("secret-key"), "data-secret")).Value
	if len(secret) < 8 {
		b.Fail("read the secret", fmt.Errorf("data-secret = %q, want a key", secret))
	}
	if got := browsertest.Get(b, "read the masked secret", chromedp.TextContent(id("secret-key"))); got != views.SecretMask {
		b.Fail("check the secret is masked", fmt.Errorf("secret shows %q before reveal", got))
	}
	wantEnv := map[string]string{
		"NEXT_PUBLIC_STACK_PROJECT_ID":             browsertest.Get(b, "read the auth project id", chromedp.TextContent(id("auth-provider-project-id"))),
		"NEXT_PUBLIC_STACK_PUBLISHABLE_CLIENT_KEY": browsertest.Get(b, "read the publishable key", chromedp.TextContent(id("pub-client-key"))),
		"STACK_SECRET_SERVER_KEY":                  views.SecretMask,
	}
	env := browsertest.Get(b, "read the .env block", chromedp.TextContent(id("env-block")))
	gotEnv := map[string]string{}
	for line := range strings.Lines(env) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			gotEnv[k] = v
		}
	}
	for k, want := range wantEnv {
		if gotEnv[k] != want || want == "" {
			b.Fail("check the .env block", fmt.Errorf("%s=%q in the .env block, want %q:\n%s", k, gotEnv[k], want, env))
		}
	}
	if len(gotEnv) != len(wantEnv) {
		b.Fail("check the .env block", fmt.Errorf(".env block has %d variables, want %d:\n%s", len(gotEnv), len(wantEnv), env))
	}
	b.Run("reveal the secret",
		chromedp.Click(chromedp.CSS(`[data-reveal="secret-key"]`)),
		browsertest.WaitText(id("secret-key"), secret),
	)

	// Once the page is loaded again, the secret is gone for good.
	b.Follow("reload the project page", http.StatusOK, chromedp.Navigate(dash.URL+views.ProjectURL(project.ID)))
	b.Run("wait for the integration",
		browsertest.Visible(chromedp.CSS(`[data-testid="integration-card"][data-provider="stack"]`)),
	)
	if html := b.HTML(); strings.Contains(html, secret) || strings.Contains(html, `data-testid="enable-result"`) {
		b.Fail("reload the project page", errors.New("the page still shows the keys of the enable step"))
	}
	b.CheckAccessibility("project page with Stack Auth")

	// Users: a bad email is refused next to the field, with the input kept.
	b.Follow("open the users page", http.StatusOK, chromedp.Click(chromedp.CSS(`[data-testid="integration-card"][data-provider="stack"] [data-testid="users-link"]`)))
	b.Run("wait for the create form", browsertest.Visible(id("create-user-form")))
	b.CheckAccessibility("users page")
	// With the keyboard alone: Tab to the field, type, Tab to the button
	// (its focus visible), Enter. The error comes back in place of the form
	// and focus lands on the field it is about.
	const badEmail = "not-an-email"
	b.Run("submit a bad email with the keyboard",
		browsertest.TabTo("#user-email", 40),
		chromedp.KeyEvent(badEmail),
		browsertest.TabTo(id("create-user-form")+` button[type="submit"]`, 5),
		browsertest.FocusVisible(),
		chromedp.KeyEvent(kb.Enter),
		browsertest.Visible(id("field-error-email")),
		browsertest.WaitFocus("#user-email"),
	)
	if got := browsertest.Get(b, "read aria-describedby", chromedp.AttributeValue(chromedp.ID("user-email"), "aria-describedby")).Value; got != "err-email" {
		b.Fail("check the error is tied to the field", fmt.Errorf("aria-describedby = %q, want err-email", got))
	}
	b.Run("find the error the field points at", browsertest.Visible(chromedp.CSS(`#err-email[data-testid="field-error-email"]`)))
	b.CheckAccessibility("create form with an error")
	if got := browsertest.Get(b, "read the email field", chromedp.Value(chromedp.ID("user-email"))); got != badEmail {
		b.Fail("check the email was kept", fmt.Errorf("email field = %q, want %q", got, badEmail))
	}
	if got := browsertest.Get(b, "read aria-invalid", chromedp.AttributeValue(chromedp.ID("user-email"), "aria-invalid")).Value; got != "true" {
		b.Fail("check the email is marked invalid", fmt.Errorf("aria-invalid = %q", got))
	}

	// A good one is created, and the live sync check finds its row.
	email := "grace-" + randomSuffix() + "@example.com"
	b.Run("create a user",
		chromedp.Clear(chromedp.ID("user-email")),
		chromedp.SendKeys(chromedp.ID("user-email"), email),
		chromedp.SendKeys(chromedp.ID("user-name"), "Grace Hopper"),
		chromedp.Click(id("create-user-form")+` button[type="submit"]`),
		browsertest.Visible(id("created-user-id")),
	)
	b.Run("wait for the user to sync",
		browsertest.WaitAttr(id("sync-panel"), "data-state", "synced"),
		browsertest.WaitText(id("sync-status"), "synced"),
		browsertest.WaitText(id("row-email"), email),
	)
	b.CheckAccessibility("user created and synced")
	// The users table reads the same database, and reloads by itself
	// once the sync check has seen the row.
	b.Run("see the user in the table",
		browsertest.WaitText(id("users-browser")+` [data-testid="browse-row"]`, email),
	)

	// Transfer ownership: confirm, then the claim URL opens in a new tab.
	b.Follow("go back to the project", http.StatusOK, chromedp.Navigate(dash.URL+views.ProjectURL(project.ID)))
	b.Follow("open the transfer confirmation", http.StatusOK, chromedp.Click(id("transfer-link")))
	b.Run("wait for the transfer confirmation", browsertest.Visible(id("transfer-confirm")))
	b.CheckAccessibility("transfer confirmation")
	b.Run("tick the confirmation", chromedp.Click(chromedp.CSS(`input[name="understand"]`)))
	b.Follow("start the transfer", http.StatusOK, chromedp.Click(id("transfer-submit")))
	b.Run("look at the transfer",
		browsertest.Visible(id("transfer-url")),
		browsertest.WaitText(`[data-testid="integration-card"][data-provider="stack"] [data-testid="transfer-status"]`, "initiated"),
	)
	b.CheckAccessibility("transfer started")
	link := browsertest.Get(b, "read the transfer link", chromedp.Attributes(id("transfer-url")))
	if link["target"] != "_blank" || !strings.Contains(link["rel"], "noopener") || !strings.HasPrefix(link["href"], "http") {
		b.Fail("check the transfer link", fmt.Errorf("transfer link attributes = %v, want an http(s) href, target=_blank and rel=noopener", link))
	}

	// Delete the integration and its data, typing the project's name.
	del := chromedp.CSS(`[data-testid="delete-form"][data-provider="stack"]`)
	b.Run("delete the integration",
		chromedp.SendKeys(del+` [data-testid="confirm-name"]`, project.Name),
		chromedp.Click(del+` [data-testid="delete-data"]`),
		chromedp.Click(del+` [data-testid="delete-submit"]`),
		browsertest.WaitText(id("flash"), "removed from "+project.Name),
		browsertest.Visible(id("integrations-empty")),
		browsertest.WaitGone(`[data-testid="integration-card"]`),
	)
	if got := browsertest.Get(b, "read the flash", chromedp.TextContent(id("flash"))); !strings.Contains(got, "dropped") {
		b.Fail("check the data was deleted too", fmt.Errorf("flash %q does not say the users were dropped", strings.TrimSpace(got)))
	}
	b.CheckAccessibility("integration deleted")

	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported errors:\n  %s", strings.Join(p, "\n  "))
	}
	if strings.Contains(dash.logs.String(), secret) {
		t.Error("the secret server key appears in the server's log")
	}
}

// dashboard is the real server, run in-process in demo mode.
type dashboard struct {
	URL  string
	logs *syncBuffer
}

// startDashboard runs `dashboard serve --demo` on a free loopback port behind
// trusted proxy-header sign-in, and stops it (dropping the demo's databases)
// when the test ends.
func startDashboard(t *testing.T, dbURL string) *dashboard {
	t.Helper()
	return startDashboardEnv(t, dbURL, nil)
}

// startDashboardEnv is startDashboard with more environment, such as a
// viewer list or another AUTH_MODE; LISTEN_ADDR picks the address.
func startDashboardEnv(t *testing.T, dbURL string, env map[string]string) *dashboard {
	t.Helper()
	t.Setenv("AUTH_MODE", "proxy")
	t.Setenv("AUTH_PROXY_TRUSTED", "127.0.0.1/32")
	t.Setenv("AUTH_ADMIN_EMAILS", e2eAdminEmail)
	t.Setenv("SESSION_KEYS", hex.EncodeToString(randomBytes(32)))
	for _, k := range []string{
		"NEON_API_KEY", "NEON_API_URL", "DATABASE_URL", "LISTEN_ADDR", "COOKIE_SECURE", "CACHE_TTL", "SYNC_TIMEOUT", "USERS_INDEX_ROWS", "AUDIT_LOG",
		"AUTH_PROXY_HEADERS", "AUTH_PROXY_USER_HEADER", "AUTH_PROXY_EMAIL_HEADER", "AUTH_PROXY_GROUPS_HEADER", "ALLOWED_HOSTS",
		"AUTH_ADMIN_DOMAINS", "AUTH_ADMIN_GROUPS",
		"AUTH_VIEWER_EMAILS", "AUTH_VIEWER_DOMAINS", "AUTH_VIEWER_GROUPS", "AUTH_CONTACT",
		"AUTH_OIDC_ISSUER", "AUTH_OIDC_CLIENT_ID", "AUTH_OIDC_CLIENT_SECRET", "AUTH_OIDC_REDIRECT_URL", "AUTH_OIDC_SCOPES",
		"REQUEST_TIMEOUT", "SHUTDOWN_GRACE", "CACHE_FRESHNESS", "NEON_API_RATE",
	} {
		t.Setenv(k, "")
	}
	// The test's sandbox is its own, so the dashboard may spend all of its
	// rate budget, as the demo does; the share is measured by cmd/neonload
	// and tested on its own.
	t.Setenv("NEON_API_SHARE", "100")
	for k, v := range env {
		t.Setenv(k, v)
	}

	args := []string{"serve", "--listen", cmp.Or(env["LISTEN_ADDR"], "127.0.0.1:0")}
	if env["NEON_API_KEY"] == "" {
		// Without a Neon API of its own, the dashboard runs the demo sandbox
		// on dbURL's server. With one, it reaches each integration's database
		// through Neon's connection URIs: --database-url would then be an
		// override sending every integration to dbURL's database.
		args = append(args, "--demo", "--database-url", dbURL, "--sync-delay", "200ms")
	}
	d := &dashboard{logs: &syncBuffer{}}
	stdout := newLineWatcher(regexp.MustCompile(`Dashboard: (http://\S+?)/?$`))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, stdout, d.logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dashboard stopped with: %v\nlog:\n%s", err, d.logs)
		}
	})

	select {
	case d.URL = <-stdout.match:
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("dashboard did not start: %v\nlog:\n%s", err, d.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("dashboard did not report its address within 30s\nlog:\n%s", d.logs)
	}
	// It listens before it prints the address. Without the proxy's headers
	// nobody is signed in, so the first answer is a refusal; in OIDC mode, a
	// redirect to sign in.
	want := http.StatusUnauthorized
	if env["AUTH_MODE"] == "oidc" {
		want = http.StatusFound
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirects.Get(d.URL + "/projects")
	if err != nil {
		t.Fatalf("dashboard does not answer: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("GET /projects without identity: %s, want %d", res.Status, want)
	}
	return d
}

// lineWatcher is an io.Writer that sends the first submatch of the first line
// matching re.
type lineWatcher struct {
	re    *regexp.Regexp
	match chan string
	mu    sync.Mutex
	buf   bytes.Buffer
	sent  bool
}

func newLineWatcher(re *regexp.Regexp) *lineWatcher {
	return &lineWatcher{re: re, match: make(chan string, 1)}
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	sc := bufio.NewScanner(bytes.NewReader(w.buf.Bytes()))
	for sc.Scan() && !w.sent {
		if m := w.re.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			w.match <- m[1]
			w.sent = true
		}
	}
	return len(p), nil
}

// String is everything written so far.
func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines to log into
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomSuffix() string { return hex.EncodeToString(randomBytes(3)) }
