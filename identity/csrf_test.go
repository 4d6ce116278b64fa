package identity

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCSRFTokensAreBoundToTheSession sends the forgeries a cookie-planting
// or token-stealing attacker would: a cookie and field they chose, a
// token in the URL, and one person's valid pair on another person's
// request. Only a token made for this browser's session and this person, in
// the form field or the htmx header, passes.
func TestCSRFTokensAreBoundToTheSession(t *testing.T) {
	const other = "bob@example.com"
	cfg := secAuthConfig(t)
	cfg.Roles.Admins.Emails = append(cfg.Roles.Admins.Emails, other)
	f := newSecFixture(t, cfg)
	const path, pattern = "/projects/p1/integrations", "/projects/:id/integrations"
	adaCookie, adaToken := f.csrf(adminEmail)
	bobCookie, bobToken := f.csrf(other)
	planted := func(v string) *http.Cookie { return &http.Cookie{Name: "csrf", Value: v} }
	for _, tc := range []struct {
		name    string
		as      string
		cookie  *http.Cookie
		form    url.Values
		query   string
		headers []string
		want    int
	}{
		{name: "cookie and field of the attacker's choosing", as: adminEmail, cookie: planted("x"), form: url.Values{"_csrf": {"x"}}, want: http.StatusForbidden},
		{name: "equal random-looking cookie and field", as: adminEmail, cookie: planted(adaCookie.Value), form: url.Values{"_csrf": {adaCookie.Value}}, want: http.StatusForbidden},
		{name: "valid token in the query string", as: adminEmail, cookie: adaCookie, query: "?_csrf=" + url.QueryEscape(adaToken), want: http.StatusForbidden},
		{name: "another person's cookie and token", as: adminEmail, cookie: bobCookie, form: url.Values{"_csrf": {bobToken}}, want: http.StatusForbidden},
		{name: "another person's token with my cookie", as: adminEmail, cookie: adaCookie, form: url.Values{"_csrf": {bobToken}}, want: http.StatusForbidden},
		{name: "my token under another person's identity", as: other, cookie: adaCookie, form: url.Values{"_csrf": {adaToken}}, want: http.StatusForbidden},
		{name: "my token with a planted cookie", as: adminEmail, cookie: planted("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), form: url.Values{"_csrf": {adaToken}}, want: http.StatusForbidden},
		{name: "my cookie and token in the form", as: adminEmail, cookie: adaCookie, form: url.Values{"_csrf": {adaToken}}, want: http.StatusOK},
		{name: "my cookie and token in the htmx header", as: adminEmail, cookie: adaCookie, headers: []string{"X-CSRF-Token", adaToken, "HX-Request", "true"}, want: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.called(http.MethodPost, pattern)
			form := tc.form
			if form == nil {
				form = url.Values{}
			}
			r := req(http.MethodPost, path+tc.query, trustedPeer, form, append(as(tc.as), tc.headers...)...)
			r.AddCookie(tc.cookie)
			w := f.do(r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %.300s", w.Code, tc.want, w.Body)
			}
			ran := f.called(http.MethodPost, pattern) - before
			if tc.want == http.StatusForbidden {
				if ran != 0 || !strings.Contains(w.Body.String(), `data-testid="csrf"`) {
					t.Errorf("handler ran %d times; body %.300s", ran, w.Body)
				}
			} else if ran != 1 {
				t.Errorf("handler ran %d times, want 1", ran)
			}
		})
	}
}

// TestCSRFTokensSurviveKeyRotation: a token made under the old session key
// still passes while the key is listed, and not once it is dropped.
func TestCSRFTokensSurviveKeyRotation(t *testing.T) {
	oldKey, newKey := []byte(strings.Repeat("o", 32)), []byte(strings.Repeat("n", 32))
	with := func(keys ...[]byte) *secFixture {
		cfg := secAuthConfig(t)
		cfg.SessionKeys = keys
		return newSecFixture(t, cfg)
	}
	cookie, token := with(oldKey).csrf(adminEmail)
	post := func(f *secFixture) int {
		r := req(http.MethodPost, "/projects/p1/users", trustedPeer, url.Values{"_csrf": {token}}, as(adminEmail)...)
		r.AddCookie(cookie)
		return f.do(r).Code
	}
	if code := post(with(newKey, oldKey)); code != http.StatusOK {
		t.Errorf("old token with the old key still listed: %d, want 200", code)
	}
	if code := post(with(newKey)); code != http.StatusForbidden {
		t.Errorf("old token after the old key was dropped: %d, want 403", code)
	}
}
