// Package browsertest drives headless Chromium with chromedp for end-to-end
// tests. It finds the browser (skipping locally, failing under CI when it is
// missing, like pgtest does for Postgres), starts it with a throw-away profile,
// fails the test on any JavaScript error or console error, after the step
// that caused it, and keeps a screenshot and the page HTML of any step that
// fails.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian installs Chromium.
const DefaultPath = "/usr/bin/chromium"

// Chromium returns the path of the Chromium binary: CHROMIUM_PATH, else
// DefaultPath, else chromium or chromium-browser on PATH. Without one the test
// skips, or fails when CI is set: CI must never pass by skipping.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	if _, err := os.Stat(DefaultPath); err == nil {
		return DefaultPath
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not found; install it (apt-get install chromium) or set CHROMIUM_PATH"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Options configure a Browser.
type Options struct {
	// Headers are sent with every request the page makes, as an
	// authenticating proxy in front of the server would add them.
	Headers map[string]string
	// Budget bounds all steps together; zero means one minute.
	Budget time.Duration
	// Width and Height are the window size; zero means 1280×900.
	Width, Height int
}

// Browser is one headless Chromium tab, closed when the test ends.
type Browser struct {
	t        testing.TB
	ctx      context.Context
	deadline time.Time
	saved    int

	mu       sync.Mutex
	problems []string
	reported int // problems already reported as a failure
	// tolerate matches the errors a test expects; tolerated keeps them for
	// the test's log.
	tolerate  []*regexp.Regexp
	tolerated []string
	audited   []string
	// marks counts the console marks sync has written; seen is the last
	// one record has read, and seenNext is closed when it reads another.
	marks    int
	seen     int
	seenNext chan struct{}
}

// New starts Chromium with a fresh profile and opens a blank tab.
func New(t testing.TB, opts Options) *Browser {
	t.Helper()
	path := Chromium(t)
	if opts.Budget == 0 {
		opts.Budget = time.Minute
	}
	if opts.Width == 0 || opts.Height == 0 {
		opts.Width, opts.Height = 1280, 900
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(opts.Width, opts.Height),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	// Closing the tab, then the allocator, waits for the browser to exit, so
	// the profile directory is no longer in use when TempDir removes it.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &Browser{t: t, ctx: ctx, deadline: time.Now().Add(opts.Budget), seenNext: make(chan struct{})}

	// The first call starts the browser; it must not carry a deadline, which
	// would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	go b.record(chromedp.Console(ctx))
	// Registered after the tab's cleanup, so it runs first, with the page
	// still there.
	t.Cleanup(b.checkConsoleAtEnd)
	if len(opts.Headers) > 0 {
		b.SetHeaders(opts.Headers)
	}
	return b
}

// SetHeaders replaces the extra headers every later request carries; an
// empty map sends none. A test switches who the proxy signs in this way.
func (b *Browser) SetHeaders(headers map[string]string) {
	b.t.Helper()
	h := network.Headers{}
	for k, v := range headers {
		h[k] = v
	}
	b.Run("set request headers", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h})
		return err
	}))
}

// Run performs one named step within what is left of the budget. If it fails,
// or the page reports an error meanwhile, the page's screenshot and HTML are
// saved and the test stops.
func (b *Browser) Run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	numbered := make([]chromedp.Action[chromedp.Void], len(actions))
	for i, a := range actions {
		numbered[i] = func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			v, err := a(ctx, t)
			if err != nil && len(actions) > 1 {
				err = fmt.Errorf("action %d of %d: %w", i+1, len(actions), err)
			}
			return v, err
		}
	}
	Get(b, step, chromedp.Steps(numbered...))
}

// Follow performs actions that load a new page (a click on a link, a form
// posted without htmx, a navigation), waits until it has loaded, and fails
// the test unless the page answered with status and loaded without errors.
func (b *Browser) Follow(step string, status int64, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithDeadline(b.ctx, b.deadline)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.Fail(step, err)
	}
	if res.Status != status {
		b.Fail(step, fmt.Errorf("%s answered %d %s, want %d", res.URL, res.Status, res.StatusText, status))
	}
	b.checkConsole(step)
}

// Get runs one named action that returns a value, as Run does.
func Get[T any](b *Browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	// A deadline derived from the tab's context ends the action, not the tab,
	// so the page is still there to be saved after a timeout.
	ctx, cancel := context.WithDeadline(b.ctx, b.deadline)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.Fail(step, err)
	}
	b.checkConsole(step)
	return v
}

// Fail saves the page and stops the test with step's error.
func (b *Browser) Fail(step string, err error) {
	b.t.Helper()
	where := b.SaveArtifacts(step)
	b.t.Fatalf("%s: %v\n(page saved as %s)", step, err, where)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// SaveArtifacts writes a full-page screenshot and the current HTML to the
// test's artifact directory (kept with go test -artifacts) and returns their
// path without extension. It has its own short deadline, so it works after a
// step ran out of time.
func (b *Browser) SaveArtifacts(name string) string {
	b.t.Helper()
	b.saved++
	base := filepath.Join(artifactDir(b.t), fmt.Sprintf("%02d-%s", b.saved, unsafeName.ReplaceAllString(name, "-")))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Logf("could not read the page's location: %v", err)
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err != nil {
		b.t.Logf("could not read the page's html: %v", err)
	} else if err := os.WriteFile(base+".html", []byte("<!-- "+url+" -->\n"+html), 0o644); err != nil {
		b.t.Logf("save html: %v", err)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		b.t.Logf("could not take a screenshot: %v", err)
	} else if err := os.WriteFile(base+".png", png, 0o644); err != nil {
		b.t.Logf("save screenshot: %v", err)
	}
	b.mu.Lock()
	p := slices.Clone(b.problems[b.reported:])
	b.mu.Unlock()
	if len(p) > 0 {
		b.t.Logf("browser console errors not reported yet:\n%s", listProblems(p))
	}
	return base + ".{png,html}"
}

// artifactDir is the test's artifact directory where the test type has one,
// else a temporary directory.
func artifactDir(t testing.TB) string {
	if a, ok := t.(interface{ ArtifactDir() string }); ok {
		return a.ArtifactDir()
	}
	return t.TempDir()
}

// Screenshot writes a PNG of the whole page to path.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	png := Get(b, "screenshot "+filepath.Base(path), chromedp.FullScreenshot(100))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// HTML returns the current document's markup.
func (b *Browser) HTML() string {
	b.t.Helper()
	return Get(b, "read the page html", chromedp.OuterHTML(chromedp.CSS("html")))
}

// TestID selects elements by their data-testid attribute.
func TestID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id)) }

// WaitText waits until the first element matching the CSS selector sel exists
// and its text contains text.
func WaitText(sel chromedp.CSS, text string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf("%s to contain %q", sel, text),
		fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.textContent.includes(%q); })()`, string(sel), text))
}

// WaitAttr waits until the first element matching sel has attribute name set
// to value.
func WaitAttr(sel chromedp.CSS, name, value string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf("%s to have %s=%q", sel, name, value),
		fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.getAttribute(%q) === %q; })()`, string(sel), name, value))
}

// WaitGone waits until nothing matches sel.
func WaitGone(sel chromedp.CSS) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf("%s to go away", sel), fmt.Sprintf(`document.querySelector(%q) === null`, string(sel)))
}

// waitJS polls a predicate until it holds; the step's deadline bounds it.
// A poll runs inside one document, so when the page navigates (htmx following
// a redirect, say) it starts again in the new one.
func waitJS(what, predicate string) chromedp.Action[chromedp.Void] {
	p := chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			_, err := p(ctx, t)
			if err == nil {
				return chromedp.Void{}, nil
			}
			if ctx.Err() != nil {
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", what, err)
			}
			// The document went away under the poll; wait for the next one.
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// Visible is chromedp.WaitVisible with the selector in its error.
func Visible(sel chromedp.CSS) chromedp.Action[chromedp.Void] {
	w := chromedp.WaitVisible(sel)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := w(ctx, t); err != nil {
			return chromedp.Void{}, fmt.Errorf("waiting for %s to be visible: %w", sel, err)
		}
		return chromedp.Void{}, nil
	}
}
