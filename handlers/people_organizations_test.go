package handlers

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/views"
)

// branchDB connects straight to the branch's database, as Better Auth
// itself would: to seed organizations and to prove which branch a page
// read.
func (tb *perBranchApp) branchDB(b neonapi.Branch) *pgx.Conn {
	tb.t.Helper()
	ctx := context.Background()
	uri, err := tb.Neon.GetConnectionURI(ctx, tb.projectID, neonapi.ConnectionURIOptions{
		BranchID: b.ID, DatabaseName: tb.project.DatabaseName, RoleName: tb.project.RoleName,
	})
	if err != nil {
		tb.t.Fatalf("connection uri of %s: %v", b.Name, err)
	}
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		tb.t.Fatalf("connect to %s: %v", b.Name, err)
	}
	tb.t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func execOn(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// seedOrganization inserts an organization whose members are the users
// with these emails (the first one its owner) and returns its id.
func seedOrganization(t *testing.T, conn *pgx.Conn, name, slug string, emails ...string) string {
	t.Helper()
	id := uuid.NewString()
	execOn(t, conn, `INSERT INTO neon_auth.organization (id, name, slug, "createdAt", metadata) VALUES ($1, $2, $3, now(), $4)`,
		id, name, slug, `<script>alert("x")</script>`)
	for i, e := range emails {
		role := "member"
		if i == 0 {
			role = "owner"
		}
		execOn(t, conn, `INSERT INTO neon_auth.member ("organizationId", "userId", role, "createdAt")
SELECT $1, id, $2, now() + $3 * interval '1 second' FROM neon_auth."user" WHERE email = $4`, id, role, i, e)
	}
	return id
}

// orgRows are the organizations a list page shows, by name.
func orgRows(r *testResponse) []string {
	var out []string
	r.byTestID("organization-link").Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

// TestOrganizationsPerBranch: each branch's pages show only the
// organizations in that branch's own database, with their members linked
// to the branch's users and their invitations' states.
func TestOrganizationsPerBranch(t *testing.T) {
	tb := newPerBranchApp(t)
	mainDB, previewDB := tb.branchDB(tb.main), tb.branchDB(tb.preview)
	acme := seedOrganization(t, mainDB, "Acme", "acme", "ada@main.test", "bob@main.test")
	seedOrganization(t, mainDB, "Beta", "beta", "bob@main.test")
	prev := seedOrganization(t, previewDB, "Preview Co", "preview-co", "cy@preview.test")
	now := time.Now()
	for _, inv := range []struct {
		email, status string
		expires       time.Time
	}{
		{"open@x.test", "pending", now.Add(24 * time.Hour)},
		{"late@x.test", "pending", now.Add(-time.Hour)},
		{"done@x.test", "accepted", now.Add(time.Hour)},
	} {
		execOn(t, mainDB, `INSERT INTO neon_auth.invitation ("organizationId", email, role, status, "expiresAt", "inviterId")
SELECT $1, $2, 'member', $3, $4, id FROM neon_auth."user" WHERE email = 'ada@main.test'`, acme, inv.email, inv.status, inv.expires)
	}

	mainURL, previewURL := views.OrganizationsURL(tb.projectID, tb.main.ID), views.OrganizationsURL(tb.projectID, tb.preview.ID)
	page := tb.get(mainURL)
	page.wantStatus(t, http.StatusOK)
	if got := orgRows(page); !slices.Equal(got, []string{"Acme", "Beta"}) {
		t.Errorf("main lists %v, want Acme and Beta", got)
	}
	if got := page.text("organizations-branch"); got != tb.main.Name {
		t.Errorf("main page names branch %q", got)
	}
	acmeRow := page.Doc.Find(`[data-testid="organization-row"][data-organization-id="` + acme + `"]`)
	if m, p := strings.TrimSpace(acmeRow.Find(`[data-testid="organization-members"]`).Text()), strings.TrimSpace(acmeRow.Find(`[data-testid="organization-pending"]`).Text()); m != "2" || p != "1" {
		t.Errorf("Acme shows %s members, %s pending; want 2 and 1", m, p)
	}
	users := tb.get(tb.at(tb.main).URL("", nil))
	if href := users.byTestID("users-organizations-link").AttrOr("href", ""); href != mainURL {
		t.Errorf("main's users page links organizations at %q, want %q", href, mainURL)
	}
	page = tb.get(previewURL)
	page.wantStatus(t, http.StatusOK)
	if got := orgRows(page); !slices.Equal(got, []string{"Preview Co"}) {
		t.Errorf("preview lists %v, want Preview Co", got)
	}

	// One organization: members linked to the branch's users, invitations
	// with their states, metadata shown as text.
	detail := tb.get(views.OrganizationURL(tb.projectID, tb.main.ID, acme))
	detail.wantStatus(t, http.StatusOK)
	var members []string
	detail.byTestID("member-row").Each(func(_ int, s *goquery.Selection) {
		link := s.Find(`[data-testid="member-link"]`)
		members = append(members, strings.TrimSpace(link.Text())+" "+strings.TrimSpace(s.Find(`[data-testid="member-role"]`).Text()))
		uid := s.AttrOr("data-user-id", "")
		if want := views.UserDetailURL(tb.at(tb.main), uid); link.AttrOr("href", "") != want {
			t.Errorf("member %s links %q, want %q", uid, link.AttrOr("href", ""), want)
		}
	})
	if want := []string{"ada@main.test owner", "bob@main.test member"}; !slices.Equal(members, want) {
		t.Errorf("members %q, want %q", members, want)
	}
	if id := detail.Doc.Find(`[data-testid="member-row"]`).First().AttrOr("data-user-id", ""); id != tb.mainIDs["ada@main.test"] {
		t.Errorf("first member's user id %q, want ada's %q", id, tb.mainIDs["ada@main.test"])
	}
	states := map[string]string{}
	detail.byTestID("invitation-row").Each(func(_ int, s *goquery.Selection) {
		states[strings.TrimSpace(s.Find(`[data-testid="invitation-email"]`).Text())] = strings.TrimSpace(s.Find(`[data-testid="invitation-state"]`).Text())
	})
	if want := map[string]string{"open@x.test": "pending", "late@x.test": "expired", "done@x.test": "accepted"}; !maps.Equal(states, want) {
		t.Errorf("invitation states %v, want %v", states, want)
	}
	if got := detail.text("organization-metadata"); got != `<script>alert("x")</script>` || strings.Contains(detail.Body, `<script>alert`) {
		t.Errorf("metadata shows %q; it must be escaped text", got)
	}

	// Another branch's organization is not this branch's.
	other := tb.get(views.OrganizationURL(tb.projectID, tb.main.ID, prev))
	other.wantStatus(t, http.StatusNotFound)
	if !strings.Contains(other.text("api-error"), "No such organization") {
		t.Errorf("preview's organization under main: %q", other.text("api-error"))
	}
	tb.get(views.OrganizationURL(tb.projectID, tb.preview.ID, prev)).wantStatus(t, http.StatusOK)

	// Search, as htmx asks for it: the list alone.
	found := tb.htmxGet(mainURL+"?q=BET", views.OrganizationsListID)
	found.wantStatus(t, http.StatusOK)
	if got := orgRows(found); !slices.Equal(got, []string{"Beta"}) || found.byTestID("organizations-head").Length() != 0 {
		t.Errorf("search lists %v (head shown: %v)", got, found.byTestID("organizations-head").Length() != 0)
	}
	if got := found.text("organizations-matching"); got != "1 organization matches" {
		t.Errorf("matching = %q", got)
	}
	none := tb.get(previewURL + "?q=acme")
	none.wantStatus(t, http.StatusOK)
	if none.byTestID("organizations-empty").Length() != 1 {
		t.Errorf("preview finds main's Acme:\n%.1500s", none.Body)
	}
}

// TestOrganizationsEmptyAndMissing: a Better Auth branch without
// organizations says so and points at the plugin settings; a branch without
// Neon Auth has no page.
func TestOrganizationsEmptyAndMissing(t *testing.T) {
	tb := newPerBranchApp(t)
	r := tb.get(views.OrganizationsURL(tb.projectID, tb.bare.ID))
	r.wantStatus(t, http.StatusNotFound)
	if r.byTestID("api-error").Length() != 1 {
		t.Errorf("branch without Neon Auth:\n%.1500s", r.Body)
	}
	r = tb.get(views.OrganizationsURL(tb.projectID, tb.main.ID))
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("organizations-none").Length() != 1 {
		t.Fatalf("no empty state:\n%.2000s", r.Body)
	}
	if href := r.byTestID("organizations-plugins-link").AttrOr("href", ""); href != views.PluginsSettingsURL(tb.projectID, tb.main.ID) {
		t.Errorf("plugins link %q", href)
	}
}

// TestOrganizationsBadInput: an id that is not a uuid is not found before
// Neon or the database is asked; a hostile search is refused next to the
// field, kept as typed; a forged cursor is refused.
func TestOrganizationsBadInput(t *testing.T) {
	tb := newPerBranchApp(t)
	base := views.OrganizationsURL(tb.projectID, tb.main.ID)
	long := strings.Repeat("x", 10<<10)
	for _, id := range []string{"nope", long, "%00", url.PathEscape("00000000-0000-4000-8000-00000000000a\x00"), strings.ToUpper(uuid.NewString())} {
		tb.neonCounter.Take()
		r := tb.get(base + "/" + id)
		r.wantStatus(t, http.StatusNotFound)
		if calls := tb.neonCounter.Take(); len(calls) != 0 {
			t.Errorf("id %.20q reached Neon: %v", id, calls)
		}
	}
	for _, c := range []struct{ q, kept string }{{long, long}, {"a\x00b", "a\uFFFDb"}} {
		r := tb.get(base + "?q=" + url.QueryEscape(c.q))
		r.wantStatus(t, http.StatusBadRequest)
		if r.text("field-error-organizations-q") == "" {
			t.Errorf("no message next to the search:\n%.1500s", r.Body)
		}
		if v := r.Doc.Find(`#organizations-q`).AttrOr("value", ""); v != c.kept {
			t.Errorf("search shows %.30q, want %.30q", v, c.kept)
		}
	}
	r := tb.get(base + "?after=" + long)
	r.wantStatus(t, http.StatusBadRequest)
	if r.text("field-error-organizations-cursor") == "" {
		t.Errorf("forged cursor:\n%.1500s", r.Body)
	}
	org := seedOrganization(t, tb.branchDB(tb.main), "Acme", "acme", "ada@main.test")
	r = tb.get(views.OrganizationURL(tb.projectID, tb.main.ID, org) + "?members=forged")
	r.wantStatus(t, http.StatusBadRequest)
	if !strings.Contains(r.text("api-error"), "page position") {
		t.Errorf("forged members cursor:\n%.1500s", r.Body)
	}
}

// TestOrganizationsStackAuth: Stack Auth keeps users only, and the page
// says so plainly.
func TestOrganizationsStackAuth(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	r := a.get(views.OrganizationsURL(a.projectID, a.project.BranchID))
	r.wantStatus(t, http.StatusNotFound)
	if got := r.text("api-error"); !strings.Contains(got, "Stack Auth has no organizations") {
		t.Errorf("Stack Auth branch: %q", got)
	}
}
