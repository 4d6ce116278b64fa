package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neonauth-admin/dashboard/internal/authprovider"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

var elapsedRe = regexp.MustCompile(`^\d+\.\d\d s$`)

func TestCreateUserThenSynced(t *testing.T) {
	for _, provider := range providers {
		t.Run(string(provider), func(t *testing.T) {
			syncs := &syncRecorder{}
			a := newUsersApp(t, usersAppConfig{syncs: syncs})
			a.enable(provider)
			page := a.get(a.usersPath(provider))
			page.wantStatus(t, http.StatusOK)
			if got := page.text("user-total"); got != "0" {
				t.Fatalf("total before the create = %q, want 0", got)
			}
			r := a.htmxPost(a.usersAt(provider).Path(""), url.Values{
				"provider": {string(provider)}, "email": {"grace@example.com"}, "name": {"Grace Hopper"},
			})
			r.wantStatus(t, http.StatusCreated)
			id := r.text("created-user-id")
			if id == "" {
				t.Fatalf("no created id:\n%s", r.Body)
			}
			if v, _ := r.Doc.Find(`input[name="email"]`).Attr("value"); v != "" {
				t.Errorf("form not reset after the create: email %q", v)
			}
			if got := r.text("sync-status"); got != "waiting" {
				t.Errorf("first status = %q, want waiting", got)
			}
			if trig, _ := r.byTestID("sync-panel").Attr("hx-trigger"); trig != "load delay:100ms" {
				t.Errorf("first poll = %q, want load delay:100ms", trig)
			}
			if got := r.Header.Get("HX-Trigger"); got != "" {
				t.Errorf("create answered HX-Trigger %q before anything synced", got)
			}

			before := a.neonCalls()
			r = a.pollSync(r)
			if got := r.text("sync-status"); got != "synced" {
				t.Fatalf("status = %q, want synced:\n%s", got, r.Body)
			}
			if calls := a.neonCalls() - before; calls != 0 {
				t.Errorf("polling made %d Neon calls, want 0 (database resolved once, cached)", calls)
			}
			if got := r.text("row-id"); got != id {
				t.Errorf("row id = %q, want %q", got, id)
			}
			if got := r.text("row-email"); got != "grace@example.com" {
				t.Errorf("row email = %q", got)
			}
			if got := r.text("row-name"); got != "Grace Hopper" {
				t.Errorf("row name = %q", got)
			}
			if got := r.text("sync-elapsed"); !elapsedRe.MatchString(got) {
				t.Errorf("elapsed = %q", got)
			}

			// The concluded check reports its time once, and tells the page
			// to reload the latest users, whose refresh brings the counts.
			if got := syncs.observed(); len(got) != 1 || got[0] <= 0 {
				t.Errorf("sync check observations = %v, want one positive duration", got)
			}
			if got := r.Header.Get("HX-Trigger"); got != "users-changed" {
				t.Errorf("synced answer HX-Trigger = %q, want users-changed %v", got, r.Header)
			}
			latest := a.htmxReload(a.usersSub(provider, "/browse", ""))
			latest.wantStatus(t, http.StatusOK)
			if got := latest.text("browse-row"); !strings.Contains(got, "grace@example.com") {
				t.Errorf("latest users after the sync = %q, want the new user", got)
			}
			counts := latest.Doc.Find(`#user-counts[hx-swap-oob="true"]`)
			if counts.Length() != 1 || strings.TrimSpace(counts.Find(`[data-testid="user-total"]`).Text()) != "1" {
				t.Errorf("refresh did not bring the counts out of band:\n%s", latest.Body)
			}
			// Paging does not: it pays for its page only.
			paged := a.htmxGet(a.usersSub(provider, "/browse", "size=100"), "users-browser")
			if paged.Doc.Find(`#user-counts`).Length() != 0 {
				t.Error("a page of the table read the header's counts too")
			}
		})
	}
}

func TestCreateUserWithoutJavaScript(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	r := a.postForm("/projects/"+a.projectID+"/users", url.Values{"provider": {"stack"}, "email": {"lin@example.com"}})
	r.wantStatus(t, http.StatusSeeOther)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.Path, "/projects/"+a.projectID+"/users/") || loc.Query().Get("since") == "" || loc.Query().Get("provider") != "stack" {
		t.Fatalf("Location = %q", loc)
	}
	a.waitForSync()
	page := a.get(loc.String())
	page.wantStatus(t, http.StatusOK)
	if got := page.text("flash"); !strings.Contains(got, "lin@example.com") {
		t.Errorf("flash = %q", got)
	}
	if got := page.text("sync-status"); got != "synced" {
		t.Errorf("status = %q, want synced", got)
	}
	if got := page.text("row-email"); got != "lin@example.com" {
		t.Errorf("row email = %q", got)
	}
	if page.Doc.Find("script:not([src])").Length() != 0 || page.Doc.Find(`meta[http-equiv]`).Length() != 0 {
		t.Error("page relies on inline script or meta refresh")
	}
}

func TestCreateUserNeverSynced(t *testing.T) {
	syncs := &syncRecorder{}
	a := newUsersApp(t, usersAppConfig{syncs: syncs, settings: func(s *Settings) { s.SyncTimeout = 300 * time.Millisecond }})
	a.enableStack()
	a.Sandbox.SetSync(sandbox.SyncNever, 0)
	r := a.htmxPost("/projects/"+a.projectID+"/users", url.Values{"provider": {"stack"}, "email": {"lost@example.com"}})
	r.wantStatus(t, http.StatusCreated)
	r = a.pollSync(r)
	if got := r.text("sync-status"); got != "timed out" {
		t.Fatalf("status = %q, want timed out:\n%s", got, r.Body)
	}
	panel := r.text("sync-panel")
	if !strings.Contains(panel, "not synced after 0.30 s") {
		t.Errorf("panel = %q", panel)
	}
	hints := r.text("sync-hints")
	for _, want := range []string{"/nsb_", "status", "DATABASE_URL"} {
		if !strings.Contains(hints, want) {
			t.Errorf("hints lack %q: %q", want, hints)
		}
	}
	if href, _ := r.byTestID("check-again").Attr("href"); !strings.Contains(href, "since=") {
		t.Errorf("check again = %q", href)
	}
	// A check that gave up is recorded at its timeout, however late the last
	// poll came, and leaves the table alone.
	if got := syncs.observed(); !slices.Equal(got, []time.Duration{300 * time.Millisecond}) {
		t.Errorf("sync check observations = %v, want [300ms]", got)
	}
	if got := r.Header.Get("HX-Trigger"); got != "" {
		t.Errorf("timed-out answer HX-Trigger = %q, want none", got)
	}
}

func TestCreateUserValidation(t *testing.T) {
	a := newUsersApp(t, usersAppConfig{})
	a.enableStack()
	long := strings.Repeat("a", 250) + "@ex.com"
	tests := []struct {
		name      string
		email     string
		userName  string
		htmx      bool
		wantField string
	}{
		{name: "empty email", email: "", wantField: "email"},
		{name: "not an email", email: "not-an-email", wantField: "email"},
		{name: "display name part", email: "Ada <ada@example.com>", wantField: "email", htmx: true},
		{name: "email too long", email: long, wantField: "email"},
		{name: "name too long", email: "ok@example.com", userName: strings.Repeat("n", 256), wantField: "name", htmx: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.post("/projects/"+a.projectID+"/users", url.Values{"provider": {"stack"}, "email": {tt.email}, "name": {tt.userName}}, tt.htmx)
			r.wantStatus(t, http.StatusUnprocessableEntity)
			if r.text("field-error-"+tt.wantField) == "" {
				t.Errorf("no message next to %s:\n%s", tt.wantField, r.Body)
			}
			input := r.Doc.Find(`form[data-testid="create-user-form"] input[name="` + tt.wantField + `"]`)
			if v, _ := input.Attr("aria-invalid"); v != "true" {
				t.Errorf("%s not marked invalid", tt.wantField)
			}
			if v, _ := r.Doc.Find(`input[name="email"]`).Attr("value"); v != strings.TrimSpace(tt.email) {
				t.Errorf("email kept = %q, want %q", v, tt.email)
			}
			if v, _ := r.Doc.Find(`input[name="name"]`).Attr("value"); v != tt.userName {
				t.Errorf("name not kept")
			}
			if isPage := r.Doc.Find("title").Length() == 1; isPage == tt.htmx {
				t.Errorf("full page = %v for htmx = %v", isPage, tt.htmx)
			}
		})
	}
	// Nothing reached Neon.
	list := a.get(a.usersPath(authprovider.Stack))
	if got := list.text("user-total"); got != "0" {
		t.Errorf("users after invalid creates = %q, want 0", got)
	}
}
