package handlers

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// TestValuesPostgresCannotStoreAreRefusedAtTheField: a NUL byte, invalid
// UTF-8 or a 10 KB string in a lookup or a form field is a 400 with a message
// next to the field and what was typed kept, not a query error in the log,
// nor a user Neon accepts that never reaches the table.
func TestValuesPostgresCannotStoreAreRefusedAtTheField(t *testing.T) {
	logs := &lockedBuffer{}
	a := newUsersApp(t, usersAppConfig{})
	a.Handler.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a.enableStack()
	users := "/projects/" + a.projectID + "/users"
	long := strings.Repeat("x", 10<<10)
	tests := []struct {
		name  string
		do    func() *testResponse
		field string
		kept  string // the field's value as shown back
	}{
		{"lookup with NUL", func() *testResponse {
			return a.get(a.usersPath(authprovider.Stack) + "&q=" + url.QueryEscape("ada\x00@example.com"))
		}, "q", "ada\uFFFD@example.com"},
		{"lookup with invalid UTF-8 (htmx)", func() *testResponse { return a.htmxGet(users+"/lookup?provider=stack&q=ada%ff", "user-lookup") }, "q", "ada\uFFFD"},
		{"lookup of 10 KB (htmx)", func() *testResponse { return a.htmxGet(users+"/lookup?provider=stack&q="+long, "user-lookup") }, "q", long},
		{"create with NUL in the name (htmx)", func() *testResponse {
			return a.htmxPost(users, url.Values{"provider": {"stack"}, "email": {"nul@example.com"}, "name": {"Ada\x00Lovelace"}})
		}, "name", "Ada\uFFFDLovelace"},
		{"create with invalid UTF-8 in the email", func() *testResponse {
			return a.postForm(users, url.Values{"provider": {"stack"}, "email": {"ad\xffa@example.com"}})
		}, "email", "ad\uFFFDa@example.com"},
		{"delete confirmation with NUL (htmx)", func() *testResponse {
			return a.htmxPost("/projects/"+a.projectID+"/integrations/stack/delete", url.Values{"confirm_name": {"demo\x00app"}})
		}, "confirm_name-stack", "demo\uFFFDapp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.neonCounter.Take()
			r := tt.do()
			r.wantStatus(t, http.StatusBadRequest)
			if r.text("field-error-"+tt.field) == "" {
				t.Errorf("no message next to %s:\n%.2000s", tt.field, r.Body)
			}
			input := r.Doc.Find(`[aria-describedby="err-` + tt.field + `"]`)
			if v, _ := input.Attr("value"); v != tt.kept {
				t.Errorf("%s shows %.40q, want %.40q", tt.field, v, tt.kept)
			}
			for _, call := range a.neonCounter.Take() {
				if !strings.HasPrefix(call, "GET ") {
					t.Errorf("a refused form reached Neon: %s", call)
				}
			}
		})
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("bad input logged an error:\n%s", logs.String())
	}
	if got := a.get(a.usersPath(authprovider.Stack)).text("user-total"); got != "0" {
		t.Errorf("users after the refused creates = %q, want 0", got)
	}
}

// TestUsersDatabaseDownFragments: while the users database is down, the
// fragments that read it say so with 503, which the page's htmx config
// swaps in, while the full page stays 200 with its panel degraded.
func TestUsersDatabaseDownFragments(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.configureUsers(neonauth.UserDBConfig{PerProject: map[string]string{a.projectID: pgtest.DeadServerURL(t, "pw")}})
	a.enableStack()
	users := "/projects/" + a.projectID + "/users"

	page := a.get(a.usersPath(authprovider.Stack))
	page.wantStatus(t, http.StatusOK)
	for _, path := range []string{users + "/browse?provider=stack", users + "/lookup?provider=stack&q=ada%40example.com"} {
		r := a.htmxGet(path, "")
		r.wantStatus(t, http.StatusServiceUnavailable)
		if got := r.text("api-error"); !strings.Contains(got, "Database unreachable") {
			t.Errorf("%s: panel says %q", path, got)
		}
		if r.Doc.Find("title").Length() != 0 {
			t.Errorf("%s: a full page instead of the fragment", path)
		}
	}
}
