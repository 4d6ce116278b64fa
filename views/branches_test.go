package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonauth"
)

func testBranchTable() BranchTable {
	return BranchTable{ProjectID: "p-1", Rows: []BranchRow{
		{ID: "br-main", Name: "main", Default: true},
		{ID: "br-dev", Name: "dev", Provider: authprovider.BetterAuth, DBName: "neondb",
			BaseURL: "https://auth.example/neondb/auth", JWKSURL: "https://auth.example/.well-known/jwks.json",
			UsersURL: BranchUsersURL("p-1", authprovider.BetterAuth, "br-dev")},
		{ID: "br-release", Name: "release", Protected: true},
		{ID: "br-qa", Name: "qa", Problem: &Problem{Title: "Could not read", Message: "Neon is unavailable.", RequestID: "req-7"}},
	}}
}

// TestBranchTableView: every branch is a row of a captioned table, its name
// the row's header, marked default or protected, with what getNeonAuth
// reported, or its own failure.
func TestBranchTableView(t *testing.T) {
	doc, _ := renderDoc(t, BranchTableView(testBranchTable()))
	table := byID(doc, "branch-table")
	if table.Length() != 1 || strings.TrimSpace(table.Find("caption").Text()) == "" {
		t.Fatal("no captioned branch table")
	}
	if n := table.Find(`thead th[scope="col"]`).Length(); n != 5 {
		t.Errorf("column headers = %d, want 5", n)
	}
	rows := byID(doc, "branch-row")
	if rows.Length() != 4 {
		t.Fatalf("rows = %d, want 4", rows.Length())
	}
	row := func(id string) *goquery.Selection {
		return doc.Find(`[data-testid="branch-row"][data-branch-id="` + id + `"]`)
	}
	rows.Each(func(i int, r *goquery.Selection) {
		if r.Find(`th[scope="row"] [data-testid="branch-name"]`).Length() != 1 {
			t.Errorf("row %d has no row header naming the branch", i)
		}
	})

	main := row("br-main")
	if main.Find(`[data-testid="branch-default"]`).Length() != 1 || main.Find(`[data-testid="branch-protected"]`).Length() != 0 {
		t.Error("main is not marked default only")
	}
	if main.Find(`[data-testid="branch-auth-none"]`).Length() != 1 || main.Find(`[data-testid="branch-users-link"]`).Length() != 0 {
		t.Error("main does not read as not enabled, without a users link")
	}
	if _, ok := main.Attr("data-provider"); ok {
		t.Error("a branch without Neon Auth names a provider")
	}
	if row("br-release").Find(`[data-testid="branch-protected"]`).Length() != 1 {
		t.Error("release is not marked protected")
	}

	dev := row("br-dev")
	if p, _ := dev.Attr("data-provider"); p != string(authprovider.BetterAuth) {
		t.Errorf("dev provider = %q", p)
	}
	if got := dev.Find(`[data-testid="branch-provider"]`).Text(); got != authprovider.BetterAuth.Name() {
		t.Errorf("dev provider cell = %q, want %q", got, authprovider.BetterAuth.Name())
	}
	if got := dev.Find(`[data-testid="branch-base-url"]`).Text(); got != "https://auth.example/neondb/auth" {
		t.Errorf("dev base URL = %q", got)
	}
	if got := dev.Find(`[data-testid="branch-jwks-url"]`).Text(); got != "https://auth.example/.well-known/jwks.json" {
		t.Errorf("dev JWKS URL = %q", got)
	}
	link := dev.Find(`[data-testid="branch-users-link"]`)
	if href, _ := link.Attr("href"); href != "/projects/p-1/branches/br-dev/users" {
		t.Errorf("dev users link = %q", href)
	}
	if label, _ := link.Attr("aria-label"); !strings.Contains(label, "Users") || !strings.Contains(label, "dev") {
		t.Errorf("users link's name %q does not say whose users", label)
	}

	qa := row("br-qa")
	if qa.Find(`[data-testid="branch-auth-error"]`).Length() != 1 || qa.Find(`[data-testid="branch-request-id"]`).Text() != "req-7" {
		t.Errorf("qa's failure is not shown with its request id: %q", qa.Text())
	}
	if !strings.Contains(qa.Text(), "Neon is unavailable.") {
		t.Errorf("qa's failure does not say why: %q", qa.Text())
	}
}

// TestBranchTableViewSettingsLinks: a branch-level integration's row leads to
// its settings and its readiness checklist, each link named by the branch;
// rows without one, or whose state was not read, do not.
func TestBranchTableViewSettingsLinks(t *testing.T) {
	table := testBranchTable()
	table.Rows = append(table.Rows, BranchRow{ID: "br-stack", Name: "stack", Provider: authprovider.Stack})
	doc, _ := renderDoc(t, BranchTableView(table))
	dev := doc.Find(`[data-testid="branch-row"][data-branch-id="br-dev"]`)
	for testID, want := range map[string]string{
		"branch-settings-link":  "/projects/p-1/branches/br-dev/auth/settings/" + string(neonauth.SettingsGroups[0]),
		"branch-readiness-link": "/projects/p-1/branches/br-dev/auth/readiness",
	} {
		link := dev.Find(`[data-testid="` + testID + `"]`)
		if href, _ := link.Attr("href"); href != want {
			t.Errorf("dev %s = %q, want %q", testID, href, want)
		}
		if label, _ := link.Attr("aria-label"); !strings.Contains(label, "dev") {
			t.Errorf("dev %s's name %q does not say which branch", testID, label)
		}
	}
	for _, id := range []string{"br-main", "br-qa", "br-stack"} {
		row := doc.Find(`[data-testid="branch-row"][data-branch-id="` + id + `"]`)
		if n := row.Find(`[data-testid="branch-settings-link"], [data-testid="branch-readiness-link"]`).Length(); n != 0 {
			t.Errorf("%s has %d settings or readiness links, want none", id, n)
		}
	}
}

func TestBranchTableViewProblem(t *testing.T) {
	doc, _ := renderDoc(t, BranchTableView(BranchTable{ProjectID: "p-1", Problem: &Problem{Title: "Could not list branches", RequestID: "req-1"}}))
	if byID(doc, "branch-table").Length() != 0 || byID(doc, "api-error").Length() != 1 {
		t.Error("a failed branch list does not replace the table with the error")
	}
}

func TestBranchUsersURL(t *testing.T) {
	if got := BranchUsersURL("p-1", authprovider.Stack, "br-main"); got != UsersURL("p-1", authprovider.Stack, "") {
		t.Errorf("Stack Auth users URL = %q, want the project's", got)
	}
	if got := BranchUsersURL("p 1", authprovider.BetterAuth, "br-x"); got != "/projects/p%201/branches/br-x/users" {
		t.Errorf("Better Auth users URL = %q", got)
	}
}

// TestIntegrationsPanelWithUnreadBranch: a branch whose state could not be
// read may have Neon Auth on, so the panel does not say it is off anywhere.
func TestIntegrationsPanelWithUnreadBranch(t *testing.T) {
	panel := IntegrationsPanel{ProjectID: "p-1", Branches: testBranchTable()}
	panel.Branches.Rows = []BranchRow{panel.Branches.Rows[0], panel.Branches.Rows[3]}
	doc, _ := renderDoc(t, IntegrationsPanelView(panel))
	if byID(doc, "integrations-empty").Length() != 0 {
		t.Error("empty state shown while a branch's Neon Auth is unknown")
	}
	if byID(doc, "branch-row").Length() != 2 {
		t.Error("the panel does not hold the branch table")
	}
	panel.Branches.Rows = panel.Branches.Rows[:1]
	panel.Branches.Rows = append(panel.Branches.Rows, BranchRow{ID: "br-dev", Name: "dev"})
	doc, _ = renderDoc(t, IntegrationsPanelView(panel))
	if got := strings.Join(strings.Fields(byID(doc, "integrations-empty").Text()), " "); !strings.Contains(got, "on main or any other branch") {
		t.Errorf("empty state = %q, want it to cover every branch", got)
	}
}
