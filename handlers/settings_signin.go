package handlers

import (
	"context"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// signInPage is the Sign-in page as Neon has it.
func (h *Handler) signInPage(c echo.Context, bs *neonauth.BranchSettings) views.SignInPage {
	f := settingsFrame(c, bs, neonauth.GroupSignIn)
	m := views.SignInPage{
		Frame:         f,
		EmailPassword: views.EmailPasswordCard{Frame: f, Load: h.loadProblem(bs.EmailAndPassword.Err, "the email and password settings")},
		OAuth:         oauthCard(f, bs, h.loadProblem(bs.OAuthProviders.Err, "the OAuth providers")),
	}
	if ep := bs.EmailAndPassword.Value; ep != nil {
		m.EmailPassword.Form = neonauth.EmailAndPasswordFormFrom(ep)
	}
	return m
}

// answerSignIn renders one sign-in card (htmx) or the page.
func (h *Handler) answerSignIn(c echo.Context, status int, bs *neonauth.BranchSettings, m views.SignInPage, card templ.Component) error {
	return h.settingsAnswer(c, status, bs, neonauth.GroupSignIn, card,
		func(ch views.Chrome) templ.Component { return views.SettingsSignInView(ch, m) })
}

// readEmailAndPasswordForm reads the email and password form as posted.
func readEmailAndPasswordForm(c echo.Context) neonauth.EmailAndPasswordForm {
	return neonauth.EmailAndPasswordForm{
		Enabled:                     checked(c, "enabled"),
		VerificationMethod:          c.FormValue("email_verification_method"),
		RequireEmailVerification:    checked(c, "require_email_verification"),
		AutoSignInAfterVerification: checked(c, "auto_sign_in_after_verification"),
		SendVerificationOnSignUp:    checked(c, "send_verification_email_on_sign_up"),
		SendVerificationOnSignIn:    checked(c, "send_verification_email_on_sign_in"),
		AllowSignUp:                 checked(c, "allow_sign_up"),
	}
}

// updateEmailAndPassword saves every email and password setting.
func (h *Handler) updateEmailAndPassword(c echo.Context) error {
	form := readEmailAndPasswordForm(c)
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupSignIn,
		refused: "Neon did not save the email and password settings",
		typed:   map[string]string{"email_verification_method": form.VerificationMethod},
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			return "Email and password settings saved.", h.AuthSettings.UpdateEmailAndPassword(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.signInPage(c, bs)
			if !fresh {
				m.EmailPassword.Form = form
				m.EmailPassword.Form.VerificationMethod = shown(form.VerificationMethod)
			}
			m.EmailPassword.State = st
			return h.answerSignIn(c, status, bs, m, views.EmailPasswordCardView(m.EmailPassword))
		},
	})
}
