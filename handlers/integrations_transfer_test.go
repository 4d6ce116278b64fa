package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestTransferOwnership(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableStack()
	path := "/projects/" + a.projectID + "/integrations/stack/transfer"

	page := a.get("/projects/" + a.projectID)
	if href, _ := page.byTestID("transfer-link").Attr("href"); href != path {
		t.Fatalf("transfer link = %q, want %q", href, path)
	}
	confirm := a.get(path)
	confirm.wantStatus(t, http.StatusOK)
	if confirm.byTestID("transfer-form").Find(`input[name="understand"]`).Length() != 1 {
		t.Fatal("confirm page has no confirmation checkbox")
	}

	unconfirmed := a.postForm(path, url.Values{})
	unconfirmed.wantStatus(t, http.StatusUnprocessableEntity)
	if unconfirmed.text("field-error-understand") == "" {
		t.Error("unticked box: no message next to it")
	}
	if unconfirmed.byTestID("transfer-url").Length() != 0 {
		t.Error("transfer started without confirmation")
	}

	r := a.postForm(path, url.Values{"understand": {"yes"}})
	r.wantStatus(t, http.StatusOK)
	link := r.byTestID("transfer-url")
	href, _ := link.Attr("href")
	if !strings.HasPrefix(href, a.NeonSrv.URL+"/_sandbox/transfer/confirm?code=") {
		t.Errorf("transfer URL = %q", href)
	}
	if target, _ := link.Attr("target"); target != "_blank" {
		t.Errorf("target = %q, want _blank", target)
	}
	if rel, _ := link.Attr("rel"); rel != "noopener noreferrer" {
		t.Errorf("rel = %q, want noopener noreferrer", rel)
	}
	if !strings.Contains(r.text("transfer-panel"), "until you confirm there, the integration stays Neon-owned") {
		t.Errorf("transfer panel text = %q", r.text("transfer-panel"))
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}
	if got := r.text("transfer-status"); got != "transfer initiated" {
		t.Errorf("card transfer status = %q, want transfer initiated", got)
	}

	// The status stays visible after the one-off panel is gone.
	again := a.get("/projects/" + a.projectID)
	if got := again.text("transfer-status"); got != "transfer initiated" {
		t.Errorf("page transfer status = %q", got)
	}
	if again.byTestID("transfer-url").Length() != 0 {
		t.Error("the claim URL is shown again on a later page")
	}
	list := a.get("/projects")
	if !strings.Contains(list.text("auth-badge"), "transfer initiated") {
		t.Errorf("projects list badge = %q, want transfer initiated", list.text("auth-badge"))
	}
}

func TestTransferWithoutStackIsNotFound(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	r := a.get("/projects/" + a.projectID + "/integrations/stack/transfer")
	r.wantStatus(t, http.StatusNotFound)
	if !strings.Contains(r.text("api-error"), "no Stack Auth integration") {
		t.Errorf("message = %q", r.text("api-error"))
	}
}
