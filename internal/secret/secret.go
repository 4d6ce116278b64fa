// Package secret holds Value, the type for configuration values that must
// never reach a log line, an error text or a printed struct.
package secret

import "log/slog"

// Value is a configuration value that must never reach a log line, an error
// or a %v of the struct holding it. Reveal returns the value for the one place
// that needs it.
type Value string

// redacted is what a Value prints as.
const redacted = "[redacted]"

// Reveal returns the secret itself.
func (s Value) Reveal() string { return string(s) }

// String hides the value from fmt.
func (s Value) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s Value) GoString() string { return s.String() }

// LogValue hides the value from slog.
func (s Value) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText hides the value from encoders, JSON included.
func (s Value) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
