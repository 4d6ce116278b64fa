package db

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

var (
	// ErrInvalidInput reports a request the browser refuses before asking the
	// database: a malformed cursor, an unsupported page size, a filter value
	// that cannot be stored in Postgres text. Errors wrapping it are
	// *InputError values naming the field.
	ErrInvalidInput = errors.New("invalid input")
	// ErrPermission reports that the connected role may not do what was asked,
	// such as creating an index on a table it does not own.
	ErrPermission = errors.New("permission denied")
	// ErrIndexInvalid reports an index left INVALID by a failed concurrent
	// build, which must be dropped before the index can be built again.
	ErrIndexInvalid = errors.New("index is invalid")
	// ErrIndexBuilding reports that the index is being built right now.
	ErrIndexBuilding = errors.New("index is being built")
)

// InputError says which request field is wrong and why, in words fit to show
// next to that field. It never quotes the value, which may be huge or hostile.
type InputError struct {
	Field  string // "q", "id", "email", "status", "role", "cursor", "size", "at", "range", "format"
	Reason string
}

// Error names the field and the reason.
func (e *InputError) Error() string { return "db: " + e.Field + ": " + e.Reason }

// Unwrap lets callers test for ErrInvalidInput with errors.Is.
func (e *InputError) Unwrap() error { return ErrInvalidInput }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// checkText refuses values Postgres text cannot hold (NUL bytes, invalid
// UTF-8) and values longer than max bytes, so that hostile input fails here
// with a clear message instead of as a server error.
func checkText(field, s string, max int) error {
	switch {
	case len(s) > max:
		return inputErr(field, "is longer than %d bytes", max)
	case strings.IndexByte(s, 0) >= 0:
		return inputErr(field, "contains a NUL byte")
	case !utf8.ValidString(s):
		return inputErr(field, "is not valid UTF-8")
	}
	return nil
}
