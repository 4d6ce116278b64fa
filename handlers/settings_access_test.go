package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// settingsGroups are the groups' paths and what a viewer sees on each.
var settingsGroups = []struct{ path, value string }{
	{"domains", "localhost-value"},
	{"sign-in", "email-password-enabled-value"},
	{"email", "email-server-type"},
	{"plugins", "organization-limit-value"},
	{"webhooks", "webhooks-enabled-value"},
	{"application", "application-name-value"},
}

// settingsPosts are every settings form's path.
var settingsPosts = []string{
	"domains", "domains/remove", "domains/localhost", "sign-in/email-password", "sign-in/oauth",
	"sign-in/oauth/google", "sign-in/oauth/google/remove", "email", "email/test",
	"plugins/organization", "plugins/magic-link", "plugins/phone-number", "webhooks", "application",
}

func TestSettingsViewerSeesValuesWithoutForms(t *testing.T) {
	a, rec := newSettingsApp(t, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
	for _, g := range settingsGroups {
		t.Run(g.path, func(t *testing.T) {
			r := a.get(a.settingsPath(g.path))
			r.wantStatus(t, http.StatusOK)
			if r.byTestID("view-only").Length() != 1 || r.text(g.value) == "" {
				t.Errorf("no read-only values:\n%.3000s", r.Body)
			}
			// "Refresh from Neon" changes nothing in Neon: viewers have it.
			refresh := `[data-testid="refresh-form"]`
			if n := r.Doc.Find(`main form, main input:not([type="hidden"]), main button:not(.copy)`).Not(refresh).Not(refresh + " *").Length(); n != 0 {
				t.Errorf("a viewer's page has %d form controls", n)
			}
			if r.byTestID("refresh-form").Length() != 1 {
				t.Error("a viewer's page offers no refresh from Neon")
			}
		})
	}
	if got := a.get(a.settingsPath("sign-in")).text("oauth-secret-state"); got != "not set" {
		t.Errorf("viewer sees google's secret state %q, want not set", got)
	}
	for _, p := range settingsPosts {
		r := a.postForm(a.settingsPath(p), url.Values{"domain": {"https://x.example.com"}, "name": {"x"}, "enabled": {"on"}})
		r.wantStatus(t, http.StatusForbidden)
	}
	wantNoWrites(t, rec)
}

func TestSettingsAdminSeesForms(t *testing.T) {
	a, _ := newSettingsApp(t)
	forms := map[string][]string{
		"domains":     {"domains-form", "localhost-form"},
		"sign-in":     {"email-password-form", "oauth-google-form", "oauth-google-remove-form", "oauth-add-form"},
		"email":       {"email-server-form", "email-test-submit"},
		"plugins":     {"organization-form", "magic-link-form", "phone-number-form"},
		"webhooks":    {"webhooks-form"},
		"application": {"application-form"},
	}
	for path, ids := range forms {
		r := a.get(a.settingsPath(path))
		r.wantStatus(t, http.StatusOK)
		for _, id := range ids {
			el := r.byTestID(id)
			if el.Length() != 1 {
				t.Errorf("%s: no %s", path, id)
				continue
			}
			if !el.Is("form") {
				continue
			}
			action, _ := el.Attr("action")
			post, _ := el.Attr("hx-post")
			if method, _ := el.Attr("method"); method != "post" || action == "" || action != post || el.AttrOr("hx-indicator", "") == "" {
				t.Errorf("%s: %s is not a real post enhanced by htmx with an indicator", path, id)
			}
			if el.Find(`input[name="_csrf"]`).Length() != 1 {
				t.Errorf("%s: %s carries no CSRF token", path, id)
			}
		}
		if r.byTestID("view-only").Length() != 0 {
			t.Errorf("%s: admin told the page is view-only", path)
		}
	}
	if loc := a.get(strings.TrimSuffix(a.settingsPath(""), "/")).Header.Get("Location"); loc != a.settingsPath("domains") {
		t.Errorf("settings index sends to %q", loc)
	}
}

func TestSettingsNeedBranchLevelNeonAuth(t *testing.T) {
	a, rec := newSettingsApp(t)
	bare := a.createProject("bare-app")
	path := "/projects/" + bare.ID + "/branches/" + bare.BranchID + "/auth/settings/"
	for _, g := range settingsGroups {
		r := a.get(path + g.path)
		r.wantStatus(t, http.StatusNotFound)
		if !strings.Contains(r.text("settings-unavailable-reason"), "not enabled") {
			t.Errorf("%s: %q", g.path, r.text("settings-unavailable-reason"))
		}
		if href, _ := r.byTestID("settings-back").Attr("href"); href != "/projects/"+bare.ID {
			t.Errorf("back link = %q", href)
		}
	}
	post := a.postForm(path+"domains", url.Values{"domain": {"https://x.example.com"}})
	post.wantStatus(t, http.StatusNotFound)
	if post.byTestID("settings-unavailable").Length() != 1 {
		t.Error("a post to a branch without Neon Auth is not explained")
	}

	stack := a.createProject("stack-app")
	a.projectID, a.project = stack.ID, stack
	a.enableStack()
	rec.writes()
	r := a.get(a.settingsPath("sign-in"))
	r.wantStatus(t, http.StatusNotFound)
	if !strings.Contains(r.text("settings-unavailable-reason"), "Stack Auth") || !strings.Contains(r.text("settings-unavailable"), "branch-level") {
		t.Errorf("Stack Auth branch: %q", r.text("settings-unavailable"))
	}
	a.htmxPost(a.settingsPath("sign-in/oauth"), url.Values{"provider": {"github"}, "credentials": {"shared"}})
	wantNoWrites(t, rec)

	a.get("/projects/"+a.projectID+"/branches/NOT_AN_ID/auth/settings/domains").wantStatus(t, http.StatusNotFound)
	a.get("/projects/"+a.projectID+"/branches/br-missing-123/auth/settings/domains").wantStatus(t, http.StatusNotFound)
}

func TestProjectPageLinksBetterAuthSettings(t *testing.T) {
	a, _ := newSettingsApp(t)
	r := a.get("/projects/" + a.projectID)
	r.wantStatus(t, http.StatusOK)
	link := r.Doc.Find(`[data-testid="branch-row"][data-provider="better_auth"] [data-testid="branch-settings-link"]`)
	if href, _ := link.Attr("href"); href != a.settingsPath("domains") {
		t.Errorf("settings link = %q, want %s", href, a.settingsPath("domains"))
	}
	if a.get(href(link)).byTestID("settings-domains").Length() != 1 {
		t.Error("the link does not lead to the settings")
	}
}

func href(s interface{ Attr(string) (string, bool) }) string {
	v, _ := s.Attr("href")
	return v
}
