package neonauth

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/medama-io/go-useragent"
)

// uaParser is built once, on first use: an immutable lookup table.
var uaParser = sync.OnceValue(useragent.NewParser)

// maxUserAgentShown bounds a user agent shown as is, when it says nothing a
// parser recognises.
const maxUserAgentShown = 80

// UserAgentWords says a session's user agent in words, "Chrome 120 on macOS",
// for a page; the raw header stays available for a title or an export.
// Nothing recognisable gives the header itself, cut short.
func UserAgentWords(ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return "unknown"
	}
	p := uaParser().Parse(ua)
	browser, os := string(p.Browser()), string(p.OS())
	if v := p.BrowserVersionMajor(); browser != "" && v != "" {
		browser += " " + v
	}
	switch {
	case p.IsBot():
		return "an automated client (" + cutRunes(ua, 40) + ")"
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	case os != "":
		return "a browser on " + os
	}
	return cutRunes(ua, maxUserAgentShown)
}

// cutRunes cuts s to n runes, marking the cut.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
