package handlers

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
	"github.com/neonauth-admin/dashboard/views"
)

const (
	copyPassword   = "smtp-copy-pass-1b4f0e98"
	copyWebhookURL = "https://hooks.example.com/neon/copy-events?token=abc"
)

// copyApp is the dashboard behind the proxy-mode guard with its audit log,
// Better Auth on the seeded project's default branch, configured with a
// trusted domain, an own SMTP server and a webhook whose URL has a path and
// a query; and a "preview" branch with Neon's defaults.
func copyApp(t *testing.T, audit *lockedBuffer) (*testApp, *flowBrowser, neonapi.Branch) {
	t.Helper()
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
	browser := &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	a.Client.Transport = browser
	a.enableBetterAuth()
	ctx := context.Background()
	pid, main := a.projectID, a.project.BranchID
	// A branch starts with its parent's settings: made first, it keeps
	// Neon's defaults.
	br, err := a.Neon.CreateBranch(ctx, pid, neonapi.CreateBranchRequest{Name: "preview"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Neon.AddTrustedDomain(ctx, pid, main, neonapi.AddTrustedDomainRequest{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Neon.UpdateEmailProvider(ctx, pid, main, neonapi.EmailServer{
		Type: neonapi.EmailServerStandard, Host: "smtp.example.com", Port: 587, Username: "mailer",
		Password: neonapi.NewSecret("main-smtp-secret"), SenderEmail: "auth@example.com", SenderName: "Example",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Neon.UpdateWebhookConfig(ctx, pid, main, neonapi.WebhookConfig{
		Enabled: true, WebhookURL: copyWebhookURL, EnabledEvents: []neonapi.WebhookEvent{neonapi.WebhookEvents[0]},
	}); err != nil {
		t.Fatal(err)
	}
	return a, browser, br.Branch
}

// TestCopySettingsBetweenBranches: from the comparison an admin previews
// every change, is asked for the SMTP password Neon never returns, is
// refused without it (nothing written, the password not kept), and copies
// with it: one audit line per change, then the request's; the secret is in
// no page and no audit line, and the branches compare equal afterwards.
func TestCopySettingsBetweenBranches(t *testing.T) {
	audit := &lockedBuffer{}
	a, browser, preview := copyApp(t, audit)
	pid, main := a.projectID, a.project.BranchID
	compare := "/projects/" + pid + "/auth/compare?a=" + main + "&b=" + preview.ID

	page := a.get(compare)
	page.wantStatus(t, http.StatusOK)
	if href, _ := page.byTestID("copy-a-to-b").Attr("href"); !strings.Contains(href, "/auth/copy?") || !strings.Contains(href, "from="+main) {
		t.Errorf("copy link %q", href)
	}
	if got := page.Doc.Find(`[data-testid="compare-row-webhook-url"] [data-testid="compare-a"]`).Text(); got != copyWebhookURL {
		t.Errorf("an admin sees the webhook as %q, want the whole URL", got)
	}
	if got := a.get(views.ReadinessURL(pid, main)).text("readiness-destination"); !strings.Contains(got, copyWebhookURL) {
		t.Errorf("the readiness page shows an admin %q, want the whole webhook URL", got)
	}
	only := a.get(compare + "&only=differences")
	rowsShown := only.Doc.Find(`[data-testid^="compare-row-"]`)
	if rowsShown.Length() == 0 || rowsShown.Filter(`[data-differs="false"]`).Length() != 0 {
		t.Errorf("only differences: %d rows, %d the same", rowsShown.Length(), rowsShown.Filter(`[data-differs="false"]`).Length())
	}
	if all := page.Doc.Find(`[data-testid^="compare-row-"]`).Length(); all <= rowsShown.Length() {
		t.Errorf("only differences shows %d rows of %d", rowsShown.Length(), all)
	}

	href, _ := page.byTestID("copy-a-to-b").Attr("href")
	preview1 := a.get(href)
	preview1.wantStatus(t, http.StatusOK)
	for _, id := range []string{"copy-step-domain-add-https---app-example-com", "copy-step-email-server", "copy-step-webhooks", "copy-email_password"} {
		if preview1.byTestID(id).Length() == 0 {
			t.Errorf("the preview lacks %s", id)
		}
	}
	if !strings.Contains(preview1.text("copy-count"), "changes to preview") {
		t.Errorf("count: %q", preview1.text("copy-count"))
	}
	form := url.Values{"from": {main}, "to": {preview.ID}}
	preview1.byTestID("copy-form").Find(`input[name="group"]`).Each(func(_ int, s *goquery.Selection) {
		form.Add("group", s.AttrOr("value", ""))
	})
	form.Set("fingerprint", preview1.byTestID("copy-form").Find(`input[name="fingerprint"]`).AttrOr("value", ""))
	post := "/projects/" + pid + "/auth/copy"

	// Without the password: refused, nothing written.
	before := len(audit.Lines(t))
	refused := a.postForm(post, form)
	refused.wantStatus(t, http.StatusUnprocessableEntity)
	wantFieldError(t, refused, "copy-email_password")
	if !strings.Contains(refused.Body, "not kept") {
		t.Error("the refused form does not say the password was not kept")
	}
	if lines := audit.Lines(t)[before:]; len(lines) != 1 || lines[0]["action"] != "auth.settings.copy" || lines[0]["outcome"] != "error" {
		t.Errorf("a refused copy is audited as %v", lines)
	}

	// A NUL byte in the password: refused at the field.
	bad := cloneValues(form)
	bad.Set("email_password", "pass\x00word")
	a.postForm(post, bad).wantStatus(t, http.StatusUnprocessableEntity)

	// A stale preview: the target changed since; nothing is copied.
	stale := cloneValues(form)
	stale.Set("email_password", copyPassword)
	stale.Set("fingerprint", "0000")
	changed := a.postForm(post, stale)
	changed.wantStatus(t, http.StatusConflict)
	if changed.byTestID("copy-changed").Length() == 0 || changed.byTestID("copy-form").Length() == 0 {
		t.Error("a stale copy does not show the new plan")
	}
	if strings.Contains(changed.Body, copyPassword) {
		t.Error("the stale form sent the password back")
	}

	ok := cloneValues(form)
	ok.Set("email_password", copyPassword)
	before = len(audit.Lines(t))
	done := a.postForm(post, ok)
	done.wantStatus(t, http.StatusOK)
	if !strings.Contains(done.text("copy-done"), "3 changes made on preview") {
		t.Errorf("done: %q", done.text("copy-done"))
	}
	lines := audit.Lines(t)[before:]
	wantActions := []string{"auth.domains.add", "auth.email.update", "auth.webhooks.update", "auth.settings.copy"}
	if len(lines) != len(wantActions) {
		t.Fatalf("%d audit lines, want %d:\n%v", len(lines), len(wantActions), lines)
	}
	for i, w := range wantActions {
		l := lines[i]
		if l["action"] != w || l["outcome"] != "ok" || l["project"] != pid || l["actor"] != adminEmail {
			t.Errorf("line %d: %v, want %s ok", i, l, w)
		}
		if i < len(wantActions)-1 && (l["branch"] != preview.ID || l["neon_status"] == nil || l["neon_request_id"] == "") {
			t.Errorf("change line %d does not name the preview and Neon's answer: %v", i, l)
		}
	}
	if last := lines[len(lines)-1]; last["from_branch"] != main || last["applied"] != float64(3) {
		t.Errorf("request line: %v", last)
	}
	if strings.Contains(audit.String(), copyPassword) {
		t.Error("the SMTP password reached the audit log")
	}
	for _, ex := range browser.exchanges() {
		if strings.Contains(ex.body, copyPassword) {
			t.Errorf("%s %s answered with the SMTP password", ex.method, ex.path)
		}
	}

	after := a.get(compare)
	if got := after.text("compare-differences"); !strings.Contains(got, "the same") {
		t.Errorf("after the copy the comparison says %q", got)
	}
}

// TestCopyIsForAdmins: a viewer gets no copy links, sees the webhook's host
// only, and is refused the preview and the copy.
func TestCopyIsForAdmins(t *testing.T) {
	audit := &lockedBuffer{}
	a, browser, preview := copyApp(t, audit)
	browser.email = viewerEmail
	pid, main := a.projectID, a.project.BranchID
	page := a.get("/projects/" + pid + "/auth/compare?a=" + main + "&b=" + preview.ID)
	page.wantStatus(t, http.StatusOK)
	if page.byTestID("copy-actions").Length() != 0 {
		t.Error("a viewer is offered the copy")
	}
	if got := page.Doc.Find(`[data-testid="compare-row-webhook-url"] [data-testid="compare-a"]`).Text(); got != "https://hooks.example.com" {
		t.Errorf("a viewer sees the webhook as %q", got)
	}
	if r := a.get(views.ReadinessURL(pid, main)); r.byTestID("readiness-destination").Length() != 0 || strings.Contains(r.Body, "copy-events") {
		t.Error("the readiness page shows a viewer the webhook's path")
	}
	a.get("/projects/"+pid+"/auth/copy?from="+main+"&to="+preview.ID).wantStatus(t, http.StatusForbidden)
	a.postForm("/projects/"+pid+"/auth/copy", url.Values{"from": {main}, "to": {preview.ID}}).wantStatus(t, http.StatusForbidden)
}

// TestCopyRefusesBadRequests: missing or malformed branches, unknown groups
// and the same branch twice are refused before Neon is written to.
func TestCopyRefusesBadRequests(t *testing.T) {
	audit := &lockedBuffer{}
	a, _, preview := copyApp(t, audit)
	pid, main := a.projectID, a.project.BranchID
	base := "/projects/" + pid + "/auth/copy?"
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"from=" + main, http.StatusBadRequest},
		{"from=" + main + "&to=" + main, http.StatusBadRequest},
		{"from=" + main + "&to=" + preview.ID + "&group=secrets", http.StatusBadRequest},
		{"from=" + main + "&to=br-" + strings.Repeat("x", 10000), http.StatusNotFound},
		{"from=" + url.QueryEscape("br-a\x00b") + "&to=" + preview.ID, http.StatusNotFound},
	} {
		if r := a.get(base + tc.query); r.Status != tc.status {
			t.Errorf("%.80s: %d, want %d", tc.query, r.Status, tc.status)
		}
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestCopyStopsAndSaysWhatWasDone: Neon refusing the second change stops
// the copy there; the page lists what was applied, what failed (with Neon's
// request id) and what was not attempted, and the audit log has a line for
// each change attempted, the refused one marked as an error.
func TestCopyStopsAndSaysWhatWasDone(t *testing.T) {
	audit := &lockedBuffer{}
	a, _, preview := copyApp(t, audit)
	pid, main := a.projectID, a.project.BranchID
	page := a.get(views.CopyURL(pid, main, preview.ID))
	page.wantStatus(t, http.StatusOK)
	form := url.Values{"from": {main}, "to": {preview.ID}, "email_password": {copyPassword}}
	page.byTestID("copy-form").Find(`input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		if n := s.AttrOr("name", ""); n != "_csrf" {
			form.Add(n, s.AttrOr("value", ""))
		}
	})
	a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultLocked, Count: 5, PathContains: "/branches/" + preview.ID + "/auth/email_provider", Method: http.MethodPatch})
	before := len(audit.Lines(t))
	r := a.postForm("/projects/"+pid+"/auth/copy", form)
	if r.Status < 400 {
		t.Fatalf("a copy Neon refused midway answered %d", r.Status)
	}
	for id, want := range map[string]string{
		"copy-stopped": "step 2 of 3", "copy-applied": "Trust https://app.example.com",
		"copy-failed": "Save the email server", "copy-not-attempted": "Save the webhook",
	} {
		if got := r.text(id); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	if r.text("request-id") == "" {
		t.Error("the refusal shows no Neon request id")
	}
	lines := audit.Lines(t)[before:]
	if len(lines) != 3 || lines[0]["action"] != "auth.domains.add" || lines[0]["outcome"] != "ok" ||
		lines[1]["action"] != "auth.email.update" || lines[1]["outcome"] != "error" || lines[1]["neon_status"] != float64(http.StatusLocked) ||
		lines[2]["action"] != "auth.settings.copy" || lines[2]["outcome"] != "error" || lines[2]["applied"] != float64(1) {
		t.Errorf("audit lines:\n%v", lines)
	}
	if ds, err := a.Neon.ListTrustedDomains(t.Context(), pid, preview.ID); err != nil || len(ds) != 1 {
		t.Errorf("the applied change is not in Neon: %+v %v", ds, err)
	}
	if wh, err := a.Neon.GetWebhookConfig(t.Context(), pid, preview.ID); err != nil || wh.Enabled {
		t.Errorf("a change not attempted is in Neon: %+v %v", wh, err)
	}
}
