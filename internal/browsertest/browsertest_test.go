package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// page serves a document whose script changes it a little later, echoes the
// extra request header, and on some paths breaks the page as it does so. On
// "/" the change comes by itself, elsewhere after a click on the state.
func page(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	doc := `<!doctype html><html><body>
<p data-testid="who">%s</p>
<p data-testid="state" data-state="pending">pending</p>
<p data-testid="doomed">bye</p>
<script src="/app.js"></script>
</body></html>`
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, doc, r.Header.Get("X-Forwarded-Email"))
	})
	// The dashboard's kind of CSP: no inline script, no inline style.
	mux.HandleFunc("GET /style", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "script-src 'self'; style-src 'self'")
		fmt.Fprintf(w, doc, "")
	})
	mux.HandleFunc("GET /csp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "script-src 'self'")
		fmt.Fprint(w, `<!doctype html><html><body><p data-testid="state">pending</p><p data-testid="doomed">bye</p>
<script>document.title = "inline ran";</script><script src="/app.js"></script></body></html>`)
	})
	mux.HandleFunc("POST /refused", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused", http.StatusUnprocessableEntity)
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `function change() {
  setTimeout(async function () {
    var s = document.querySelector('[data-testid="state"]');
    if (location.pathname === "/style") { s.setAttribute("style", "color: red"); }
    if (location.pathname === "/refused") { await fetch("/refused", {method: "POST"}); }
    s.setAttribute("data-state", "done"); s.textContent = "all done";
    document.querySelector('[data-testid="doomed"]').remove();
    if (location.pathname === "/throw") { throw new Error("boom"); }
  }, 100);
}
if (location.pathname === "/") { change(); } else { document.addEventListener("click", change, {once: true}); }`)
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

// TestBrowserFailsTheStep checks that what breaks a page without changing
// its markup fails the test at the step it happened in: an uncaught
// exception, a script the CSP blocks, an inline style the CSP refuses (the
// browser reports that one itself, as a log entry). An answer of 422 to a
// request the page makes is the page's business, as a refused form is, and
// so is an error the test tolerates, but only that one.
func TestBrowserFailsTheStep(t *testing.T) {
	srv := page(t)
	const click = "click and wait for the page's script"
	for _, tc := range []struct{ name, path, tolerate, step, want string }{
		{"throw", "/throw", "", click, "boom"},
		{"csp", "/csp", "", "load", "Content Security Policy"},
		{"style", "/style", "", click, "Applying inline style violates the following Content Security Policy directive 'style-src 'self''"},
		{"refused", "/refused", "", "", ""},
		{"style tolerated", "/style", "style-src", "", ""},
		{"throw not tolerated", "/throw", "style-src", click, "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wentOn := false
			inner := runInner(t, func(inner *recordingT) {
				b := New(inner, Options{Budget: 30 * time.Second})
				if tc.tolerate != "" {
					b.Tolerate(regexp.MustCompile(tc.tolerate))
				}
				b.Run("load", chromedp.Navigate(srv.URL+tc.path))
				// The error comes a little after the click, before the
				// change the step waits for.
				b.Run(click, chromedp.Click(TestID("state")), WaitGone(TestID("doomed")))
				wentOn = true
			})
			errs := strings.Join(inner.errors, "\n")
			if tc.want == "" {
				if inner.failed || !wentOn {
					t.Errorf("the test failed:\n%s", errs)
				}
				return
			}
			if !inner.failed || !strings.Contains(errs, tc.step+": the browser reported 1 error(s)") || !strings.Contains(errs, tc.want) {
				t.Errorf("failed = %v with errors:\n%s\nwant one at step %q mentioning %q", inner.failed, errs, tc.step, tc.want)
			}
			if wentOn {
				t.Error("the test went on after the step that broke the page")
			}
		})
	}
}

// TestBrowserChecksTheConsoleAtTheEnd checks that an error after the last
// step still fails the test: the page breaks its CSP outside any step, and
// the test ends.
func TestBrowserChecksTheConsoleAtTheEnd(t *testing.T) {
	srv := page(t)
	inner := runInner(t, func(inner *recordingT) {
		b := New(inner, Options{Budget: 30 * time.Second})
		b.Run("load", chromedp.Navigate(srv.URL+"/style"))
		// Straight through the tab, as a late answer or a timer would.
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("style", "color: blue")`)); err != nil {
			inner.Fatalf("set the style: %v", err)
		}
	})
	errs := strings.Join(inner.errors, "\n")
	if !inner.failed || !strings.Contains(errs, "after the last step") || !strings.Contains(errs, "style-src") {
		t.Errorf("failed = %v with errors:\n%s\nwant the CSP violation after the last step", inner.failed, errs)
	}
}

// recordingT keeps failures to itself, so a test can check that a failure is
// reported without failing. Its Fatal ends the goroutine, as a real test's
// does, so runInner runs the inner test on a goroutine of its own.
type recordingT struct {
	testing.TB
	mu       sync.Mutex
	failed   bool
	errors   []string
	cleanups []func()
}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingT) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recordingT) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func (r *recordingT) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recordingT) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// runInner runs body as a test of its own, then its cleanups last first,
// each on its own goroutine so one that fails does not skip the others.
func runInner(t *testing.T, body func(inner *recordingT)) *recordingT {
	inner := &recordingT{TB: t}
	run := func(f func()) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			f()
		}()
		<-done
	}
	run(func() { body(inner) })
	for i := len(inner.cleanups) - 1; i >= 0; i-- {
		run(inner.cleanups[i])
	}
	return inner
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
