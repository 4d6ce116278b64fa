package browsertest

import (
	"context"
	"fmt"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// record keeps uncaught exceptions and console errors: a page that throws or
// breaks its content security policy is broken even if it looks right. The
// browser's own reports, such as a CSP violation, come as log entries, which
// chromedp.Console includes.
func (b *Browser) record(messages iter.Seq2[chromedp.ConsoleMessage, error]) {
	for m, err := range messages {
		if err != nil {
			return // the tab is closing
		}
		if n, ok := syncMark(m); ok {
			b.mu.Lock()
			b.seen = max(b.seen, n)
			close(b.seenNext)
			b.seenNext = make(chan struct{})
			b.mu.Unlock()
			continue
		}
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		// 4xx answers belong to the flows under test (422 for a bad form);
		// the steps check what the page shows instead.
		if m.Source == "network" && clientError.MatchString(m.Text) {
			continue
		}
		p := fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1)
		b.mu.Lock()
		if slices.ContainsFunc(b.tolerate, func(re *regexp.Regexp) bool { return re.MatchString(p) }) {
			b.tolerated = append(b.tolerated, p)
		} else {
			b.problems = append(b.problems, p)
		}
		b.mu.Unlock()
	}
}

var clientError = regexp.MustCompile(`status of 4\d\d`)

// Problems returns the JavaScript exceptions and console errors seen so far,
// including those already reported as a failure.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

// Tolerate lets console errors matching re pass for the rest of the test:
// what the browser reports about something the test brings about on purpose
// and the page then handles, such as a request the browser refuses to follow
// to another origin. The end of the test logs them.
func (b *Browser) Tolerate(re *regexp.Regexp) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tolerate = append(b.tolerate, re)
}

// syncPrefix starts the console messages sync writes.
const syncPrefix = "browsertest: console mark "

// syncMark reads the number of a mark sync wrote.
func syncMark(m chromedp.ConsoleMessage) (int, bool) {
	rest, ok := strings.CutPrefix(m.Text, syncPrefix)
	if !ok || m.Type != chromedp.ConsoleDebug || m.Source != "" {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// sync returns once record has read every console message the page wrote
// before now. Messages arrive as events, apart from the answers to the steps'
// commands, so a step can end before its errors are in. The page writes a
// numbered mark to the console; the browser sends its messages in order, so
// once record has read the mark it has read everything before it.
func (b *Browser) sync(ctx context.Context) error {
	b.mu.Lock()
	b.marks++
	n := b.marks
	b.mu.Unlock()
	mark := chromedp.Evaluate[chromedp.Void](fmt.Sprintf("void console.debug(%q)", syncPrefix+strconv.Itoa(n)))
	for {
		_, err := chromedp.Run(ctx, mark)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("write a mark to the console: %w", err)
		}
		// The page was between two documents (a reload, a form posted
		// without htmx); write the mark in the next one.
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	for {
		b.mu.Lock()
		seen, next := b.seen, b.seenNext
		b.mu.Unlock()
		if seen >= n {
			return nil
		}
		select {
		case <-next:
		case <-ctx.Done():
			return fmt.Errorf("wait for console mark %d: %w", n, ctx.Err())
		}
	}
}

// unreported returns the problems not reported yet and counts them as
// reported.
func (b *Browser) unreported() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := slices.Clone(b.problems[b.reported:])
	b.reported = len(b.problems)
	return p
}

// checkConsole fails the test at step if the page reported an error since the
// last check. Every step ends with it, so the failure names the step that
// broke the page, whatever the test goes on to check.
func (b *Browser) checkConsole(step string) {
	b.t.Helper()
	ctx, cancel := context.WithDeadline(b.ctx, b.deadline)
	defer cancel()
	if err := b.sync(ctx); err != nil {
		b.Fail(step+": read the browser console", err)
	}
	if p := b.unreported(); len(p) > 0 {
		b.Fail(step, fmt.Errorf("the browser reported %d error(s):\n%s", len(p), listProblems(p)))
	}
}

// checkConsoleAtEnd reports what the page wrote after the last step: a late
// answer's error, a timer's exception. It has its own deadline, so it also
// runs after the budget is spent.
func (b *Browser) checkConsoleAtEnd() {
	if b.t.Skipped() {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := b.sync(ctx); err != nil {
		if b.t.Failed() {
			b.t.Logf("could not read the browser console at the end of the test: %v", err)
		} else {
			b.t.Errorf("could not read the browser console at the end of the test: %v", err)
		}
	}
	if p := b.unreported(); len(p) > 0 {
		b.t.Errorf("the browser reported %d error(s) after the last step:\n%s", len(p), listProblems(p))
	}
	b.mu.Lock()
	tolerated := slices.Clone(b.tolerated)
	b.mu.Unlock()
	if len(tolerated) > 0 {
		b.t.Logf("the browser reported %d error(s) the test expects:\n%s", len(tolerated), listProblems(tolerated))
	}
}

// listProblems lists problems one a line, in order, each once with how
// many times it came: a swap breaking the CSP does so once per element.
func listProblems(problems []string) string {
	var order []string
	count := map[string]int{}
	for _, p := range problems {
		if count[p] == 0 {
			order = append(order, p)
		}
		count[p]++
	}
	var sb strings.Builder
	for _, p := range order {
		sb.WriteString("  " + p)
		if n := count[p]; n > 1 {
			fmt.Fprintf(&sb, " (%d times)", n)
		}
		sb.WriteString("\n")
	}
	return strings.TrimSuffix(sb.String(), "\n")
}
