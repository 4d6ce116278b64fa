package handlers

import (
	"strings"
	"unicode/utf8"
)

// unstorableMessage is the field message for a value that cannot be stored.
const unstorableMessage = "This holds a character that cannot be stored (a NUL byte or invalid UTF-8); retype it."

// unstorable reports a value Postgres cannot store as text: one with a NUL
// byte or invalid UTF-8. Passed on, it could only fail later and out of
// sight (a query error, or a user Neon accepts that never syncs), so a form
// refuses it at the field.
func unstorable(v string) bool {
	return strings.ContainsRune(v, 0) || !utf8.ValidString(v)
}

// shown is a submitted value as the form shows it back: NUL bytes and invalid
// UTF-8 become U+FFFD, as a browser would render them anyway.
func shown(v string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(v, "\uFFFD"), "\x00", "\uFFFD")
}

// refuseUnstorable sets the message of every field whose value cannot be
// stored, the keys pointing at the fields' messages, and reports whether any
// could not.
func refuseUnstorable(fields map[*string]string) bool {
	refused := false
	for msg, v := range fields {
		if unstorable(v) {
			*msg, refused = unstorableMessage, true
		}
	}
	return refused
}
