package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
)

// newRoleApp is newUsersApp with an optional fixed identity.
func newRoleApp(t *testing.T, id *Identity) *testApp {
	t.Helper()
	opts := []appOption{withSyncDelay(50 * time.Millisecond)}
	if id != nil {
		opts = append(opts, withIdentity(*id))
	}
	return newTestApp(t, opts...)
}

func (a *testApp) rolePath(uid string) string {
	return a.usersAt(authprovider.BetterAuth).User(uid, "/role")
}

// roleInDatabase reads the user's role column straight from the branch database.
func (a *testApp) roleInDatabase(uid string) string {
	a.t.Helper()
	ctx := context.Background()
	uri, err := a.Neon.GetConnectionURI(ctx, a.projectID, neonapi.ConnectionURIOptions{
		BranchID: a.project.BranchID, DatabaseName: a.project.DatabaseName, RoleName: a.project.RoleName,
	})
	if err != nil {
		a.t.Fatalf("connection uri: %v", err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		a.t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var role string
	if err := conn.QueryRow(ctx, `SELECT coalesce(role, '') FROM neon_auth."user" WHERE id = $1`, uid).Scan(&role); err != nil {
		a.t.Fatalf("read role: %v", err)
	}
	return role
}

// rowRole is the role the latest-users table shows for uid.
func rowRole(r *testResponse, uid string) string {
	return strings.TrimSpace(r.Doc.Find(`[data-testid="browse-row"][data-user-id="` + uid + `"] [data-testid="user-role"]`).Text())
}

func TestSetUserRoleWithHTMX(t *testing.T) {
	a := newRoleApp(t, nil)
	a.enableBetterAuth()
	uid := a.seedUser(authprovider.BetterAuth, "ada@example.com", "Ada")

	page := a.get(a.usersPath(authprovider.BetterAuth))
	page.wantStatus(t, http.StatusOK)
	if got := rowRole(page, uid); got != "user" {
		t.Fatalf("table role = %q, want user:\n%s", got, page.Body)
	}
	if got := page.Doc.Find(`[data-testid="role-select"] option[selected]`).AttrOr("value", ""); got != "user" {
		t.Errorf("selected role = %q, want user", got)
	}

	r := a.htmxPost(a.rolePath(uid), url.Values{"role": {"admin"}})
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("role-form").Length() != 1 || r.byTestID("role-sent").Length() != 1 {
		t.Fatalf("answer lacks the fresh control or the notice:\n%s", r.Body)
	}
	if oob, _ := r.Doc.Find("#user-activity").Attr("hx-swap-oob"); oob != "innerHTML" {
		t.Errorf("activity slot hx-swap-oob = %q, want innerHTML", oob)
	}
	r = a.pollSync(r)
	if got := r.text("sync-status"); got != "role set" {
		t.Fatalf("sync status = %q, want role set:\n%s", got, r.Body)
	}
	if got := r.text("row-role"); got != "admin" {
		t.Errorf("sync panel role = %q, want admin", got)
	}
	if got := r.Header.Get("HX-Trigger"); got != "users-changed" {
		t.Errorf("HX-Trigger = %q, want users-changed", got)
	}
	if got := a.roleInDatabase(uid); got != "admin" {
		t.Errorf("database role = %q, want admin", got)
	}
	latest := a.htmxGet(a.usersSub(authprovider.BetterAuth, "/browse", ""), "users-browser")
	latest.wantStatus(t, http.StatusOK)
	if got := rowRole(latest, uid); got != "admin" {
		t.Errorf("refreshed table role = %q, want admin", got)
	}
}

func TestSetUserRoleWithoutJavaScript(t *testing.T) {
	a := newRoleApp(t, nil)
	a.enableBetterAuth()
	uid := a.seedUser(authprovider.BetterAuth, "plain@example.com", "")

	// A list of roles, with a repeat and spaces, is sent as two roles.
	r := a.postForm(a.rolePath(uid), url.Values{"role": {"admin, support,admin"}})
	r.wantStatus(t, http.StatusSeeOther)
	loc := mustParseURL(t, r.Header.Get("Location"))
	if q := loc.Query(); q.Get("watch") != "role" || q.Get("role") != "admin,support" {
		t.Fatalf("Location = %q", loc)
	}
	a.waitForSync()
	done := a.get(loc.String())
	done.wantStatus(t, http.StatusOK)
	if got := done.text("sync-status"); got != "role set" {
		t.Fatalf("sync status = %q, want role set:\n%s", got, done.Body)
	}
	if !strings.Contains(done.text("flash"), "admin,support") {
		t.Errorf("flash = %q", done.text("flash"))
	}
	if got := rowRole(done, uid); got != "admin,support" {
		t.Errorf("table role = %q, want admin,support", got)
	}
	if got := a.roleInDatabase(uid); got != "admin,support" {
		t.Errorf("database role = %q", got)
	}
}

func TestSetUserRoleValidation(t *testing.T) {
	a := newRoleApp(t, nil)
	a.enableBetterAuth()
	uid := a.seedUser(authprovider.BetterAuth, "val@example.com", "")
	// A custom role, so the refused forms must have read it from the table.
	if _, err := a.Neon.UpdateBranchUserRole(context.Background(), a.projectID, a.project.BranchID, uid, []string{"support"}); err != nil {
		t.Fatal(err)
	}
	a.waitForSync()
	tests := []struct {
		name, role string
		htmx       bool
	}{
		{"capitals htmx", "Admin", true},
		{"empty htmx", "", true},
		{"punctuation page", "admin;drop", false},
		{"too long page", strings.Repeat("a", 33), false},
		{"empty in list htmx", "admin,,user", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{"role": {tt.role}}
			var r *testResponse
			if tt.htmx {
				r = a.htmxPost(a.rolePath(uid), v)
			} else {
				r = a.postForm(a.rolePath(uid), v)
			}
			r.wantStatus(t, http.StatusUnprocessableEntity)
			form := r.byTestID("role-form")
			if !tt.htmx {
				form = r.Doc.Find(`[data-testid="change-role"] [data-testid="role-form"]`)
				if r.byTestID("users-browser").Length() != 1 {
					t.Error("full page without the table")
				}
			}
			if form.Length() != 1 {
				t.Fatalf("no role form in the answer:\n%s", r.Body)
			}
			if form.Find(`[data-testid="field-error-role-`+uid+`"]`).Text() == "" {
				t.Error("no message next to the role field")
			}
			if inv, _ := form.Find("select").Attr("aria-invalid"); inv != "true" {
				t.Errorf("select aria-invalid = %q", inv)
			}
			if tt.role != "" {
				if got := form.Find("option[selected]").AttrOr("value", ""); got != tt.role {
					t.Errorf("kept value = %q, want %q", got, tt.role)
				}
			}
			// The current role stays on offer beside what was refused.
			if form.Find(`option[value="support"]`).Length() != 1 {
				t.Error("current role not offered")
			}
		})
	}
	a.waitForSync()
	if got := a.roleInDatabase(uid); got != "support" {
		t.Errorf("database role = %q after refused changes, want support", got)
	}
}

func TestSetUserRoleNeonErrorInPlace(t *testing.T) {
	a := newRoleApp(t, nil)
	a.enableBetterAuth()
	// A well-formed id Neon does not know: the table never had it.
	r := a.htmxPost(a.rolePath("00000000-0000-4000-8000-000000000000"), url.Values{"role": {"admin"}})
	r.wantStatus(t, http.StatusNotFound)
	edit := r.byTestID("role-edit")
	if edit.Length() != 1 {
		t.Fatalf("no role control in the answer:\n%s", r.Body)
	}
	if !strings.Contains(edit.Find(`[data-testid="api-error"]`).Text(), "not found") {
		t.Errorf("Neon's message missing: %q", edit.Find(`[data-testid="api-error"]`).Text())
	}
	if strings.TrimSpace(edit.Find(`[data-testid="request-id"]`).Text()) == "" {
		t.Error("Neon's request id missing")
	}
	if got := edit.Find("option[selected]").AttrOr("value", ""); got != "admin" {
		t.Errorf("kept value = %q, want admin", got)
	}
}

func TestViewerSeesRolesWithoutControl(t *testing.T) {
	a := newRoleApp(t, &Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer})
	a.enableBetterAuth()
	uid := a.seedUser(authprovider.BetterAuth, "seen@example.com", "")
	page := a.get(a.usersPath(authprovider.BetterAuth))
	page.wantStatus(t, http.StatusOK)
	if got := rowRole(page, uid); got != "user" {
		t.Errorf("viewer's table role = %q, want user", got)
	}
	if page.byTestID("role-form").Length() != 0 {
		t.Error("viewer sees a role form")
	}
	r := a.postForm(a.rolePath(uid), url.Values{"role": {"admin"}})
	r.wantStatus(t, http.StatusForbidden)
	a.waitForSync()
	if got := a.roleInDatabase(uid); got != "user" {
		t.Errorf("database role = %q after a viewer's post, want user", got)
	}
}

func TestStackUsersHaveNoRoles(t *testing.T) {
	a := newRoleApp(t, nil)
	a.enableStack()
	uid := a.seedUser(authprovider.Stack, "stack@example.com", "")
	page := a.get(a.usersPath(authprovider.Stack))
	page.wantStatus(t, http.StatusOK)
	if page.byTestID("browse-row").Length() != 1 {
		t.Fatalf("stack user not listed:\n%s", page.Body)
	}
	if page.byTestID("role-form").Length() != 0 || page.byTestID("user-role").Length() != 0 {
		t.Error("stack page shows roles")
	}
	r := a.postForm("/projects/"+a.projectID+"/users/"+uid+"/role?provider=stack", url.Values{"role": {"admin"}})
	r.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(r.Body, "only for Better Auth") {
		t.Errorf("400 without the reason:\n%s", r.Body)
	}
}

func TestParseRoles(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "admin", want: "admin"},
		{in: " user ", want: "user"},
		{in: "admin,user,admin", want: "admin,user"},
		{in: "a_b-1", want: "a_b-1"},
		{in: "", wantErr: true},
		{in: "1admin", wantErr: true},
		{in: "Admin", wantErr: true},
		{in: "admin,", wantErr: true},
		{in: "a,b,c,d,e,f,g,h,i", wantErr: true},
		{in: strings.Repeat("a", 32), want: strings.Repeat("a", 32)},
		{in: strings.Repeat("a", 33), wantErr: true},
	}
	for _, tt := range tests {
		roles, msg := parseRoles(tt.in)
		if (msg != "") != tt.wantErr {
			t.Errorf("parseRoles(%q) message = %q, want error %v", tt.in, msg, tt.wantErr)
			continue
		}
		if got := strings.Join(roles, ","); !tt.wantErr && got != tt.want {
			t.Errorf("parseRoles(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
