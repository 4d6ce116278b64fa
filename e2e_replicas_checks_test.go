package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
)

// settingsURL is a settings group's page of the people branch on base.
func (rs *replicaSet) settingsURL(base, group string) string {
	return fmt.Sprintf("%s/projects/%s/branches/%s/auth/settings/%s", base, rs.people.projectID, rs.people.branchID, group)
}

// applicationName reads the application name a replica's settings page
// shows.
func (rs *replicaSet) applicationName(t *testing.T, base string) string {
	t.Helper()
	a := mustGet(t, rs.admin, rs.settingsURL(base, "application"), http.StatusOK)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := doc.Find(`[data-testid="application-form"] input[name="name"]`).Attr("value")
	if !ok {
		t.Fatalf("%s shows no application name form:\n%.600s", a.url, a.body)
	}
	return v
}

// settingsPropagate changes the application name through replica A, after
// replica B has read (and cached) it, and measures how long B takes to
// show the new name. Without cross-replica invalidation B would keep the
// old one for the freshness window (15 minutes).
func (rs *replicaSet) settingsPropagate(t *testing.T) {
	a, b := rs.reps[0].URL, rs.reps[1].URL
	before := rs.applicationName(t, b)
	if got := rs.applicationName(t, a); got != before {
		t.Fatalf("before the change replica A shows %q and B %q", got, before)
	}
	name := "Replicas " + randomSuffix()
	page := mustGet(t, rs.admin, rs.settingsURL(a, "application"), http.StatusOK)
	action, vals := formOf(t, page.body, a, `[data-testid="application-form"]`)
	vals.Set("name", name)
	// The guide has just spent the budget's burst: let it refill, so that
	// what is measured is how soon B learns of the change, not how long
	// its read queues for a slot of the shared budget.
	rs.waitBudgetFull(t)
	w0 := budgetWait(t, b)
	res := postForm(t, rs.admin, action, vals)
	saved := time.Now()
	if res.status >= 400 {
		t.Fatalf("saving the application name on replica A: %d\n%.600s", res.status, res.body)
	}
	rs.changes = append(rs.changes, "auth.application.update")
	var took time.Duration
	_, err := pollUntil(5*time.Second, 20*time.Millisecond, func() (bool, error) {
		last := rs.applicationName(t, b)
		took = time.Since(saved)
		return last == name, fmt.Errorf("replica B still shows %q", last)
	})
	if got := rs.applicationName(t, a); got != name {
		t.Errorf("replica A shows %q after saving %q", got, name)
	}
	switch {
	case err != nil:
		t.Fatalf("replica B never showed the application name saved on A (%q, was %q): %v", name, before, err)
	case took > time.Second:
		t.Errorf("replica B took %s to show the application name saved on A, want within 1s", took.Round(time.Millisecond))
	}
	t.Logf("replica B showed the application name saved on A %s after A answered (%.3fs of it queued for the shared budget)", took.Round(time.Millisecond), budgetWait(t, b)-w0)
}

// budgetWait is how long a replica's Neon calls have queued for the rate
// budget, in seconds, in all.
func budgetWait(t *testing.T, base string) float64 {
	t.Helper()
	return metricSum(t, base, "neonauth_dashboard_neon_api_rate_limit_wait_seconds_sum", func(string) bool { return true })
}

// waitBudgetFull waits until the shared Neon budget has refilled: its
// theoretical arrival time (GCRA) is in the past.
func (rs *replicaSet) waitBudgetFull(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rs.stateURL)
	if err != nil {
		t.Fatalf("connect to the state store: %v", err)
	}
	defer conn.Close(ctx)
	took, err := pollUntil(15*time.Second, 100*time.Millisecond, func() (bool, error) {
		var full bool
		if err := conn.QueryRow(ctx, `SELECT coalesce(bool_and(tat <= clock_timestamp()), true) FROM dashboard_state.neon_budget`).Scan(&full); err != nil {
			return false, err
		}
		return full, errors.New("the shared Neon budget is still spent")
	})
	if err != nil {
		t.Fatalf("waiting for the shared Neon budget to refill: %v", err)
	}
	t.Logf("waited %s for the shared Neon budget to refill", took.Round(time.Millisecond))
}
