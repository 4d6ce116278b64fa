package neonauth

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FieldErrors maps a settings form's fields, by their form names, to what is
// wrong with what was typed.
type FieldErrors map[string]string

// add records msg for field unless the field already has a message: the
// first problem found is the one worth fixing first.
func (e FieldErrors) add(field, msg string) {
	if _, seen := e[field]; !seen {
		e[field] = msg
	}
}

// ErrInvalidSettings matches every *InvalidSettingsError.
var ErrInvalidSettings = errors.New("neonauth: invalid settings")

// InvalidSettingsError is a settings change refused before Neon was asked,
// with a message for each field at fault.
type InvalidSettingsError struct {
	Fields FieldErrors
}

// Error names the fields at fault, never their values (a value may be a
// secret).
func (e *InvalidSettingsError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	slices.Sort(names)
	return "neonauth: invalid settings: " + strings.Join(names, ", ")
}

// Is matches ErrInvalidSettings.
func (e *InvalidSettingsError) Is(target error) bool { return target == ErrInvalidSettings }

// maxFieldLen bounds free-text fields the spec leaves unbounded, so a pasted
// document is refused at the field rather than sent to Neon.
const maxFieldLen = 1024

// maxInt32 bounds the spec's int32 fields.
const maxInt32 = 1<<31 - 1

// intField reads a whole number in lo..hi typed into field.
func intField(errs FieldErrors, field, raw string, lo, hi int) int {
	raw = strings.TrimSpace(raw)
	n, err := strconv.Atoi(raw)
	switch {
	case raw == "":
		errs.add(field, fmt.Sprintf("Enter a number from %d to %d.", lo, hi))
	case err != nil:
		errs.add(field, "Enter a whole number, digits only.")
	case n < lo || n > hi:
		errs.add(field, fmt.Sprintf("Enter a number from %d to %d.", lo, hi))
	default:
		return n
	}
	return 0
}

// optionalInt is intField for a field that may be left empty, which leaves
// Neon's value (or default) in place.
func optionalInt(errs FieldErrors, field, raw string, lo, hi int) *int {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	n := intField(errs, field, raw, lo, hi)
	return &n
}

// textField checks a free-text field: required when asked, and no longer
// than max characters.
func textField(errs FieldErrors, field, v string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(v) == "":
		errs.add(field, "Fill this in.")
	case utf8.RuneCountInString(v) > max:
		errs.add(field, fmt.Sprintf("Keep this to %d characters or fewer.", max))
	}
}

// oneOf checks a choice against the values the spec allows.
func oneOf(errs FieldErrors, field, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		errs.add(field, "Pick one of: "+strings.Join(allowed, ", ")+".")
	}
}

// ValidEmail reports a bare address such as "auth@example.com", without a
// display name or angle brackets.
func ValidEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Name == "" && a.Address == v && strings.Contains(v, "@")
}

// emailField checks an address field.
func emailField(errs FieldErrors, field, v string, required bool) {
	switch {
	case v == "" && required:
		errs.add(field, "Enter an email address.")
	case v == "":
	case len(v) > 256 || !ValidEmail(v):
		errs.add(field, "Enter an email address such as auth@example.com.")
	}
}

// hostnamePattern is a DNS name; net.ParseIP covers addresses.
var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// hostField checks a server's host name or IP address.
func hostField(errs FieldErrors, field, v string) {
	switch {
	case v == "":
		errs.add(field, "Enter the server's host name, e.g. smtp.example.com.")
	case len(v) > 253 || !hostnamePattern.MatchString(v) && net.ParseIP(v) == nil:
		errs.add(field, "Enter a host name such as smtp.example.com or an IP address, without a scheme or port.")
	}
}
