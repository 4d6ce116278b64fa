package main

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// trigger is an htmx fragment a browser fetches by itself once its element
// is on the page.
type trigger struct {
	url   string        // path and query on the dashboard
	delay time.Duration // hx-trigger="load delay:..."; 0 for at once
}

// Bounds on what one page loads by itself.
const (
	// viewportRows is how many elements triggered by scrolling into view
	// (intersect, revealed) a browser window shows at first.
	viewportRows = 6
	// maxFragments caps the fragments of one answer.
	maxFragments = 200
)

// fragmentKind tells the readiness badges from the other fragments.
func fragmentKind(path string) string {
	if strings.Contains(path, "/readiness/badge") {
		return kindBadge
	}
	return kindFragment
}

// loadTriggers lists what a browser fetches by itself after the answer body
// to path is swapped in: elements with hx-get whose hx-trigger fires on
// load, and, of those that fire when scrolled into view, the first
// viewportRows. Elements without hx-trigger wait for a click.
func loadTriggers(body []byte, path string) []trigger {
	if len(body) == 0 {
		return nil
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil
	}
	var out []trigger
	inView := 0
	doc.Find("[hx-get]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		load, delay, viewport := parseTrigger(s.AttrOr("hx-trigger", ""))
		u, ok := resolve(path, s.AttrOr("hx-get", ""))
		switch {
		case !ok:
		case viewport && inView < viewportRows:
			inView++
			out = append(out, trigger{url: u})
		case load && !viewport:
			out = append(out, trigger{url: u, delay: delay})
		}
		return len(out) < maxFragments
	})
	return out
}

// parseTrigger reads an hx-trigger value: whether one of its triggers is
// load (and its delay), or fires when the element scrolls into view.
func parseTrigger(spec string) (load bool, delay time.Duration, viewport bool) {
	for part := range strings.SplitSeq(spec, ",") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		event, _, _ := strings.Cut(fields[0], "[") // drop an event filter
		switch event {
		case "intersect", "revealed":
			viewport = true
		case "load":
			load = true
			for _, m := range fields[1:] {
				if v, ok := strings.CutPrefix(m, "delay:"); ok {
					delay = htmxDuration(v)
				}
			}
		}
	}
	return load, delay, viewport
}

// htmxDuration reads an htmx time: "500ms", "2s", or bare milliseconds.
func htmxDuration(v string) time.Duration {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Millisecond
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// resolve makes ref, found on the page at path, a path and query on the
// dashboard; false for another origin or no URL at all.
func resolve(path, ref string) (string, bool) {
	if strings.TrimSpace(ref) == "" {
		return "", false
	}
	base, err := url.Parse(path)
	if err != nil {
		return "", false
	}
	r, err := url.Parse(ref)
	if err != nil || r.Host != "" || (r.Scheme != "" && r.Scheme != "http" && r.Scheme != "https") {
		return "", false
	}
	return base.ResolveReference(r).RequestURI(), true
}

// gist is what an error page says, in a line: its alerts (the API error
// boxes) when it has any, else its title, else the start of its text.
func gist(body []byte) string {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	text := spacedText(doc.Find(`[role="alert"]`).First())
	if text == "" {
		text = spacedText(doc.Find("title").First())
	}
	if text == "" {
		text = spacedText(doc.Selection)
	}
	if r := []rune(text); len(r) > 200 {
		text = string(r[:200]) + "…"
	}
	return text
}

// spacedText is the text of sel with its elements' texts apart and runs of
// space made one.
func spacedText(sel *goquery.Selection) string {
	var words []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode {
			words = append(words, strings.Fields(n.Data)...)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range sel.Nodes {
		walk(n)
	}
	return strings.Join(words, " ")
}
