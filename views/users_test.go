package views

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func usersText(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

var usersCreatedAt = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

func TestSyncPanelStates(t *testing.T) {
	deleted := usersCreatedAt.Add(time.Hour)
	row := &UserRow{ID: "u-1", Email: "ada@example.com", Name: "Ada", CreatedAt: usersCreatedAt}
	base := SyncCheck{ProjectID: "p-1", Provider: "stack", UserID: "u-1", Watch: WatchCreate, Since: 1700000000000,
		Timeout: 30 * time.Second, Database: "db.host:5432/neondb", Table: "neon_auth.users_sync"}
	tests := []struct {
		name       string
		mod        func(*SyncCheck)
		status     string
		polls      bool
		wantText   []string
		wantRow    bool
		wantHints  bool
		checkAgain bool
	}{
		{
			name: "pending polls with the given delay",
			mod: func(s *SyncCheck) {
				s.State, s.NextPoll, s.Elapsed = SyncPending, 250*time.Millisecond, 400*time.Millisecond
			},
			status:     "waiting",
			polls:      true,
			wantText:   []string{"waiting for the user to reach neon_auth.users_sync", "0.40 s so far"},
			checkAgain: true,
		},
		{
			name:     "synced shows the row and the time taken",
			mod:      func(s *SyncCheck) { s.State, s.Row, s.Elapsed = SyncSynced, row, 520*time.Millisecond },
			status:   "synced",
			wantText: []string{"synced in 0.52 s"},
			wantRow:  true,
		},
		{
			name:       "timeout says what to check",
			mod:        func(s *SyncCheck) { s.State = SyncTimedOut },
			status:     "timed out",
			wantText:   []string{"not synced after 30.00 s", "db.host:5432/neondb", "DATABASE_URL"},
			wantHints:  true,
			checkAgain: true,
		},
		{
			name: "delete seen as deleted_at",
			mod: func(s *SyncCheck) {
				r := *row
				r.DeletedAt = &deleted
				s.Watch, s.State, s.Row, s.Elapsed = WatchDelete, SyncSynced, &r, time.Second
			},
			status:   "deleted",
			wantText: []string{"deleted_at was set after 1.00 s", "2026-03-01 13:30:00 UTC"},
			wantRow:  true,
		},
		{
			name:     "delete seen as the row leaving",
			mod:      func(s *SyncCheck) { s.Watch, s.State, s.Elapsed = WatchDelete, SyncGone, 2*time.Second },
			status:   "removed",
			wantText: []string{"the row left neon_auth.users_sync after 2.00 s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.mod(&s)
			doc, _ := renderDoc(t, SyncPanel(s))
			panel := doc.Find(`[data-testid="sync-panel"]`)
			if panel.Length() != 1 {
				t.Fatalf("sync panels = %d, want 1", panel.Length())
			}
			if got := usersText(doc.Find(`[data-testid="sync-status"]`)); got != tt.status {
				t.Errorf("sync-status = %q, want %q", got, tt.status)
			}
			all := usersText(panel)
			for _, w := range tt.wantText {
				if !strings.Contains(all, w) {
					t.Errorf("panel text %q lacks %q", all, w)
				}
			}
			hxGet, polls := panel.Attr("hx-get")
			if polls != tt.polls {
				t.Fatalf("polling = %v, want %v", polls, tt.polls)
			}
			if polls {
				if trig, _ := panel.Attr("hx-trigger"); trig != "load delay:250ms" {
					t.Errorf("hx-trigger = %q", trig)
				}
				u, err := url.Parse(hxGet)
				if err != nil {
					t.Fatal(err)
				}
				if u.Path != "/projects/p-1/users/u-1/sync" || u.Query().Get("since") != "1700000000000" || u.Query().Get("provider") != "stack" {
					t.Errorf("hx-get = %q", hxGet)
				}
				if swap, _ := panel.Attr("hx-swap"); swap != "outerHTML" {
					t.Errorf("hx-swap = %q", swap)
				}
			}
			if got := doc.Find(`[data-testid="synced-row"]`).Length() == 1; got != tt.wantRow {
				t.Errorf("synced-row shown = %v, want %v", got, tt.wantRow)
			}
			if tt.wantRow {
				if got := usersText(doc.Find(`[data-testid="row-email"]`)); got != "ada@example.com" {
					t.Errorf("row email = %q", got)
				}
			}
			if got := doc.Find(`[data-testid="sync-hints"]`).Length() == 1; got != tt.wantHints {
				t.Errorf("hints shown = %v, want %v", got, tt.wantHints)
			}
			again := doc.Find(`[data-testid="check-again"]`)
			if got := again.Length() == 1; got != tt.checkAgain {
				t.Errorf("check-again shown = %v, want %v", got, tt.checkAgain)
			}
			if tt.checkAgain {
				href, _ := again.Attr("href")
				if !strings.HasPrefix(href, "/projects/p-1/users/u-1?") {
					t.Errorf("check-again href = %q", href)
				}
			}
		})
	}
}

func TestSyncPageURLKeepsWatch(t *testing.T) {
	s := SyncCheck{ProjectID: "p-1", Provider: "better_auth", UserID: "a b/c", Watch: WatchDelete, Since: 42}
	u, err := url.Parse(SyncPageURL(s))
	if err != nil {
		t.Fatal(err)
	}
	if u.EscapedPath() != "/projects/p-1/users/a%20b%2Fc" {
		t.Errorf("path = %q", u.EscapedPath())
	}
	q := u.Query()
	if q.Get("watch") != "delete" || q.Get("since") != "42" || q.Get("provider") != "better_auth" {
		t.Errorf("query = %v", q)
	}
}

func TestCreateUserSection(t *testing.T) {
	t.Run("errors next to fields, values kept", func(t *testing.T) {
		f := CreateUserForm{ProjectID: "p-1", Provider: "stack", CSRFToken: "tok", CanWrite: true,
			Email: "not an email", Name: "Ada", EmailError: "Enter a plain email address"}
		doc, _ := renderDoc(t, CreateUserSection(f))
		form := doc.Find(`form[data-testid="create-user-form"]`)
		if m, _ := form.Attr("method"); m != "post" {
			t.Errorf("method = %q", m)
		}
		if a, _ := form.Attr("action"); a != "/projects/p-1/users" {
			t.Errorf("action = %q", a)
		}
		if v, _ := form.Find(`input[name="_csrf"]`).Attr("value"); v != "tok" {
			t.Errorf("csrf = %q", v)
		}
		if v, _ := form.Find(`input[name="provider"]`).Attr("value"); v != "stack" {
			t.Errorf("provider = %q", v)
		}
		email := form.Find(`input[name="email"]`)
		if v, _ := email.Attr("value"); v != "not an email" {
			t.Errorf("email value = %q", v)
		}
		if v, _ := email.Attr("aria-invalid"); v != "true" {
			t.Errorf("email aria-invalid = %q", v)
		}
		if got := usersText(doc.Find(`[data-testid="field-error-email"]`)); got != "Enter a plain email address" {
			t.Errorf("email error = %q", got)
		}
		if doc.Find(`[data-testid="field-error-name"]`).Length() != 0 {
			t.Error("name error shown without a message")
		}
		if v, _ := form.Find(`input[name="name"]`).Attr("value"); v != "Ada" {
			t.Errorf("name value = %q", v)
		}
	})
	t.Run("after a create the id and the check show", func(t *testing.T) {
		check := SyncCheck{ProjectID: "p-1", Provider: "stack", UserID: "u-9", State: SyncPending, NextPoll: 100 * time.Millisecond}
		doc, _ := renderDoc(t, CreateUserSection(CreateUserForm{ProjectID: "p-1", Provider: "stack", CanWrite: true, Check: &check}))
		if got := usersText(doc.Find(`[data-testid="created-user-id"]`)); got != "u-9" {
			t.Errorf("created id = %q", got)
		}
		if trig, _ := doc.Find(`[data-testid="sync-panel"]`).Attr("hx-trigger"); trig != "load delay:100ms" {
			t.Errorf("hx-trigger = %q", trig)
		}
	})
	t.Run("viewers get no form", func(t *testing.T) {
		doc, _ := renderDoc(t, CreateUserSection(CreateUserForm{ProjectID: "p-1", Provider: "stack"}))
		if doc.Find("form").Length() != 0 {
			t.Error("form shown to a viewer")
		}
	})
	t.Run("neon refusal shown in place", func(t *testing.T) {
		doc, _ := renderDoc(t, CreateUserSection(CreateUserForm{ProjectID: "p-1", Provider: "stack", CanWrite: true,
			Problem: &Problem{Title: "Too many requests", Message: "slow down", RequestID: "req-7"}}))
		if got := usersText(doc.Find(`[data-testid="request-id"]`)); got != "req-7" {
			t.Errorf("request id = %q", got)
		}
	})
}

func TestUsersBrowserRowsAndActions(t *testing.T) {
	deleted := usersCreatedAt.Add(time.Minute)
	rows := []BrowseRow{
		{UserRow: UserRow{ID: "u-2", Email: "bob@example.com", CreatedAt: usersCreatedAt, DeletedAt: &deleted}},
		{UserRow: UserRow{ID: "u-1", Email: "ada@example.com", Name: "Ada", CreatedAt: usersCreatedAt}},
	}
	b := UsersBrowser{ProjectID: "p-1", Provider: "stack", Table: "neon_auth.users_sync", Rows: rows, CanWrite: true,
		FirstURL: "/projects/p-1/users/browse?provider=stack", Count: &BrowseCount{Known: true, Exact: true, N: 2}}
	doc, _ := renderDoc(t, UsersBrowserSection(b))
	trs := doc.Find(`[data-testid="browse-row"]`)
	if trs.Length() != 2 {
		t.Fatalf("rows = %d, want 2", trs.Length())
	}
	first, second := trs.Eq(0), trs.Eq(1)
	if got := usersText(first.Find(`[data-testid="deleted-badge"]`)); got != "deleted 2026-03-01 12:31:00 UTC" {
		t.Errorf("deleted badge = %q", got)
	}
	if first.Find(`[data-testid="delete-link"]`).Length() != 0 {
		t.Error("deleted user offers another delete")
	}
	if second.Find(`[data-testid="deleted-badge"]`).Length() != 0 {
		t.Error("live user marked deleted")
	}
	href, _ := second.Find(`[data-testid="delete-link"]`).Attr("href")
	if href != "/projects/p-1/users/u-1/delete?provider=stack" {
		t.Errorf("delete href = %q", href)
	}
	// The table reloads itself when a sync check concludes.
	section := doc.Find(`section#users-browser`)
	for attr, want := range map[string]string{
		"hx-get":     "/projects/p-1/users/browse?provider=stack",
		"hx-trigger": "users-changed from:body",
		"hx-swap":    "outerHTML",
	} {
		if got := section.AttrOr(attr, ""); got != want {
			t.Errorf("section %s = %q, want %q", attr, got, want)
		}
	}
	if doc.Find(`[hx-swap-oob]`).Length() != 0 {
		t.Error("the section alone carries an out-of-band swap")
	}

	// A branch's users: every link stays on the branch's route.
	b.Provider, b.BranchID = "better_auth", "br-preview"
	branch, _ := renderDoc(t, UsersBrowserSection(b))
	href, _ = branch.Find(`[data-testid="delete-link"]`).Last().Attr("href")
	if href != "/projects/p-1/branches/br-preview/users/u-1/delete" {
		t.Errorf("branch delete href = %q", href)
	}
	if got := branch.Find(`form[data-testid="role-form"]`).Last().AttrOr("action", ""); got != "/projects/p-1/branches/br-preview/users/u-1/role" {
		t.Errorf("branch role form action = %q", got)
	}
	if branch.Find(`form[data-testid="browse-form"] input[name="provider"]`).Length() != 0 {
		t.Error("a branch's filter form sends a provider its path already names")
	}

	// A reload also brings the header's counts, out of band.
	frag, _ := renderDoc(t, UsersBrowserFragment(b, UserCounts{Known: true, Total: 3, Deleted: 1}))
	counts := frag.Find(`#user-counts[hx-swap-oob="true"]`)
	if got := usersText(counts); counts.Length() != 1 || got != "3 total, 1 deleted" {
		t.Errorf("out-of-band counts = %d elements, %q; want one saying 3 total, 1 deleted", counts.Length(), got)
	}
	if frag.Find(`[data-testid="browse-row"]`).Length() != 2 {
		t.Error("the fragment lost the table")
	}
	unknown, _ := renderDoc(t, UsersBrowserFragment(UsersBrowser{ProjectID: "p-1", Provider: "stack", Problem: &Problem{Title: "Database unreachable"}}, UserCounts{}))
	if got := usersText(unknown.Find(`#user-counts[hx-swap-oob="true"]`)); got != "unknown" {
		t.Errorf("out-of-band counts without a database = %q, want unknown", got)
	}
	if unknown.Find(`[data-testid="api-error"]`).Length() != 1 || unknown.Find("table").Length() != 0 {
		t.Error("problem not shown in place of the table")
	}
}

func TestUsersAtURLs(t *testing.T) {
	stack := UsersAt{ProjectID: "p-1", Provider: "stack"}
	branch := UsersAt{ProjectID: "p-1", Provider: "better_auth", BranchID: "br-2"}
	for _, tt := range []struct{ got, want string }{
		{UsersURL("p-1", "stack", ""), "/projects/p-1/users?provider=stack"},
		{UsersURL("p-1", "stack", "br-1"), "/projects/p-1/users?provider=stack"},
		{UsersURL("p-1", "better_auth", "br-2"), "/projects/p-1/branches/br-2/users"},
		{BrowseURL(branch), "/projects/p-1/branches/br-2/users/browse"},
		{UserDetailURL(stack, "a/b"), "/projects/p-1/users/a%2Fb/detail?provider=stack"},
		{UserDetailURL(branch, "u-1"), "/projects/p-1/branches/br-2/users/u-1/detail"},
		{LookupURL(branch, "ada@example.com"), "/projects/p-1/branches/br-2/users?q=ada%40example.com"},
		{RoleURL(branch, "u-1"), "/projects/p-1/branches/br-2/users/u-1/role"},
		{SyncPollURL(SyncCheck{ProjectID: "p-1", Provider: "better_auth", BranchID: "br-2", UserID: "u-1", Since: 5}), "/projects/p-1/branches/br-2/users/u-1/sync?since=5"},
		{IndexURL(UsersPanelRef{ProjectID: "p-1", Provider: "better_auth", BranchID: "br-2"}), "/projects/p-1/branches/br-2/users/index"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestUsersHeaderBranchSwitch(t *testing.T) {
	h := UsersHeader{ProjectID: "p-1", ProjectName: "Launchpad", Provider: "better_auth", BranchID: "br-2", BranchName: "preview",
		Branches: []BranchLink{
			{ID: "br-1", Name: "main", Default: true, URL: "/projects/p-1/branches/br-1/users"},
			{ID: "br-2", Name: "preview", Current: true, URL: "/projects/p-1/branches/br-2/users"},
		}}
	doc, _ := renderDoc(t, UsersHeaderView(h))
	if got := usersText(doc.Find(`[data-testid="users-branch-name"]`)); got != "preview" {
		t.Errorf("branch name = %q", got)
	}
	links := doc.Find(`[data-testid="branch-switch-link"]`)
	if links.Length() != 1 || links.AttrOr("href", "") != "/projects/p-1/branches/br-1/users" {
		t.Errorf("switch links = %d, first href %q", links.Length(), links.AttrOr("href", ""))
	}
	if got := doc.Find(`[data-testid="branch-switch-current"]`).AttrOr("aria-current", ""); got != "page" {
		t.Errorf("current branch aria-current = %q", got)
	}
}

func TestUserLookupSection(t *testing.T) {
	tests := []struct {
		name    string
		l       UserLookup
		found   bool
		missing string
	}{
		{name: "not searched", l: UserLookup{}},
		{name: "found", l: UserLookup{Searched: true, Query: "ada@example.com", Row: &UserRow{ID: "u-1", Email: "ada@example.com", CreatedAt: usersCreatedAt}}, found: true},
		{name: "missing", l: UserLookup{Searched: true, Query: "zed@example.com", Table: "neon_auth.users_sync"}, missing: "zed@example.com is not in neon_auth.users_sync (yet)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.l.ProjectID, tt.l.Provider = "p-1", "stack"
			doc, _ := renderDoc(t, UserLookupSection(tt.l))
			form := doc.Find("form")
			if m, _ := form.Attr("method"); m != "get" {
				t.Errorf("method = %q", m)
			}
			// A plain input + button group: Pico draws role=search as a pill.
			if doc.Find(`[role="search"]`).Length() != 0 || doc.Find(`search form [role="group"] input[name="q"] + button[type="submit"]`).Length() != 1 {
				t.Errorf("lookup is not an input + button group inside <search>")
			}
			if v, _ := form.Find(`input[name="q"]`).Attr("value"); v != tt.l.Query {
				t.Errorf("q kept = %q", v)
			}
			if got := doc.Find(`[data-testid="lookup-result"] [data-testid="synced-row"]`).Length() == 1; got != tt.found {
				t.Errorf("found shown = %v", got)
			}
			if got := usersText(doc.Find(`[data-testid="lookup-missing"]`)); got != tt.missing {
				t.Errorf("missing text = %q, want %q", got, tt.missing)
			}
		})
	}
}

func TestDeleteUserConfirm(t *testing.T) {
	doc, _ := renderDoc(t, UserActivityView(UserActivity{Delete: &DeleteUserForm{
		ProjectID: "p-1", Provider: "better_auth", UserID: "u-1", Email: "ada@example.com", CSRFToken: "tok", ConfirmError: "Tick the box",
	}}))
	form := doc.Find(`form[data-testid="delete-user-form"]`)
	if a, _ := form.Attr("action"); a != "/projects/p-1/users/u-1/delete" {
		t.Errorf("action = %q", a)
	}
	if form.Find(`input[type="checkbox"][name="confirm"][value="yes"]`).Length() != 1 {
		t.Error("no confirmation checkbox")
	}
	if got := usersText(doc.Find(`[data-testid="field-error-confirm"]`)); got != "Tick the box" {
		t.Errorf("confirm error = %q", got)
	}
	if !strings.Contains(usersText(doc.Find(`[data-testid="delete-user"]`)), "ada@example.com") {
		t.Error("the email of the user being deleted is not shown")
	}
}

func TestUsersPageView(t *testing.T) {
	p := UsersPage{
		Chrome: Chrome{Title: "Users", CSRFToken: "tok", CanWrite: true},
		Header: UsersHeader{ProjectID: "p-1", ProjectName: "Shop", Provider: "stack", Database: "h:5432/neondb", Table: "neon_auth.users_sync",
			Counts: UserCounts{Known: true, Total: 7, Deleted: 2}},
		Create: CreateUserForm{ProjectID: "p-1", Provider: "stack", CanWrite: true},
		Lookup: UserLookup{ProjectID: "p-1", Provider: "stack"},
	}
	doc, _ := renderDoc(t, UsersPageView(p))
	for sel, want := range map[string]string{
		`[data-testid="project-name"]`: "Shop",
		`[data-testid="provider"]`:     "Stack Auth (project-level)",
		`[data-testid="database"]`:     "h:5432/neondb",
		`[data-testid="user-total"]`:   "7",
		`[data-testid="user-deleted"]`: "2",
	} {
		if got := usersText(doc.Find(sel)); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if doc.Find(`form[data-testid="create-user-form"]`).Length() != 1 {
		t.Error("create form missing while the database panel fails")
	}
	if doc.Find(`#user-activity`).Length() != 1 {
		t.Error("no activity slot for htmx to fill")
	}
	if doc.Find(`#user-counts`).Length() != 1 || doc.Find(`[hx-swap-oob]`).Length() != 0 {
		t.Error("the page needs exactly one #user-counts, swapped in place")
	}
	if doc.Find(`[style]`).Length() != 0 || doc.Find(`[onclick]`).Length() != 0 {
		t.Error("inline style or handler rendered (forbidden by the CSP)")
	}

	p.Problem = &Problem{Title: "No Neon Auth integration", Status: 404}
	doc, _ = renderDoc(t, UsersPageView(p))
	if doc.Find(`form[data-testid="create-user-form"]`).Length() != 0 || doc.Find(`[data-testid="api-error"]`).Length() != 1 {
		t.Error("a page-level problem should replace the panels")
	}
}
