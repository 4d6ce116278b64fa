package identity

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gorilla/sessions"
)

// SessionKeys are the secrets that sign and encrypt cookies, newest first. The
// first key seals new cookies; every key still opens old ones, so a key can be
// rotated by putting a new one in front and dropping the old one a session
// lifetime later.
type SessionKeys [][]byte

// String hides the keys from fmt.
func (k SessionKeys) String() string { return fmt.Sprintf("[%d session keys redacted]", len(k)) }

// GoString hides the keys from %#v.
func (k SessionKeys) GoString() string { return k.String() }

// LogValue hides the keys from slog.
func (k SessionKeys) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MinSessionKeyBytes is the least key material a session key may hold: the
// signing and encryption keys derived from it are only as strong as it is.
const MinSessionKeyBytes = 32

// ParseSessionKeys reads SESSION_KEYS: comma-separated keys, newest first, each
// written as hex or base64 (standard or URL alphabet, padded or not) and
// decoding to at least MinSessionKeyBytes. Every bad entry is reported, by
// position only, since the value is a secret.
func ParseSessionKeys(raw string) (SessionKeys, error) {
	var (
		keys SessionKeys
		errs []error
	)
	for i, entry := range strings.Split(raw, ",") {
		key, err := decodeSessionKey(strings.TrimSpace(entry))
		if err != nil {
			errs = append(errs, fmt.Errorf("SESSION_KEYS entry %d: %w", i+1, err))
			continue
		}
		keys = append(keys, key)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return keys, nil
}

// decodeSessionKey decodes one key. The first encoding that reads the text
// decides; a key too short under it is refused rather than tried as another.
func decodeSessionKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty key")
	}
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	} {
		b, err := dec(s)
		if err != nil {
			continue
		}
		if len(b) < MinSessionKeyBytes {
			return nil, fmt.Errorf("decodes to %d bytes; need at least %d (try: openssl rand -hex 32)", len(b), MinSessionKeyBytes)
		}
		return b, nil
	}
	return nil, errors.New("is neither hex nor base64 (try: openssl rand -hex 32)")
}

// NewSessionStore returns the cookie store for the dashboard's sessions. Each
// key is one SESSION_KEYS secret, newest first; from each, separate signing
// and encryption keys are derived, so cookies are both tamper-proof and
// unreadable. Without keys a random one is made: fine for a local demo, but
// every restart signs everybody out. Cookies are HttpOnly, SameSite=Lax and
// expire after maxAge seconds.
func NewSessionStore(keys [][]byte, secure bool, maxAge int) *sessions.CookieStore {
	return newCookieStore(keys, secure, maxAge)
}

func newCookieStore(keys [][]byte, secure bool, maxAge int) *sessions.CookieStore {
	if len(keys) == 0 {
		k := make([]byte, MinSessionKeyBytes)
		_, _ = rand.Read(k)
		keys = [][]byte{k}
	}
	pairs := make([][]byte, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, deriveKey(k, "cookie signing", 64), deriveKey(k, "cookie encryption", 32))
	}
	store := sessions.NewCookieStore(pairs...)
	store.MaxAge(maxAge)
	store.Options = cookieOptions(secure, maxAge)
	return store
}

// deriveKey stretches one configured secret into a key for one purpose.
func deriveKey(secret []byte, purpose string, n int) []byte {
	k, err := hkdf.Key(sha256.New, secret, nil, "neonauth-admin "+purpose, n)
	if err != nil {
		// Only possible for lengths above 255*32 bytes.
		panic(err)
	}
	return k
}

// cookieName adds the __Host- prefix over HTTPS.
func cookieName(base string, secure bool) string {
	if secure {
		return "__Host-" + base
	}
	return base
}

// cookieOptions are the attributes of every cookie the dashboard sets:
// HttpOnly (no script reads them), SameSite=Lax (not sent on cross-site posts,
// still sent when the identity provider redirects back), Secure over HTTPS.
func cookieOptions(secure bool, maxAge int) *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}
