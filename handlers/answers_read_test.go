package handlers

import (
	"context"
	"net/http"
	"net/url"
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

// TestReadinessAndSettingsReadThroughTheCache: with a long read cache, the
// readiness checklist, the settings pages and the badges all read through
// it. A change made outside the dashboard does not show on any of them (the
// pages say so) until the dashboard itself writes to the project or someone
// presses "Refresh from Neon"; either makes every one of them read Neon
// again.
func TestReadinessAndSettingsReadThroughTheCache(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(time.Hour))
	a.enableBetterAuth()
	bid := a.project.BranchID
	checklist := func() string {
		t.Helper()
		r := a.get(a.readinessURL(bid))
		r.wantStatus(t, http.StatusOK)
		s, _ := r.byTestID("readiness-summary").Attr("data-status")
		return s
	}
	domains := func() *testResponse {
		t.Helper()
		page := a.get(a.settingsPath("domains"))
		page.wantStatus(t, http.StatusOK)
		return page
	}
	if s := a.badgeStatus(t, bid); s != "red" {
		t.Fatalf("fresh branch: badge %q, want red", s)
	}
	if s := checklist(); s != "red" {
		t.Fatalf("fresh branch: checklist %q, want red", s)
	}
	if domains().byTestID("domains-empty").Length() != 1 {
		t.Fatal("fresh branch lists trusted domains")
	}

	// Fixed behind the dashboard's back, as in the Neon Console: nothing
	// shows, and the checklist says why.
	a.fixReadiness(a.Neon, bid)
	if s := a.badgeStatus(t, bid); s != "red" {
		t.Errorf("badge %q straight after the outside fix: want the cached red", s)
	}
	r := a.get(a.readinessURL(bid))
	r.wantStatus(t, http.StatusOK)
	if s, _ := r.byTestID("readiness-summary").Attr("data-status"); s != "red" {
		t.Errorf("checklist %q straight after the outside fix: want the cached red", s)
	}
	if got := r.text("readiness-freshness"); !strings.Contains(got, "changes made in this dashboard show at once, changes made elsewhere once you refresh") {
		t.Errorf("the checklist does not say how fresh it is: %q", got)
	}
	if r.byTestID("refresh-form").Length() != 1 {
		t.Error("the checklist offers no refresh")
	}
	if domains().byTestID("domains-empty").Length() != 1 {
		t.Error("the settings page shows the outside fix before a refresh")
	}

	// A change through the dashboard drops the project's cached reads:
	// it shows, and so does everything changed elsewhere before it.
	a.htmxPost(a.settingsPath("domains"), url.Values{"domain": {"https://second.example.com"}}).wantStatus(t, http.StatusOK)
	if s := checklist(); s != "green" {
		t.Errorf("checklist %q after a change through the dashboard, want green", s)
	}
	if s := a.badgeStatus(t, bid); s != "green" {
		t.Errorf("badge %q after a change through the dashboard, want green", s)
	}
	if n := domains().Doc.Find(`[data-testid="domain-row"]`).Length(); n != 2 {
		t.Errorf("settings page lists %d domains, want the outside one and the dashboard's", n)
	}

	// Changed elsewhere again: cached until "Refresh from Neon".
	if _, err := a.Neon.UpdateAllowLocalhost(context.Background(), a.projectID, bid, true); err != nil {
		t.Fatal(err)
	}
	if s := checklist(); s != "green" {
		t.Errorf("checklist %q straight after allowing localhost elsewhere: want the cached green", s)
	}
	if domains().isChecked("localhost-allow_localhost") {
		t.Error("the settings page shows localhost allowed before a refresh")
	}
	if loc := a.refresh(t, a.readinessURL(bid)); loc != a.readinessURL(bid) {
		t.Fatalf("refresh sent back to %q", loc)
	}
	if s := checklist(); s != "red" {
		t.Errorf("checklist %q after the refresh, want red (localhost allowed)", s)
	}
	if s := a.badgeStatus(t, bid); s != "red" {
		t.Errorf("badge %q after the refresh, want red", s)
	}
	if !domains().isChecked("localhost-allow_localhost") {
		t.Error("the settings page does not show localhost allowed after the refresh")
	}
}
