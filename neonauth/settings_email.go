package neonauth

import (
	"context"
	"strconv"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// EmailServerForm picks the server that sends the branch's auth emails
// (NeonAuthEmailServerConfig): Neon's shared one, which takes only an
// optional sender, or the branch's own SMTP server, which takes every field.
// Password is write-only: a form never shows it back, and left empty it
// keeps the password Neon holds for the branch's own server.
type EmailServerForm struct {
	Type        string
	Host        string
	Port        string
	Username    string
	Password    neonapi.Secret
	SenderEmail string
	SenderName  string
}

// EmailServerFormFrom is the form showing Neon's configuration.
func EmailServerFormFrom(e *neonapi.EmailServer) EmailServerForm {
	f := EmailServerForm{Type: string(e.Type), Host: e.Host, Username: e.Username, SenderEmail: e.SenderEmail, SenderName: e.SenderName}
	if e.Port != 0 {
		f.Port = strconv.Itoa(e.Port)
	}
	return f
}

// HoldsPassword reports whether Neon holds an SMTP password for the server:
// the branch's own server needs one; Neon's shared server has none.
func HoldsPassword(e *neonapi.EmailServer) bool {
	return e != nil && e.Type == neonapi.EmailServerStandard
}

// smtp checks the fields of the branch's own server, into errs, and returns
// the port. needPassword refuses an empty password.
func (f EmailServerForm) smtp(errs FieldErrors, needPassword bool) int {
	hostField(errs, "host", f.Host)
	port := intField(errs, "port", f.Port, 1, 65535)
	textField(errs, "username", f.Username, true, maxFieldLen)
	if needPassword && !f.Password.IsSet() {
		errs.add("password", "Enter the SMTP password.")
	}
	emailField(errs, "sender_email", f.SenderEmail, true)
	textField(errs, "sender_name", f.SenderName, true, 256)
	return port
}

// request checks the form and returns what to send. current is the server
// Neon has now: its password is kept when the form leaves it empty, which
// only the branch's own server can do.
func (f EmailServerForm) request(current *neonapi.EmailServer) (neonapi.EmailServer, FieldErrors) {
	errs := FieldErrors{}
	out := neonapi.EmailServer{Type: neonapi.EmailServerType(f.Type), SenderEmail: f.SenderEmail, SenderName: f.SenderName}
	switch out.Type {
	case neonapi.EmailServerStandard:
		out.Port = f.smtp(errs, !HoldsPassword(current))
		out.Host, out.Username, out.Password = f.Host, f.Username, f.Password
	case neonapi.EmailServerShared:
		// The server fields stay on the page without JavaScript; the
		// choice of Neon's server is what counts.
		emailField(errs, "sender_email", f.SenderEmail, false)
		textField(errs, "sender_name", f.SenderName, false, 256)
	default:
		errs.add("type", "Pick Neon's shared server or your own SMTP server.")
	}
	return out, errs
}

// UpdateEmailServer switches the branch's auth emails to the server the form
// describes (updateNeonAuthEmailProvider). The current server, which must
// have loaded, decides whether the password may be left empty.
func (s *SettingsService) UpdateEmailServer(ctx context.Context, bs *BranchSettings, f EmailServerForm) error {
	if err := usable(bs); err != nil {
		return err
	}
	if bs.EmailServer.Err != nil {
		return bs.EmailServer.Err
	}
	req, errs := f.request(bs.EmailServer.Value)
	return change(bs, errs, "the email server was saved", func() error {
		_, err := s.neon.UpdateEmailProvider(ctx, bs.ProjectID, bs.BranchID, req)
		return err
	})
}

// TestEmailForm sends a test message through SMTP settings: the email
// server form's, whichever server type it picks, and a recipient. Neon
// never gives a stored password back, so the test needs it typed.
type TestEmailForm struct {
	Server    EmailServerForm
	Recipient string
}

// SendTestEmail has Neon send a test message through the form's SMTP server
// (sendNeonAuthTestEmail). A server that refuses is an answer, not an error:
// the result says so.
func (s *SettingsService) SendTestEmail(ctx context.Context, bs *BranchSettings, f TestEmailForm) (*neonapi.SendTestEmailResult, error) {
	errs := FieldErrors{}
	port := f.Server.smtp(errs, true)
	emailField(errs, "recipient_email", f.Recipient, true)
	var res *neonapi.SendTestEmailResult
	err := change(bs, errs, "the test email was sent", func() error {
		var err error
		res, err = s.neon.SendTestEmail(ctx, bs.ProjectID, bs.BranchID, neonapi.SendTestEmailRequest{
			Host: f.Server.Host, Port: port, Username: f.Server.Username, Password: f.Server.Password,
			SenderEmail: f.Server.SenderEmail, SenderName: f.Server.SenderName, RecipientEmail: f.Recipient,
		})
		return err
	})
	return res, err
}
