package sandbox

import (
	"net"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// emailAndPasswordJSON is the spec's NeonAuthEmailAndPasswordConfig.
type emailAndPasswordJSON struct {
	Enabled                       bool   `json:"enabled"`
	EmailVerificationMethod       string `json:"email_verification_method"`
	RequireEmailVerification      bool   `json:"require_email_verification"`
	AutoSignInAfterVerification   bool   `json:"auto_sign_in_after_verification"`
	SendVerificationEmailOnSignUp bool   `json:"send_verification_email_on_sign_up"`
	SendVerificationEmailOnSignIn bool   `json:"send_verification_email_on_sign_in"`
	DisableSignUp                 bool   `json:"disable_sign_up"`
}

// emailAndPasswordUpdate is NeonAuthEmailAndPasswordConfigUpdate.
type emailAndPasswordUpdate struct {
	Enabled                       *bool   `json:"enabled"`
	EmailVerificationMethod       *string `json:"email_verification_method"`
	RequireEmailVerification      *bool   `json:"require_email_verification"`
	AutoSignInAfterVerification   *bool   `json:"auto_sign_in_after_verification"`
	SendVerificationEmailOnSignUp *bool   `json:"send_verification_email_on_sign_up"`
	SendVerificationEmailOnSignIn *bool   `json:"send_verification_email_on_sign_in"`
	DisableSignUp                 *bool   `json:"disable_sign_up"`
}

// set copies a field of a partial update that was sent.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (s *Sandbox) getEmailAndPassword(w http.ResponseWriter, r *http.Request) error {
	return s.readAuth(w, r, "email and password settings", func(in *integration) any { return in.settings.emailAndPassword })
}

func (s *Sandbox) updateEmailAndPassword(w http.ResponseWriter, r *http.Request) error {
	var req emailAndPasswordUpdate
	return s.writeAuth(w, r, "email and password settings", http.StatusOK, &req, func(in *integration) (any, error) {
		next := in.settings.emailAndPassword
		set(&next.Enabled, req.Enabled)
		set(&next.EmailVerificationMethod, req.EmailVerificationMethod)
		set(&next.RequireEmailVerification, req.RequireEmailVerification)
		set(&next.AutoSignInAfterVerification, req.AutoSignInAfterVerification)
		set(&next.SendVerificationEmailOnSignUp, req.SendVerificationEmailOnSignUp)
		set(&next.SendVerificationEmailOnSignIn, req.SendVerificationEmailOnSignIn)
		set(&next.DisableSignUp, req.DisableSignUp)
		switch next.EmailVerificationMethod {
		case "otp":
		case "link":
			// Neon's shared server sends codes only.
			if in.settings.emailServer.shared {
				return nil, badRequest("verification links need the branch's own email server; configure one first")
			}
		default:
			return nil, badRequest("email_verification_method must be link or otp")
		}
		in.settings.emailAndPassword = next
		return next, nil
	})
}

// standardEmailServerJSON is the spec's StandardEmailServer with its
// discriminator. The password is write-only: the spec requires the field, so
// it is always answered empty.
type standardEmailServerJSON struct {
	Type        string `json:"type"`
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	SenderEmail string `json:"sender_email"`
	SenderName  string `json:"sender_name"`
}

// sharedEmailServerJSON is the spec's SharedEmailServer with its
// discriminator.
type sharedEmailServerJSON struct {
	Type        string `json:"type"`
	SenderEmail string `json:"sender_email,omitempty"`
	SenderName  string `json:"sender_name,omitempty"`
}

func (e emailServer) json() any {
	if e.shared {
		return sharedEmailServerJSON{"shared", e.senderEmail, e.senderName}
	}
	return standardEmailServerJSON{"standard", e.host, e.port, e.username, "", e.senderEmail, e.senderName}
}

// emailServerRequest is NeonAuthEmailServerConfig and
// SendNeonAuthTestEmailRequest as sent.
type emailServerRequest struct {
	Type           *string `json:"type"`
	Host           *string `json:"host"`
	Port           *int    `json:"port"`
	Username       *string `json:"username"`
	Password       *string `json:"password"`
	SenderEmail    *string `json:"sender_email"`
	SenderName     *string `json:"sender_name"`
	RecipientEmail *string `json:"recipient_email"`
}

// hostnamePattern is a DNS name; net.ParseIP covers addresses.
var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// validEmail reports a bare address such as "auth@example.com".
func validEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Name == "" && a.Address == v && strings.Contains(v, "@")
}

// standardServer checks a StandardEmailServer. An empty password keeps the
// one on file, so that a form need not ask for it again; with none on file
// it is an error.
func standardServer(req emailServerRequest, current emailServer) (emailServer, error) {
	fields := []struct {
		name string
		v    *string
	}{{"host", req.Host}, {"username", req.Username}, {"password", req.Password}, {"sender_email", req.SenderEmail}, {"sender_name", req.SenderName}}
	for _, f := range fields {
		if f.v == nil {
			return emailServer{}, badRequest("%s is required for a standard email server", f.name)
		}
	}
	if req.Port == nil {
		return emailServer{}, badRequest("port is required for a standard email server")
	}
	e := emailServer{host: *req.Host, port: *req.Port, username: *req.Username, password: *req.Password, senderEmail: *req.SenderEmail, senderName: *req.SenderName}
	switch {
	case !hostnamePattern.MatchString(e.host) && net.ParseIP(e.host) == nil:
		return emailServer{}, badRequest("host %q is not a host name or IP address", e.host)
	case e.port < 1 || e.port > 65535:
		return emailServer{}, badRequest("port must be from 1 to 65535")
	case !validEmail(e.senderEmail):
		return emailServer{}, badRequest("sender_email is not a valid email address")
	case strings.TrimSpace(e.senderName) == "":
		return emailServer{}, badRequest("sender_name must not be empty")
	}
	if e.password == "" {
		if current.shared || current.password == "" {
			return emailServer{}, badRequest("password is required")
		}
		e.password = current.password
	}
	return e, nil
}

func (s *Sandbox) getEmailProvider(w http.ResponseWriter, r *http.Request) error {
	return s.readAuth(w, r, "the email provider", func(in *integration) any { return in.settings.emailServer.json() })
}

func (s *Sandbox) updateEmailProvider(w http.ResponseWriter, r *http.Request) error {
	var req emailServerRequest
	return s.writeAuth(w, r, "the email provider", http.StatusOK, &req, func(in *integration) (any, error) {
		var next emailServer
		switch deref(req.Type) {
		case "standard":
			var err error
			if next, err = standardServer(req, in.settings.emailServer); err != nil {
				return nil, err
			}
		case "shared":
			next = emailServer{shared: true, senderEmail: deref(req.SenderEmail), senderName: deref(req.SenderName)}
			if next.senderEmail != "" && !validEmail(next.senderEmail) {
				return nil, badRequest("sender_email is not a valid email address")
			}
			if in.settings.emailAndPassword.EmailVerificationMethod == "link" {
				return nil, badRequest("verification links need the branch's own email server; switch email_verification_method to otp first")
			}
		default:
			return nil, badRequest("type must be standard or shared")
		}
		in.settings.emailServer = next
		return next.json(), nil
	})
}

// Email is a message sendNeonAuthTestEmail "sent": the sandbox delivers
// nothing and records it instead, without the SMTP password.
type Email struct {
	ID           string    `json:"id"`
	ProjectID    string    `json:"project_id"`
	BranchID     string    `json:"branch_id"`
	From         string    `json:"from"`
	FromName     string    `json:"from_name"`
	To           string    `json:"to"`
	Subject      string    `json:"subject"`
	Text         string    `json:"text"`
	SMTPHost     string    `json:"smtp_host"`
	SMTPPort     int       `json:"smtp_port"`
	SMTPUsername string    `json:"smtp_username"`
	SentAt       time.Time `json:"sent_at"`
}

// maxEmails bounds the record; the oldest messages go first.
const maxEmails = 1000

// Emails returns the recorded test emails, oldest first, as GET
// /_sandbox/emails does.
func (s *Sandbox) Emails() []Email {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.emails)
}

// ClearEmails forgets the recorded test emails.
func (s *Sandbox) ClearEmails() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emails = nil
}

// sendTestEmail records the message. A host under .invalid (RFC 2606) stands
// for a server that cannot be reached: the answer reports the failure, as
// Neon's does for a bad SMTP server, and nothing is recorded.
func (s *Sandbox) sendTestEmail(w http.ResponseWriter, r *http.Request) error {
	var req emailServerRequest
	return s.writeAuth(w, r, "test emails", http.StatusOK, &req, func(in *integration) (any, error) {
		srv, err := standardServer(req, emailServer{})
		if err != nil {
			return nil, err
		}
		if req.RecipientEmail == nil || !validEmail(*req.RecipientEmail) {
			return nil, badRequest("recipient_email is not a valid email address")
		}
		type result struct {
			Success      bool   `json:"success"`
			ErrorMessage string `json:"error_message,omitempty"`
		}
		if h := strings.ToLower(srv.host); h == "invalid" || strings.HasSuffix(h, ".invalid") {
			return result{ErrorMessage: "dial tcp: lookup " + srv.host + ": no such host"}, nil
		}
		msg := Email{
			ID: uuid.NewString(), ProjectID: in.project.id, BranchID: in.branch.id,
			From: srv.senderEmail, FromName: srv.senderName, To: *req.RecipientEmail,
			Subject:  "Neon Auth test email",
			Text:     "This is a test email from Neon Auth for " + in.settings.name + ". Your email server settings work.",
			SMTPHost: srv.host, SMTPPort: srv.port, SMTPUsername: srv.username,
			SentAt: time.Now().UTC(),
		}
		s.emails = append(s.emails, msg)
		if n := len(s.emails); n > maxEmails {
			s.emails = slices.Delete(s.emails, 0, n-maxEmails)
		}
		return result{Success: true}, nil
	})
}
