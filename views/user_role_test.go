package views

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

func TestRoleFormViewOptions(t *testing.T) {
	tests := []struct {
		name          string
		current, role string
		want          []string
		selected      string
	}{
		{name: "base roles", current: "user", role: "user", want: []string{"user", "admin"}, selected: "user"},
		{name: "custom current kept", current: "admin,support", role: "admin,support", want: []string{"user", "admin", "admin,support"}, selected: "admin,support"},
		{name: "refused value kept", current: "user", role: "Boss", want: []string{"user", "admin", "Boss"}, selected: "Boss"},
		{name: "no role yet", want: []string{"user", "admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := renderDoc(t, RoleFormView(RoleForm{ProjectID: "p-1", Provider: "better_auth", UserID: "u/1", Email: "ada@example.com", CSRFToken: "tok", Current: tt.current, Role: tt.role}))
			var got []string
			doc.Find("select[name=role] option").Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("value", "")) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("options = %q, want %q", got, tt.want)
			}
			if sel := doc.Find("option[selected]").AttrOr("value", ""); sel != tt.selected {
				t.Errorf("selected = %q, want %q", sel, tt.selected)
			}
			form := doc.Find(`form[data-testid="role-form"]`)
			if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/projects/p-1/users/u%2F1/role" {
				t.Errorf("form method/action = %q %q", form.AttrOr("method", ""), form.AttrOr("action", ""))
			}
			if doc.Find(`input[name="_csrf"][value="tok"]`).Length() != 1 || doc.Find(`input[name="provider"][value="better_auth"]`).Length() != 1 {
				t.Error("form lacks the CSRF token or the provider")
			}
		})
	}
}

func TestRoleSyncCheck(t *testing.T) {
	s := SyncCheck{ProjectID: "p-1", Provider: "better_auth", UserID: "u-1", Watch: WatchRole, Role: "admin", Since: 42, State: SyncPending, NextPoll: 100 * time.Millisecond}
	u, err := url.Parse(SyncPollURL(s))
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("watch") != "role" || q.Get("role") != "admin" {
		t.Errorf("poll URL %q does not carry the watched role", u)
	}
	s.State, s.Row = SyncSynced, &UserRow{ID: "u-1", Email: "ada@example.com", Role: "admin"}
	doc, _ := renderDoc(t, SyncPanel(s))
	if got := usersText(doc.Find(`[data-testid="sync-status"]`)); got != "role set" {
		t.Errorf("status = %q", got)
	}
	if got := usersText(doc.Find(`[data-testid="row-role"]`)); got != "admin" {
		t.Errorf("row role = %q", got)
	}
}

func TestUsersTableRoleColumn(t *testing.T) {
	rows := []BrowseRow{{UserRow: UserRow{ID: "u-1", Email: "ada@example.com", Role: "admin", CreatedAt: time.Unix(0, 0)}}}
	tests := []struct {
		provider        authprovider.Provider
		canWrite        bool
		wantRole, forms int
	}{
		{"better_auth", true, 1, 1},
		{"better_auth", false, 1, 0},
		{"stack", true, 0, 0},
	}
	for _, tt := range tests {
		doc, _ := renderDoc(t, UsersBrowserSection(UsersBrowser{ProjectID: "p", Provider: tt.provider, BranchID: "br-1", Table: "t", Rows: rows, CanWrite: tt.canWrite}))
		if n := doc.Find(`[data-testid="user-role"]`).Length(); n != tt.wantRole {
			t.Errorf("%s canWrite=%v: %d role cells, want %d", tt.provider, tt.canWrite, n, tt.wantRole)
		}
		if n := doc.Find(`[data-testid="role-form"]`).Length(); n != tt.forms {
			t.Errorf("%s canWrite=%v: %d role forms, want %d", tt.provider, tt.canWrite, n, tt.forms)
		}
	}
}
