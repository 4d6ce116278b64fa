package handlers

import (
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/identity"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// auditSettingsChange adds a settings change's before and after to its
// audit entry: only the fields that changed, every secret as [redacted] or
// [changed]. before is what the form's post read; fresh the read after the
// change (readErr when it failed, and the entry says after is unknown).
func auditSettingsChange(c echo.Context, p settingsPost, before neonauth.AuditValues, fresh *neonauth.BranchSettings, readErr error) {
	if readErr != nil || fresh == nil || fresh.NotBranchAuth != nil {
		identity.AddAuditAttrs(c, slog.Bool("after_unread", true))
		return
	}
	b, a := neonauth.AuditDiff(before, fresh.AuditValues(p.group), typedSecrets(p.typed)...)
	identity.AddAuditAttrs(c, slog.String("group", string(p.group)), slog.Any("before", b), slog.Any("after", a))
}

// typedSecrets names the secret fields a form's post set, by their audit
// names: a secret Neon never returns changed only if one was typed. The
// forms post them as password (the email server) and client_secret (an
// OAuth provider, named by provider).
func typedSecrets(typed map[string]string) []string {
	var out []string
	if typed["password"] != "" {
		out = append(out, "email_server.password")
	}
	if typed["client_secret"] != "" && typed["provider"] != "" {
		out = append(out, "oauth."+typed["provider"]+".client_secret")
	}
	return out
}

// copyStepBeforeAfter is a copy step's before and after for its audit
// entry, by setting: the values the preview showed, in which secrets and
// sensitive values are only "set" or "not set", and a URL (the webhook's,
// whose path or query may carry a token) only its scheme and host.
func copyStepBeforeAfter(st neonauth.CopyStep) []slog.Attr {
	if len(st.Changes) == 0 {
		return nil
	}
	b, a := map[string]string{}, map[string]string{}
	for _, ch := range st.Changes {
		b[ch.Label], a[ch.Label] = auditURL(ch.Before), auditURL(ch.After)
		if a[ch.Label] == b[ch.Label] && ch.After != ch.Before {
			a[ch.Label] += " " + neonauth.AuditChanged
		}
	}
	return []slog.Attr{slog.String("group", string(st.Group)), slog.Any("before", b), slog.Any("after", a)}
}

// auditURL is v, or for a URL with more than a scheme and host, those
// alone.
func auditURL(v string) string {
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		return v
	}
	return neonauth.WebhookHost(v)
}
