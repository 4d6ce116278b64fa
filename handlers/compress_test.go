package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/neonauth-admin/dashboard/static"
)

// wire is one answer as it crossed the network: headers and raw body bytes.
type wire struct {
	status int
	header http.Header
	body   []byte
}

// fetch sends a GET with the given headers and keeps the body as sent: with
// Accept-Encoding set by hand, the client does not decompress.
func (a *testApp) fetch(t *testing.T, path string, headers map[string]string) wire {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.Server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return wire{status: res.StatusCode, header: res.Header, body: b}
}

// plain is the body as the browser sees it.
func (w wire) plain(t *testing.T) []byte {
	t.Helper()
	if w.header.Get("Content-Encoding") != "gzip" {
		return w.body
	}
	zr, err := gzip.NewReader(bytes.NewReader(w.body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func varies(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), name) {
				return true
			}
		}
	}
	return false
}

// TestPagesCompressedForSameOriginOnly checks which pages are gzipped:
// those the browser vouches for as same-origin or typed, never those another
// site could have made it request (a BREACH attacker's), and never for a
// client that does not take gzip.
func TestPagesCompressedForSameOriginOnly(t *testing.T) {
	a := newTestApp(t)
	cases := []struct {
		name    string
		headers map[string]string
		gzipped bool
	}{
		{"typed URL", map[string]string{"Accept-Encoding": "gzip, deflate, br", "Sec-Fetch-Site": "none"}, true},
		{"same origin", map[string]string{"Accept-Encoding": "gzip", "Sec-Fetch-Site": "same-origin"}, true},
		{"another site", map[string]string{"Accept-Encoding": "gzip", "Sec-Fetch-Site": "cross-site"}, false},
		{"a sibling subdomain", map[string]string{"Accept-Encoding": "gzip", "Sec-Fetch-Site": "same-site"}, false},
		{"no fetch metadata", map[string]string{"Accept-Encoding": "gzip"}, false},
		{"no gzip", map[string]string{"Sec-Fetch-Site": "same-origin"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := a.fetch(t, "/projects", tc.headers)
			if w.status != http.StatusOK {
				t.Fatalf("status %d", w.status)
			}
			if got := w.header.Get("Content-Encoding") == "gzip"; got != tc.gzipped {
				t.Errorf("gzipped = %t, want %t", got, tc.gzipped)
			}
			if !varies(w.header, "Accept-Encoding") || !varies(w.header, "Sec-Fetch-Site") {
				t.Errorf("Vary = %q, want Accept-Encoding and Sec-Fetch-Site", w.header.Values("Vary"))
			}
			if !bytes.Contains(w.plain(t), []byte(`data-testid="project-row"`)) {
				t.Errorf("body is not the projects page")
			}
		})
	}
}

// TestAssetsServedPrecompressed checks the build-time gzip copies go out to
// browsers that take gzip, and the originals to the rest.
func TestAssetsServedPrecompressed(t *testing.T) {
	a := newTestApp(t)
	src, err := static.Files.ReadFile("vendor/pico-2.1.1.min.css")
	if err != nil {
		t.Fatal(err)
	}
	url := static.URL("vendor/pico-2.1.1.min.css")
	cases := []struct {
		accept  string
		gzipped bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"*", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	}
	for _, tc := range cases {
		w := a.fetch(t, url, map[string]string{"Accept-Encoding": tc.accept})
		if got := w.header.Get("Content-Encoding") == "gzip"; got != tc.gzipped {
			t.Errorf("Accept-Encoding %q: gzipped = %t, want %t", tc.accept, got, tc.gzipped)
		}
		if !bytes.Equal(w.plain(t), src) {
			t.Errorf("Accept-Encoding %q: body differs from the asset", tc.accept)
		}
		if !varies(w.header, "Accept-Encoding") || w.header.Get("Content-Type") != "text/css; charset=utf-8" {
			t.Errorf("Accept-Encoding %q: Vary %q, Content-Type %q", tc.accept, w.header.Values("Vary"), w.header.Get("Content-Type"))
		}
		if tc.gzipped && len(w.body) > len(src)/4 {
			t.Errorf("sent %d of %d bytes, want the gzip copy", len(w.body), len(src))
		}
	}
}

// TestFirstViewTransfer loads the projects page as a browser's first visit
// would, with every stylesheet, script and icon it links, and counts the
// bytes on the wire.
func TestFirstViewTransfer(t *testing.T) {
	a := newTestApp(t)
	browser := map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd", "Sec-Fetch-Site": "none"}
	page := a.fetch(t, "/", browser)
	if page.status != http.StatusOK {
		t.Fatalf("GET /: %d", page.status)
	}
	total, plain := len(page.body), len(page.plain(t))
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page.plain(t)))
	if err != nil {
		t.Fatal(err)
	}
	browser["Sec-Fetch-Site"] = "same-origin"
	var links []string
	doc.Find(`link[rel="stylesheet"], link[rel="icon"], script[src]`).Each(func(_ int, s *goquery.Selection) {
		links = append(links, s.AttrOr("href", s.AttrOr("src", "")))
	})
	for _, l := range links {
		w := a.fetch(t, l, browser)
		if w.status != http.StatusOK {
			t.Errorf("GET %s: %d", l, w.status)
		}
		total += len(w.body)
		plain += len(w.plain(t))
	}
	t.Logf("first view: %d requests, %d bytes on the wire (%d uncompressed)", 1+len(links), total, plain)
	if len(links) < 5 || total > 60<<10 {
		t.Errorf("first view: %d linked assets, %d bytes on the wire; want all of them in at most 60 KB", len(links), total)
	}
}

// TestFavicon serves the icon where browsers look for it.
func TestFavicon(t *testing.T) {
	a := newTestApp(t)
	want, err := static.Files.ReadFile("favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	w := a.fetch(t, "/favicon.ico", nil)
	if w.status != http.StatusOK || w.header.Get("Content-Type") != "image/x-icon" || !bytes.Equal(w.body, want) {
		t.Fatalf("GET /favicon.ico: %d %q, %d bytes; want the icon", w.status, w.header.Get("Content-Type"), len(w.body))
	}
	if cc := w.header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q: an unhashed URL must not be cached forever", cc)
	}
}
