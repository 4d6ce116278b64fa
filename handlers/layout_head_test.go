package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/static"
)

// TestLayoutHead checks what every page's head promises the browser: icons
// that load, and an htmx configured not to inject the inline indicator style
// the CSP would block, its rules shipped in app.css instead.
func TestLayoutHead(t *testing.T) {
	a := newTestApp(t)
	page := a.get("/projects")
	if page.Status != http.StatusOK {
		t.Fatalf("GET /projects: %d", page.Status)
	}
	icons := map[string]string{}
	page.Doc.Find(`link[rel="icon"]`).Each(func(_ int, s *goquery.Selection) {
		icons[s.AttrOr("href", "")] = s.AttrOr("type", "")
	})
	if _, ok := icons["/favicon.ico"]; !ok || icons[static.URL("favicon.svg")] != "image/svg+xml" {
		t.Errorf("icon links %v, want /favicon.ico and the hashed SVG", icons)
	}
	for href := range icons {
		if w := a.fetch(t, href, nil); w.status != http.StatusOK || !strings.HasPrefix(w.header.Get("Content-Type"), "image/") {
			t.Errorf("GET %s: %d %q, want an image", href, w.status, w.header.Get("Content-Type"))
		}
	}

	var cfg map[string]any
	if err := json.Unmarshal([]byte(page.Doc.Find(`meta[name="htmx-config"]`).AttrOr("content", "")), &cfg); err != nil {
		t.Fatalf("htmx-config: %v", err)
	}
	if cfg["includeIndicatorStyles"] != false {
		t.Errorf("htmx-config includeIndicatorStyles = %v, want false", cfg["includeIndicatorStyles"])
	}
	css, err := static.Files.ReadFile("app.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range []string{".htmx-indicator {", ".htmx-request .htmx-indicator"} {
		if !strings.Contains(string(css), rule) {
			t.Errorf("app.css lacks %q, the indicator rules htmx no longer injects", rule)
		}
	}
}
