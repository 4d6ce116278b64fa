package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/views"
)

// trustedDomains is what Neon has, read through the client.
func (a *testApp) trustedDomains(t *testing.T) []string {
	t.Helper()
	list, err := a.Neon.ListTrustedDomains(context.Background(), a.projectID, a.project.BranchID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range list {
		out = append(out, d.Domain)
	}
	return out
}

func TestSettingsDomainsAddAndRemove(t *testing.T) {
	a, rec := newSettingsApp(t)
	page := a.get(a.settingsPath("domains"))
	page.wantStatus(t, http.StatusOK)
	if page.byTestID("domains-form").Length() != 1 || page.byTestID("domains-empty").Length() != 1 {
		t.Fatalf("no add form or no empty list:\n%.3000s", page.Body)
	}
	if cur, _ := page.byTestID("settings-tab-domains").Attr("aria-current"); cur != "page" {
		t.Errorf("domains tab aria-current = %q", cur)
	}
	if href, _ := page.byTestID("settings-readiness").Attr("href"); href != views.ReadinessURL(a.projectID, a.project.BranchID) {
		t.Errorf("readiness link = %q, want the branch's checklist", href)
	}

	// htmx: the card comes back with the origin, normalised, listed.
	r := a.htmxPost(a.settingsPath("domains"), url.Values{"domain": {" HTTPS://App.Example.com/ "}})
	r.wantStatus(t, http.StatusOK)
	if r.byTestID("settings-domains").Length() != 1 || r.byTestID("domains-saved").Length() != 1 {
		t.Fatalf("answer lacks the card or the confirmation:\n%s", r.Body)
	}
	if got := r.Doc.Find(`[data-testid="domain-row"]`).AttrOr("data-domain", ""); got != "https://app.example.com" {
		t.Errorf("listed %q, want https://app.example.com", got)
	}
	if r.value("domains-domain") != "" {
		t.Error("the add field keeps the domain after it was added")
	}
	if w := rec.writes(); len(w) != 1 || !strings.HasPrefix(w[0], "POST ") || !strings.HasSuffix(w[0], "/auth/domains") {
		t.Errorf("writes = %v, want one addBranchNeonAuthTrustedDomain", w)
	}

	// Without JavaScript: post, redirect, the page with a flash.
	r = a.followRedirect(t, a.postForm(a.settingsPath("domains"), url.Values{"domain": {"https://*.example.org:8443"}}), a.settingsPath("domains"))
	if !strings.Contains(r.text("flash"), "https://*.example.org:8443") {
		t.Errorf("flash = %q", r.text("flash"))
	}
	if got := a.trustedDomains(t); !slices.Equal(got, []string{"https://app.example.com", "https://*.example.org:8443"}) {
		t.Errorf("Neon has %v", got)
	}

	r = a.htmxPost(a.settingsPath("domains/remove"), url.Values{"domain": {"https://app.example.com"}})
	r.wantStatus(t, http.StatusOK)
	if r.Doc.Find(`[data-domain="https://app.example.com"]`).Length() != 0 {
		t.Error("removed domain still listed")
	}
	if got := a.trustedDomains(t); !slices.Equal(got, []string{"https://*.example.org:8443"}) {
		t.Errorf("after removal Neon has %v", got)
	}
}

func TestSettingsDomainsBadInput(t *testing.T) {
	a, rec := newSettingsApp(t)
	a.get(a.settingsPath("domains"))
	rec.writes()
	for _, tc := range []struct {
		name, domain string
		htmx         bool
		status       int
		kept         string
	}{
		{"no scheme", "app.example.com", true, http.StatusUnprocessableEntity, "app.example.com"},
		{"a path", "https://app.example.com/callback", false, http.StatusUnprocessableEntity, "https://app.example.com/callback"},
		{"not http", "ftp://files.example.com", true, http.StatusUnprocessableEntity, "ftp://files.example.com"},
		{"credentials", "https://me:pw@example.com", true, http.StatusUnprocessableEntity, "https://me:pw@example.com"},
		{"empty", "  ", false, http.StatusUnprocessableEntity, ""},
		{"NUL", "https://ex\x00ample.com", true, http.StatusBadRequest, "https://ex\uFFFDample.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.post(a.settingsPath("domains"), url.Values{"domain": {tc.domain}}, tc.htmx)
			r.wantStatus(t, tc.status)
			wantFieldError(t, r, "domains-domain")
			if got := r.value("domains-domain"); got != tc.kept {
				t.Errorf("field shows %q, want %q", got, tc.kept)
			}
			if !tc.htmx && r.byTestID("settings-tabs").Length() != 1 {
				t.Error("no-JS refusal is not the whole page")
			}
			wantNoWrites(t, rec)
		})
	}
	if got := a.trustedDomains(t); len(got) != 0 {
		t.Errorf("Neon has %v after refused forms", got)
	}
}

func TestSettingsDomainsNeonRefusals(t *testing.T) {
	a, _ := newSettingsApp(t)
	a.htmxPost(a.settingsPath("domains"), url.Values{"domain": {"https://app.example.com"}}).wantStatus(t, http.StatusOK)

	dup := a.htmxPost(a.settingsPath("domains"), url.Values{"domain": {"https://APP.example.com"}})
	wantNeonProblem(t, dup, http.StatusConflict)
	if got := dup.value("domains-domain"); got != "https://APP.example.com" {
		t.Errorf("typed domain not kept: %q", got)
	}
	gone := a.postForm(a.settingsPath("domains/remove"), url.Values{"domain": {"https://never.example.com"}})
	wantNeonProblem(t, gone, http.StatusNotFound)
	if gone.byTestID("settings-tabs").Length() != 1 {
		t.Error("no-JS refusal is not the whole page")
	}
}

func TestSettingsLocalhost(t *testing.T) {
	a, rec := newSettingsApp(t)
	page := a.get(a.settingsPath("domains"))
	if !page.isChecked("localhost-allow_localhost") {
		t.Fatalf("localhost not shown allowed (the sandbox default):\n%.2000s", page.Body)
	}
	r := a.htmxPost(a.settingsPath("domains/localhost"), url.Values{})
	r.wantStatus(t, http.StatusOK)
	if r.isChecked("localhost-allow_localhost") || r.byTestID("localhost-saved").Length() != 1 {
		t.Errorf("answer:\n%s", r.Body)
	}
	if allow, err := a.Neon.GetAllowLocalhost(context.Background(), a.projectID, a.project.BranchID); err != nil || allow {
		t.Errorf("Neon allow_localhost = %v, %v; want false", allow, err)
	}
	rec.writes()

	rec.failNextWrite()
	failed := a.htmxPost(a.settingsPath("domains/localhost"), url.Values{"allow_localhost": {"on"}})
	wantNeonProblem(t, failed, http.StatusLocked)
	if !failed.isChecked("localhost-allow_localhost") {
		t.Error("the choice made is not kept after Neon refused it")
	}
	if allow, _ := a.Neon.GetAllowLocalhost(context.Background(), a.projectID, a.project.BranchID); allow {
		t.Error("Neon changed the setting although it refused")
	}
}
