package browsertest

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored for tests only (testdata/axe/README.md
// says where it comes from). It lives here rather than under static/ so the
// dashboard never serves it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// The vendored axe-core's version and the sha256 of axe.min.js, checked by
// TestAxeIsPinned.
const (
	axeVersion = "4.14.1"
	axeSHA256  = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
)

// WCAGTags select the axe rules every audit runs: WCAG 2.0 and 2.1, levels A
// and AA.
var WCAGTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// Scheme is a value of the prefers-color-scheme media feature.
type Scheme string

// The colour schemes the dashboard styles; an audit covers both.
const (
	Light Scheme = "light"
	Dark  Scheme = "dark"
)

// Schemes is every scheme CheckAccessibility audits, in order.
var Schemes = []Scheme{Light, Dark}

// Audit is what one axe run found on a page in one colour scheme.
type Audit struct {
	Scheme Scheme `json:"-"`
	// Rules is how many rules ran (passed, failed, incomplete or not
	// applicable to anything on the page).
	Rules      int         `json:"rules"`
	Violations []Violation `json:"violations"`
}

// Violation is one axe rule the page breaks, with every element that breaks it.
type Violation struct {
	ID      string          `json:"id"`
	Impact  string          `json:"impact"`
	Help    string          `json:"help"`
	HelpURL string          `json:"helpUrl"`
	Nodes   []ViolationNode `json:"nodes"`
}

// ViolationNode is one offending element: a CSS selector that finds it, its
// opening markup, and axe's explanation (for contrast, the measured ratio).
type ViolationNode struct {
	Selector string `json:"selector"`
	HTML     string `json:"html"`
	Summary  string `json:"summary"`
}

// Elements counts the offending elements over all violations.
func (a Audit) Elements() int {
	n := 0
	for _, v := range a.Violations {
		n += len(v.Nodes)
	}
	return n
}

// String lists the violations one element per line, the way a person fixing
// them needs them: rule, impact, where, what.
func (a Audit) String() string {
	var sb strings.Builder
	for _, v := range a.Violations {
		fmt.Fprintf(&sb, "  %s (%s): %s\n", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&sb, "    at %s\n      %s\n", n.Selector, n.HTML)
			if s := strings.TrimSpace(n.Summary); s != "" {
				fmt.Fprintf(&sb, "      %s\n", strings.ReplaceAll(s, "\n", "\n      "))
			}
		}
	}
	return sb.String()
}

// runAxe waits for running transitions (the scheme switch animates Pico's
// colours, and a contrast measured halfway is wrong), then audits the whole
// document. Infinite animations, such as a busy spinner, never finish and are
// not waited for.
const runAxe = `(async (tags) => {
	await Promise.all(document.getAnimations()
		.filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
		.map(a => a.finished.catch(() => {})));
	const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
	const selector = (n) => n.target.map(t => Array.isArray(t) ? t.join(" >>> ") : t).join(", ");
	return {
		rules: new Set([...r.passes, ...r.violations, ...r.incomplete, ...r.inapplicable].map(x => x.id)).size,
		violations: r.violations.map(v => ({
			id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
			nodes: v.nodes.map(n => ({selector: selector(n), html: n.html, summary: n.failureSummary || ""})),
		})),
	};
})(%s)`

// Axe audits the current page with axe-core in the given colour scheme and
// returns what it found. The emulated scheme stays on afterwards; SetScheme("")
// clears it.
func (b *Browser) Axe(step string, scheme Scheme) Audit {
	b.t.Helper()
	tags, _ := json.Marshal(WCAGTags)
	b.SetScheme(step, scheme)
	// The page's CSP does not apply to what the DevTools protocol evaluates,
	// so axe goes in without loosening the policy under test.
	b.Run(step+": inject axe", chromedp.Evaluate[chromedp.Void](
		`if (!window.axe) {`+axeSource+"\n}\n;void 0"))
	a := Get(b, step+": run axe", chromedp.Evaluate[Audit](fmt.Sprintf(runAxe, tags), chromedp.EvalAwaitPromise))
	a.Scheme = scheme
	return a
}

// SetScheme emulates prefers-color-scheme; "" removes the emulation.
func (b *Browser) SetScheme(step string, scheme Scheme) {
	b.t.Helper()
	p := emulation.SetEmulatedMediaParams{}
	if scheme != "" {
		p.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: string(scheme)}}
	}
	b.Run(step+": emulate "+cmp.Or(string(scheme), "no")+" colour scheme", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, p)
		return err
	}))
}

// CheckAccessibility audits the current page in every scheme and reports each
// violation as a test error naming the page, scheme, rule, impact and
// elements. The test goes on, so one run lists every page's problems; the
// page is saved for each failing scheme.
func (b *Browser) CheckAccessibility(page string) []Audit {
	b.t.Helper()
	audits := make([]Audit, 0, len(Schemes))
	for _, s := range Schemes {
		a := b.Axe(page+" ("+string(s)+")", s)
		audits = append(audits, a)
		if len(a.Violations) > 0 {
			where := b.SaveArtifacts("a11y " + page + " " + string(s))
			b.t.Errorf("accessibility: %s in the %s scheme: %d rule(s) broken by %d element(s) (page saved as %s):\n%s",
				page, s, len(a.Violations), a.Elements(), where, a)
		}
	}
	b.SetScheme(page, "")
	b.t.Logf("accessibility: %s: %s", page, auditSummary(audits))
	b.mu.Lock()
	b.audited = append(b.audited, page)
	b.mu.Unlock()
	return audits
}

// Audited lists the pages CheckAccessibility has audited, in order.
func (b *Browser) Audited() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.audited...)
}

// auditSummary is one line per page for the test log: violations per scheme
// and how many rules ran.
func auditSummary(audits []Audit) string {
	parts := make([]string, 0, len(audits))
	for _, a := range audits {
		parts = append(parts, fmt.Sprintf("%s %d violation(s)/%d rules", a.Scheme, a.Elements(), a.Rules))
	}
	return strings.Join(parts, ", ")
}
