package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNewSDKKeys(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withCache(time.Minute))
	first := a.enableStack()
	path := "/projects/" + a.projectID + "/integrations/stack/keys"

	page := a.get("/projects/" + a.projectID)
	page.wantStatus(t, http.StatusOK)
	card := page.Doc.Find(`[data-testid="integration-card"][data-provider="stack"]`)
	if href, _ := card.Find(`[data-testid="sdk-keys-link"]`).Attr("href"); href != path {
		t.Fatalf("new SDK keys link = %q, want %q", href, path)
	}

	confirm := a.get(path)
	confirm.wantStatus(t, http.StatusOK)
	if confirm.byTestID("sdk-keys-form").Find(`input[name="understand"]`).Length() != 1 {
		t.Fatal("confirm page has no confirmation checkbox")
	}
	if !strings.Contains(confirm.text("sdk-keys-confirm"), "created alongside") {
		t.Errorf("confirm text = %q", confirm.text("sdk-keys-confirm"))
	}
	if got := confirm.text("sdk-keys-auth-project"); got != first.AuthProviderProjectID {
		t.Errorf("auth project = %q, want %q", got, first.AuthProviderProjectID)
	}

	cases := []struct {
		name string
		htmx bool
	}{{"htmx", true}, {"without JavaScript", false}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			unconfirmed := a.post(path, url.Values{}, tc.htmx)
			unconfirmed.wantStatus(t, http.StatusUnprocessableEntity)
			if unconfirmed.text("field-error-understand") == "" {
				t.Error("unticked box: no message next to it")
			}
			if unconfirmed.byTestID("secret-key").Length() != 0 {
				t.Error("keys issued without confirmation")
			}

			r := a.post(path, url.Values{"understand": {"yes"}}, tc.htmx)
			want := http.StatusOK
			if tc.htmx {
				want = http.StatusCreated
			}
			r.wantStatus(t, want)
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if loc := r.Header.Get("Location"); loc != "" {
				t.Errorf("keys answered with a redirect to %q", loc)
			}
			// htmx gets the panel it swaps, a browser the whole page.
			if full := r.Doc.Find(`meta[name="csrf-token"]`).Length() == 1; full == tc.htmx {
				t.Errorf("full page = %t for htmx = %t", full, tc.htmx)
			}
			secret, _ := r.byTestID("secret-key").Attr("data-secret")
			if !strings.HasPrefix(secret, "ssk_") || secret == first.SecretServerKey {
				t.Fatalf("secret = %q, want a new ssk_ key (enabling gave another)", secret)
			}
			if n := strings.Count(r.Body, secret); n != 1 {
				t.Errorf("the secret appears %d times in the response, want exactly once", n)
			}
			if got := r.text("secret-key"); got == secret || !strings.Contains(got, "•") {
				t.Errorf("secret is shown unmasked: %q", got)
			}
			if got := r.text("auth-provider-project-id"); got != first.AuthProviderProjectID {
				t.Errorf("auth project = %q, want %q", got, first.AuthProviderProjectID)
			}
			pub := r.text("pub-client-key")
			wantEnv := "NEXT_PUBLIC_STACK_PROJECT_ID=" + first.AuthProviderProjectID + "\n" +
				"NEXT_PUBLIC_STACK_PUBLISHABLE_CLIENT_KEY=" + pub + "\n" +
				"STACK_SECRET_SERVER_KEY=••••••••••••••••"
			if got := r.text("env-block"); got != wantEnv {
				t.Errorf("env block =\n%s\nwant\n%s", got, wantEnv)
			}
			if !strings.Contains(r.text("once-note"), "shown once; it is not stored") {
				t.Errorf("once note = %q", r.text("once-note"))
			}
			if r.byTestID("sdk-keys-form").Length() != 0 {
				t.Error("the form is offered again next to the new keys")
			}

			// The keys never show again.
			for _, p := range []string{path, "/projects/" + a.projectID} {
				if later := a.get(p); strings.Contains(later.Body, secret) {
					t.Errorf("%s shows the secret after the issuing response", p)
				}
			}
		})
	}
}

func TestNewSDKKeysWithoutStack(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	path := "/projects/" + a.projectID + "/integrations/stack/keys"

	confirm := a.get(path)
	confirm.wantStatus(t, http.StatusNotFound)
	if !strings.Contains(confirm.text("api-error"), "no Stack Auth integration") {
		t.Errorf("message = %q", confirm.text("api-error"))
	}

	// Neon decides: its 404 is shown in place with its request id.
	for _, htmx := range []bool{true, false} {
		r := a.post(path, url.Values{"understand": {"yes"}}, htmx)
		r.wantStatus(t, http.StatusNotFound)
		if !strings.Contains(r.text("api-error"), "Neon did not issue new keys") {
			t.Errorf("htmx=%t: problem = %q", htmx, r.text("api-error"))
		}
		if r.text("request-id") == "" {
			t.Errorf("htmx=%t: Neon's 404 shows no request id", htmx)
		}
		if r.byTestID("sdk-keys-form").Length() != 1 || r.byTestID("secret-key").Length() != 0 {
			t.Errorf("htmx=%t: want the form again, without keys", htmx)
		}
	}
}

func TestNewSDKKeysViewer(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withIdentity(Identity{User: "vic", Email: "vic@example.com", Role: RoleViewer}))
	a.enableStack()
	path := "/projects/" + a.projectID + "/integrations/stack/keys"

	page := a.get("/projects/" + a.projectID)
	page.wantStatus(t, http.StatusOK)
	if page.Doc.Find(`[data-testid="integration-card"]`).Length() != 1 {
		t.Fatal("viewer does not see the integration")
	}
	if page.byTestID("sdk-keys-link").Length() != 0 {
		t.Error("viewer is offered new SDK keys")
	}
	confirm := a.get(path)
	confirm.wantStatus(t, http.StatusOK)
	if confirm.byTestID("sdk-keys-form").Length() != 0 || confirm.byTestID("sdk-keys-needs-admin").Length() != 1 {
		t.Error("viewer's keys page offers the form")
	}
	r := a.postForm(path, url.Values{"understand": {"yes"}})
	r.wantStatus(t, http.StatusForbidden)
	if r.byTestID("secret-key").Length() != 0 {
		t.Error("viewer got keys")
	}
}
