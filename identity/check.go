package identity

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what an identity may hold. Anything longer is refused, never
// cut: a cut value can turn into someone else ("…@corp.test.evil.example"
// cut after "corp.test").
const (
	// maxEmailLen is the longest address SMTP can carry (RFC 5321).
	maxEmailLen = 254
	// maxNameLen bounds user names, subjects and group names.
	maxNameLen = 256
	// maxGroups bounds how many groups one identity may carry.
	maxGroups = 1000
)

// checkEmail accepts a plain address (local@domain) and nothing else: no
// display name, no comments, no quoting, no list, no control characters.
func checkEmail(s string) error {
	if len(s) > maxEmailLen {
		return fmt.Errorf("email is %d bytes, longer than %d", len(s), maxEmailLen)
	}
	if err := checkText(s); err != nil {
		return fmt.Errorf("email %w", err)
	}
	if strings.ContainsAny(s, " ,;<>()[]\\\"") {
		return errors.New("email is not a plain address")
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || domain == "" || strings.Contains(domain, "@") {
		return errors.New("email is not a plain address")
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("email domain is malformed")
		}
	}
	// The standard library's parser has the last word on the syntax.
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return errors.New("email is not a plain address")
	}
	return nil
}

// checkName accepts a user name, subject or group: valid UTF-8, printable,
// at most maxNameLen bytes.
func checkName(what, s string) error {
	if len(s) > maxNameLen {
		return fmt.Errorf("%s is %d bytes, longer than %d", what, len(s), maxNameLen)
	}
	if err := checkText(s); err != nil {
		return fmt.Errorf("%s %w", what, err)
	}
	return nil
}

// checkText refuses invalid UTF-8 and control characters (NUL, escape,
// newlines), which have no place in a name and can fool logs and pages.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errors.New("holds a control character")
		}
	}
	return nil
}

// check refuses an identity with any malformed or over-long part. The
// reason names the part, never its value.
func (id Identity) check() error {
	if err := checkName("user", id.User); err != nil {
		return err
	}
	if id.Email != "" {
		if err := checkEmail(id.Email); err != nil {
			return err
		}
	}
	if len(id.Groups) > maxGroups {
		return fmt.Errorf("%d groups, more than %d", len(id.Groups), maxGroups)
	}
	for _, g := range id.Groups {
		if err := checkName("group", g); err != nil {
			return err
		}
	}
	return nil
}
