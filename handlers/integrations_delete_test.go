package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/neonapi"
)

func TestDeleteIntegration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		deleteData bool
		htmx       bool
	}{
		{"keep data, no JavaScript", false, false},
		{"drop data, htmx", true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t)
			a.enableStack()
			if !neonAuthSchemaExists(t, a) {
				t.Fatal("enabling did not create neon_auth")
			}
			path := "/projects/" + a.projectID + "/integrations/stack/delete"
			v := url.Values{"confirm_name": {"demo-ap"}}
			if tc.deleteData {
				v.Set("delete_data", "true")
			}

			wrong := a.post(path, v, tc.htmx)
			wrong.wantStatus(t, http.StatusUnprocessableEntity)
			if got := wrong.text("field-error-confirm_name-stack"); !strings.Contains(got, "demo-app") {
				t.Errorf("wrong name message = %q", got)
			}
			if typed, _ := wrong.byTestID("confirm-name").Attr("value"); typed != "demo-ap" {
				t.Errorf("typed value kept = %q, want demo-ap", typed)
			}
			if _, checked := wrong.byTestID("delete-data").Attr("checked"); checked != tc.deleteData {
				t.Errorf("delete_data kept = %t, want %t", checked, tc.deleteData)
			}
			if tc.htmx && wrong.Doc.Find("title").Length() != 0 {
				t.Error("htmx wrong-name answer is a full page, want the form")
			}

			v.Set("confirm_name", "demo-app")
			ok := a.post(path, v, tc.htmx)
			wantLocation := "/projects/" + a.projectID
			if tc.htmx {
				ok.wantStatus(t, http.StatusNoContent)
				if got := ok.Header.Get("HX-Redirect"); got != wantLocation {
					t.Errorf("HX-Redirect = %q, want %q", got, wantLocation)
				}
			} else {
				ok.wantStatus(t, http.StatusSeeOther)
				if got := ok.Header.Get("Location"); got != wantLocation {
					t.Errorf("Location = %q, want %q", got, wantLocation)
				}
			}

			page := a.get(wantLocation)
			page.wantStatus(t, http.StatusOK)
			flash := page.text("flash")
			if !strings.Contains(flash, "removed from demo-app") {
				t.Errorf("flash = %q", flash)
			}
			if got := strings.Contains(flash, "dropped"); got != tc.deleteData {
				t.Errorf("flash %q mentions dropping = %t, want %t", flash, got, tc.deleteData)
			}
			if page.byTestID("integrations-empty").Length() != 1 {
				t.Error("the deleted integration is still listed")
			}
			// Read once: the next page has no flash.
			if a.get(wantLocation).byTestID("flash").Length() != 0 {
				t.Error("the flash shows twice")
			}
			if got := neonAuthSchemaExists(t, a); got == tc.deleteData {
				t.Errorf("neon_auth exists = %t after delete with delete_data=%t", got, tc.deleteData)
			}
		})
	}
}

func TestDeleteBetterAuthDisablesTheBranch(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.htmxPost("/projects/"+a.projectID+"/integrations", enableValues(a, "better_auth")).wantStatus(t, http.StatusCreated)
	r := a.postForm("/projects/"+a.projectID+"/integrations/better_auth/delete", url.Values{
		"confirm_name": {"demo-app"}, "branch_id": {a.project.BranchID}, "delete_data": {"true"},
	})
	r.wantStatus(t, http.StatusSeeOther)
	_, err := a.Neon.GetBranchAuth(context.Background(), a.projectID, a.project.BranchID)
	if !errors.Is(err, neonapi.ErrNotFound) {
		t.Errorf("branch auth after disable: %v, want 404", err)
	}
	if neonAuthSchemaExists(t, a) {
		t.Error("neon_auth still exists after disabling with delete_data")
	}
}
