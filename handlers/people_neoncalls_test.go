package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/internal/neontest"
	"github.com/neonauth-admin/dashboard/internal/peopleseed"
	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// TestPeoplePagesNeonCalls counts what the people console's pages and the
// settings copy cost in Neon calls, through the read cache as the dashboard
// runs: the people pages read the branch's own database and ask Neon only
// where the branch and its database are (the project, its branches, the
// branch's Neon Auth and databases, then the connection string, which is
// kept for a while): five calls for the first page of a branch, none for
// the next pages or the same page again. A copy's preview reads both branches' settings once; the
// copy itself reads them again live (nine reads a branch) before writing.
func TestPeoplePagesNeonCalls(t *testing.T) {
	counter := &neontest.Requests{}
	a := newTestApp(t, withCache(time.Minute), withNeonClient("test-key", neonapi.WithHTTPClient(&http.Client{Transport: counter})))
	a.enableBetterAuth()
	conn := a.personDB(a.project.BranchID)
	personExec(t, conn, `INSERT INTO neon_auth."user" (name, email, "emailVerified") VALUES ('Ada', 'ada@example.com', true)`)
	if err := peopleseed.Seed(t.Context(), conn, peopleseed.Options{SessionsPerUser: 3, Organizations: 1, MembersPer: 1, InvitationsPer: 2}); err != nil {
		t.Fatal(err)
	}
	var uid, oid string
	if err := conn.QueryRow(t.Context(), `SELECT (SELECT id::text FROM neon_auth."user"), (SELECT id::text FROM neon_auth.organization)`).Scan(&uid, &oid); err != nil {
		t.Fatal(err)
	}
	preview, err := a.Neon.CreateBranch(t.Context(), a.projectID, neonapi.CreateBranchRequest{Name: "preview"})
	if err != nil {
		t.Fatal(err)
	}
	branch := views.BranchURL(a.projectID, a.project.BranchID)
	pages := []struct {
		name       string
		path       string
		cold, warm int // at most
	}{
		{"sessions", branch + "/sessions", 5, 0},
		{"organizations", branch + "/organizations", 3, 0},
		{"organization", branch + "/organizations/" + oid, 3, 0},
		{"activity", branch + "/activity", 3, 0},
		{"user detail", branch + "/users/" + uid + "/detail", 3, 0},
		{"copy preview", views.CopyURL(a.projectID, a.project.BranchID, preview.Branch.ID), 20, 0},
	}
	counter.Take()
	for _, p := range pages {
		var got [2]int
		for i := range got {
			r := a.get(p.path)
			r.wantStatus(t, http.StatusOK)
			calls := counter.Take()
			got[i] = len(calls)
			t.Logf("%s, visit %d: %d Neon calls: %s", p.name, i+1, len(calls), strings.Join(calls, ", "))
		}
		if got[0] > p.cold || got[1] > p.warm {
			t.Errorf("%s: %d Neon calls cold, %d warm; want at most %d and %d", p.name, got[0], got[1], p.cold, p.warm)
		}
	}

	// The copy of one change: both branches read live (nine reads each),
	// one write, then the project's name for the page, read again since the
	// write dropped the project's cached reads.
	if err := a.Neon.AddTrustedDomain(t.Context(), a.projectID, a.project.BranchID, neonapi.AddTrustedDomainRequest{Domain: "https://app.example.com", AuthProvider: authprovider.BetterAuth}); err != nil {
		t.Fatal(err)
	}
	a.API.InvalidateProject(a.projectID)
	page := a.get(views.CopyURL(a.projectID, a.project.BranchID, preview.Branch.ID))
	form := url.Values{}
	page.byTestID("copy-form").Find(`input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		if n := s.AttrOr("name", ""); n != "_csrf" {
			form.Add(n, s.AttrOr("value", ""))
		}
	})
	a.token() // the test's own page load for a CSRF token, not counted
	counter.Take()
	a.postForm("/projects/"+a.projectID+"/auth/copy", form).wantStatus(t, http.StatusOK)
	calls := counter.Take()
	var reads, writes int
	for _, c := range calls {
		if strings.HasPrefix(c, "GET ") {
			reads++
		} else {
			writes++
		}
	}
	t.Logf("copy of one change: %d reads, %d writes: %s", reads, writes, strings.Join(calls, ", "))
	if reads > 2*9+1 || writes != 1 {
		t.Errorf("copy of one change: %d reads, %d writes; want at most 19 and 1", reads, writes)
	}
}
