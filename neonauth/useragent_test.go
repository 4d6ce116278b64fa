package neonauth

import "testing"

func TestUserAgentWords(t *testing.T) {
	for ua, want := range map[string]string{
		"": "unknown",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36": "Chrome 120 on MacOS",
		"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0":                                                "Firefox 121 on Linux",
		"curl/8.4.0":                          "an automated client (curl/8.4.0)",
		"\x00weird" + string(make([]byte, 0)): "\x00weird",
	} {
		if got := UserAgentWords(ua); got != want {
			t.Errorf("UserAgentWords(%q) = %q, want %q", ua, got, want)
		}
	}
}
