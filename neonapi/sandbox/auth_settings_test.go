package sandbox

import (
	"net/http"
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	good := map[string]string{
		"https://App.Example.com/":      "https://app.example.com",
		"http://localhost:3000":         "http://localhost:3000",
		"HTTPS://example.com":           "https://example.com",
		"https://*.preview.example.com": "https://*.preview.example.com",
		"http://127.0.0.1:8080":         "http://127.0.0.1:8080",
	}
	for in, want := range good {
		if got, err := normalizeDomain(in); err != nil || got != want {
			t.Errorf("normalizeDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"example.com", "ftp://example.com", "https://", "https://example.com/callback", "https://example.com?x=1",
		"https://example.com#top", "https://user:pw@example.com", "https://exa mple.com", "https://example.com:0",
		"https://example.com:99999", "https://-bad.example.com", "javascript:alert(1)",
	} {
		if got, err := normalizeDomain(in); err == nil {
			t.Errorf("normalizeDomain(%q) = %q, want an error", in, got)
		}
	}
}

// TestSecretsAreWriteOnly stores an OAuth client secret and SMTP passwords and
// checks that no answer and no recorded email carries them, while the stored
// password keeps working when an update leaves it out.
func TestSecretsAreWriteOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.seedProject("secrets")
	auth := "/projects/" + p + "/branches/" + br + "/auth"
	e.expect("POST", auth, `{"auth_provider":"better_auth"}`, http.StatusCreated, nil)

	const clientSecret, smtpPassword, testPassword = "oauth-secret-77", "smtp-password-77", "test-password-77"
	res := e.expect("POST", auth+"/oauth_providers", `{"id":"github","client_id":"cid","client_secret":"`+clientSecret+`"}`, http.StatusOK, nil)
	bodies := []string{string(res.body)}
	server := `{"type":"standard","host":"smtp.example.com","port":587,"username":"u","password":"%s","sender_email":"auth@example.com","sender_name":"App"}`
	bodies = append(bodies, string(e.expect("PATCH", auth+"/email_provider", strings.Replace(server, "%s", smtpPassword, 1), http.StatusOK, nil).body))
	// Leaving the password empty keeps the one on file.
	bodies = append(bodies, string(e.expect("PATCH", auth+"/email_provider", strings.Replace(server, "%s", "", 1), http.StatusOK, nil).body))
	e.sb.mu.RLock()
	kept := e.sb.projects[p].branchByID(br).auth.settings.emailServer.password
	e.sb.mu.RUnlock()
	if kept != smtpPassword {
		t.Errorf("an update without a password left %q on file", kept)
	}
	e.expect("POST", auth+"/send_test_email", `{"host":"smtp.example.com","port":587,"username":"u","password":"`+testPassword+`","sender_email":"auth@example.com","sender_name":"App","recipient_email":"to@example.com"}`, http.StatusOK, nil)
	for _, sub := range []string{"/oauth_providers", "/email_provider", "/plugins"} {
		bodies = append(bodies, string(e.expect("GET", auth+sub, nil, http.StatusOK, nil).body))
	}
	bodies = append(bodies, string(e.expect("GET", e.srv.URL+"/_sandbox/emails", nil, http.StatusOK, nil).body))
	for _, body := range bodies {
		for _, secret := range []string{clientSecret, smtpPassword, testPassword} {
			if strings.Contains(body, secret) {
				t.Errorf("an answer carries %q: %s", secret, body)
			}
		}
	}
	if emails := e.sb.Emails(); len(emails) != 1 || emails[0].To != "to@example.com" || emails[0].SMTPUsername != "u" {
		t.Errorf("recorded emails: %+v", emails)
	}

	// With Neon's shared server on file there is no password to keep.
	e.expect("PATCH", auth+"/email_provider", `{"type":"shared"}`, http.StatusOK, nil)
	e.expect("PATCH", auth+"/email_provider", strings.Replace(server, "%s", "", 1), http.StatusBadRequest, nil)
}

func TestEmailsEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{APIKey: "sandbox-key"})
	p, br := e.seedProject("emails")
	auth := "/projects/" + p + "/branches/" + br + "/auth"
	e.expect("POST", auth, `{"auth_provider":"better_auth"}`, http.StatusCreated, nil)
	e.expect("POST", auth+"/send_test_email", `{"host":"smtp.example.com","port":25,"username":"u","password":"p","sender_email":"a@example.com","sender_name":"A","recipient_email":"b@example.com"}`, http.StatusOK, nil)

	if res := e.request("GET", e.srv.URL+"/_sandbox/emails", nil, "Authorization", ""); res.status != http.StatusUnauthorized {
		t.Errorf("GET /_sandbox/emails without the key: %d, want 401", res.status)
	}
	var list struct {
		Emails []Email `json:"emails"`
	}
	e.expect("GET", e.srv.URL+"/_sandbox/emails", nil, http.StatusOK, &list)
	if len(list.Emails) != 1 || list.Emails[0].To != "b@example.com" || list.Emails[0].ProjectID != p || list.Emails[0].Subject == "" {
		t.Errorf("GET /_sandbox/emails: %+v", list.Emails)
	}
	e.expect("DELETE", e.srv.URL+"/_sandbox/emails", nil, http.StatusNoContent, nil)
	res := e.expect("GET", e.srv.URL+"/_sandbox/emails", nil, http.StatusOK, &list)
	if len(list.Emails) != 0 || !strings.Contains(string(res.body), `"emails":[]`) {
		t.Errorf("after DELETE: %s", res.body)
	}
}

// TestSettingsBelongToTheIntegration: Better Auth features refuse a Stack
// branch, and disabling Neon Auth forgets the settings.
func TestSettingsBelongToTheIntegration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	p, br := e.seedProject("settings")
	auth := "/projects/" + p + "/branches/" + br + "/auth"
	e.expect("GET", auth+"/domains", nil, http.StatusNotFound, nil)
	e.expect("POST", auth, `{"auth_provider":"stack"}`, http.StatusCreated, nil)
	for _, sub := range []string{"/plugins", "/webhooks", "/email_provider", "/email_and_password", "/plugins/phone-number"} {
		e.expect("GET", auth+sub, nil, http.StatusBadRequest, nil)
	}
	e.expect("POST", auth+"/domains", `{"domain":"https://a.example.com","auth_provider":"stack"}`, http.StatusCreated, nil)
	e.expect("DELETE", auth, nil, http.StatusOK, nil)
	e.expect("POST", auth, `{"auth_provider":"stack"}`, http.StatusCreated, nil)
	var domains struct {
		Domains []trustedDomainJSON `json:"domains"`
	}
	e.expect("GET", auth+"/domains", nil, http.StatusOK, &domains)
	if len(domains.Domains) != 0 {
		t.Errorf("domains survived disabling Neon Auth: %+v", domains.Domains)
	}
}

// TestSharedProjects checks that /projects/shared is its own route and lists
// only projects shared with the account.
func TestSharedProjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	own, _ := e.seedProject("own")
	shared, err := e.sb.CreateSharedProject(t.Context(), "theirs")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Projects []projectListItemJSON `json:"projects"`
	}
	e.expect("GET", "/projects/shared", nil, http.StatusOK, &list)
	if len(list.Projects) != 1 || list.Projects[0].ID != shared.ID || list.Projects[0].EffectiveProjectPermission != "CAN_EDIT" {
		t.Errorf("listSharedProjects: %+v", list.Projects)
	}
	e.expect("GET", "/projects", nil, http.StatusOK, &list)
	if len(list.Projects) != 1 || list.Projects[0].ID != own {
		t.Errorf("listProjects: %+v, want only %s", list.Projects, own)
	}
	e.expect("GET", "/projects/"+shared.ID, nil, http.StatusOK, nil)
}
