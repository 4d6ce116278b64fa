package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// TestE2EConsoleCleanThroughSwaps saves a branch's sign-in settings again and
// again and pages the users table forward and back, with the back button
// too, while something else on the page styles its elements through the
// CSSOM before each step, as a browser extension or a testing tool
// highlighting what it clicks does. The CSP allows that, but not htmx
// writing those styles back as attributes when it swaps the answer in or
// restores a page: each would be a console error, which fails the step it
// happens in (the harness checks the console after every step).
func TestE2EConsoleCleanThroughSwaps(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)
	dash := startDashboardEnv(t, dbURL, nil)
	b := browsertest.New(t, browsertest.Options{Headers: a11yIdentities[""], Budget: 3 * time.Minute})
	id := browsertest.TestID

	// Projects → launchpad → its default branch's settings → Sign-in.
	b.Follow("open the projects page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects"))
	b.Follow("open "+demoProjectBranchAuth, http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+findProject(b, demoProjectBranchAuth)))
	b.Follow("open the default branch's settings", http.StatusOK,
		chromedp.Click(`[data-testid="branch-row"]:has([data-testid="branch-default"]) [data-testid="branch-settings-link"]`))
	b.Follow("open the sign-in settings", http.StatusOK, chromedp.Click(id("settings-tab-sign-in")))

	emailCard := chromedp.CSS("#settings-email-password")
	for i := range 3 {
		allow := i%2 == 1
		saved := "#email-password-allow_sign_up:not(:checked)"
		if allow {
			saved = "#email-password-allow_sign_up:checked"
		}
		setSwitch(b, "email-password-allow_sign_up", allow)
		swapStep(b, fmt.Sprintf("save email and password (%d)", i+1), emailCard,
			chromedp.Click(id("email-password-submit")))
		b.Run(fmt.Sprintf("see save %d", i+1), browsertest.Visible(id("email-password-saved")), browsertest.Visible(chromedp.CSS(saved)))
	}

	oauthCard := chromedp.CSS("#settings-oauth")
	github := chromedp.CSS(`[data-testid="oauth-row"][data-provider="github"]`)
	swapStep(b, "add GitHub without a client id", oauthCard,
		chromedp.SetValue(id("oauth-add-provider"), "github"),
		chromedp.Click("#oauth-add-credentials-own"),
		chromedp.Click(id("oauth-add-submit")))
	b.Run("see the refusal at the field", browsertest.Visible(chromedp.CSS(`#oauth-add-client_id[aria-invalid="true"]`)))
	swapStep(b, "add GitHub with its own app", oauthCard,
		chromedp.Click("#oauth-add-credentials-own"),
		chromedp.SendKeys("#oauth-add-client_id", "console-github-client"),
		chromedp.SendKeys("#oauth-add-client_secret", "console-github-secret-"+randomSuffix()),
		chromedp.Click(id("oauth-add-submit")))
	b.Run("see GitHub added", browsertest.WaitText(github+` [data-testid="oauth-credentials"]`, "own credentials"))
	for i := range 2 {
		client := fmt.Sprintf("console-github-client-%d", i+2)
		swapStep(b, fmt.Sprintf("update GitHub's credentials (%d)", i+1), oauthCard,
			chromedp.Clear("#oauth-github-client_id"),
			chromedp.SendKeys("#oauth-github-client_id", client),
			chromedp.Click(id("oauth-github-submit")))
		b.Run(fmt.Sprintf("see update %d", i+1),
			browsertest.Visible(id("oauth-github-saved")),
			browsertest.WaitAttr(chromedp.CSS("#oauth-github-client_id"), "value", client),
		)
	}

	// The users table: 3 demo users and 160 more, 50 a page, newest first.
	b.Follow("open the projects page again", http.StatusOK, chromedp.Navigate(dash.URL+"/projects"))
	users := dash.URL + "/projects/" + findProject(b, demoProject) + "/users?provider=stack"
	b.Follow("open the users page", http.StatusOK, chromedp.Navigate(users))
	where := browsertest.Get(b, "read the database", chromedp.Text(id("database")))
	seedDemoUsers(t, dbURL, where[strings.LastIndex(where, "/")+1:], 160)
	b.Follow("reload the users page", http.StatusOK, chromedp.Navigate(users))
	b.Run("wait for the users table", browsertest.WaitText(id("users-count"), "users match"))

	table := chromedp.CSS("#users-browser")
	for _, p := range []struct {
		step   string
		action chromedp.Action[chromedp.Void]
		// first is in the first row's email; end, when set, is the pager
		// link missing at this end of the table.
		first, end string
	}{
		{"go to the second page", chromedp.Click(id("page-next")), "user113@", ""},
		{"go to the third page", chromedp.Click(id("page-next")), "user63@", ""},
		{"go back a page by link", chromedp.Click(id("page-prev")), "user113@", ""},
		{"go back with the back button", chromedp.NavigateBack(), "user63@", ""},
		{"go back with the back button again", chromedp.NavigateBack(), "user113@", ""},
		{"go forward with the forward button", chromedp.NavigateForward(), "user63@", ""},
		{"go to the last page", chromedp.Click(id("page-last")), "user", "page-next"},
		{"go to the first page", chromedp.Click(id("page-first")), "@example.com", "page-prev"},
	} {
		swapStep(b, p.step, table, p.action)
		b.Run("see the rows after: "+p.step, browsertest.WaitText(id("browse-row"), p.first), browsertest.WaitText(id("users-count"), "users match"))
		if p.end != "" {
			b.Run("see the end of the table after: "+p.step, browsertest.WaitGone(id(p.end)))
		}
	}
}

// styleFromScript gives scope and every element with an id inside it an
// outline through the CSSOM, which the CSP allows and which leaves a style
// attribute, and marks scope as the old one.
const styleFromScript = `((scope) => {
	const root = document.querySelector(scope);
	if (!root) return 0;
	root.setAttribute("data-replaced", "no");
	const styled = [root, ...root.querySelectorAll("[id]")];
	for (const el of styled) el.style.outline = "2px dashed orange";
	return styled.filter(el => el.hasAttribute("style")).length;
})(%q)`

// swapStep styles scope's elements from a script, performs actions that
// swap scope for the server's answer (a form posted by htmx, a page link,
// the back button), and waits until htmx has settled the new one, so the
// next step clicks on content htmx has taken over.
func swapStep(b *browsertest.Browser, step string, scope chromedp.CSS, actions ...chromedp.Action[chromedp.Void]) {
	b.Run(step+": wait for settled content", settled())
	if n := browsertest.Get(b, step+": style from a script", chromedp.Evaluate[int](fmt.Sprintf(styleFromScript, string(scope)))); n < 2 {
		b.Fail(step+": style from a script", fmt.Errorf("%d elements of %s carry a style attribute, want it and its fields", n, scope))
	}
	b.Run(step, actions...)
	b.Run(step+": wait for the answer",
		browsertest.WaitGone(scope+`[data-replaced="no"]`),
		browsertest.Visible(scope),
		settled(),
	)
}

// settled waits until htmx has no request in flight and nothing left to
// swap or settle: until it settles new content, its links and forms are not
// yet htmx's, and a click would load a whole page instead.
func settled() chromedp.Action[chromedp.Void] {
	return browsertest.WaitGone(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
}
