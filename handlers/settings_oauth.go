package handlers

import (
	"context"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// oauthCard is the OAuth providers card as Neon has it: one row per
// configured provider, and the providers still to add.
func oauthCard(f views.SettingsFrame, bs *neonauth.BranchSettings, load *views.Problem) views.OAuthCard {
	card := views.OAuthCard{Frame: f, Load: load, Add: neonauth.OAuthProviderForm{Credentials: neonauth.OAuthSharedCredentials}}
	for _, p := range bs.OAuthProviders.Value {
		own := neonauth.UsesOwnCredentials(p)
		card.Providers = append(card.Providers, views.OAuthRow{
			ID:          string(p.ID),
			Name:        neonauth.OAuthProviderName(p.ID),
			Own:         own,
			ClientID:    p.ClientID,
			SecretSet:   own,
			TakesTenant: neonauth.TakesTenant(p.ID),
			Form:        neonauth.OAuthProviderForm{ID: string(p.ID), ClientID: p.ClientID},
		})
	}
	for _, id := range neonauth.OAuthProviderIDs {
		if bs.ConfiguredOAuthProvider(string(id)) == nil {
			card.Available = append(card.Available, views.Option{Value: string(id), Label: neonauth.OAuthProviderName(id)})
		}
	}
	return card
}

// readOAuthForm reads a provider form as posted; the secret is wrapped at
// once so it cannot reach a page, a log line or an error.
func readOAuthForm(c echo.Context, id string) neonauth.OAuthProviderForm {
	return neonauth.OAuthProviderForm{
		ID:                id,
		Credentials:       c.FormValue("credentials"),
		ClientID:          strings.TrimSpace(c.FormValue("client_id")),
		ClientSecret:      neonauth.NewSecret(c.FormValue("client_secret")),
		MicrosoftTenantID: strings.TrimSpace(c.FormValue("microsoft_tenant_id")),
	}
}

// typedOAuth are a provider form's values checked for characters that cannot
// be stored; the secret is checked too, and never kept.
func typedOAuth(f neonauth.OAuthProviderForm) map[string]string {
	return map[string]string{
		"provider": f.ID, "credentials": f.Credentials, "client_id": f.ClientID,
		"client_secret": f.ClientSecret.Reveal(), "microsoft_tenant_id": f.MicrosoftTenantID,
	}
}

// kept is a provider form as shown back: what was typed, never the secret.
func kept(f neonauth.OAuthProviderForm) neonauth.OAuthProviderForm {
	return neonauth.OAuthProviderForm{
		ID: shown(f.ID), Credentials: shown(f.Credentials),
		ClientID: shown(f.ClientID), MicrosoftTenantID: shown(f.MicrosoftTenantID),
	}
}

// answerOAuth renders the OAuth card (htmx) or the Sign-in page.
func (h *Handler) answerOAuth(c echo.Context, status int, bs *neonauth.BranchSettings, m views.SignInPage) error {
	return h.answerSignIn(c, status, bs, m, views.OAuthCardView(m.OAuth))
}

// addOAuthProvider configures a social provider.
func (h *Handler) addOAuthProvider(c echo.Context) error {
	form := readOAuthForm(c, c.FormValue("provider"))
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupSignIn,
		refused: "Neon did not add the provider",
		typed:   typedOAuth(form),
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			name := neonauth.OAuthProviderName(neonauth.OAuthProviderID(form.ID))
			return name + " sign-in added.", h.AuthSettings.AddOAuthProvider(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.signInPage(c, bs)
			if !fresh {
				m.OAuth.Add = kept(form)
				m.OAuth.AddState = st
				m.OAuth.AddSecretDropped = form.ClientSecret.IsSet()
			} else {
				m.OAuth.State = st
			}
			return h.answerOAuth(c, status, bs, m)
		},
	})
}

// updateOAuthProvider changes a configured provider's own credentials.
func (h *Handler) updateOAuthProvider(c echo.Context) error {
	form := readOAuthForm(c, c.Param("provider"))
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupSignIn,
		refused: "Neon did not change the provider",
		typed:   typedOAuth(form),
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			name := neonauth.OAuthProviderName(neonauth.OAuthProviderID(form.ID))
			return name + " credentials saved.", h.AuthSettings.UpdateOAuthProvider(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.signInPage(c, bs)
			if !placeOAuthState(&m.OAuth, form, st, fresh) {
				m.OAuth.State = st
			}
			return h.answerOAuth(c, status, bs, m)
		},
	})
}

// placeOAuthState puts a provider form's state (and, unless fresh, what was
// typed) into its row, reporting whether the provider has one.
func placeOAuthState(card *views.OAuthCard, form neonauth.OAuthProviderForm, st views.FormState, fresh bool) bool {
	for i := range card.Providers {
		row := &card.Providers[i]
		if row.ID != form.ID {
			continue
		}
		if !fresh {
			row.Form = kept(form)
			row.SecretDropped = form.ClientSecret.IsSet()
		}
		row.State = st
		return true
	}
	return false
}

// removeOAuthProvider stops offering a social provider.
func (h *Handler) removeOAuthProvider(c echo.Context) error {
	id := c.Param("provider")
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupSignIn,
		refused: "Neon did not remove the provider",
		typed:   map[string]string{"provider": id},
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			name := neonauth.OAuthProviderName(neonauth.OAuthProviderID(id))
			return name + " sign-in removed.", h.AuthSettings.RemoveOAuthProvider(ctx, bs, id)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.signInPage(c, bs)
			if fresh || !placeOAuthState(&m.OAuth, neonauth.OAuthProviderForm{ID: id}, st, true) {
				m.OAuth.State = st
			}
			return h.answerOAuth(c, status, bs, m)
		},
	})
}
