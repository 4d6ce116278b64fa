package views

import (
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// TestTitle keeps the tab title free of stray whitespace around the separator.
func TestTitle(t *testing.T) {
	for _, tc := range []struct{ title, want string }{
		{"Projects", "Projects · Neon Auth admin"},
		{"", "Neon Auth admin"},
	} {
		doc, _ := renderDoc(t, Layout(Chrome{Title: tc.title}))
		if got := doc.Find("title").Text(); got != tc.want {
			t.Errorf("title for %q = %q, want %q", tc.title, got, tc.want)
		}
	}
}

// TestLiveRegions checks that messages htmx swaps in are announced: flashes
// and sync checks sit inside aria-live regions, lookup answers take focus.
func TestLiveRegions(t *testing.T) {
	doc, _ := renderDoc(t, Layout(Chrome{Flashes: []Flash{{Kind: "success", Message: "Done."}}}))
	if doc.Find(`#flashes[aria-live="polite"] [data-testid="flash"]`).Length() != 1 {
		t.Error("flashes are not inside a polite live region")
	}
	check := SyncCheck{ProjectID: "p-1", Provider: "stack", UserID: "u-1", State: SyncPending}
	doc, _ = renderDoc(t, CreateUserSection(CreateUserForm{ProjectID: "p-1", Provider: "stack", CanWrite: true, Check: &check}))
	if doc.Find(`[aria-live="polite"] > [data-testid="sync-panel"]`).Length() != 1 {
		t.Error("the sync panel is not inside a live region that outlives its swaps")
	}
	if doc.Find(`[data-testid="sync-status"][aria-busy="true"]`).Length() != 1 {
		t.Error("a waiting check does not mark its status busy")
	}
	// The lookup answer comes in a freshly swapped section, where a live
	// region is not announced; moving focus to it is what reads it out.
	doc, _ = renderDoc(t, UserLookupSection(UserLookup{ProjectID: "p-1", Provider: "stack", Searched: true, Query: "x@example.com"}))
	if doc.Find(`[data-focus-after-swap] [data-testid="lookup-missing"]`).Length() != 1 {
		t.Error("a lookup miss is not announced")
	}
}

// TestPendingCheckWithoutTable covers the first render of a check, before
// any poll has found out which table the integration uses.
func TestPendingCheckWithoutTable(t *testing.T) {
	doc, _ := renderDoc(t, SyncPanel(SyncCheck{ProjectID: "p-1", Provider: "stack", UserID: "u-1", State: SyncPending}))
	if got := usersText(byID(doc, "sync-panel")); !strings.Contains(got, "waiting for the user to reach the users table…") {
		t.Errorf("panel = %q", got)
	}
}

// TestFormsDisableSubmitInFlight checks every htmx form disables its submit
// button while its request runs, so a double click cannot send it twice.
func TestFormsDisableSubmitInFlight(t *testing.T) {
	for _, tc := range []struct {
		name, testID string
		c            templ.Component
	}{
		{"enable", "enable-form", EnableFormView(EnableForm{ProjectID: "p-1"})},
		{"delete integration", "delete-form", DeleteFormView(DeleteForm{ProjectID: "p-1", Provider: "stack"})},
		{"create user", "create-user-form", CreateUserSection(CreateUserForm{ProjectID: "p-1", Provider: "stack", CanWrite: true})},
		{"lookup", "lookup-form", UserLookupSection(UserLookup{ProjectID: "p-1", Provider: "stack"})},
		{"delete user", "delete-user-form", DeleteUserConfirm(DeleteUserForm{ProjectID: "p-1", Provider: "stack", UserID: "u-1"})},
	} {
		doc, _ := renderDoc(t, tc.c)
		f := byID(doc, tc.testID)
		if got := f.AttrOr("hx-disabled-elt", ""); f.Length() != 1 || got != "find button[type='submit']" {
			t.Errorf("%s: %d forms, hx-disabled-elt %q", tc.name, f.Length(), got)
		}
	}
}

// TestCopyButtons checks the values people paste elsewhere come with a copy
// button pointing at an element that holds exactly the value.
func TestCopyButtons(t *testing.T) {
	doc, _ := renderDoc(t, APIErrorBox(Problem{Title: "Conflict", RequestID: "req-7"}))
	btn := doc.Find(`button[data-copy]`)
	target := doc.Find("#" + btn.AttrOr("data-copy", "missing"))
	if btn.Length() != 1 || strings.TrimSpace(target.Text()) != "req-7" {
		t.Errorf("request id copy button targets %q", target.Text())
	}

	row := BranchRow{ID: "br-1", Name: "main", Provider: "stack", JWKSURL: "https://example.test/a/very/long/jwks.json"}
	doc, _ = renderDoc(t, IntegrationsPanelView(IntegrationsPanel{ProjectID: "p-1", Branches: BranchTable{ProjectID: "p-1", Rows: []BranchRow{row}}}))
	jwks := byID(doc, "branch-jwks-url")
	if jwks.Text() != row.JWKSURL || jwks.AttrOr("title", "") != row.JWKSURL {
		t.Errorf("jwks = %q (title %q), want the whole URL in both", jwks.Text(), jwks.AttrOr("title", ""))
	}
	if doc.Find(`button[data-copy="`+jwks.AttrOr("id", "")+`"]`).Length() != 1 {
		t.Error("the JWKS URL has no copy button")
	}

	doc, _ = renderDoc(t, TransferPanel(TransferResult{URL: "https://stack.test/claim?code=abc"}))
	if doc.Find(`button[data-copy="transfer-url"]`).Length() != 1 || doc.Find("#transfer-url").Text() != "https://stack.test/claim?code=abc" {
		t.Error("the claim URL has no copy button")
	}
}

// TestEnableResponseClearsFlashes checks the htmx answer to enabling empties
// the flash region, so a message about an earlier step does not linger.
func TestEnableResponseClearsFlashes(t *testing.T) {
	doc, _ := renderDoc(t, EnableResponse(EnableResult{ProjectID: "p-1", Provider: "stack"}, IntegrationsPanel{ProjectID: "p-1", OOB: true}))
	region := doc.Find(`#flashes[hx-swap-oob="true"]`)
	if region.Length() != 1 || region.Children().Length() != 0 {
		t.Errorf("flash region: %d out-of-band, %d children; want one, empty", region.Length(), region.Children().Length())
	}
}

// TestViewerUsersPage checks a viewer gets the lookup and the table but no
// create form, and is told why.
func TestViewerUsersPage(t *testing.T) {
	p := UsersPage{
		Chrome:  Chrome{Title: "Users", Role: "viewer"},
		Header:  UsersHeader{ProjectID: "p-1", ProjectName: "Shop", Provider: "stack"},
		Create:  CreateUserForm{ProjectID: "p-1", Provider: "stack"},
		Lookup:  UserLookup{ProjectID: "p-1", Provider: "stack"},
		Browser: &UsersBrowser{ProjectID: "p-1", Provider: "stack", Rows: []BrowseRow{{UserRow: UserRow{ID: "u-1", Email: "ada@example.com", CreatedAt: usersCreatedAt}}}},
	}
	doc, _ := renderDoc(t, UsersPageView(p))
	if byID(doc, "create-user").Length() != 0 || byID(doc, "delete-link").Length() != 0 {
		t.Error("viewer sees controls for changes")
	}
	if byID(doc, "lookup-form").Length() != 1 || byID(doc, "browse-row").Length() != 1 {
		t.Error("viewer lost the lookup or the table")
	}
	if !strings.Contains(byID(doc, "view-only").Text(), "needs an admin") {
		t.Error("viewer is not told why there is no create form")
	}
}

// TestTimestampsSayUTC checks table timestamps name their zone and break
// only between date and time.
func TestTimestampsSayUTC(t *testing.T) {
	doc, _ := renderDoc(t, UsersBrowserSection(UsersBrowser{ProjectID: "p-1", Provider: "stack", Table: "t",
		Rows: []BrowseRow{{UserRow: UserRow{ID: "u-1", Email: "ada@example.com", CreatedAt: usersCreatedAt}}}}))
	cell := doc.Find(`[data-testid="browse-row"] time`)
	if got := usersText(cell); got != "2026-03-01 12:30:00 UTC" || cell.AttrOr("datetime", "") != "2026-03-01T12:30:00Z" {
		t.Errorf("created = %q (datetime %q)", got, cell.AttrOr("datetime", ""))
	}
	if cell.Find(".nowrap").Length() != 2 {
		t.Error("the timestamp may break inside the date or the time")
	}
}
