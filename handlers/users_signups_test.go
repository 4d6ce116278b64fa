package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func (a *testApp) signupsPath(query string) string {
	return "/projects/" + a.projectID + "/users/signups?provider=stack" + query
}

// TestSignupsChart seeds signups and deletions on known days and reads
// them back from the chart's table, by day and by week.
func TestSignupsChart(t *testing.T) {
	d := newUsersDB(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	d1, d3 := today.AddDate(0, 0, -1).Add(9*time.Hour), today.AddDate(0, 0, -3).Add(15*time.Hour)
	d.insert(t, "user_a", d1, time.Time{})
	d.insert(t, "user_b", d1.Add(time.Hour), time.Time{})
	d.insert(t, "user_c", d3, d1.Add(2*time.Hour))
	d.insert(t, "user_old", today.AddDate(0, 0, -200), time.Time{})
	a := newIndexApp(t, d.connString, 0)

	r := a.htmxGet(a.signupsPath("&range=30d&bucket=day"), "signups")
	r.wantStatus(t, http.StatusOK)
	svg := r.byTestID("signups-svg")
	if role, _ := svg.Attr("role"); role != "img" {
		t.Errorf("svg role = %q", role)
	}
	if label, _ := svg.Attr("aria-label"); label != "Signups per day over the last 30 days: 3 signups, 1 deletion." {
		t.Errorf("aria-label = %q", label)
	}
	if svg.Find("title").Length() != 1 || svg.Find("desc").Length() != 1 {
		t.Error("the chart has no title or desc")
	}
	if n := svg.Find("rect.chart-signups").Length(); n != 30 {
		t.Errorf("%d signup bars, want 30", n)
	}
	rows := r.byTestID("signups-row")
	if rows.Length() != 30 {
		t.Fatalf("%d table rows, want 30", rows.Length())
	}
	want := map[string][2]string{
		d1.Format("2006-01-02"):    {"2", "1"},
		d3.Format("2006-01-02"):    {"1", "0"},
		today.Format("2006-01-02"): {"0", "0"},
	}
	got := map[string][2]string{}
	for i := range rows.Length() {
		row := rows.Eq(i)
		start, _ := row.Attr("data-start")
		got[start] = [2]string{strings.TrimSpace(row.Find(`[data-testid="signups-count"]`).Text()), strings.TrimSpace(row.Find(`[data-testid="deletions-count"]`).Text())}
	}
	for day, w := range want {
		if got[day] != w {
			t.Errorf("%s: signups, deletions = %v, want %v", day, got[day], w)
		}
	}
	if !strings.Contains(r.text("signups-cache"), "30s") {
		t.Errorf("cache note = %q", r.text("signups-cache"))
	}

	week := a.htmxGet(a.signupsPath("&range=365d&bucket=week"), "signups")
	week.wantStatus(t, http.StatusOK)
	var signups, deletions int
	for i := range week.byTestID("signups-row").Length() {
		row := week.byTestID("signups-row").Eq(i)
		signups += atoi(t, row.Find(`[data-testid="signups-count"]`).Text())
		deletions += atoi(t, row.Find(`[data-testid="deletions-count"]`).Text())
	}
	if signups != 4 || deletions != 1 {
		t.Errorf("a year by week: %d signups, %d deletions; want 4 and 1", signups, deletions)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	for _, r := range strings.TrimSpace(s) {
		if r < '0' || r > '9' {
			t.Fatalf("not a count: %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n
}

func TestSignupsBadInput(t *testing.T) {
	d := newUsersDB(t)
	a := newIndexApp(t, d.connString, 0)
	r := a.htmxGet(a.signupsPath("&range=7y&bucket=week"), "signups")
	r.wantStatus(t, http.StatusBadRequest)
	if msg := r.text("field-error-range"); msg != "Choose a range: 30d, 90d or 365d." {
		t.Errorf("range error = %q", msg)
	}
	if inv, _ := r.Doc.Find("#signups-range").Attr("aria-invalid"); inv != "true" {
		t.Error("the range field is not marked invalid")
	}
	if sel, _ := r.Doc.Find(`#signups-bucket option[selected]`).Attr("value"); sel != "week" {
		t.Errorf("the bucket typed was not kept: %q", sel)
	}
	if r.byTestID("signups-svg").Length() != 0 {
		t.Error("a chart was drawn for a bad range")
	}
	bucket := a.get(a.signupsPath("&range=30d&bucket=hour"))
	bucket.wantStatus(t, http.StatusBadRequest)
	if bucket.text("field-error-bucket") == "" || bucket.Doc.Find("h1#page-title").Length() != 1 {
		t.Errorf("bad bucket page:\n%s", bucket.Body)
	}
}
