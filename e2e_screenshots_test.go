package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
)

// Screenshot geometry: the browser's default window width, and the tallest
// picture taken; a page that ends sooner is taken whole.
const (
	screenshotWidth     = 1280
	screenshotMaxHeight = 1600
)

// TestE2EScreenshots takes the pictures of the demo that docs/ keeps: the
// project page of "launchpad" (Better Auth on two branches), the users page
// of its default branch and the comparison of its branches. Each page is
// checked before its picture is taken: it loaded all its parts, and the
// layout says each thing once, on one line where it should. Two pages
// without a picture, a user's detail and the trusted domains, are checked
// the same way.
//
// With UPDATE_SCREENSHOTS=1 the pictures replace docs/screenshot-*.png;
// otherwise they go to the test's artifact directory (kept with go test
// -artifacts).
func TestE2EScreenshots(t *testing.T) {
	dbURL := pgtest.Require(t)
	browsertest.Chromium(t)

	dash := startDashboard(t, dbURL)
	b := browsertest.New(t, browsertest.Options{
		Headers: map[string]string{"X-Forwarded-Email": e2eAdminEmail, "X-Forwarded-User": e2eAdminUser},
		Width:   screenshotWidth,
		Budget:  2 * time.Minute,
	})
	id := browsertest.TestID
	dir := t.ArtifactDir()
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		dir = "docs"
	}

	b.Follow("open the projects page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects"))
	project := findProject(b, demoProjectBranchAuth)

	// The project page: the branch table is the one place for the
	// branches, the default first, each with its links apart.
	b.Follow("open the project page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+project))
	b.Run("wait for the branches and their readiness",
		browsertest.Visible(id("branch-table")),
		browsertest.WaitGone(id("readiness-slot")),
	)
	mainBranch := browsertest.Get(b, "find the default branch", chromedp.AttributeValue(chromedp.CSS(`[data-testid="branch-row"]:first-child`), "data-branch-id")).Value
	checkPage(b, "project page", map[string]string{
		"the default branch's row comes first":        `!!document.querySelector('[data-testid="branch-row"]:first-child [data-testid="branch-default"]')`,
		"both branches show Better Auth in the table": `document.querySelectorAll('[data-testid="branch-row"][data-provider="better_auth"]').length === 2`,
		"no card repeats a branch-level integration":  `document.querySelectorAll('[data-testid="integration-card"]').length === 0`,
		"no line repeats the default branch's auth":   `document.querySelector('[data-testid="branch-auth"]') === null`,
		"each row's links stand apart":                linksApartJS,
	})
	takeScreenshot(b, filepath.Join(dir, "screenshot-project.png"), "#enable-panel")

	// The users page of the default branch, once the table, its count, the
	// chart and the index advice have loaded.
	b.Follow("open the users page", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+project+"/branches/"+mainBranch+"/users"))
	b.Run("wait for the users page's panels",
		browsertest.Visible(id("browse-row")),
		browsertest.WaitGone(`#users-count[aria-busy="true"]`),
		browsertest.Visible(id("signups-chart")),
		browsertest.WaitGone(id("index-advisor-slot")),
	)
	checkPage(b, "users page", map[string]string{
		"each row shows its role once":               roleOnceJS,
		"the set role buttons keep to one line":      setRoleOneLineJS,
		"the search box shows its whole placeholder": placeholderFitsJS("browse-q"),
	})
	takeScreenshot(b, filepath.Join(dir, "screenshot-users.png"), "#users-browser")
	user := browsertest.Get(b, "find a user", chromedp.AttributeValue(id("browse-row"), "data-user-id")).Value

	// The comparison of main with preview, which the demo makes differ.
	b.Follow("open the comparison", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+project+"/auth/compare"))
	b.Run("wait for the comparison", browsertest.Visible(id("compare-table")))
	checkPage(b, "comparison", map[string]string{
		"a difference is marked": `document.querySelectorAll('[data-testid="compare-table"] tr[data-differs="true"]').length > 0`,
	})
	takeScreenshot(b, filepath.Join(dir, "screenshot-compare.png"), "")

	// Two pages the pictures leave out: a user's detail, whose actions
	// stand apart from the facts above them, and the trusted domains of
	// preview, each with a small Remove button on its line.
	b.Follow("open a user's detail", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+project+"/branches/"+mainBranch+"/users/"+user+"/detail"))
	b.Run("wait for the user's actions", browsertest.Visible(id("user-actions")))
	checkPage(b, "user detail", map[string]string{
		"the actions stand a line apart from the facts": `(() => {
			const h = document.querySelector('[data-testid="user-actions"] h3'), facts = document.querySelector('[data-testid="user-detail"] > dl.facts');
			return h.getBoundingClientRect().top - facts.getBoundingClientRect().bottom >= parseFloat(getComputedStyle(facts).fontSize);
		})()`,
		"the set role button keeps to one line": setRoleOneLineJS,
	})
	preview := browsertest.Get(b, "find the preview branch", chromedp.Evaluate[string](`[...document.querySelectorAll('[data-testid="branch-switch-link"]')].find(a => a.textContent.trim() === `+strconv.Quote(demoPreviewBranch)+`)?.dataset.branchId ?? ""`))
	if preview == "" {
		b.Fail("find the preview branch", fmt.Errorf("the branch switch does not offer %s", demoPreviewBranch))
	}
	b.Follow("open preview's trusted domains", http.StatusOK, chromedp.Navigate(dash.URL+"/projects/"+project+"/branches/"+preview+"/auth/settings/domains"))
	b.Run("wait for the domains", browsertest.Visible(id("domain-row")))
	checkPage(b, "trusted domains", map[string]string{
		"each Remove button is on its domain's line, no taller than twice the domain": `[...document.querySelectorAll('[data-testid="domain-row"]')].every(row => {
			const c = row.querySelector('code').getBoundingClientRect(), b = row.querySelector('[data-testid="domain-remove"]').getBoundingClientRect();
			return b.top < c.bottom && b.bottom > c.top && b.height <= 2 * c.height;
		})`,
	})

	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported errors:\n  %v", p)
	}
}

// linksApartJS holds when, in every list of links in a table cell, each link
// is on its own line or at least half an em right of the one before it.
const linksApartJS = `[...document.querySelectorAll('td ul.link-list')].every(ul => {
	const rects = [...ul.querySelectorAll('a')].map(a => a.getBoundingClientRect());
	const em = parseFloat(getComputedStyle(ul).fontSize);
	return rects.length > 0 && rects.every((r, i) => i === 0 || r.top >= rects[i-1].bottom || r.left - rects[i-1].right >= em / 2);
})`

// setRoleOneLineJS holds when every role control's button has its label on
// one line.
const setRoleOneLineJS = `[...document.querySelectorAll('[data-testid="role-form"] button')].every(b => {
	const r = document.createRange();
	r.selectNodeContents(b);
	return r.getClientRects().length === 1;
})`

// roleOnceJS holds when each users table row shows its role once: as the
// role control's choice, or as text where there is no control.
const roleOnceJS = `[...document.querySelectorAll('[data-testid="browse-row"]')].every(row => {
	const role = row.querySelector('[data-testid="user-role"]').textContent.trim();
	const shown = [...row.querySelector('.role-cell').querySelectorAll('span, select')].filter(e =>
		e.tagName === 'SELECT' ? e.selectedOptions[0].textContent.trim() === role : e.offsetParent !== null && e.textContent.trim() === role);
	return shown.length === 1;
})`

// placeholderFitsJS holds when the placeholder of the input with the given
// id fits inside its box, measured in the input's own font.
func placeholderFitsJS(inputID string) string {
	return fmt.Sprintf(`(() => {
		const el = document.getElementById(%q), s = getComputedStyle(el);
		const ctx = document.createElement('canvas').getContext('2d');
		ctx.font = s.font;
		const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
		return el.placeholder !== '' && ctx.measureText(el.placeholder).width <= room;
	})()`, inputID)
}

// checkPage fails the test for each named predicate that does not hold on
// the page.
func checkPage(b *browsertest.Browser, pageName string, checks map[string]string) {
	for what, js := range checks {
		if !browsertest.Get(b, pageName+": "+what, chromedp.Evaluate[bool](js)) {
			b.Fail(pageName, fmt.Errorf("%s: not so", what))
		}
	}
}

// takeScreenshot writes a PNG of the page, screenshotWidth wide, from the
// top to the bottom of the element matched by until (plus a margin short of
// the next section), or of the whole page when until is empty; never taller
// than screenshotMaxHeight. It checks the picture has that size.
func takeScreenshot(b *browsertest.Browser, path, until string) {
	height := browsertest.Get(b, "measure "+filepath.Base(path), chromedp.Evaluate[float64](fmt.Sprintf(`(() => {
		const page = document.documentElement.scrollHeight, el = %q && document.querySelector(%q);
		return el ? Math.min(page, el.getBoundingClientRect().bottom + window.scrollY + 16) : page;
	})()`, until, until)))
	height = math.Ceil(min(height, screenshotMaxHeight))
	shot := browsertest.Get(b, "screenshot "+filepath.Base(path), func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		beyond := true
		res, err := cdp.Call(ctx, tg, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			Clip:                  &page.Viewport{Width: screenshotWidth, Height: height, Scale: 1},
			CaptureBeyondViewport: &beyond,
		})
		return res.Data, err
	})
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil || cfg.Width != screenshotWidth || cfg.Height != int(height) {
		b.Fail("screenshot "+filepath.Base(path), fmt.Errorf("picture %dx%d (%v), want %dx%.0f", cfg.Width, cfg.Height, err, screenshotWidth, height))
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		b.Fail("screenshot "+filepath.Base(path), err)
	}
}
