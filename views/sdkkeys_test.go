package views

import (
	"strings"
	"testing"
)

func TestIntegrationCardOffersNewSDKKeys(t *testing.T) {
	panel := IntegrationsPanel{ProjectID: "p-1", Cards: []IntegrationCard{
		{ProjectID: "p-1", Provider: "stack", BranchID: "br-1", OwnedBy: "neon", CanTransfer: true, CanRenewKeys: true},
		{ProjectID: "p-1", Provider: "stack", BranchID: "br-1", OwnedBy: "neon", CanTransfer: false, CanRenewKeys: false},
	}}
	doc, _ := renderDoc(t, IntegrationsPanelView(panel))
	cards := byID(doc, "integration-card")
	if cards.Length() != 2 {
		t.Fatalf("cards = %d, want 2", cards.Length())
	}
	link := cards.Eq(0).Find(`footer [data-testid="sdk-keys-link"]`)
	if link.Length() != 1 {
		t.Fatal("admin's stack card has no new SDK keys link in its footer")
	}
	if got := link.AttrOr("href", ""); got != "/projects/p-1/integrations/stack/keys" {
		t.Errorf("link href = %q", got)
	}
	if got := strings.TrimSpace(link.Text()); got != "New SDK keys…" {
		t.Errorf("link text = %q", got)
	}
	// Next to the transfer link, in that order.
	if !link.Prev().Is(`[data-testid="transfer-link"]`) {
		t.Error("new SDK keys link does not follow the transfer link")
	}
	if cards.Eq(1).Find(`[data-testid="sdk-keys-link"]`).Length() != 0 {
		t.Error("card without CanRenewKeys offers new SDK keys")
	}
}

func TestSDKKeysPanel(t *testing.T) {
	card := &IntegrationCard{ProjectID: "p-1", Provider: "stack", AuthProviderProjectID: "apj-1", OwnedBy: "neon"}
	base := SDKKeysPage{ProjectID: "p-1", ProjectName: "demo", CSRFToken: "tok", CanWrite: true, Card: card}
	result := &EnableResult{ProjectID: "p-1", Provider: "stack", AuthProviderProjectID: "apj-1", PubClientKey: "pck_new",
		SecretServerKey: "ssk_new_secret", SchemaName: "neon_auth", TableName: "users_sync", Renewed: true}

	t.Run("admin confirm", func(t *testing.T) {
		doc, html := renderDoc(t, SDKKeysPanel(base))
		form := byID(doc, "sdk-keys-form")
		if form.Length() != 1 {
			t.Fatal("no form for an admin")
		}
		for attr, want := range map[string]string{
			"method": "post", "action": "/projects/p-1/integrations/stack/keys", "hx-post": "/projects/p-1/integrations/stack/keys",
			"hx-target": "#sdk-keys", "hx-swap": "outerHTML", "hx-disabled-elt": "find button[type='submit']",
		} {
			if got := form.AttrOr(attr, ""); got != want {
				t.Errorf("form %s = %q, want %q", attr, got, want)
			}
		}
		if form.Find(`input[type="checkbox"][name="understand"][value="yes"]`).Length() != 1 {
			t.Error("no confirmation checkbox")
		}
		if form.Find(`input[name="_csrf"]`).AttrOr("value", "") != "tok" {
			t.Error("form lacks the CSRF field")
		}
		text := byID(doc, "sdk-keys-confirm").Text()
		if !strings.Contains(text, "created alongside the keys you have") || !strings.Contains(text, "keeps working with its current keys") {
			t.Errorf("confirm text does not say the current keys keep working: %q", text)
		}
		for _, claim := range []string{"revoke", "invalidate", "stop working"} {
			if strings.Contains(strings.ToLower(html), claim) {
				t.Errorf("confirm step claims the old keys %s", claim)
			}
		}
		if got := byID(doc, "sdk-keys-auth-project").Text(); got != "apj-1" {
			t.Errorf("auth project = %q", got)
		}
	})

	t.Run("viewer", func(t *testing.T) {
		m := base
		m.CanWrite = false
		doc, _ := renderDoc(t, SDKKeysPanel(m))
		if byID(doc, "sdk-keys-form").Length() != 0 || byID(doc, "sdk-keys-needs-admin").Length() != 1 {
			t.Error("viewer is offered the form instead of the explanation")
		}
	})

	t.Run("unticked", func(t *testing.T) {
		m := base
		m.Err = "Tick the box."
		doc, _ := renderDoc(t, SDKKeysPanel(m))
		if got := byID(doc, "field-error-understand").Text(); got != "Tick the box." {
			t.Errorf("field error = %q", got)
		}
		if doc.Find(`input[name="understand"]`).AttrOr("aria-invalid", "") != "true" {
			t.Error("checkbox not marked invalid")
		}
	})

	t.Run("keys", func(t *testing.T) {
		m := base
		m.Result = result
		doc, html := renderDoc(t, SDKKeysPanel(m))
		if byID(doc, "sdk-keys-form").Length() != 0 {
			t.Error("the form is offered again next to the new keys")
		}
		panel := byID(doc, "enable-result")
		if got := strings.Join(strings.Fields(panel.Find("header").Text()), " "); got != "new keys New SDK keys for Stack Auth" {
			t.Errorf("result header = %q", got)
		}
		if n := strings.Count(html, result.SecretServerKey); n != 1 {
			t.Errorf("secret appears %d times, want once", n)
		}
		if byID(doc, "secret-key").Text() != SecretMask || byID(doc, "once-note").Length() != 1 || byID(doc, "env-block").Length() != 1 {
			t.Error("keys panel lacks the masked secret, the once note or the .env block")
		}
		if !strings.Contains(byID(doc, "sdk-keys-swap-note").Text(), "keeps working with its current keys") {
			t.Errorf("swap note = %q", byID(doc, "sdk-keys-swap-note").Text())
		}
	})
}
