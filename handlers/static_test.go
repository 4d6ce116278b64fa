package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/neonauth-admin/dashboard/static"
)

func TestStaticAssets(t *testing.T) {
	srv := httptest.NewServer((&Handler{}).Echo())
	defer srv.Close()

	cases := []struct {
		name        string
		path        string
		status      int
		contentType string
		contains    string
	}{
		{"hashed css", static.URL("app.css"), http.StatusOK, "text/css; charset=utf-8", ".danger-zone"},
		{"hashed js", static.URL("app.js"), http.StatusOK, "text/javascript; charset=utf-8", "X-CSRF-Token"},
		{"hashed htmx", static.URL("vendor/htmx-2.0.11.min.js"), http.StatusOK, "text/javascript; charset=utf-8", "htmx"},
		{"unhashed name", "/static/app.css", http.StatusNotFound, "", ""},
		{"stale hash", "/static/app.000000000000.css", http.StatusNotFound, "", ""},
		{"traversal", "/static/../go.mod", http.StatusNotFound, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status {
				t.Fatalf("GET %s = %d, want %d", tc.path, res.StatusCode, tc.status)
			}
			if tc.status != http.StatusOK {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q", got)
			}
			if !strings.Contains(string(body), tc.contains) {
				t.Errorf("body lacks %q", tc.contains)
			}
		})
	}
}
