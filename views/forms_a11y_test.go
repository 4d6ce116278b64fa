package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// checkFieldsNamed checks what the browser audit only sees on the pages it
// visits: every visible field of doc has a label tied to it by id (or an
// aria-label), ids are unique, every id a field, panel or button points at
// exists, and a field marked invalid points at its message.
func checkFieldsNamed(t *testing.T, doc *goquery.Document) {
	t.Helper()
	seen := map[string]bool{}
	doc.Find("[id]").Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("id", "")
		if seen[id] {
			t.Errorf("id %q is used twice", id)
		}
		seen[id] = true
	})
	doc.Find("[aria-labelledby], [aria-describedby], label[for], [aria-controls]").Each(func(_ int, s *goquery.Selection) {
		for _, attr := range []string{"aria-labelledby", "aria-describedby", "for", "aria-controls"} {
			for _, id := range strings.Fields(s.AttrOr(attr, "")) {
				if !seen[id] {
					t.Errorf("%s=%q points at no element", attr, id)
				}
			}
		}
	})
	doc.Find(`select, textarea, input:not([type="hidden"])`).Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("name", "?")
		id := s.AttrOr("id", "")
		if s.AttrOr("aria-label", "") == "" && (id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1) {
			t.Errorf("field %q (id %q) has no label tied to it", name, id)
		}
		if s.AttrOr("aria-invalid", "") == "true" && s.AttrOr("aria-describedby", "") == "" {
			t.Errorf("invalid field %q does not point at its message", name)
		}
	})
}

func TestIntegrationFormsAreLabelled(t *testing.T) {
	problem := &Problem{Title: "Refused", RequestID: "req-1"}
	fields := BranchFields{Databases: []Option{{"neondb", "neondb"}}, DatabaseErr: "Pick a database.", Roles: []Option{{"owner", "owner"}}, RoleErr: "Pick a role."}
	enable := EnableForm{ProjectID: "p-1", Provider: "stack", Branches: []Option{{"br-1", "main"}}, Fields: fields,
		Errors: EnableErrors{Provider: "Pick a provider.", Branch: "Pick a branch."}}
	deletes := []DeleteForm{
		{ProjectID: "p-1", ProjectName: "demo", Provider: "stack", Err: "Type the name.", Problem: problem},
		{ProjectID: "p-1", ProjectName: "demo", Provider: "better_auth", BranchID: "br-1", DeleteData: true},
	}
	card := &IntegrationCard{ProjectID: "p-1", Provider: "stack", AuthProviderProjectID: "apj-1", OwnedBy: "neon"}
	for _, tc := range []struct {
		name string
		c    templ.Component
		// fields maps a field's id to its name.
		fields map[string]string
	}{
		{"project page", ProjectView(Chrome{}, ProjectPage{Project: ProjectInfo{ID: "p-1", Name: "demo"}, Enable: enable, Deletes: deletes, CanWrite: true}),
			map[string]string{"enable-provider": "provider", "enable-branch": "branch_id", "enable-database": "database", "enable-role": "role",
				"confirm-name-stack": "confirm_name", "delete-data-stack": "delete_data",
				"confirm-name-better_auth": "confirm_name", "delete-data-better_auth": "delete_data"}},
		{"branch fields alone", BranchFieldsView(fields), map[string]string{"enable-database": "database", "enable-role": "role"}},
		{"transfer", TransferConfirmView(Chrome{CanWrite: true}, TransferConfirmPage{ProjectID: "p-1", ProjectName: "demo", Card: card, Err: "Tick the box."}),
			map[string]string{"transfer-understand": "understand"}},
		{"sdk keys", SDKKeysPanel(SDKKeysPage{ProjectID: "p-1", ProjectName: "demo", CanWrite: true, Card: card, Err: "Tick the box."}),
			map[string]string{"sdk-keys-understand": "understand"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := renderDoc(t, tc.c)
			checkFieldsNamed(t, doc)
			for id, name := range tc.fields {
				if doc.Find("#"+id).AttrOr("name", "") != name || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
					t.Errorf("field %s (#%s) missing or without its label", name, id)
				}
			}
		})
	}
}

// TestEnablePanelNamesSurviveTheSwap: a successful enable replaces the
// form, heading included, so nothing outside the form may point at it.
func TestEnablePanelNamesSurviveTheSwap(t *testing.T) {
	doc, _ := renderDoc(t, ProjectView(Chrome{}, ProjectPage{Project: ProjectInfo{ID: "p-1"}, Enable: EnableForm{ProjectID: "p-1"}, CanWrite: true}))
	panel := doc.Find("#enable-panel")
	if panel.Length() != 1 {
		t.Fatal("no #enable-panel")
	}
	if by, ok := panel.Attr("aria-labelledby"); ok && (doc.Find("#"+by).Length() != 1 || panel.Find("#"+by).Length() != 0) {
		t.Errorf("#enable-panel is named by #%s, which the enable swap removes", by)
	}
	if got := doc.Find("#enable-form-card").AttrOr("aria-labelledby", ""); got != "enable-h" || doc.Find("#enable-form-card #enable-h").Length() != 1 {
		t.Errorf("the enable form card is named by %q", got)
	}
}

func TestResultPanelsTakeFocusAndAreNamed(t *testing.T) {
	for _, tc := range []struct {
		name, panel, title, want string
		c                        templ.Component
	}{
		{"enabled", "enable-result", "enable-result-title", "Neon Auth is on with Stack Auth",
			EnableResponse(EnableResult{ProjectID: "p-1", Provider: "stack", PubClientKey: "pck", SecretServerKey: "ssk"}, IntegrationsPanel{ProjectID: "p-1"})},
		{"new keys", "enable-result", "enable-result-title", "New SDK keys for Stack Auth",
			SDKKeysPanel(SDKKeysPage{ProjectID: "p-1", Result: &EnableResult{ProjectID: "p-1", Provider: "stack", Renewed: true, PubClientKey: "pck"}})},
		{"transfer", "transfer-panel", "transfer-title", "Ownership transfer started",
			TransferPanel(TransferResult{URL: "https://app.stack-auth.com/claim"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := renderDoc(t, tc.c)
			checkFieldsNamed(t, doc)
			panel := byID(doc, tc.panel)
			if panel.Length() != 1 || panel.AttrOr("aria-labelledby", "") != tc.title {
				t.Fatalf("%s: %d panels, aria-labelledby %q", tc.panel, panel.Length(), panel.AttrOr("aria-labelledby", ""))
			}
			if got := usersText(panel.Find("#" + tc.title)); got != tc.want {
				t.Errorf("title = %q, want %q", got, tc.want)
			}
		})
	}
	for _, c := range []templ.Component{
		EnableResultPanel(EnableResult{Provider: "stack"}),
		EnableResultPanel(EnableResult{Provider: "stack", Renewed: true}),
	} {
		doc, _ := renderDoc(t, c)
		if _, ok := byID(doc, "enable-result").Attr("data-focus-after-swap"); !ok {
			t.Error("the enable result does not take focus after its swap")
		}
	}
}

func TestUserFormsAreLabelled(t *testing.T) {
	check := SyncCheck{ProjectID: "p-1", Provider: "better_auth", UserID: "u-1", State: SyncPending}
	rows := []BrowseRow{{UserRow: UserRow{ID: "u-1", Email: "ada@example.com", Role: "user"}}, {UserRow: UserRow{ID: "u-2", Email: "bob@example.com", Role: "admin"}}}
	page := UsersPage{
		Chrome: Chrome{CanWrite: true},
		Header: UsersHeader{ProjectID: "p-1", ProjectName: "Shop", Provider: "better_auth"},
		Create: CreateUserForm{ProjectID: "p-1", Provider: "better_auth", CanWrite: true, Email: "x", EmailError: "Enter an email.", NameError: "Too long."},
		Lookup: UserLookup{ProjectID: "p-1", Provider: "better_auth", QueryError: "Too long."},
		// A refused role change without JavaScript: the form in the slot
		// carries the error, the table's copy of that user's form does not.
		Activity: &UserActivity{Role: &RoleForm{ProjectID: "p-1", Provider: "better_auth", UserID: "u-2", Email: "bob@example.com", Role: "Boss", RoleError: "Use lower case."}},
		Browser:  &UsersBrowser{ProjectID: "p-1", Provider: "better_auth", BranchID: "br-1", Rows: rows, CanWrite: true, Errors: map[string]string{}},
	}
	doc, _ := renderDoc(t, UsersPageView(page))
	checkFieldsNamed(t, doc)
	if got := doc.Find(`[data-testid="change-role"] select`).AttrOr("aria-describedby", ""); got != "err-role-u-2" {
		t.Errorf("refused role select describedby %q", got)
	}

	// Refusals in two table rows, as htmx swaps each in place: their
	// messages must not share an id.
	page.Activity = nil
	doc, _ = renderDoc(t, UsersPageView(page))
	for _, r := range rows {
		refused, _ := renderDoc(t, RoleFormView(RoleForm{ProjectID: "p-1", Provider: "better_auth", UserID: r.ID, Email: r.Email, Role: "Boss", RoleError: "Use lower case."}))
		doc.Find(`tr[data-user-id="` + r.ID + `"] .role-edit`).ReplaceWithSelection(refused.Find(".role-edit"))
	}
	if n := doc.Find(`select[aria-invalid="true"]`).Length(); n != 2 {
		t.Fatalf("%d refused role selects, want 2", n)
	}
	checkFieldsNamed(t, doc)

	for name, c := range map[string]templ.Component{
		"delete step": UserActivitySlot(&UserActivity{Delete: &DeleteUserForm{ProjectID: "p-1", Provider: "stack", UserID: "u-1", ConfirmError: "Tick the box"}}),
		"role sent":   RoleChangeSent(RoleForm{ProjectID: "p-1", Provider: "better_auth", UserID: "u-1", Role: "admin"}, check),
		"created":     CreateUserSection(CreateUserForm{ProjectID: "p-1", Provider: "stack", CanWrite: true, Check: &check}),
	} {
		doc, _ := renderDoc(t, c)
		t.Run(name, func(t *testing.T) { checkFieldsNamed(t, doc) })
	}
}

func TestUserResultsTakeFocus(t *testing.T) {
	check := SyncCheck{ProjectID: "p-1", Provider: "stack", UserID: "u-1", State: SyncPending}
	row := &UserRow{ID: "u-1", Email: "ada@example.com"}
	for _, tc := range []struct {
		name, marked string
		c            templ.Component
	}{
		{"created", "created-user", CreateUserSection(CreateUserForm{ProjectID: "p-1", Provider: "stack", CanWrite: true, Check: &check})},
		{"role sent", "role-sent", RoleChangeSent(RoleForm{ProjectID: "p-1", Provider: "better_auth", UserID: "u-1", Role: "admin"}, check)},
		{"lookup found", "lookup-result", UserLookupSection(UserLookup{ProjectID: "p-1", Provider: "stack", Searched: true, Query: "ada@example.com", Row: row})},
		{"lookup missing", "lookup-missing", UserLookupSection(UserLookup{ProjectID: "p-1", Provider: "stack", Searched: true, Query: "x@example.com"})},
		{"delete step", "delete-user", DeleteUserConfirm(DeleteUserForm{ProjectID: "p-1", Provider: "stack", UserID: "u-1"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _ := renderDoc(t, tc.c)
			marked := doc.Find("[data-focus-after-swap]")
			if marked.Length() != 1 {
				t.Fatalf("%d elements marked to take focus, want 1", marked.Length())
			}
			if !marked.Is(`[data-testid="`+tc.marked+`"]`) && marked.Find(`[data-testid="`+tc.marked+`"]`).Length() != 1 {
				t.Errorf("focus goes to <%s %s>, not to %s", goquery.NodeName(marked), marked.AttrOr("class", ""), tc.marked)
			}
			// The answer is new content in a replaced section, so a live
			// region on it would never be announced; focus reads it.
			if doc.Find(`.lookup-result[aria-live]`).Length() != 0 {
				t.Error("lookup answer carries a live region that cannot be announced")
			}
		})
	}
	doc, _ := renderDoc(t, DeleteUserConfirm(DeleteUserForm{ProjectID: "p-1", Provider: "stack", UserID: "u-1"}))
	if byID(doc, "delete-user").AttrOr("aria-labelledby", "") != "delete-user-h" || usersText(doc.Find("h3#delete-user-h")) != "Delete user" {
		t.Error("the delete step is not named by its heading")
	}
}

// TestSyncPollsAnnounceStateOnly: the elapsed time changes on every poll, so
// the live region around the panel would read it out each time.
func TestSyncPollsAnnounceStateOnly(t *testing.T) {
	check := SyncCheck{ProjectID: "p-1", Provider: "stack", UserID: "u-1", State: SyncPending, Elapsed: 1500e6}
	for name, c := range map[string]templ.Component{
		"created":     CreateUserSection(CreateUserForm{ProjectID: "p-1", Provider: "stack", CanWrite: true, Check: &check}),
		"activity":    UserActivitySlot(&UserActivity{Check: &check}),
		"role change": UserActivitySlot(&UserActivity{}),
	} {
		doc, _ := renderDoc(t, c)
		live := doc.Find(`[aria-live="polite"]`)
		if name == "role change" {
			// RoleChangeSent fills this slot out of band, keeping its attributes.
			if !live.Is("#user-activity") {
				t.Errorf("%s: the slot the role check lands in is not a polite live region", name)
			}
			continue
		}
		if live.Find(`[data-testid="sync-panel"]`).Length() != 1 {
			t.Errorf("%s: the sync panel is not inside a polite live region", name)
		}
		elapsed := live.Find(`[aria-hidden="true"]`)
		if !strings.Contains(elapsed.Text(), "1.50 s so far") {
			t.Errorf("%s: the elapsed time is not hidden from the live region: %q", name, elapsed.Text())
		}
	}
	check.State = SyncSynced
	doc, _ := renderDoc(t, SyncPanel(check))
	if doc.Find(`[aria-hidden="true"]`).Length() != 0 {
		t.Error("a concluded check hides part of its result")
	}
}
