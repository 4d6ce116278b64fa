package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
)

func TestDeleteUserWatchesTheDatabase(t *testing.T) {
	tests := []struct {
		provider   authprovider.Provider
		wantStatus string
	}{
		{provider: authprovider.Stack, wantStatus: "deleted"},
		{provider: authprovider.BetterAuth, wantStatus: "removed"},
	}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			a := newUsersApp(t, usersAppConfig{})
			a.enable(tt.provider)
			id := a.seedUser(tt.provider, "gone@example.com", "")
			base := a.usersAt(tt.provider).User(id, "/delete")

			confirm := a.htmxGet(a.usersAt(tt.provider).URL("/"+id+"/delete", nil), "user-activity")
			confirm.wantStatus(t, http.StatusOK)
			if !strings.Contains(confirm.text("delete-user"), "gone@example.com") {
				t.Errorf("confirmation does not name the user:\n%s", confirm.Body)
			}

			unconfirmed := a.htmxPost(base, url.Values{"provider": {string(tt.provider)}})
			unconfirmed.wantStatus(t, http.StatusUnprocessableEntity)
			if unconfirmed.text("field-error-confirm") == "" {
				t.Error("no message next to the confirmation box")
			}

			r := a.htmxPost(base, url.Values{"provider": {string(tt.provider)}, "confirm": {"yes"}})
			r.wantStatus(t, http.StatusOK)
			r = a.pollSync(r)
			if got := r.text("sync-status"); got != tt.wantStatus {
				t.Fatalf("status = %q, want %q:\n%s", got, tt.wantStatus, r.Body)
			}
			if got := r.Header.Get("HX-Trigger"); got != "users-changed" {
				t.Errorf("concluded deletion HX-Trigger = %q, want users-changed", got)
			}
			if tt.provider == authprovider.Stack {
				if r.text("row-deleted-at") == "" {
					t.Error("deleted_at not shown")
				}
				page := a.get(a.usersPath(tt.provider))
				if got := page.text("user-deleted"); got != "1" {
					t.Errorf("deleted count = %q, want 1", got)
				}
				if page.byTestID("deleted-badge").Length() != 1 {
					t.Error("no deleted badge in the table")
				}
			}
		})
	}
}

func TestDeleteUserWithoutJavaScript(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	id := a.seedUser(authprovider.Stack, "plain@example.com", "")
	base := "/projects/" + a.projectID + "/users/" + id + "/delete"
	page := a.get(base + "?provider=stack")
	page.wantStatus(t, http.StatusOK)
	if page.Doc.Find(`#user-activity form[data-testid="delete-user-form"]`).Length() != 1 {
		t.Fatalf("confirmation page without the form:\n%s", page.Body)
	}
	r := a.postForm(base, url.Values{"provider": {"stack"}, "confirm": {"yes"}})
	r.wantStatus(t, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.Contains(loc, "watch=delete") {
		t.Fatalf("Location = %q", loc)
	}
	a.waitForSync()
	done := a.get(loc)
	done.wantStatus(t, http.StatusOK)
	if got := done.text("sync-status"); got != "deleted" {
		t.Errorf("status = %q, want deleted", got)
	}
}
