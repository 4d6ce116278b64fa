package browsertest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestAxeIsPinned(t *testing.T) {
	sum := sha256.Sum256([]byte(axeSource))
	if got := hex.EncodeToString(sum[:]); got != axeSHA256 {
		t.Errorf("testdata/axe/axe.min.js has sha256 %s, want %s (update the README and the constants together)", got, axeSHA256)
	}
	if !strings.HasPrefix(axeSource, "/*! axe v"+axeVersion+"\n") {
		t.Errorf("testdata/axe/axe.min.js does not start with the banner of axe v%s", axeVersion)
	}
}

// schemePage is a page under the dashboard's kind of CSP that passes in the
// light scheme and breaks contrast in the dark one. Its .fade paragraph
// passes in both once its colour transition ends, but not halfway through.
func schemePage(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>Schemes</title>
<meta name="color-scheme" content="light dark"><link rel="stylesheet" href="/s.css"></head>
<body><main><h1>Schemes</h1><p class="bad">Low contrast when dark</p><p class="fade">Fades to white when dark</p>
<label for="name">Name</label><input id="name"><input data-testid="unlabelled"></main></body></html>`)
	})
	mux.HandleFunc("GET /clean", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>Clean</title></head><body><main><h1>Clean</h1></main></body></html>`)
	})
	mux.HandleFunc("GET /s.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, `body { background: #fff; color: #000; }
.bad { color: #444; }
.fade { color: #000; transition: color 3s linear; }
@media (prefers-color-scheme: dark) {
  body { background: #000; color: #fff; }
  .fade { color: #fff; }
}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestCheckAccessibilityFindsSchemeProblems checks that the audit sees what
// only one scheme breaks, waits out transitions, names the elements, and
// injects axe without tripping the page's CSP.
func TestCheckAccessibilityFindsSchemeProblems(t *testing.T) {
	srv := schemePage(t)
	b := New(t, Options{Budget: 60 * time.Second})
	b.Run("load", chromedp.Navigate(srv.URL+"/"), Visible(TestID("unlabelled")))

	want := map[Scheme][]string{Light: {"label"}, Dark: {"color-contrast", "label"}}
	for _, s := range Schemes {
		a := b.Axe("audit", s)
		var ids []string
		for _, v := range a.Violations {
			ids = append(ids, v.ID)
			if v.Impact == "" || v.Help == "" || len(v.Nodes) == 0 {
				t.Errorf("%s: violation %s lacks its impact, help or elements: %+v", s, v.ID, v)
			}
			if v.ID == "color-contrast" {
				if len(v.Nodes) != 1 || v.Nodes[0].Selector != ".bad" {
					t.Errorf("%s: color-contrast elements = %+v, want only .bad (not .fade mid-transition)", s, v.Nodes)
				}
			}
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want[s]) {
			t.Errorf("%s: violations %q, want %q\n%s", s, ids, want[s], a)
		}
		if a.Rules < 40 {
			t.Errorf("%s: only %d rules ran for tags %q", s, a.Rules, WCAGTags)
		}
		if s == Dark && !strings.Contains(a.String(), `<p class="bad">`) {
			t.Errorf("the report does not quote the element's markup:\n%s", a)
		}
	}
	if p := b.Problems(); len(p) != 0 {
		t.Errorf("auditing made the page report problems: %q", p)
	}
}

// TestCheckAccessibilityFailsTheTest runs the checker inside a test of its
// own and expects that test to fail, and a clean page to pass.
func TestCheckAccessibilityFailsTheTest(t *testing.T) {
	srv := schemePage(t)
	for _, tc := range []struct {
		name, path string
		fail       bool
	}{{"broken page", "/", true}, {"clean page", "/clean", false}} {
		t.Run(tc.name, func(t *testing.T) {
			var b *Browser
			inner := runInner(t, func(inner *recordingT) {
				b = New(inner, Options{Budget: 60 * time.Second})
				b.Run("load", chromedp.Navigate(srv.URL+tc.path))
				b.CheckAccessibility(tc.name)
			})
			if inner.failed != tc.fail {
				t.Errorf("test failed = %v, want %v; errors:\n%s", inner.failed, tc.fail, strings.Join(inner.errors, "\n"))
			}
			if tc.fail && !strings.Contains(strings.Join(inner.errors, "\n"), "color-contrast (serious)") {
				t.Errorf("the failure does not name the rule and impact:\n%s", strings.Join(inner.errors, "\n"))
			}
			if got := b.Audited(); !slices.Equal(got, []string{tc.name}) {
				t.Errorf("Audited() = %q", got)
			}
		})
	}
}
