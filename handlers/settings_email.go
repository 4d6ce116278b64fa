package handlers

import (
	"context"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonauth"
	"github.com/neonauth-admin/dashboard/views"
)

// emailPage is the Email page as Neon has it.
func (h *Handler) emailPage(c echo.Context, bs *neonauth.BranchSettings) views.EmailPage {
	f := settingsFrame(c, bs, neonauth.GroupEmail)
	card := views.EmailServerCard{Frame: f, Load: h.loadProblem(bs.EmailServer.Err, "the email server")}
	if e := bs.EmailServer.Value; e != nil {
		card.Form = neonauth.EmailServerFormFrom(e)
		card.PasswordSet = neonauth.HoldsPassword(e)
	}
	return views.EmailPage{Frame: f, Server: card}
}

// answerEmail renders the email server card (htmx) or the page.
func (h *Handler) answerEmail(c echo.Context, status int, bs *neonauth.BranchSettings, m views.EmailPage) error {
	return h.settingsAnswer(c, status, bs, neonauth.GroupEmail, views.EmailServerCardView(m.Server),
		func(ch views.Chrome) templ.Component { return views.SettingsEmailView(ch, m) })
}

// readEmailServerForm reads the email server form as posted; the password
// is wrapped at once.
func readEmailServerForm(c echo.Context) neonauth.EmailServerForm {
	return neonauth.EmailServerForm{
		Type:        c.FormValue("type"),
		Host:        strings.TrimSpace(c.FormValue("host")),
		Port:        strings.TrimSpace(c.FormValue("port")),
		Username:    c.FormValue("username"),
		Password:    neonauth.NewSecret(c.FormValue("password")),
		SenderEmail: strings.TrimSpace(c.FormValue("sender_email")),
		SenderName:  strings.TrimSpace(c.FormValue("sender_name")),
	}
}

// typedEmailServer are the form's values checked for characters that cannot
// be stored; the password is checked too, and never kept.
func typedEmailServer(f neonauth.EmailServerForm) map[string]string {
	return map[string]string{
		"type": f.Type, "host": f.Host, "port": f.Port, "username": f.Username,
		"password": f.Password.Reveal(), "sender_email": f.SenderEmail, "sender_name": f.SenderName,
	}
}

// keptEmailServer is the form as shown back: what was typed, never the
// password.
func keptEmailServer(f neonauth.EmailServerForm) neonauth.EmailServerForm {
	return neonauth.EmailServerForm{
		Type: shown(f.Type), Host: shown(f.Host), Port: shown(f.Port), Username: shown(f.Username),
		SenderEmail: shown(f.SenderEmail), SenderName: shown(f.SenderName),
	}
}

// updateEmailServer switches the branch's auth emails to the server picked.
func (h *Handler) updateEmailServer(c echo.Context) error {
	form := readEmailServerForm(c)
	recipient := strings.TrimSpace(c.FormValue("recipient_email"))
	return h.runSettingsPost(c, settingsPost{
		group:   neonauth.GroupEmail,
		refused: "Neon did not save the email server",
		typed:   typedEmailServer(form),
		apply: func(ctx context.Context, bs *neonauth.BranchSettings) (string, error) {
			return "Email server saved.", h.AuthSettings.UpdateEmailServer(ctx, bs, form)
		},
		render: func(c echo.Context, bs *neonauth.BranchSettings, st views.FormState, status int, fresh bool) error {
			m := h.emailPage(c, bs)
			if !fresh {
				m.Server.Form = keptEmailServer(form)
				m.Server.Recipient = shown(recipient)
				m.Server.PasswordDropped = form.Password.IsSet()
			}
			m.Server.State = st
			return h.answerEmail(c, status, bs, m)
		},
	})
}

// sendTestEmail has Neon send a test message through the SMTP settings
// typed, saved or not, and shows the outcome in the form. Nothing changes
// in Neon, so the answer is the form itself, with or without JavaScript;
// the password is not shown back, as everywhere.
func (h *Handler) sendTestEmail(c echo.Context) error {
	form := neonauth.TestEmailForm{Server: readEmailServerForm(c), Recipient: strings.TrimSpace(c.FormValue("recipient_email"))}
	bs, err := h.loadSettings(c, neonauth.GroupEmail)
	if err != nil {
		return err
	}
	if bs.NotBranchAuth != nil {
		return h.settingsUnavailable(c, bs, neonauth.GroupEmail)
	}
	m := h.emailPage(c, bs)
	m.Server.Form, m.Server.Recipient = keptEmailServer(form.Server), shown(form.Recipient)
	m.Server.PasswordDropped = form.Server.Password.IsSet()
	typed := typedEmailServer(form.Server)
	typed["recipient_email"] = form.Recipient
	if errs := unstorableFields(typed); len(errs) > 0 {
		m.Server.State = views.FormState{Errors: errs}
		return h.answerEmail(c, http.StatusBadRequest, bs, m)
	}
	res, err := h.AuthSettings.SendTestEmail(c.Request().Context(), bs, form)
	if err != nil {
		defer keepAnswering(c)()
		setNeonRetryAfter(c, err)
		st, status := h.changeState(err, "Neon did not send the test email")
		m.Server.State = st
		return h.answerEmail(c, status, bs, m)
	}
	m.Server.Test = &views.TestEmailOutcome{Sent: res.Success, Recipient: form.Recipient, Message: res.ErrorMessage}
	return h.answerEmail(c, http.StatusOK, bs, m)
}
