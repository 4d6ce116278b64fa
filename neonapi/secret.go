package neonapi

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a credential the dashboard hands to Neon but must never show: an
// OAuth client secret, an SMTP password, a webhook signing secret, a role's
// password. Every way of printing or encoding it (String, GoString, Format with
// any verb, log/slog, encoding/json and encoding/text) yields "[REDACTED]", or ""
// when it is empty, so that it cannot reach a log line, an error or a page by
// accident. Only Reveal gives the value, and the client calls it only while
// building a request body.
//
// The value sits behind a pointer in an unexported field. No conversion from
// or to string exists, so a Secret is made with NewSecret or decoded from a
// JSON answer. And where fmt bypasses the methods (a Secret in an unexported
// field, or below a pointer printed with a verb like %s, which fmt reports as
// a bad verb and prints raw), it prints the pointer's address, never the
// value.
type Secret struct{ v *string }

// NewSecret wraps v; an empty v gives the zero Secret.
func NewSecret(v string) Secret {
	if v == "" {
		return Secret{}
	}
	return Secret{v: &v}
}

// Reveal returns the secret itself, for sending it where it belongs.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsSet reports whether the secret is non-empty; it tells a form whether a
// value is on file without showing it.
func (s Secret) IsSet() bool { return s.v != nil }

// String is "[REDACTED]" for a set secret and "" for an empty one.
func (s Secret) String() string {
	if s.v == nil {
		return ""
	}
	return redacted
}

// GoString is String, so %#v hides the value too.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb, closing %x, %q and the others.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue gives log/slog the placeholder.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText encodes the placeholder, which is also what encoding/json and
// slog's JSON handler write for a Secret inside any struct. Request bodies are
// built from separate wire types that carry the revealed value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText keeps a secret Neon sends back (an OAuth client secret in a
// listing, a role's new password), so that it stays wrapped once decoded.
func (s *Secret) UnmarshalText(text []byte) error {
	*s = NewSecret(string(text))
	return nil
}
