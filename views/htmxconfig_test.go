package views

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
)

// TestHTMXSwapsErrorFragments: htmx 2 leaves 4xx and 5xx answers out of the
// page unless configured. The layout's config makes it swap them, so a
// refused form (400, 422), an outcome Neon left unknown (502) and a users
// database that is down (503) show their panel. It is matched the way htmx
// does: the first entry whose code pattern matches the status.
func TestHTMXSwapsErrorFragments(t *testing.T) {
	doc, _ := renderDoc(t, Layout(Chrome{Title: "t"}))
	raw, ok := doc.Find(`meta[name="htmx-config"]`).Attr("content")
	if !ok {
		t.Fatal("no htmx-config meta")
	}
	var cfg struct {
		ResponseHandling []struct {
			Code string `json:"code"`
			Swap bool   `json:"swap"`
		} `json:"responseHandling"`
	}
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("htmx-config: %v", err)
	}
	swaps := func(status int) bool {
		for _, h := range cfg.ResponseHandling {
			if regexp.MustCompile(h.Code).MatchString(strconv.Itoa(status)) {
				return h.Swap
			}
		}
		return false
	}
	for status, want := range map[int]bool{200: true, 201: true, 204: false, 400: true, 422: true, 502: true, 503: true} {
		if got := swaps(status); got != want {
			t.Errorf("status %d swapped = %v, want %v", status, got, want)
		}
	}
}
