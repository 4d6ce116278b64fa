package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// malformedOnce makes the next Neon answer whose path contains path a 200
// whose JSON is cut short; the sandbox then does nothing.
func (a *testApp) malformedOnce(path string) {
	a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultMalformed, Count: 1, PathContains: path})
}

// wantOutcomeUnknown checks that r says the change's outcome is unknown,
// with Neon's request id and a way to check, and claims no success. It is a
// bad gateway, or a gateway timeout when no answer came in time.
func wantOutcomeUnknown(t *testing.T, r *testResponse, checkHref string) {
	t.Helper()
	if r.Status != http.StatusGatewayTimeout {
		r.wantStatus(t, http.StatusBadGateway)
	}
	box := r.text("api-error")
	if !strings.Contains(box, "Outcome unknown") || !strings.Contains(box, "cannot tell whether") {
		t.Errorf("error box = %q, want the outcome called unknown", box)
	}
	if strings.Contains(box, "Could not") || strings.Contains(box, "did not") {
		t.Errorf("error box = %q claims the change failed", box)
	}
	if r.text("request-id") == "" {
		t.Error("no Neon request id shown")
	}
	if href, _ := r.byTestID("outcome-check").Attr("href"); checkHref != "" && !strings.Contains(href, checkHref) {
		t.Errorf("check link = %q, want one containing %q", href, checkHref)
	}
	for _, success := range []string{"sync-panel", "created-user", "enable-result", "transfer-url", "role-sent", "flash"} {
		if r.byTestID(success).Length() != 0 {
			t.Errorf("answer shows %s though nothing is known to have happened", success)
		}
	}
	if r.Header.Get("HX-Redirect") != "" || r.Header.Get("Location") != "" {
		t.Errorf("answer redirects as after a success")
	}
}

// TestUnreadableAnswerToAUserChangeIsNoSuccess: when Neon answers a user
// change with a 200 whose body cannot be read, the page does not report the
// change: it says the outcome is unknown and offers the sync check.
func TestUnreadableAnswerToAUserChangeIsNoSuccess(t *testing.T) {
	for _, provider := range providers {
		for _, htmx := range []bool{true, false} {
			t.Run(string(provider)+map[bool]string{true: "/htmx", false: "/plain"}[htmx], func(t *testing.T) {
				a := newUsersApp(t, usersAppConfig{})
				a.enable(provider)
				id := a.seedUser(provider, "kept@example.com", "")
				at := a.usersAt(provider)

				a.malformedOnce("/auth/users/")
				r := a.post(at.User(id, "/delete"), url.Values{"provider": {string(provider)}, "confirm": {"yes"}}, htmx)
				wantOutcomeUnknown(t, r, "watch=delete")

				a.malformedOnce("/auth/user")
				r = a.post(at.Path(""), url.Values{"provider": {string(provider)}, "email": {"maybe@example.com"}}, htmx)
				wantOutcomeUnknown(t, r, "q=maybe%40example.com")
				if v, _ := r.Doc.Find(`input[name="email"]`).Attr("value"); v != "maybe@example.com" {
					t.Errorf("email not kept: %q", v)
				}

				// Nothing happened in Neon, and the page says so.
				a.waitForSync()
				page := a.get(a.usersPath(provider))
				if got := page.text("user-total"); got != "1" {
					t.Errorf("users after the unknown outcomes = %q, want 1", got)
				}
				if page.byTestID("deleted-badge").Length() != 0 {
					t.Error("the user shows as deleted")
				}
			})
		}
	}
}

func TestUnreadableAnswerToARoleChangeIsNoSuccess(t *testing.T) {
	a := newRoleApp(t, nil)
	a.enable(authprovider.BetterAuth)
	id := a.seedUser(authprovider.BetterAuth, "role@example.com", "")
	a.malformedOnce("/role")
	r := a.htmxPost(a.usersAt(authprovider.BetterAuth).User(id, "/role"), url.Values{"provider": {"better_auth"}, "role": {"admin"}})
	wantOutcomeUnknown(t, r, "watch=role")
}

// TestUnreadableAnswerToAnIntegrationChangeIsNoSuccess covers enabling,
// deleting, transferring and new keys: none reports success on an answer it
// could not read.
func TestUnreadableAnswerToAnIntegrationChangeIsNoSuccess(t *testing.T) {
	tests := []struct {
		name  string
		setup func(a *testApp)
		fault string
		post  func(a *testApp) *testResponse
	}{
		{
			name:  "enable stack",
			fault: "/projects/auth/create",
			post: func(a *testApp) *testResponse {
				return a.htmxPost("/projects/"+a.projectID+"/integrations", url.Values{"provider": {"stack"}, "branch_id": {a.project.BranchID}, "database": {a.project.DatabaseName}})
			},
		},
		{
			name:  "delete stack",
			setup: func(a *testApp) { a.enableStack() },
			fault: "/auth/integration/",
			post: func(a *testApp) *testResponse {
				return a.htmxPost("/projects/"+a.projectID+"/integrations/stack/delete", url.Values{"confirm_name": {"demo-app"}})
			},
		},
		{
			name: "disable better_auth",
			setup: func(a *testApp) {
				a.enableBetterAuth()
				// Read the project once so the cache answers the delete's own
				// reads of the same branch path, which the fault must skip.
				a.get("/projects/"+a.projectID).wantStatus(a.t, http.StatusOK)
			},
			fault: "/branches/",
			post: func(a *testApp) *testResponse {
				return a.htmxPost("/projects/"+a.projectID+"/integrations/better_auth/delete", url.Values{"confirm_name": {"demo-app"}, "branch_id": {a.project.BranchID}})
			},
		},
		{
			name:  "transfer",
			setup: func(a *testApp) { a.enableStack() },
			fault: "/transfer_ownership",
			post: func(a *testApp) *testResponse {
				return a.postForm("/projects/"+a.projectID+"/integrations/stack/transfer", url.Values{"understand": {"yes"}})
			},
		},
		{
			name:  "new SDK keys",
			setup: func(a *testApp) { a.enableStack() },
			fault: "/auth/keys",
			post: func(a *testApp) *testResponse {
				return a.htmxPost("/projects/"+a.projectID+"/integrations/stack/keys", url.Values{"understand": {"yes"}})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestApp(t, withCache(time.Minute))
			if tt.setup != nil {
				tt.setup(a)
			}
			before, err := a.Neon.ListIntegrations(context.Background(), a.projectID)
			if err != nil {
				t.Fatal(err)
			}
			a.malformedOnce(tt.fault)
			r := tt.post(a)
			wantOutcomeUnknown(t, r, "/projects/"+a.projectID)
			if strings.Contains(r.Body, "Neon Auth with") || strings.Contains(r.Body, "removed from") {
				t.Error("answer reports the integration removed")
			}
			after, err := a.Neon.ListIntegrations(context.Background(), a.projectID)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Errorf("integrations went from %d to %d; the fault should have stopped the change", len(before), len(after))
			}
		})
	}
}

// TestUnreadableAnswerToAReadIsABadGateway: a read whose answer cannot be
// parsed is Neon's fault, shown as a 502 with the request id, not as the
// dashboard's own unexpected error.
func TestUnreadableAnswerToAReadIsABadGateway(t *testing.T) {
	a := newTestApp(t)
	a.enableStack()
	a.malformedOnce("/auth/integrations")
	r := a.get("/projects/" + a.projectID + "/integrations/stack/transfer")
	r.wantStatus(t, http.StatusBadGateway)
	if got := r.text("api-error"); !strings.Contains(got, "Neon's answer could not be read") || strings.Contains(got, "unexpected") {
		t.Errorf("error = %q", got)
	}
	if r.text("request-id") == "" {
		t.Error("no request id")
	}
}
