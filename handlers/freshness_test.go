package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// TestPagesSayWhenTheyShowStaleAnswers: a page whose Neon reads were served
// past their TTL, while a background read refreshes them, says "as of"; once
// the refresh has landed the same page is fresh and says nothing.
func TestPagesSayWhenTheyShowStaleAnswers(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(50*time.Millisecond),
		withNeonClient("test-key", neonapi.WithFreshness(time.Hour)))
	first := a.get("/projects/" + a.projectID)
	first.wantStatus(t, http.StatusOK)
	if first.byTestID("as-of").Length() != 0 {
		t.Fatal("a page read fresh from Neon says it is stale")
	}
	time.Sleep(100 * time.Millisecond)
	stale := a.get("/projects/" + a.projectID)
	stale.wantStatus(t, http.StatusOK)
	note := stale.text("as-of")
	if !strings.Contains(note, "as of") || !strings.Contains(note, "refreshing") {
		t.Errorf("stale page: note %q, want an \"as of …, refreshing\" note", note)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := a.get("/projects/" + a.projectID)
		if r.byTestID("as-of").Length() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page still says it is stale after the refresh had time to land")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFooterShowsTheNeonSpend: admins see what the dashboard spent of its
// Neon budget in the last minute, counted from the calls that reached Neon.
func TestFooterShowsTheNeonSpend(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withNeonClient("test-key", neonapi.WithRateLimit(140, 8)),
		withHandler(func(h *Handler) { h.Budget = h.Auth.(NeonBudget) }))
	if _, err := a.API.GetProject(context.Background(), a.projectID); err != nil {
		t.Fatal(err)
	}
	r := a.get("/projects")
	r.wantStatus(t, http.StatusOK)
	spend := r.text("neon-spend")
	want := "of this dashboard's 140 a minute (20% of the key's 700)"
	if !strings.Contains(spend, want) || !strings.Contains(spend, "Neon API: ") {
		t.Errorf("footer %q, want it to contain %q", spend, want)
	}
	if n := a.API.Spend().LastMinute; n == 0 {
		t.Error("Spend counted no calls")
	}

	viewer := newTestApp(t, withIdentity(Identity{Email: "v@example.com", Role: RoleViewer}),
		withHandler(func(h *Handler) { h.Budget = h.Auth.(NeonBudget) }))
	if viewer.get("/projects").byTestID("neon-spend").Length() != 0 {
		t.Error("a viewer sees the Neon spend; only admins should")
	}
}
