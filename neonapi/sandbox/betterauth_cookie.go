package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Better Auth's cookie names (cookiePrefix "better-auth"); over https they
// take the "__Secure-" prefix and the Secure attribute.
const (
	cookieSessionToken = "better-auth.session_token"
	cookieDontRemember = "better-auth.dont_remember"
	secureCookiePrefix = "__Secure-"
)

// sessionMaxAge is Better Auth's default session.expiresIn, 7 days, which is
// also the session cookie's Max-Age.
const sessionMaxAge = 7 * 24 * 60 * 60

func (ba *baInstance) secure() bool { return strings.HasPrefix(ba.baseURL, "https://") }

func (ba *baInstance) cookieName(name string) string {
	if ba.secure() {
		return secureCookiePrefix + name
	}
	return name
}

// signCookieValue is better-call's signed cookie value: the value, a dot, and
// the HMAC-SHA256 of the value under the secret in padded standard base64.
func signCookieValue(value, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(value))
	return value + "." + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// verifyCookieValue returns the value of a signed cookie value, or false when
// the signature does not match, as getSignedCookie does.
func verifyCookieValue(signed, secret string) (string, bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 1 {
		return "", false
	}
	value, sig := signed[:i], signed[i+1:]
	if len(sig) != 44 || !strings.HasSuffix(sig, "=") {
		return "", false
	}
	want := signCookieValue(value, secret)
	return value, hmac.Equal([]byte(want[i+1:]), []byte(sig))
}

// setSignedCookie appends a Set-Cookie header as better-call serialises it:
// the signed value URI-encoded, Max-Age (when given), Path=/, HttpOnly,
// Secure over https and SameSite=Lax.
func (ba *baInstance) setSignedCookie(w http.ResponseWriter, name, value string, maxAge int) {
	v := url.QueryEscape(signCookieValue(value, ba.secret))
	ba.appendCookie(w, name, v, maxAge)
}

func (ba *baInstance) appendCookie(w http.ResponseWriter, name, encoded string, maxAge int) {
	c := ba.cookieName(name) + "=" + encoded
	if maxAge >= 0 {
		c += "; Max-Age=" + strconv.Itoa(maxAge)
	}
	c += "; Path=/; HttpOnly"
	if ba.secure() {
		c += "; Secure"
	}
	c += "; SameSite=Lax"
	w.Header().Add("Set-Cookie", c)
}

// setSessionCookie sets the session token cookie; a session not to be
// remembered gets a browser-session cookie and the signed dont_remember
// marker, as setSessionCookie does in Better Auth.
func (ba *baInstance) setSessionCookie(w http.ResponseWriter, token string, dontRemember bool) {
	if dontRemember {
		ba.setSignedCookie(w, cookieSessionToken, token, -1)
		ba.setSignedCookie(w, cookieDontRemember, "true", -1)
		return
	}
	ba.setSignedCookie(w, cookieSessionToken, token, sessionMaxAge)
}

// deleteSessionCookie expires the session cookies.
func (ba *baInstance) deleteSessionCookie(w http.ResponseWriter) {
	ba.appendCookie(w, cookieSessionToken, "", 0)
	ba.appendCookie(w, cookieDontRemember, "", 0)
}

// signedCookie reads a signed cookie of the request: "" when absent or when
// its signature is wrong.
func (ba *baInstance) signedCookie(r *http.Request, name string) string {
	c, err := r.Cookie(ba.cookieName(name))
	if err != nil {
		return ""
	}
	raw := c.Value
	if dec, err := url.QueryUnescape(raw); err == nil {
		raw = dec
	}
	v, ok := verifyCookieValue(raw, ba.secret)
	if !ok {
		return ""
	}
	return v
}

// trustedOrigin reports whether origin (scheme://host[:port]) may call the
// branch's Better Auth: its own origin, a trusted domain (a leading "*."
// matching any subdomain, as Better Auth's wildcard patterns do), or, when
// the branch allows localhost, any port of localhost, 127.0.0.1 or [::1].
func (ba *baInstance) trustedOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	if origin == ba.origin {
		return true
	}
	for _, d := range ba.domains {
		if d == origin || (strings.ContainsAny(d, "*?") && wildcardPattern(d).MatchString(origin)) {
			return true
		}
	}
	if ba.allowLocalhost {
		u, err := url.Parse(origin)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			switch u.Hostname() {
			case "localhost", "127.0.0.1", "::1":
				return true
			}
		}
	}
	return false
}

// wildcardPattern turns a trusted-origin pattern into a regexp as Better
// Auth's wildcardMatch does without a separator: "*" any run of characters,
// "?" any one.
func wildcardPattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*?")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// originOf reduces a URL (an Origin or a Referer) to scheme://host[:port].
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || strings.ContainsAny(u.Host, `\/`) {
		// No origin, as getOrigin answers null: a pattern must not
		// match a string no browser would treat as one.
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// checkOrigin is Better Auth's validateOrigin: a request carrying cookies
// (or any, when force is set) must come from a trusted origin, named by its
// Origin header or else its Referer.
func (ba *baInstance) checkOrigin(r *http.Request, force bool) error {
	if !force && r.Header.Get("Cookie") == "" {
		return nil
	}
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" || o == "null" {
		return baMissingOrigin
	}
	if !ba.trustedOrigin(originOf(o)) {
		return baInvalidOrigin
	}
	return nil
}

// checkFormCSRF is Better Auth's check on sign-up and sign-in, the requests
// that carry no session yet: a browser's cross-site navigation is refused,
// and any request naming its origin (Fetch Metadata, Origin or Referer) must
// name a trusted one. A server-side call that names none passes, as it does
// in Better Auth.
func (ba *baInstance) checkFormCSRF(r *http.Request) error {
	if r.Header.Get("Cookie") != "" {
		return ba.checkOrigin(r, false)
	}
	site, mode, dest := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Sec-Fetch-Mode"), r.Header.Get("Sec-Fetch-Dest")
	if strings.TrimSpace(site+mode+dest) != "" {
		if site == "cross-site" && mode == "navigate" {
			return baCrossSiteNavigation
		}
		return ba.checkOrigin(r, true)
	}
	if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		return ba.checkOrigin(r, true)
	}
	return nil
}

// checkCallbackURL accepts a safe relative path or an absolute URL on a
// trusted origin, as originCheck does for callbackURL.
func (ba *baInstance) checkCallbackURL(raw string) error {
	if raw == "" {
		return nil
	}
	if strings.HasPrefix(raw, "/") {
		// isSafeRelativeURL: browsers drop tabs and newlines and may read
		// an encoded slash, so "/\t/evil.test" would leave the site.
		path, _, _ := strings.Cut(raw, "?")
		path, _, _ = strings.Cut(path, "#")
		lower := strings.ToLower(path)
		if strings.HasPrefix(raw, "//") || strings.Contains(raw, `\`) ||
			strings.ContainsFunc(raw, unicode.IsControl) ||
			strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
			return baInvalidCallbackURL
		}
		return nil
	}
	if !ba.trustedOrigin(originOf(raw)) {
		return baInvalidCallbackURL
	}
	return nil
}
