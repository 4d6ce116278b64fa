package views

import (
	"encoding/json"
	"regexp"
	"slices"
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

// TestHTMXWritesNoStyleAttribute: the CSP refuses inline styles, and htmx
// writes the style attribute again in two places unless configured. It
// settles it (copies the old element's onto its replacement), and it restores
// the back button's pages from snapshots of their markup. A style a script
// set through the CSSOM, which the CSP allows, would come back each time as
// a refused attribute, one console error per element.
func TestHTMXWritesNoStyleAttribute(t *testing.T) {
	doc, _ := renderDoc(t, Layout(Chrome{Title: "t"}))
	raw, _ := doc.Find(`meta[name="htmx-config"]`).Attr("content")
	var cfg struct {
		AttributesToSettle *[]string `json:"attributesToSettle"`
		HistoryCacheSize   *int      `json:"historyCacheSize"`
	}
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("htmx-config: %v", err)
	}
	// Absent, htmx settles its default: class, style, width and height.
	if cfg.AttributesToSettle == nil || slices.Contains(*cfg.AttributesToSettle, "style") {
		t.Errorf("attributesToSettle = %v, want a list without style", cfg.AttributesToSettle)
	} else if !slices.Contains(*cfg.AttributesToSettle, "class") {
		t.Errorf("attributesToSettle = %q, want class still settled", *cfg.AttributesToSettle)
	}
	// Absent, htmx keeps 10 snapshots.
	if cfg.HistoryCacheSize == nil || *cfg.HistoryCacheSize != 0 {
		t.Errorf("historyCacheSize = %v, want 0: the back button loads the page from the server", cfg.HistoryCacheSize)
	}
}
