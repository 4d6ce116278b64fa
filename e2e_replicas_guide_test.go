package main

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/neonauth-admin/dashboard/internal/browsertest"
	"github.com/neonauth-admin/dashboard/views"
)

// guideFlow is the browser's way through Neon's guide, behind the proxy.
type guideFlow struct {
	t  *testing.T
	rs *replicaSet
	b  *browsertest.Browser
	// project is the guide's project, without Neon Auth at the start.
	project struct{ ID, Name string }
}

// crossReplicaWait bounds a wait for what a change made through one
// replica must look like on the other: well past the time the change
// takes to reach it, well short of the browser's budget.
const crossReplicaWait = 10 * time.Second

// signInAndWalkTheGuide signs the admin in with Chromium through the proxy,
// checks the sign-in's steps went to different replicas, then walks Neon's
// guide as TestE2EGuide does: enable Neon Auth (the keys shown once), create
// a user and watch it reach the database, transfer ownership, delete the
// integration. Every request goes to whichever replica is next, so each
// step's page is often served by the replica that did not make the change.
func (rs *replicaSet) signInAndWalkTheGuide(t *testing.T) {
	t.Helper()
	f := &guideFlow{t: t, rs: rs, b: browsertest.New(t, browsertest.Options{Budget: 2 * time.Minute})}
	first := rs.proxy.count()
	f.signIn()
	rs.checkSignInSteps(t, rs.proxy.since(first))
	f.enable()
	f.createUser()
	f.transferAndDelete()
	if p := f.b.Problems(); len(p) > 0 {
		t.Errorf("the browser reported errors:\n  %s", strings.Join(p, "\n  "))
	}
	rs.checkGuideSpread(t, rs.proxy.since(first))
}

// signIn opens the projects page through the proxy, which sends the
// browser through the dashboard's sign-in at the identity provider.
func (f *guideFlow) signIn() {
	f.t.Helper()
	id := browsertest.TestID
	admin := replicasAdmin
	f.rs.idp.QueueUser(&admin)
	f.b.Follow("sign in through the proxy", http.StatusOK, chromedp.Navigate(f.rs.proxy.URL+"/projects"))
	f.b.Run("wait for the projects", browsertest.Visible(id("project-row")), browsertest.WaitText(id("identity"), "admin"))
	f.project.ID, f.project.Name = findProject(f.b, replicasGuideProject), replicasGuideProject
}

// openProject loads the guide's project page through the proxy.
func (f *guideFlow) openProject(step string) {
	f.t.Helper()
	f.b.Follow(step, http.StatusOK, chromedp.Navigate(f.rs.proxy.URL+views.ProjectURL(f.project.ID)))
}

// enable enables Neon Auth (Stack Auth, so that ownership can be
// transferred), sees the keys once, then loads the page on both replicas:
// the integration is there and the keys are gone.
func (f *guideFlow) enable() {
	f.t.Helper()
	b, id := f.b, browsertest.TestID
	f.openProject("open the project")
	b.Run("look at the project", browsertest.WaitText(id("project-name"), f.project.Name), browsertest.Visible(id("enable-form")))
	b.Run("pick Stack Auth", chromedp.SetValue(id("provider-select"), "stack"))
	browsertest.Get(b, "tell the form the provider changed", chromedp.Evaluate[bool](
		`document.querySelector('[data-testid="provider-select"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	b.Run("wait for the role", browsertest.Visible(id("role-select")))
	card := chromedp.CSS(`[data-testid="integration-card"][data-provider="stack"]`)
	b.Run("enable Neon Auth", chromedp.Click(id("enable-submit")), browsertest.Visible(id("enable-result")), browsertest.Visible(card))
	f.rs.changes = append(f.rs.changes, "neon_auth.enable")
	secret := browsertest.Get(b, "read the secret", chromedp.AttributeValue(id("secret-key"), "data-secret")).Value
	if len(secret) < 8 {
		b.Fail("read the secret", fmt.Errorf("data-secret = %q, want a key", secret))
	}
	f.rs.stackSecret = secret
	if got := browsertest.Get(b, "read the masked secret", chromedp.TextContent(id("secret-key"))); got != views.SecretMask {
		b.Fail("check the secret is masked", fmt.Errorf("secret shows %q before reveal", got))
	}
	for i := range 2 {
		f.openProject(fmt.Sprintf("reload the project page (%d of 2)", i+1))
		b.Run("wait for the integration", within(crossReplicaWait, browsertest.Visible(card)))
		if html := b.HTML(); strings.Contains(html, secret) || strings.Contains(html, `data-testid="enable-result"`) {
			b.Fail("reload the project page", errors.New("the page still shows the keys of the enable step"))
		}
	}
}

// createUser creates a user and watches the live sync check find its row
// in the database, its polls going to both replicas.
func (f *guideFlow) createUser() {
	f.t.Helper()
	b, id := f.b, browsertest.TestID
	b.Follow("open the users page", http.StatusOK, chromedp.Click(chromedp.CSS(`[data-testid="integration-card"][data-provider="stack"] [data-testid="users-link"]`)))
	email := "grace-" + randomSuffix() + "@example.com"
	b.Run("create a user",
		browsertest.Visible(id("create-user-form")),
		chromedp.SendKeys(chromedp.ID("user-email"), email),
		chromedp.SendKeys(chromedp.ID("user-name"), "Grace Hopper"),
		chromedp.Click(id("create-user-form")+` button[type="submit"]`),
		browsertest.Visible(id("created-user-id")),
	)
	f.rs.changes = append(f.rs.changes, "user.create")
	b.Run("wait for the user to sync", within(30*time.Second,
		browsertest.WaitAttr(id("sync-panel"), "data-state", "synced"),
		browsertest.WaitText(id("row-email"), email),
		browsertest.WaitText(id("users-browser")+` [data-testid="browse-row"]`, email),
	))
}

// transferAndDelete starts the ownership transfer, then deletes the
// integration with its data, and loads the page on both replicas: it is
// gone.
func (f *guideFlow) transferAndDelete() {
	f.t.Helper()
	b, id := f.b, browsertest.TestID
	f.openProject("go back to the project")
	b.Follow("open the transfer confirmation", http.StatusOK, chromedp.Click(id("transfer-link")))
	b.Run("tick the confirmation", browsertest.Visible(id("transfer-confirm")), chromedp.Click(chromedp.CSS(`input[name="understand"]`)))
	b.Follow("start the transfer", http.StatusOK, chromedp.Click(id("transfer-submit")))
	b.Run("look at the transfer",
		browsertest.Visible(id("transfer-url")),
		browsertest.WaitText(`[data-testid="integration-card"][data-provider="stack"] [data-testid="transfer-status"]`, "initiated"),
	)
	f.rs.changes = append(f.rs.changes, "neon_auth.transfer")

	del := chromedp.CSS(`[data-testid="delete-form"][data-provider="stack"]`)
	b.Run("delete the integration",
		chromedp.SendKeys(del+` [data-testid="confirm-name"]`, f.project.Name),
		chromedp.Click(del+` [data-testid="delete-data"]`),
		chromedp.Click(del+` [data-testid="delete-submit"]`),
		browsertest.WaitText(id("flash"), "removed from "+f.project.Name),
		browsertest.Visible(id("integrations-empty")),
		browsertest.WaitGone(`[data-testid="integration-card"]`),
	)
	f.rs.changes = append(f.rs.changes, "neon_auth.delete")
	for i := range 2 {
		f.openProject(fmt.Sprintf("load the project again (%d of 2)", i+1))
		b.Run("see no integration", within(crossReplicaWait, browsertest.Visible(id("integrations-empty")), browsertest.Visible(id("enable-form"))))
	}
}

// checkSignInSteps checks, from the proxy's record, that the sign-in went
// login → provider → callback → first page with each of the dashboard's
// steps on a different replica from the step before: the login state and
// the session live in sealed cookies both replicas open.
func (rs *replicaSet) checkSignInSteps(t *testing.T, rec []served) {
	t.Helper()
	var steps []served
	want := []string{"/auth/login", "/auth/callback", "/projects"}
	for _, s := range rec {
		if len(steps) < len(want) && s.path == want[len(steps)] {
			steps = append(steps, s)
		}
	}
	var words []string
	for _, s := range rec {
		words = append(words, fmt.Sprintf("%s %s → %c (%d)", s.method, s.path, 'A'+s.backend, s.status))
	}
	t.Logf("the sign-in through the proxy:\n  %s", strings.Join(words, "\n  "))
	if len(steps) != len(want) {
		t.Fatalf("the proxy did not see the sign-in's steps %v", want)
	}
	for i := 1; i < len(steps); i++ {
		if steps[i].backend == steps[i-1].backend {
			t.Errorf("%s and %s both went to replica %c: the test wants them on different replicas", steps[i-1].path, steps[i].path, 'A'+steps[i].backend)
		}
	}
	if steps[2].status != http.StatusOK {
		t.Errorf("the first page after the callback answered %d", steps[2].status)
	}
}

// checkGuideSpread checks the guide's requests went to both replicas and
// none failed, and logs how they were spread.
func (rs *replicaSet) checkGuideSpread(t *testing.T, guide []served) {
	t.Helper()
	writes := slices.DeleteFunc(slices.Clone(guide), func(s served) bool { return s.method == http.MethodGet })
	all, w := perBackend(guide), perBackend(writes)
	t.Logf("the sign-in and guide: %d requests, %d on replica A and %d on B; of their %d changes, %d on A and %d on B",
		len(guide), all[0], all[1], len(writes), w[0], w[1])
	if all[0] == 0 || all[1] == 0 {
		t.Errorf("the guide's requests did not land on both replicas: %v", all)
	}
	for _, s := range guide {
		switch {
		case s.proxyErr == "canceled":
			t.Logf("the browser gave up on %s %s (replica %c) before it answered", s.method, s.path, 'A'+s.backend)
		case s.proxyErr != "":
			t.Errorf("%s %s: replica %c gave no answer: %s", s.method, s.path, 'A'+s.backend, s.proxyErr)
		case s.status >= 500:
			t.Errorf("%s %s answered %d by replica %c", s.method, s.path, s.status, 'A'+s.backend)
		}
	}
}
