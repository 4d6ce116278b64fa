package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// page serves a document whose script changes it a little later, echoes the
// extra request header, and throws once on /throw.
func page(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><body>
<p data-testid="who">%s</p>
<p data-testid="state" data-state="pending">pending</p>
<p data-testid="doomed">bye</p>
<script src="/app.js"></script>
</body></html>`, r.Header.Get("X-Forwarded-Email"))
	})
	mux.HandleFunc("GET /csp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "script-src 'self'")
		fmt.Fprint(w, `<!doctype html><html><body><p data-testid="state">pending</p><p data-testid="doomed">bye</p>
<script>document.title = "inline ran";</script><script src="/app.js"></script></body></html>`)
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `setTimeout(function () {
  var s = document.querySelector('[data-testid="state"]');
  s.setAttribute("data-state", "done"); s.textContent = "all done";
  document.querySelector('[data-testid="doomed"]').remove();
  if (location.pathname === "/throw") { throw new Error("boom"); }
}, 100);`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserWaitsAndSendsHeaders(t *testing.T) {
	srv := page(t)
	b := New(t, Options{Headers: map[string]string{"X-Forwarded-Email": "ada@example.com"}, Budget: 30 * time.Second})
	b.Run("load",
		chromedp.Navigate(srv.URL+"/"),
		WaitAttr(TestID("state"), "data-state", "done"),
		WaitText(TestID("state"), "all done"),
		WaitGone(TestID("doomed")),
	)
	if got := Get(b, "read header echo", chromedp.TextContent(TestID("who"))); got != "ada@example.com" {
		t.Errorf("the page saw X-Forwarded-Email %q, want ada@example.com", got)
	}
	if !strings.Contains(b.HTML(), `data-state="done"`) {
		t.Error("HTML does not reflect the script's change")
	}
	if p := b.Problems(); len(p) != 0 {
		t.Errorf("problems on a clean page: %q", p)
	}
}

// TestBrowserRecordsProblems checks that what breaks a page without changing
// its markup is caught: an uncaught exception, a script the CSP blocks.
func TestBrowserRecordsProblems(t *testing.T) {
	srv := page(t)
	for _, tc := range []struct{ path, want string }{
		{"/throw", "boom"},
		{"/csp", "Content Security Policy"},
	} {
		t.Run(strings.TrimPrefix(tc.path, "/"), func(t *testing.T) {
			b := New(t, Options{Budget: 30 * time.Second})
			b.Run("load", chromedp.Navigate(srv.URL+tc.path), WaitGone(TestID("doomed")))
			// Console messages arrive as events, after the page changed; ask
			// the page something until they are in.
			for len(b.Problems()) == 0 && time.Now().Before(b.deadline) {
				b.Run("let events arrive", chromedp.Evaluate[chromedp.Void](`0`))
			}
			p := b.Problems()
			if len(p) != 1 || !strings.Contains(p[0], tc.want) {
				t.Errorf("problems = %q, want one mentioning %q", p, tc.want)
			}
		})
	}
}

func TestSaveArtifacts(t *testing.T) {
	srv := page(t)
	b := New(t, Options{Budget: 30 * time.Second})
	b.Run("load", chromedp.Navigate(srv.URL+"/"), WaitGone(TestID("doomed")))
	base := strings.TrimSuffix(b.SaveArtifacts("after load"), ".{png,html}")
	if !strings.HasSuffix(filepath.Base(base), "-after-load") {
		t.Errorf("artifact name %q does not carry the step", base)
	}
	png, err := os.ReadFile(base + ".png")
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("screenshot: %v (%d bytes)", err, len(png))
	}
	html, err := os.ReadFile(base + ".html")
	if err != nil || !strings.Contains(string(html), "all done") || !strings.Contains(string(html), srv.URL) {
		t.Errorf("html: %v\n%s", err, html)
	}
}
