package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// refreshPath is the seeded project's "Refresh from Neon".
func (a *testApp) refreshPath() string { return "/projects/" + a.projectID + "/refresh" }

// refresh posts "Refresh from Neon" as the form on a page does without
// JavaScript, and returns where it was sent back to.
func (a *testApp) refresh(t *testing.T, returnTo string) string {
	t.Helper()
	r := a.postForm(a.refreshPath(), url.Values{"return_to": {returnTo}})
	r.wantStatus(t, http.StatusSeeOther)
	return r.Header.Get("Location")
}

// wantRefreshForm checks the page offers "Refresh from Neon": a plain post
// form with the CSRF token, returning to returnTo, with its hint.
func wantRefreshForm(t *testing.T, r *testResponse, projectID, returnTo string) {
	t.Helper()
	form := r.byTestID("refresh-form")
	if form.Length() != 1 {
		t.Fatalf("no refresh form:\n%.3000s", r.Body)
	}
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("refresh form method %q", m)
	}
	if action, _ := form.Attr("action"); action != "/projects/"+projectID+"/refresh" {
		t.Errorf("refresh form posts to %q", action)
	}
	if v, _ := form.Find(`input[name="return_to"]`).Attr("value"); v != returnTo {
		t.Errorf("refresh form returns to %q, want %q", v, returnTo)
	}
	if form.Find(`input[type="hidden"][name="_csrf"]`).Length() != 1 {
		t.Error("refresh form has no CSRF field")
	}
	if got := strings.TrimSpace(form.Find(`[data-testid="refresh-submit"]`).Text()); got != "Refresh from Neon" {
		t.Errorf("refresh button = %q", got)
	}
	if got := strings.TrimSpace(form.Find(`[data-testid="refresh-hint"]`).Text()); !strings.Contains(got, "changes made outside this dashboard") || !strings.Contains(got, "Neon Console") {
		t.Errorf("refresh hint = %q", got)
	}
}

// TestDashboardWritesShowAtOnceThroughTheCache: with an hour-long read
// cache, settings changed through the dashboard's own forms (a plain post
// and an htmx one) show on the readiness checklist at once: the writes drop
// the project's cached reads, no refresh needed.
func TestDashboardWritesShowAtOnceThroughTheCache(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(time.Hour))
	a.enableBetterAuth()
	bid := a.project.BranchID
	r := a.get(a.readinessURL(bid))
	r.wantStatus(t, http.StatusOK)
	items := readinessItems(t, r, a.projectID, bid)
	if items["localhost"] != "red" || items["trusted-domains"] != "red" {
		t.Fatalf("fresh branch: %v, want localhost and trusted-domains red", items)
	}

	a.followRedirect(t, a.postForm(a.settingsPath("domains/localhost"), url.Values{}), a.settingsPath("domains"))
	r = a.get(a.readinessURL(bid))
	r.wantStatus(t, http.StatusOK)
	if got := readinessItems(t, r, a.projectID, bid)["localhost"]; got != "green" {
		t.Errorf("localhost after refusing it through the dashboard = %q, want green at once", got)
	}

	a.htmxPost(a.settingsPath("domains"), url.Values{"domain": {"https://app.example.com"}}).wantStatus(t, http.StatusOK)
	r = a.get(a.readinessURL(bid))
	r.wantStatus(t, http.StatusOK)
	if got := readinessItems(t, r, a.projectID, bid)["trusted-domains"]; got != "green" {
		t.Errorf("trusted-domains after adding one through the dashboard = %q, want green at once", got)
	}
	if r.byTestID("flash").Length() != 0 {
		t.Errorf("a flash on the checklist: %q", r.text("flash"))
	}
}

// TestChangesMadeElsewhereShowAfterRefresh: with an hour-long read cache, a
// change made outside the dashboard (here straight through Neon's API, as
// the Neon Console would) does not show on the readiness checklist, the
// settings page or the badge; "Refresh from Neon" sends nothing to Neon,
// returns to the page with a flash, and the page then shows it.
func TestChangesMadeElsewhereShowAfterRefresh(t *testing.T) {
	t.Parallel()
	counter := &neontest.Requests{}
	a := newTestApp(t, withCache(time.Hour), withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter})))
	a.enableBetterAuth()
	pid, bid := a.projectID, a.project.BranchID
	readiness, domains := a.readinessURL(bid), a.settingsPath("domains")
	a.token() // the projects page, once: posts load it for their CSRF token

	r := a.get(readiness)
	r.wantStatus(t, http.StatusOK)
	wantRefreshForm(t, r, pid, readiness)
	if got := r.text("readiness-freshness"); !strings.Contains(got, "changes made elsewhere once you refresh") {
		t.Errorf("the checklist does not say how fresh it is: %q", got)
	}
	page := a.get(domains)
	page.wantStatus(t, http.StatusOK)
	wantRefreshForm(t, page, pid, domains)
	if a.badgeStatus(t, bid) != "red" {
		t.Fatal("fresh branch: badge not red")
	}

	// Changed behind the dashboard's back.
	ctx := context.Background()
	if _, err := a.Neon.UpdateAllowLocalhost(ctx, pid, bid, false); err != nil {
		t.Fatal(err)
	}
	if err := a.Neon.AddTrustedDomain(ctx, pid, bid, neonapi.AddTrustedDomainRequest{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth}); err != nil {
		t.Fatal(err)
	}
	counter.Take()
	r = a.get(readiness)
	r.wantStatus(t, http.StatusOK)
	if got := readinessItems(t, r, pid, bid); got["localhost"] != "red" || got["trusted-domains"] != "red" {
		t.Errorf("checklist straight after the outside change = %v, want the cached verdicts (red)", got)
	}
	page = a.get(domains)
	page.wantStatus(t, http.StatusOK)
	if page.byTestID("domains-empty").Length() != 1 {
		t.Error("the settings page shows the outside change before a refresh")
	}
	if calls := counter.Take(); len(calls) != 0 {
		t.Errorf("the cached pages asked Neon: %v", calls)
	}

	if loc := a.refresh(t, readiness); loc != readiness {
		t.Fatalf("refresh sent back to %q, want %q", loc, readiness)
	}
	if calls := counter.Take(); len(calls) != 0 {
		t.Errorf("the refresh itself asked Neon: %v", calls)
	}
	r = a.get(readiness)
	r.wantStatus(t, http.StatusOK)
	if got := readinessItems(t, r, pid, bid); got["localhost"] != "green" || got["trusted-domains"] != "green" {
		t.Errorf("checklist after the refresh = %v, want localhost and trusted-domains green", got)
	}
	if got := r.text("flash"); got != refreshedFlash {
		t.Errorf("flash after the refresh = %q, want %q", got, refreshedFlash)
	}
	page = a.get(domains)
	page.wantStatus(t, http.StatusOK)
	if got := page.Doc.Find(`[data-testid="domain-row"]`).AttrOr("data-domain", ""); got != "https://app.example.com" {
		t.Errorf("settings page after the refresh lists %q, want the domain added outside", got)
	}
	if page.byTestID("flash").Length() != 0 {
		t.Error("the flash shows twice")
	}

	// htmx: the answer sends the browser back with a full page load.
	h := a.htmxPost(a.refreshPath(), url.Values{"return_to": {domains}})
	h.wantStatus(t, http.StatusNoContent)
	if got := h.Header.Get("HX-Redirect"); got != domains {
		t.Errorf("htmx refresh HX-Redirect = %q, want %q", got, domains)
	}
}

// TestRefreshOnEveryCachedPage: the settings pages of every group, the
// comparison (keeping its branches), and the checklist and settings of a
// branch without Neon Auth offer "Refresh from Neon", each returning to
// itself; a change made elsewhere shows after it (on the comparison; Neon
// Auth enabled on the bare branch).
func TestRefreshOnEveryCachedPage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(time.Hour))
	bare := a.createBranch("bare") // before Neon Auth, so without it
	a.enableBetterAuth()
	pid, main := a.projectID, a.project.BranchID
	for _, g := range []string{"domains", "sign-in", "email", "plugins", "webhooks", "application"} {
		r := a.get(a.settingsPath(g))
		r.wantStatus(t, http.StatusOK)
		wantRefreshForm(t, r, pid, a.settingsPath(g))
	}

	preview := a.createBranch("preview")
	cmp := views.CompareURL(pid, main, preview)
	r := a.get(cmp)
	r.wantStatus(t, http.StatusOK)
	wantRefreshForm(t, r, pid, cmp)
	if got := compareRows(r)["allow-localhost"]; got.differs != "false" {
		t.Fatalf("allow-localhost = %+v, want the same on both", got)
	}
	if _, err := a.Neon.UpdateAllowLocalhost(context.Background(), pid, main, false); err != nil {
		t.Fatal(err)
	}
	if got := compareRows(a.get(cmp))["allow-localhost"]; got.differs != "false" {
		t.Errorf("comparison straight after the outside change: allow-localhost = %+v, want the cached state", got)
	}
	if loc := a.refresh(t, cmp); loc != cmp {
		t.Fatalf("refresh sent back to %q, want the comparison %q", loc, cmp)
	}
	if got := compareRows(a.get(cmp))["allow-localhost"]; got.differs != "true" {
		t.Errorf("comparison after the refresh: allow-localhost = %+v, want it to differ", got)
	}

	// A branch without Neon Auth: enabled elsewhere, it shows after a refresh.
	r = a.get(a.readinessURL(bare))
	r.wantStatus(t, http.StatusNotFound)
	wantRefreshForm(t, r, pid, a.readinessURL(bare))
	bareSettings := views.SettingsURL(pid, bare, "domains")
	r = a.get(bareSettings)
	r.wantStatus(t, http.StatusNotFound)
	wantRefreshForm(t, r, pid, bareSettings)
	if _, err := a.Neon.EnableBranchAuth(context.Background(), pid, bare, neonapi.EnableBranchAuthRequest{
		AuthProvider: authprovider.BetterAuth, DatabaseName: a.project.DatabaseName,
	}); err != nil {
		t.Fatal(err)
	}
	a.get(a.readinessURL(bare)).wantStatus(t, http.StatusNotFound)
	a.refresh(t, a.readinessURL(bare))
	a.get(a.readinessURL(bare)).wantStatus(t, http.StatusOK)
	a.get(bareSettings).wantStatus(t, http.StatusOK)

}

// TestRefreshReturnToIsStrict: return_to leads only to a page of the same
// project; anything else (another host however spelled, another project, a
// way out of the project's pages, control characters, an overlong value)
// lands on the project page.
func TestRefreshReturnToIsStrict(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(time.Hour))
	project := "/projects/" + a.projectID
	own := project + "/branches/" + a.project.BranchID + "/auth/readiness"
	for _, tc := range []struct{ name, returnTo, want string }{
		{"a page of the project", own, own},
		{"with a query", project + "/auth/compare?a=br-a&b=br-b", project + "/auth/compare?a=br-a&b=br-b"},
		{"missing", "", project},
		{"protocol-relative", "//evil.example", project},
		{"another site", "https://evil.example/", project},
		{"another site, then the prefix", "https://evil.example" + project + "/", project},
		{"another project", "/projects/other-project/branches/br-x/auth/readiness", project},
		{"the id as a prefix", project + "-evil/x", project},
		{"the project page itself", project, project},
		{"NUL", project + "/\x00", project},
		{"10 KB", project + "/" + strings.Repeat("a", 10<<10), project},
		{"double slash inside", project + "//evil.example", project},
		{"backslash", project + "/\\evil.example", project},
		{"dot segments", project + "/../other-project/x", project},
		{"encoded dot segments", project + "/%2e%2e/%2E%2E/x", project},
		{"encoded slashes", project + "/%2F%2Fevil.example", project},
		{"CRLF", project + "/x\r\nSet-Cookie: a=b", project},
		{"tab", project + "/\tx", project},
		{"non-ASCII", project + "/é", project},
		{"scheme first", "javascript:alert(1)//" + project + "/", project},
		{"query with //", project + "/x?next=//evil.example", project},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.refresh(t, tc.returnTo); got != tc.want {
				t.Errorf("return_to %.80q: sent to %.80q, want %q", tc.returnTo, got, tc.want)
			}
		})
	}
	t.Run("length bound", func(t *testing.T) {
		at := project + "/" + strings.Repeat("a", maxReturnTo-len(project)-1)
		if got := returnTo(a.projectID, at); got != at {
			t.Errorf("%d bytes refused, want up to %d accepted", len(at), maxReturnTo)
		}
		if got := returnTo(a.projectID, at+"a"); got != project {
			t.Errorf("%d bytes accepted, want at most %d", len(at)+1, maxReturnTo)
		}
	})
	t.Run("malformed project id never reaches the service", func(t *testing.T) {
		a.postForm("/projects/NOT_AN_ID/refresh", url.Values{"return_to": {"/projects/NOT_AN_ID/x"}}).wantStatus(t, http.StatusNotFound)
	})
}

// newProxyTestApp is the dashboard behind its real security (proxy mode,
// CSRF, roles, audit log), with a read cache of an hour, browsed by email.
func newProxyTestApp(t *testing.T, email string) (*testApp, *lockedBuffer) {
	t.Helper()
	audit := &lockedBuffer{}
	a := newTestApp(t, withCache(time.Hour), withHandler(func(h *Handler) {
		cfg := secAuthConfig(t)
		cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
		sec, err := identity.NewSecurity(t.Context(), identity.SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", AuditLog: audit})
		if err != nil {
			t.Fatal(err)
		}
		h.Security = sec
	}))
	a.Client.Transport = &flowBrowser{base: http.DefaultTransport, email: email}
	return a, audit
}

// TestRefreshSecurity: viewers may refresh (it changes nothing in Neon),
// and the refresh is audited as neon.refresh; a post without the CSRF token
// is refused and refreshes nothing; someone without a role is refused.
func TestRefreshSecurity(t *testing.T) {
	t.Parallel()
	t.Run("viewer", func(t *testing.T) {
		a, audit := newProxyTestApp(t, viewerEmail)
		a.enableBetterAuth()
		readiness := a.readinessURL(a.project.BranchID)
		r := a.get(readiness)
		r.wantStatus(t, http.StatusOK)
		wantRefreshForm(t, r, a.projectID, readiness)
		if v, _ := r.byTestID("refresh-form").Find(`input[name="_csrf"]`).Attr("value"); v == "" || v != a.csrf {
			t.Errorf("refresh form's CSRF token = %q, want the page's", v)
		}
		if _, err := a.Neon.UpdateAllowLocalhost(context.Background(), a.projectID, a.project.BranchID, false); err != nil {
			t.Fatal(err)
		}

		// No token: refused, and the cache is kept.
		refused := a.postForm(a.refreshPath(), url.Values{"return_to": {readiness}, "_csrf": {""}})
		refused.wantStatus(t, http.StatusForbidden)
		if got := readinessItems(t, a.get(readiness), a.projectID, a.project.BranchID)["localhost"]; got != "red" {
			t.Errorf("localhost after a refused refresh = %q, want the cached red", got)
		}
		forged := a.postForm(a.refreshPath(), url.Values{"return_to": {readiness}, "_csrf": {"forged"}})
		forged.wantStatus(t, http.StatusForbidden)

		if loc := a.refresh(t, readiness); loc != readiness {
			t.Fatalf("viewer's refresh sent back to %q", loc)
		}
		r = a.get(readiness)
		if got := readinessItems(t, r, a.projectID, a.project.BranchID)["localhost"]; got != "green" {
			t.Errorf("localhost after the viewer's refresh = %q, want green", got)
		}
		if got := r.text("flash"); got != refreshedFlash {
			t.Errorf("flash = %q", got)
		}

		lines := audit.Lines(t)
		if len(lines) != 3 {
			t.Fatalf("%d audit lines, want 3 (two refusals, one refresh):\n%s", len(lines), audit)
		}
		for i, l := range lines[:2] {
			if l["action"] != "neon.refresh" || l["outcome"] != "denied" {
				t.Errorf("refused refresh %d audited as %v", i, l)
			}
		}
		if l := lines[2]; l["action"] != "neon.refresh" || l["outcome"] != "ok" || l["actor"] != viewerEmail || l["project"] != a.projectID {
			t.Errorf("refresh audited as %v", l)
		}
	})
	t.Run("no role", func(t *testing.T) {
		a, _ := newProxyTestApp(t, "eve@elsewhere.example")
		r := a.postForm(a.refreshPath(), url.Values{"return_to": {"/projects/" + a.projectID + "/"}})
		r.wantStatus(t, http.StatusForbidden)
	})
}

// TestRefreshWithoutACache: a service that cannot refresh says so rather
// than pretend.
func TestRefreshWithoutACache(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withHandler(func(h *Handler) { h.Auth = notRefreshing{h.Auth} }))
	r := a.postForm(a.refreshPath(), url.Values{"return_to": {"/projects/" + a.projectID + "/"}})
	r.wantStatus(t, http.StatusNotImplemented)
	if !strings.Contains(r.Body, "cannot reload from Neon") {
		t.Errorf("answer does not say why:\n%.2000s", r.Body)
	}
}

// notRefreshing is a NeonAuth without RefreshProject.
type notRefreshing struct{ NeonAuth }
