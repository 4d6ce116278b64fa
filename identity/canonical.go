package identity

import (
	"errors"
	"strings"

	"golang.org/x/net/idna"
)

// Role grants compare emails and domains in one canonical form, written out
// here so that no two different names can meet in it. Unicode case folding
// (strings.EqualFold, strings.ToLower) cannot be that form: it folds ſ (U+017F)
// into s and the Kelvin sign K (U+212A) into k, so "mallory@corp.teſt" would
// be an admin under AUTH_ADMIN_DOMAINS=corp.test. Nor can IDNA's lookup
// mapping, which does the same and also turns fullwidth letters into ASCII.
//
// The canonical form:
//   - a domain has its ASCII letters lower-cased and every other label as
//     punycode (an A-label), and must already be a valid IDNA2008 name as
//     written: a character that only case folding or compatibility mapping
//     would make valid (ſ, K, fullwidth letters, upper-case non-ASCII
//     letters), a label not in NFC (a letter followed by a combining mark
//     that has a precomposed form), an empty label (a trailing dot) or a
//     character outside letters, digits and hyphens makes the name
//     non-canonical. The punycode and the Unicode form of one IDN are the
//     same domain.
//   - an email is local@domain with the domain as above and the local part's
//     ASCII letters lower-cased, every other byte kept exactly: providers and
//     people capitalise addresses freely, and no mail system treats
//     "Ada@" and "ada@" as two people, but nothing beyond ASCII is folded.
//   - groups are compared exactly, case included, as the provider sends them.
//
// A name that has no canonical form matches no grant: it is never guessed
// into one that does. In the configuration it is refused at startup.

// errNotCanonical is why a name has no canonical form.
var errNotCanonical = errors.New("not a domain name in a form that can be compared safely: use ASCII letters, digits and hyphens (any case), or an internationalised name in lower case or as punycode (xn--), without a trailing dot")

// canonicalDomain returns domain in canonical form.
func canonicalDomain(domain string) (string, error) {
	d := asciiLower(domain)
	if d == "" || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		// The registration profile lets a trailing dot through; a root label
		// has no place in an email address or a grant.
		return "", errNotCanonical
	}
	// The registration profile maps nothing: it refuses what lookup would
	// map (ſ, K, fullwidth, upper case) instead of changing it.
	a, err := idna.Registration.ToASCII(d)
	if err != nil {
		return "", errNotCanonical
	}
	return a, nil
}

// canonicalEmail returns addr in canonical form.
func canonicalEmail(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "", errors.New("not an email address")
	}
	domain, err := canonicalDomain(addr[at+1:])
	if err != nil {
		return "", err
	}
	return asciiLower(addr[:at]) + "@" + domain, nil
}

// asciiLower lower-cases ASCII letters only, leaving every other byte as it
// is: unlike strings.ToLower it never turns a non-ASCII letter into an ASCII
// one (K into k).
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
