package handlers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/internal/routetest"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/state"
	"github.com/neonauth-admin/dashboard/views"
)

// auditApp is the dashboard behind its real security middleware, keeping
// its audit trail in a real state store, its Neon writes recorded.
type auditApp struct {
	*testApp
	store   *state.Store
	stateDB string
	log     *lockedBuffer
	rec     *neonRecorder
	browser *flowBrowser
}

func newAuditApp(t *testing.T, withStore bool) *auditApp {
	t.Helper()
	aa := &auditApp{log: &lockedBuffer{}, rec: &neonRecorder{}}
	if withStore {
		aa.stateDB = pgtest.NewDatabase(t)
		st, err := state.Open(context.Background(), aa.stateDB, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		aa.store = st
	}
	aa.testApp = newTestApp(t,
		withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: identity.AuditTransport(aa.rec)})),
		withHandler(func(h *Handler) {
			cfg := secAuthConfig(t)
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix("127.0.0.1/32"))
			opts := identity.SecurityOptions{Auth: cfg, ListenAddr: "127.0.0.1:0", AuditLog: aa.log}
			if aa.store != nil {
				opts.AuditStore = aa.store
				h.Audit = aa.store
			}
			sec, err := identity.NewSecurity(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			h.Security = sec
		}))
	aa.rec.sb = aa.Sandbox
	aa.browser = &flowBrowser{base: http.DefaultTransport, email: adminEmail}
	aa.Client.Transport = aa.browser
	return aa
}

// as switches the person the browser signs in as; the next page load
// fetches that person's CSRF token.
func (aa *auditApp) as(email string) {
	aa.browser.email = email
	aa.csrf = ""
}

func (aa *auditApp) entries(t *testing.T, f state.AuditFilter) []state.AuditEntry {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = state.MaxAuditPage
	}
	p, err := aa.store.ListAudit(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return p.Entries
}

// Representative state-changing routes through the whole handler stack,
// against the sandbox: each request leaves exactly one entry, with Neon's
// answer, and the chain verifies.
func TestAuditTrailHasOneEntryPerChange(t *testing.T) {
	aa := newAuditApp(t, true)
	aa.enableStack()
	users := "/projects/" + aa.projectID + "/users"
	created := aa.htmxPost(users, url.Values{"provider": {"stack"}, "email": {"trail@example.com"}})
	created.wantStatus(t, http.StatusCreated)
	uid := created.text("created-user-id")
	aa.htmxPost(users+"/"+uid+"/delete", url.Values{"provider": {"stack"}}).wantStatus(t, http.StatusUnprocessableEntity)
	aa.htmxPost(users+"/"+uid+"/delete", url.Values{"provider": {"stack"}, "confirm": {"yes"}}).wantStatus(t, http.StatusOK)
	aa.as(viewerEmail)
	aa.htmxPost(users, url.Values{"provider": {"stack"}, "email": {"viewer@example.com"}}).wantStatus(t, http.StatusForbidden)
	aa.postForm("/projects/"+aa.projectID+"/refresh", url.Values{}).wantStatus(t, http.StatusSeeOther)

	got := aa.entries(t, state.AuditFilter{})
	want := []struct {
		action, outcome, actor string
		status, neon           int // neon -1: not asked
	}{
		{"neon.refresh", "ok", viewerEmail, 303, -1},
		{"user.create", "denied", viewerEmail, 403, -1},
		{"user.delete", "ok", adminEmail, 200, 204},
		{"user.delete", "error", adminEmail, 422, -1},
		{"user.create", "ok", adminEmail, 201, 201},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries for %d requests: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Action != w.action || e.Outcome != w.outcome || e.Actor != w.actor || e.Status != w.status || e.Project != aa.projectID {
			t.Errorf("entry %d: %s %s %s %d %s, want %+v", e.Seq, e.Action, e.Outcome, e.Actor, e.Status, e.Project, w)
		}
		switch {
		case w.neon < 0 && e.NeonStatus != nil:
			t.Errorf("entry %d says Neon answered %d; Neon was not asked", e.Seq, *e.NeonStatus)
		case w.neon >= 0 && (e.NeonStatus == nil || *e.NeonStatus != w.neon || e.NeonRequestID == "" || e.NeonRequestID != e.RequestID):
			t.Errorf("entry %d: Neon %v request id %q (own %q), want %d", e.Seq, e.NeonStatus, e.NeonRequestID, e.RequestID, w.neon)
		}
	}
	if got[2].TargetUser != uid || got[3].TargetUser != uid {
		t.Errorf("the deletes name users %q and %q, want %q", got[2].TargetUser, got[3].TargetUser, uid)
	}
	if lines := aa.log.Lines(t); len(lines) != len(want) {
		t.Errorf("%d log lines, want %d", len(lines), len(want))
	}
	if v, err := aa.store.VerifyAudit(t.Context()); err != nil || v.Broken != nil || v.Entries != int64(len(want)) {
		t.Errorf("verify: %+v %v", v, err)
	}
}

// With the trail unwritable a change is refused with 503 before Neon is
// asked anything.
func TestAuditTrailDownRefusesChanges(t *testing.T) {
	aa := newAuditApp(t, true)
	aa.enableStack()
	users := "/projects/" + aa.projectID + "/users"
	aa.get(aa.usersPath(authprovider.Stack)).wantStatus(t, http.StatusOK)
	aa.rec.writes()
	aa.store.Close()
	r := aa.htmxPost(users, url.Values{"provider": {"stack"}, "email": {"never@example.com"}})
	r.wantStatus(t, http.StatusServiceUnavailable)
	if !strings.Contains(r.Body, "The audit trail cannot be written, so no change was made") {
		t.Errorf("answer:\n%.2000s", r.Body)
	}
	page := aa.postForm(users, url.Values{"provider": {"stack"}, "email": {"never@example.com"}})
	page.wantStatus(t, http.StatusServiceUnavailable)
	if page.byTestID("audit-unavailable").Length() == 0 {
		t.Errorf("page:\n%.2000s", page.Body)
	}
	if w := aa.rec.writes(); len(w) != 0 {
		t.Errorf("Neon was asked %v", w)
	}
	lines := aa.log.Lines(t)
	if len(lines) != 2 || lines[0]["reason"] != "audit_trail_unavailable" || lines[0]["audit_stored"] != false {
		t.Errorf("log lines %v", lines)
	}
	// Pages that change nothing still load.
	aa.get(aa.usersPath(authprovider.Stack)).wantStatus(t, http.StatusOK)
}

// A settings change records before and after of what changed, with the
// SMTP password as [changed], and the password reaches neither the store,
// the log nor the audit page or its export.
func TestAuditTrailSettingsBeforeAfter(t *testing.T) {
	aa := newAuditApp(t, true)
	aa.enableBetterAuth()
	const password = "smtp-pass-audit-77e1"
	aa.htmxPost(aa.settingsPath("email"), smtpValues(password)).wantStatus(t, http.StatusOK)
	again := smtpValues("")
	again.Set("sender_name", "Renamed")
	aa.followRedirect(t, aa.postForm(aa.settingsPath("email"), again), aa.settingsPath("email"))
	aa.htmxPost(aa.settingsPath("domains"), url.Values{"domain": {"https://app.example.com"}}).wantStatus(t, http.StatusOK)

	got := aa.entries(t, state.AuditFilter{})
	if len(got) != 3 {
		t.Fatalf("%d entries, want 3", len(got))
	}
	domain, rename, smtp := got[0], got[1], got[2]
	wantDiff := func(e state.AuditEntry, want map[string][2]string) {
		t.Helper()
		b, _ := e.Details["before"].(map[string]any)
		a, _ := e.Details["after"].(map[string]any)
		if len(b) != len(want) || len(a) != len(want) {
			t.Errorf("%s: before %v after %v, want %v", e.Action, b, a, want)
		}
		for k, w := range want {
			if b[k] != w[0] || a[k] != w[1] {
				t.Errorf("%s %s: %v → %v, want %q → %q", e.Action, k, b[k], a[k], w[0], w[1])
			}
		}
	}
	wantDiff(smtp, map[string][2]string{
		"email_server.type": {"shared", "standard"}, "email_server.host": {"not set", "[changed]"},
		"email_server.username": {"not set", "[changed]"}, "email_server.password": {"not set", "[changed]"},
		"email_server.port": {"0", "587"}, "email_server.sender_email": {"", "auth@example.com"},
		"email_server.sender_name": {"", "Example Auth"},
	})
	wantDiff(rename, map[string][2]string{"email_server.sender_name": {"Example Auth", "Renamed"}})
	wantDiff(domain, map[string][2]string{"trusted_domains": {"", "https://app.example.com"}})

	aa.get("/audit").wantStatus(t, http.StatusOK)
	page := aa.get("/audit?action=auth.email.update")
	page.wantStatus(t, http.StatusOK)
	if n := page.byTestID("audit-entry").Length(); n != 2 {
		t.Fatalf("%d rows for auth.email.update, want 2", n)
	}
	if got := page.Doc.Find(`[data-testid="audit-diff"] tr[data-field="email_server.password"] ins`).Text(); got != "[changed]" {
		t.Errorf("the page shows the password change as %q", got)
	}
	export := aa.get("/audit/export?format=jsonl")
	export.wantStatus(t, http.StatusOK)
	conn, err := pgx.Connect(t.Context(), aa.stateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var stored string
	if err := conn.QueryRow(t.Context(), `SELECT string_agg(t::text, E'\n') FROM dashboard_state.audit_entries t`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"store": stored, "log": aa.log.String(), "page": page.Body, "export": export.Body} {
		if strings.Contains(text, password) || strings.Contains(text, "smtp.example.com") {
			t.Errorf("the SMTP password or host reached the %s", where)
		}
	}
}

// seedAudit appends n entries straight to the store: actors and actions
// vary so that the filters have something to tell apart.
func seedAudit(t *testing.T, st *state.Store, n int) {
	t.Helper()
	for i := range n {
		r := state.AuditRecord{Actor: fmt.Sprintf("p%d@example.com", i%2), Role: "admin", Action: "user.create", Method: "POST",
			Route: "/projects/:id/users", Project: "proj-a", Target: fmt.Sprintf("email=u%02d@example.com", i), Outcome: "ok", Status: 201,
			RequestID: fmt.Sprintf("req-%d", i), Details: map[string]any{"n": i}}
		if i%10 == 0 {
			r.Action, r.Project, r.TargetUser, r.Target = "user.delete", "proj-b", fmt.Sprintf("user-%d", i), "=HYPERLINK(\"x\")"
		}
		if _, err := st.AppendAudit(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func seqsOf(r *testResponse) []string {
	var out []string
	r.byTestID("audit-entry").Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("data-seq", "")) })
	return out
}

// The page filters and pages by keyset, refuses a bad filter next to its
// field keeping what was typed, exports CSV and JSON lines (itself
// audited), and is for admins only.
func TestAuditPageFiltersPagesAndExports(t *testing.T) {
	aa := newAuditApp(t, true)
	seedAudit(t, aa.store, 70)

	first := aa.get("/audit")
	first.wantStatus(t, http.StatusOK)
	if s := seqsOf(first); len(s) != 50 || s[0] != "70" || s[49] != "21" || first.byTestID("audit-newer").Length() != 0 {
		t.Fatalf("first page %v", s)
	}
	older := aa.get(first.byTestID("audit-older").AttrOr("href", ""))
	if s := seqsOf(older); len(s) != 20 || s[0] != "20" || s[19] != "1" || older.byTestID("audit-older").Length() != 0 {
		t.Fatalf("second page %v", s)
	}
	newer := aa.get(older.byTestID("audit-newer").AttrOr("href", ""))
	if s := seqsOf(newer); len(s) != 50 || s[0] != "70" {
		t.Fatalf("back to the first page %v", s)
	}
	filtered := aa.get("/audit?actor=p0%40example.com&action=user.delete&project=proj-b")
	if s := seqsOf(filtered); strings.Join(s, " ") != "61 51 41 31 21 11 1" {
		t.Errorf("actor, action and project: %v", s)
	}
	if s := seqsOf(aa.get("/audit?user=user-30")); strings.Join(s, " ") != "31" {
		t.Errorf("user: %v", s)
	}
	if s := seqsOf(aa.get("/audit?target=u0")); strings.Join(s, " ") != "10 9 8 7 6 5 4 3 2" {
		t.Errorf("target: %v", s)
	}
	if s := seqsOf(aa.get("/audit?since=2000-01-01&until=2000-01-02")); len(s) != 0 {
		t.Errorf("a day long past: %v", s)
	}

	bad := aa.get("/audit?since=yesterday&actor=p1%40example.com")
	bad.wantStatus(t, http.StatusBadRequest)
	if bad.text("field-error-since") == "" || bad.Doc.Find(`input[name="since"]`).AttrOr("value", "") != "yesterday" ||
		bad.Doc.Find(`input[name="actor"]`).AttrOr("value", "") != "p1@example.com" {
		t.Errorf("bad since:\n%.3000s", bad.Body)
	}
	aa.get("/audit?before=abc").wantStatus(t, http.StatusBadRequest)

	csvExport := aa.get("/audit/export?format=csv&action=user.delete")
	csvExport.wantStatus(t, http.StatusOK)
	if ct := csvExport.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(csvExport.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("csv headers %v", csvExport.Header)
	}
	records, err := csv.NewReader(strings.NewReader(csvExport.Body)).ReadAll()
	if err != nil || len(records) != 8 || records[0][0] != "seq" || records[1][0] != "61" || records[1][4] != "user.delete" {
		t.Fatalf("csv %v %v", records, err)
	}
	if records[1][9] != `'=HYPERLINK("x")` {
		t.Errorf("a formula in the target is exported as %q", records[1][9])
	}
	jsonl := aa.get("/audit/export?format=jsonl&actor=p1%40example.com")
	jsonl.wantStatus(t, http.StatusOK)
	lines := strings.Split(strings.TrimSpace(jsonl.Body), "\n")
	if len(lines) != 35 {
		t.Fatalf("%d JSON lines, want 35", len(lines))
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil || entry["seq"] != 70.0 || entry["actor"] != "p1@example.com" || entry["hash"] == "" {
		t.Errorf("first line %v %v", entry, err)
	}
	aa.get("/audit/export?format=xml").wantStatus(t, http.StatusBadRequest)

	exports := aa.entries(t, state.AuditFilter{Action: "audit.export"})
	if len(exports) != 3 || exports[2].Details["rows"] != json.Number("7") || exports[1].Details["rows"] != json.Number("35") ||
		exports[2].Details["format"] != "csv" || exports[0].Status != http.StatusBadRequest {
		t.Errorf("export entries %+v", exports)
	}

	aa.as(viewerEmail)
	viewer := aa.get("/audit")
	viewer.wantStatus(t, http.StatusForbidden)
	if viewer.byTestID("audit-entries").Length() != 0 {
		t.Error("a viewer saw the trail")
	}
	aa.get("/audit/export?format=csv").wantStatus(t, http.StatusForbidden)
	if denied := aa.entries(t, state.AuditFilter{Action: "audit.export", Actor: viewerEmail}); len(denied) != 1 || denied[0].Outcome != "denied" {
		t.Errorf("the viewer's export attempt: %+v", denied)
	}
	if aa.get("/projects").byTestID("nav-audit").Length() != 0 {
		t.Error("viewers get the audit link")
	}
	aa.as(adminEmail)
	if aa.get("/projects").byTestID("nav-audit").Length() != 1 {
		t.Error("admins get no audit link")
	}
}

// Without a store the page says where the lines go instead.
func TestAuditPageWithoutStore(t *testing.T) {
	aa := newAuditApp(t, false)
	page := aa.get("/audit")
	page.wantStatus(t, http.StatusOK)
	if !strings.Contains(page.text("audit-no-store"), "STATE_DATABASE_URL") || !strings.Contains(page.text("audit-no-store"), "AUDIT_LOG") {
		t.Errorf("page:\n%.2000s", page.Body)
	}
	aa.get("/audit/export?format=csv").wantStatus(t, http.StatusNotFound)
}

// A user's detail page shows their recent entries, linking to the trail
// filtered to them; a trail that cannot be read degrades that panel alone.
func TestUserDetailAuditPanel(t *testing.T) {
	aa := newAuditApp(t, true)
	aa.enableBetterAuth()
	at := aa.usersAt(authprovider.BetterAuth)
	created := aa.htmxPost(at.URL("", nil), url.Values{"provider": {"better_auth"}, "email": {"panel@example.com"}})
	created.wantStatus(t, http.StatusCreated)
	uid := created.text("created-user-id")
	aa.htmxPost(at.URL("/"+uid+"/role", nil), url.Values{"provider": {"better_auth"}, "role": {"admin"}}).wantStatus(t, http.StatusOK)

	detail := aa.get(views.UserDetailURL(at, uid))
	detail.wantStatus(t, http.StatusOK)
	rows := detail.Doc.Find(`[data-testid="user-audit"] [data-testid="audit-entry"]`)
	if rows.Length() != 1 || rows.AttrOr("data-action", "") != "user.role" {
		t.Fatalf("panel rows %d:\n%.3000s", rows.Length(), detail.text("user-audit"))
	}
	more := detail.byTestID("user-audit-more").AttrOr("href", "")
	if s := seqsOf(aa.get(more)); len(s) != 1 {
		t.Errorf("the panel's link %q shows %v", more, s)
	}
	aa.as(viewerEmail)
	if aa.get(views.UserDetailURL(at, uid)).byTestID("user-audit").Length() != 0 {
		t.Error("a viewer sees the audit panel")
	}
	aa.as(adminEmail)
	aa.store.Close()
	degraded := aa.get(views.UserDetailURL(at, uid))
	degraded.wantStatus(t, http.StatusOK)
	if degraded.Doc.Find(`[data-testid="user-audit"] [data-testid="api-error"]`).Length() != 1 || degraded.byTestID("user-detail").Length() != 1 {
		t.Errorf("degraded page:\n%.3000s", degraded.Body)
	}
}

// A copy between branches keeps one entry per change with that change's
// before and after, then the request's; the SMTP password typed and the
// webhook's token reach neither the trail nor the log.
func TestAuditTrailCopyChanges(t *testing.T) {
	aa := newAuditApp(t, true)
	aa.enableBetterAuth()
	ctx := context.Background()
	pid, main := aa.projectID, aa.project.BranchID
	br, err := aa.Neon.CreateBranch(ctx, pid, neonapi.CreateBranchRequest{Name: "preview"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aa.Neon.UpdateWebhookConfig(ctx, pid, main, neonapi.WebhookConfig{
		Enabled: true, WebhookURL: copyWebhookURL, EnabledEvents: []neonapi.WebhookEvent{neonapi.WebhookEvents[0]},
	}); err != nil {
		t.Fatal(err)
	}
	preview := aa.get("/projects/" + pid + "/auth/copy?from=" + main + "&to=" + br.Branch.ID + "&group=webhooks")
	preview.wantStatus(t, http.StatusOK)
	form := url.Values{"from": {main}, "to": {br.Branch.ID}, "email_password": {copyPassword}}
	preview.byTestID("copy-form").Find(`input[name="group"]`).Each(func(_ int, s *goquery.Selection) { form.Add("group", s.AttrOr("value", "")) })
	form.Set("fingerprint", preview.byTestID("copy-form").Find(`input[name="fingerprint"]`).AttrOr("value", ""))
	aa.postForm("/projects/"+pid+"/auth/copy", form).wantStatus(t, http.StatusOK)

	got := aa.entries(t, state.AuditFilter{})
	if len(got) != 2 || got[1].Action != "auth.webhooks.update" || got[0].Action != "auth.settings.copy" || got[1].Branch != br.Branch.ID {
		t.Fatalf("entries %+v", got)
	}
	after, _ := got[1].Details["after"].(map[string]any)
	if after["Destination"] != "https://hooks.example.com" || after["Webhook"] != "on" || got[1].NeonStatus == nil {
		t.Errorf("the change's details %v", got[1].Details)
	}
	var stored string
	conn, err := pgx.Connect(t.Context(), aa.stateDB)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), `SELECT string_agg(t::text, E'\n') FROM dashboard_state.audit_entries t`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{stored, aa.log.String()} {
		if strings.Contains(text, "token=abc") || strings.Contains(text, copyPassword) {
			t.Errorf("a secret reached the trail or the log:\n%s", text)
		}
	}
}

// Every state-changing route of the table, posted as a bare form with the
// seeded project and branch, leaves exactly one entry under its own action,
// however the handler answers.
func TestAuditTrailEveryChangeRouteOnce(t *testing.T) {
	aa := newAuditApp(t, true)
	aa.enableBetterAuth()
	var seen int
	for _, r := range aa.Handler.served() {
		if !identity.Mutating(r.Method) {
			continue
		}
		path := strings.NewReplacer(":id", aa.projectID, ":branch", aa.project.BranchID).Replace(r.Path)
		path = routetest.ConcretePath(path)
		resp := aa.postForm(path, url.Values{})
		got := aa.entries(t, state.AuditFilter{})
		seen++
		if len(got) != seen {
			t.Fatalf("POST %s (%d) left %d entries, want 1", r.Path, resp.Status, len(got)-seen+1)
		}
		if e := got[0]; e.Action != r.Audit || e.Route != r.Path || e.Status != resp.Status || e.Project != aa.projectID {
			t.Errorf("POST %s answered %d; entry %s %s %d %s", r.Path, resp.Status, e.Action, e.Route, e.Status, e.Project)
		}
	}
	if seen < 25 {
		t.Errorf("only %d state-changing routes in the table", seen)
	}
	if v, err := aa.store.VerifyAudit(t.Context()); err != nil || v.Broken != nil || v.Entries != int64(seen) {
		t.Errorf("verify: %+v %v", v, err)
	}
}
