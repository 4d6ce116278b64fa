package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// TestEmptyAnswerToAReadIsAnError: a read Neon answers with {} is an error
// with Neon's request id, never an empty list or a verdict computed from
// nothing.
func TestEmptyAnswerToAReadIsAnError(t *testing.T) {
	t.Parallel()
	wantIncomplete := func(t *testing.T, r *testResponse, missing string) {
		t.Helper()
		r.wantStatus(t, http.StatusBadGateway)
		if got := r.text("api-error"); !strings.Contains(got, "Neon's answer was incomplete") || !strings.Contains(got, missing) {
			t.Errorf("error box = %q, want it incomplete, lacking %s", got, missing)
		}
		if r.text("request-id") == "" {
			t.Error("no request id")
		}
	}
	t.Run("projects list", func(t *testing.T) {
		a := newTestApp(t)
		a.faultOnce(sandbox.FaultEmpty, "GET", "/api/v2/projects")
		r := a.get("/projects")
		wantIncomplete(t, r, "projects")
		if r.byTestID("projects-empty").Length() != 0 || r.byTestID("project-row").Length() != 0 {
			t.Errorf("an answer without projects shown as a list:\n%.2000s", r.Body)
		}
	})
	t.Run("readiness badge", func(t *testing.T) {
		a := newTestApp(t)
		a.enableBetterAuth()
		a.faultOnce(sandbox.FaultEmpty, "GET", "/auth/domains")
		r := a.htmxGet(a.badgeURL(a.project.BranchID), "")
		r.wantStatus(t, http.StatusBadGateway)
		title, _ := r.byTestID("readiness-unavailable").Attr("title")
		if !strings.Contains(r.text("readiness-unavailable"), "unavailable") || !strings.Contains(title, "request id ") {
			t.Errorf("badge = %q, title %q; want unavailable with the request id", r.text("readiness-unavailable"), title)
		}
		if r.byTestID("readiness-badge").Length() != 0 || strings.Contains(r.Body, "Not ready") {
			t.Errorf("a verdict from missing data:\n%s", r.Body)
		}
	})
	t.Run("readiness page", func(t *testing.T) {
		a := newTestApp(t)
		a.enableBetterAuth()
		a.faultOnce(sandbox.FaultEmpty, "GET", "/auth/allow_localhost")
		r := a.get(a.readinessURL(a.project.BranchID))
		wantIncomplete(t, r, "allow_localhost")
		if r.byTestID("readiness-items").Length() != 0 {
			t.Error("a checklist from missing data")
		}
	})
	t.Run("branch's Neon Auth", func(t *testing.T) {
		a := newTestApp(t)
		a.enableBetterAuth()
		a.faultOnce(sandbox.FaultEmpty, "GET", "/branches/"+a.project.BranchID+"/auth")
		r := a.get(a.readinessURL(a.project.BranchID))
		wantIncomplete(t, r, "auth_provider")
	})
}

// TestReadinessAndSettingsReadLive: with a long read cache, a change made
// outside the dashboard shows on the readiness checklist and the settings
// page at once, as they say; the badge keeps the cached verdict until the
// checklist's live read refreshes it.
func TestReadinessAndSettingsReadLive(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(time.Hour))
	a.enableBetterAuth()
	bid := a.project.BranchID
	if s := a.badgeStatus(t, bid); s != "red" {
		t.Fatalf("fresh branch: badge %q, want red", s)
	}
	page := a.get(a.settingsPath("domains"))
	page.wantStatus(t, http.StatusOK)
	if page.byTestID("domains-empty").Length() != 1 {
		t.Fatal("fresh branch lists trusted domains")
	}

	// Fixed behind the dashboard's back, as in the Neon Console.
	a.fixReadiness(a.Neon, bid)
	if s := a.badgeStatus(t, bid); s != "red" {
		t.Errorf("badge %q straight after the outside fix: want the cached red", s)
	}
	r := a.get(a.readinessURL(bid))
	r.wantStatus(t, http.StatusOK)
	if s, _ := r.byTestID("readiness-summary").Attr("data-status"); s != "green" {
		t.Errorf("checklist %q, want green: it reads live", s)
	}
	if !strings.Contains(r.text("readiness-branch")+r.Body, "read from Neon just now") {
		t.Error("the checklist does not say it was read just now")
	}
	if s := a.badgeStatus(t, bid); s != "green" {
		t.Errorf("badge %q after the checklist's live read, want green", s)
	}
	page = a.get(a.settingsPath("domains"))
	page.wantStatus(t, http.StatusOK)
	if got := page.Doc.Find(`[data-testid="domain-row"]`).AttrOr("data-domain", ""); got == "" {
		t.Errorf("settings page does not list the domain added outside:\n%.3000s", page.Body)
	}
}
