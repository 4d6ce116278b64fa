package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/neonapi"
	"github.com/neonauth-admin/dashboard/neonapi/sandbox"
)

// createBranch makes a branch of the seeded project through the API.
func (a *testApp) createBranch(name string) string {
	a.t.Helper()
	b, err := a.Neon.CreateBranch(context.Background(), a.projectID, neonapi.CreateBranchRequest{Name: name})
	if err != nil {
		a.t.Fatalf("create branch %s: %v", name, err)
	}
	return b.Branch.ID
}

func (a *testApp) compareURL(q url.Values) string {
	u := "/projects/" + a.projectID + "/auth/compare"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// compareRow is one row of the table: its cells and its marking.
type compareRow struct{ a, b, mark, differs string }

func compareRows(r *testResponse) map[string]compareRow {
	out := map[string]compareRow{}
	r.byTestID("compare-table").Find("tr[data-testid]").Each(func(_ int, tr *goquery.Selection) {
		id, _ := tr.Attr("data-testid")
		d, _ := tr.Attr("data-differs")
		cell := func(name string) string { return strings.TrimSpace(tr.Find(`[data-testid="` + name + `"]`).Text()) }
		out[strings.TrimPrefix(id, "compare-row-")] = compareRow{cell("compare-a"), cell("compare-b"), cell("compare-mark"), d}
	})
	return out
}

func TestComparePage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
	a.enableBetterAuth()
	main := a.project.BranchID
	preview := a.createBranch("preview")

	// Without a choice: the default branch against the first other one, a
	// fresh copy of it.
	r := a.get(a.compareURL(nil))
	r.wantStatus(t, http.StatusOK)
	if v, _ := r.byTestID("compare-select-a").Find("option[selected]").Attr("value"); v != main {
		t.Errorf("first branch picked = %q, want the default %q", v, main)
	}
	if v, _ := r.byTestID("compare-select-b").Find("option").First().Attr("value"); v != main {
		t.Errorf("first choice = %q, want the default branch listed first", v)
	}
	if v, _ := r.byTestID("compare-select-b").Find("option[selected]").Attr("value"); v != preview {
		t.Errorf("second branch picked = %q, want %q", v, preview)
	}
	if !strings.Contains(r.text("compare-differences"), "the same") {
		t.Errorf("differences = %q, want none", r.text("compare-differences"))
	}
	rows := compareRows(r)
	if len(rows) < 20 || rows["allow-localhost"].differs != "false" || rows["allow-localhost"].mark != "same" {
		t.Errorf("%d rows; allow-localhost = %+v", len(rows), rows["allow-localhost"])
	}
	if r.byTestID("compare-head-a").Find(`[data-testid="readiness-badge"]`).Length() != 1 {
		t.Error("no readiness badge over the first branch")
	}

	const clientSecret, smtpPassword = "client-secret-5eb63bbbe0", "smtp-password-7f6ffaa6bb"
	ctx := context.Background()
	if _, err := a.Neon.UpdateOAuthProvider(ctx, a.projectID, preview, neonapi.OAuthGoogle, neonapi.UpdateOAuthProviderRequest{
		ClientID: "preview-client", ClientSecret: neonapi.NewSecret(clientSecret),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Neon.UpdateEmailProvider(ctx, a.projectID, preview, neonapi.EmailServer{Type: neonapi.EmailServerStandard,
		Host: "smtp.example.com", Port: 465, Username: "mailer", Password: neonapi.NewSecret(smtpPassword),
		SenderEmail: "auth@example.com", SenderName: "Example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Neon.UpdateAllowLocalhost(ctx, a.projectID, main, false); err != nil {
		t.Fatal(err)
	}

	r = a.get(a.compareURL(url.Values{"a": {main}, "b": {preview}}))
	r.wantStatus(t, http.StatusOK)
	rows = compareRows(r)
	for key, want := range map[string]compareRow{
		"allow-localhost":            {"not allowed", "allowed", "differs", "true"},
		"oauth-google":               {"Neon's shared credentials", "own credentials", "differs", "true"},
		"oauth-google-client-secret": {"not set", "set", "differs", "true"},
		"smtp-password":              {"not set", "set", "differs", "true"},
		"smtp-host":                  {"not set", "set", "differs", "true"},
		"database":                   {a.project.DatabaseName, a.project.DatabaseName, "same", "false"},
	} {
		if got := rows[key]; got != want {
			t.Errorf("row %s = %+v, want %+v", key, got, want)
		}
	}
	if !strings.Contains(r.text("compare-differences"), "settings differ") {
		t.Errorf("differences = %q", r.text("compare-differences"))
	}
	for _, secret := range []string{clientSecret, smtpPassword, "smtp.example.com", "mailer"} {
		if strings.Contains(r.Body, secret) {
			t.Errorf("the page shows %q", secret)
		}
	}
}

func TestComparePageEdgeCases(t *testing.T) {
	t.Parallel()
	t.Run("a branch without Neon Auth", func(t *testing.T) {
		a := newTestApp(t)
		bare := a.createBranch("before-auth")
		a.enableBetterAuth()
		r := a.get(a.compareURL(url.Values{"b": {bare}}))
		r.wantStatus(t, http.StatusOK)
		if !strings.Contains(r.byTestID("compare-head-b").Text(), "Neon Auth not enabled") {
			t.Errorf("second column head = %q", r.byTestID("compare-head-b").Text())
		}
		if got := compareRows(r)["allow-localhost"]; got.b != "—" || got.mark != "differs" {
			t.Errorf("allow-localhost = %+v", got)
		}
	})
	t.Run("one branch", func(t *testing.T) {
		a := newTestApp(t)
		r := a.get(a.compareURL(nil))
		r.wantStatus(t, http.StatusOK)
		if r.byTestID("compare-one-branch").Length() != 1 || r.byTestID("compare-table").Length() != 0 {
			t.Error("a one-branch project does not say there is nothing to compare")
		}
	})
	t.Run("malformed branch id", func(t *testing.T) {
		a := newTestApp(t)
		r := a.get(a.compareURL(url.Values{"a": {"../x"}}))
		r.wantStatus(t, http.StatusNotFound)
	})
	t.Run("Neon error", func(t *testing.T) {
		a := newTestApp(t)
		a.enableBetterAuth()
		a.createBranch("preview")
		a.Sandbox.InjectFault(sandbox.Fault{Kind: sandbox.FaultUnavailable, Count: 10, PathContains: "/auth/webhooks"})
		r := a.get(a.compareURL(nil))
		r.wantStatus(t, http.StatusBadGateway)
		if r.byTestID("error-page").Length() != 1 || r.text("request-id") == "" {
			t.Errorf("no error page with Neon's request id: %q", r.text("api-error"))
		}
	})
	t.Run("nobody", func(t *testing.T) {
		a := newTestApp(t, withIdentity(Identity{User: "eve", Email: "eve@example.com"}))
		r := a.get(a.compareURL(nil))
		r.wantStatus(t, http.StatusForbidden)
	})
}
