package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// readinessURL is the seeded project's default branch's readiness page.
func (a *testApp) readinessURL(branchID string) string {
	return "/projects/" + a.projectID + "/branches/" + branchID + "/auth/readiness"
}

// readinessItems reads the checklist as key → data-status, failing the test
// for an item without its verdict in words or without a link to its form.
func readinessItems(t *testing.T, r *testResponse, projectID, branchID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	r.byTestID("readiness-items").Find("li").Each(func(_ int, li *goquery.Selection) {
		id, _ := li.Attr("data-testid")
		key, ok := strings.CutPrefix(id, "readiness-item-")
		if !ok {
			t.Errorf("checklist entry without readiness-item- test id: %q", id)
			return
		}
		status, _ := li.Attr("data-status")
		out[key] = status
		if strings.TrimSpace(li.Find(`[data-testid="readiness-status"]`).Text()) == "" {
			t.Errorf("%s: no verdict in words", key)
		}
		if strings.TrimSpace(li.Find(`[data-testid="readiness-explanation"]`).Text()) == "" {
			t.Errorf("%s: no explanation", key)
		}
		href, _ := li.Find(`[data-testid="readiness-fix"]`).Attr("href")
		if !strings.HasPrefix(href, "/projects/"+projectID+"/branches/"+branchID+"/auth/settings/") {
			t.Errorf("%s: fix link %q does not lead to the branch's settings", key, href)
		}
	})
	return out
}

func TestReadinessPage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableBetterAuth()
	branch := a.project.BranchID

	r := a.get(a.readinessURL(branch))
	r.wantStatus(t, http.StatusOK)
	want := map[string]string{
		"trusted-domains": "red", "localhost": "red", "oauth-credentials": "red",
		"email-provider": "red", "email-verification": "red", "webhooks": "info",
	}
	if got := readinessItems(t, r, a.projectID, branch); !sameMap(got, want) {
		t.Errorf("items = %v, want %v", got, want)
	}
	if s, _ := r.byTestID("readiness-summary").Attr("data-status"); s != "red" {
		t.Errorf("summary status = %q, want red", s)
	}
	if badge := r.text("readiness-badge"); !strings.Contains(badge, "Not ready") || !strings.Contains(badge, "5 blocking") {
		t.Errorf("badge = %q, want the verdict and counts in words", badge)
	}
	if !strings.Contains(r.text("readiness-branch"), "(default)") {
		t.Errorf("branch heading = %q, want it marked as the default branch", r.text("readiness-branch"))
	}
	if href, _ := r.byTestID("readiness-item-localhost").Find(`[data-testid="readiness-fix"]`).Attr("href"); !strings.HasSuffix(href, "/auth/settings/domains") {
		t.Errorf("localhost fix link = %q", href)
	}

	// Without a read cache every read reaches Neon: a setting changed
	// elsewhere shows at once. (With one, it shows after "Refresh from
	// Neon": TestChangesMadeElsewhereShowAfterRefresh.)
	if _, err := a.Neon.UpdateAllowLocalhost(context.Background(), a.projectID, branch, false); err != nil {
		t.Fatal(err)
	}
	r = a.get(a.readinessURL(branch))
	r.wantStatus(t, http.StatusOK)
	if got := readinessItems(t, r, a.projectID, branch)["localhost"]; got != "green" {
		t.Errorf("localhost after turning it off = %q, want green", got)
	}
	if txt := r.byTestID("readiness-item-localhost").Find(`[data-testid="readiness-status"]`).Text(); txt != "Ready" {
		t.Errorf("localhost verdict in words = %q", txt)
	}
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestReadinessPageAccess(t *testing.T) {
	t.Parallel()
	t.Run("viewer", func(t *testing.T) {
		a := newTestApp(t, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
		a.enableBetterAuth()
		r := a.get(a.readinessURL(a.project.BranchID))
		r.wantStatus(t, http.StatusOK)
		if r.byTestID("readiness-items").Length() != 1 {
			t.Error("a viewer does not see the checklist")
		}
	})
	t.Run("nobody", func(t *testing.T) {
		a := newTestApp(t, withIdentity(Identity{User: "eve", Email: "eve@example.com"}))
		a.enableBetterAuth()
		r := a.get(a.readinessURL(a.project.BranchID))
		r.wantStatus(t, http.StatusForbidden)
		if r.byTestID("readiness-items").Length() != 0 {
			t.Error("someone without a role sees the checklist")
		}
	})
}

func TestReadinessPageWithoutBranchAuth(t *testing.T) {
	t.Parallel()
	t.Run("not enabled", func(t *testing.T) {
		a := newTestApp(t, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
		r := a.get(a.readinessURL(a.project.BranchID))
		r.wantStatus(t, http.StatusNotFound)
		box := r.byTestID("no-branch-auth")
		if box.Length() != 1 || !strings.Contains(box.Text(), "not enabled") || !strings.Contains(box.Text(), "An admin") {
			t.Errorf("explanation = %q", box.Text())
		}
		if href, _ := r.byTestID("no-branch-auth-project").Attr("href"); href != "/projects/"+a.projectID {
			t.Errorf("project link = %q", href)
		}
	})
	t.Run("stack auth", func(t *testing.T) {
		a := newTestApp(t)
		a.enableStack()
		r := a.get(a.readinessURL(a.project.BranchID))
		r.wantStatus(t, http.StatusNotFound)
		if !strings.Contains(r.text("no-branch-auth-provider"), "Stack Auth") {
			t.Errorf("explanation = %q, want it to name Stack Auth", r.text("no-branch-auth"))
		}
	})
}

func TestReadinessPageNeonErrors(t *testing.T) {
	t.Parallel()
	t.Run("a settings read fails", func(t *testing.T) {
		a := newTestApp(t)
		a.enableBetterAuth()
		a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/auth/email_provider"})
		r := a.get(a.readinessURL(a.project.BranchID))
		r.wantStatus(t, http.StatusBadGateway)
		if r.byTestID("error-page").Length() != 1 || r.text("request-id") == "" {
			t.Errorf("no error page with Neon's request id: %q", r.text("api-error"))
		}
		if r.byTestID("readiness-items").Length() != 0 {
			t.Error("a partial checklist was shown")
		}
	})
	t.Run("no such branch", func(t *testing.T) {
		a := newTestApp(t)
		r := a.get(a.readinessURL("br-no-such-branch-1"))
		r.wantStatus(t, http.StatusNotFound)
		if r.text("request-id") == "" || !strings.Contains(r.Body, "Neon could not find that") {
			t.Errorf("Neon's 404 not shown with its request id: %q", r.text("api-error"))
		}
	})
	t.Run("malformed branch id never reaches Neon", func(t *testing.T) {
		a := newTestApp(t)
		r := a.get(a.readinessURL("NOT_AN_ID"))
		r.wantStatus(t, http.StatusNotFound)
		if r.text("request-id") != "" {
			t.Error("Neon was asked about a malformed id")
		}
	})
}

// TestReadinessBadgeAfterFixes: every setting fixed through the API turns
// the page's summary green.
func TestReadinessBadgeAfterFixes(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableBetterAuth()
	pid, bid := a.projectID, a.project.BranchID
	a.fixReadiness(a.Neon, bid)

	r := a.get(a.readinessURL(bid))
	r.wantStatus(t, http.StatusOK)
	if s, _ := r.byTestID("readiness-badge").Attr("data-status"); s != "green" || !strings.HasPrefix(r.text("readiness-badge"), "Ready") {
		t.Errorf("badge = %s %q, want green Ready", s, r.text("readiness-badge"))
	}
	if got := readinessItems(t, r, pid, bid)["webhooks"]; got != "info" {
		t.Errorf("webhooks = %q, want info: optional, and no obstacle to green", got)
	}
}

// fixReadiness makes every readiness check of a branch with Better Auth
// green (webhooks stay optional) through api: the test's own client straight
// to the sandbox, or the dashboard's client with its read cache.
func (a *testApp) fixReadiness(api *neonapi.Client, bid string) {
	a.t.Helper()
	ctx := context.Background()
	pid := a.projectID
	on := true
	must := func(err error) {
		a.t.Helper()
		if err != nil {
			a.t.Fatal(err)
		}
	}
	must(api.AddTrustedDomain(ctx, pid, bid, neonapi.AddTrustedDomainRequest{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth}))
	_, err := api.UpdateAllowLocalhost(ctx, pid, bid, false)
	must(err)
	must(api.DeleteOAuthProvider(ctx, pid, bid, neonapi.OAuthGoogle))
	_, err = api.UpdateEmailProvider(ctx, pid, bid, neonapi.EmailServer{Type: neonapi.EmailServerStandard, Host: "smtp.example.com", Port: 587,
		Username: "u", Password: neonapi.NewSecret("p"), SenderEmail: "auth@example.com", SenderName: "Example"})
	must(err)
	_, err = api.UpdateEmailAndPasswordConfig(ctx, pid, bid, neonapi.EmailAndPasswordConfigUpdate{RequireEmailVerification: &on})
	must(err)
}
