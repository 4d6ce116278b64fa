package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// browserHeaders make the load look like a person clicking around: gzip
// taken, same-origin navigations.
var browserHeaders = map[string]string{
	"Accept":          "text/html",
	"Accept-Encoding": "gzip",
	"Sec-Fetch-Site":  "same-origin",
}

// requestTimeout bounds one request of the load; a reply slower than this
// counts as failed.
const requestTimeout = 2 * time.Minute

// Kinds of path the report shows apart: the readiness badges the project
// page loads after itself (htmx fragments whose Neon reads are background
// work), and everything else.
const (
	kindPage  = "pages"
	kindBadge = "badges"
)

// kinds in report order.
var kinds = []string{kindPage, kindBadge}

// kindOf is the kind of path.
func kindOf(path string) string {
	if strings.HasSuffix(path, "/badge") {
		return kindBadge
	}
	return kindPage
}

// setHeaders makes a request for path look like the browser's: badges are
// asked for by htmx.
func setHeaders(req *http.Request, path string) {
	for k, v := range browserHeaders {
		req.Header.Set(k, v)
	}
	if kindOf(path) == kindBadge {
		req.Header.Set("HX-Request", "true")
	}
}

// results is what the load saw.
type results struct {
	elapsed  time.Duration
	ok       []time.Duration // 2xx and 3xx answers
	okByPath map[string][]time.Duration
	shed     []time.Duration // 503 with Retry-After: the server said "later" at once
	failed   map[int]int     // other statuses
	empty    int             // connection closed, reset or timed out without an answer
	bytesIn  int64
	firstErr error
	// byKind splits the answers by kindOf their path.
	byKind map[string]*kindResults
}

// kindResults is what the load saw of one kind of path.
type kindResults struct {
	ok, shed []time.Duration
	other    int // other statuses, empty answers and errors
}

func (r *results) kind(path string) *kindResults {
	k := kindOf(path)
	kr := r.byKind[k]
	if kr == nil {
		kr = &kindResults{}
		r.byKind[k] = kr
	}
	return kr
}

func (r *results) total() int {
	n := len(r.ok) + len(r.shed) + r.empty
	for _, c := range r.failed {
		n += c
	}
	return n
}

// hammer runs conns workers, each on its own keep-alive connection, sending
// GETs for paths in turn until duration ends.
func hammer(ctx context.Context, base string, paths []string, conns int, duration time.Duration) *results {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()

	var mu sync.Mutex
	all := newResults()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			local := newResults()
			for i := w; ctx.Err() == nil; i++ {
				one(ctx, client, base, paths[i%len(paths)], local)
			}
			mu.Lock()
			all.merge(local)
			mu.Unlock()
		})
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return all
}

// one sends a request and files its outcome. A request cut short because
// the run ended is not counted.
func one(ctx context.Context, client *http.Client, base, path string, r *results) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	setHeaders(req, path)
	start := time.Now()
	res, err := client.Do(req)
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		r.bytesIn += n
	}
	d := time.Since(start)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		r.empty++
		r.kind(path).other++
		if r.firstErr == nil {
			r.firstErr = err
		}
	case res.StatusCode < 400:
		r.ok = append(r.ok, d)
		r.okByPath[path] = append(r.okByPath[path], d)
		r.kind(path).ok = append(r.kind(path).ok, d)
	case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
		r.shed = append(r.shed, d)
		r.kind(path).shed = append(r.kind(path).shed, d)
	default:
		r.failed[res.StatusCode]++
		r.kind(path).other++
	}
}

func newResults() *results {
	return &results{failed: map[int]int{}, okByPath: map[string][]time.Duration{}, byKind: map[string]*kindResults{}}
}

func (r *results) merge(o *results) {
	r.ok = append(r.ok, o.ok...)
	for p, ds := range o.okByPath {
		r.okByPath[p] = append(r.okByPath[p], ds...)
	}
	r.shed = append(r.shed, o.shed...)
	for k, v := range o.failed {
		r.failed[k] += v
	}
	r.empty += o.empty
	r.bytesIn += o.bytesIn
	for k, theirs := range o.byKind {
		kr := r.byKind[k]
		if kr == nil {
			kr = &kindResults{}
			r.byKind[k] = kr
		}
		kr.ok = append(kr.ok, theirs.ok...)
		kr.shed = append(kr.shed, theirs.shed...)
		kr.other += theirs.other
	}
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
}

// percentile of sorted durations, p in [0, 1].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// timeToRecover asks for path right after the load stopped, every 10ms,
// until a normal answer (2xx) arrives, for at most five minutes.
func timeToRecover(ctx context.Context, base, path string) (time.Duration, error) {
	start := time.Now()
	client := &http.Client{Timeout: 10 * time.Second}
	for time.Since(start) < 5*time.Minute {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		setHeaders(req, path)
		res, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode < 300 {
				return time.Since(start), nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start), errors.New("no normal answer within five minutes")
}

// firstView is a first visit's transfer: the page and everything it links.
type firstView struct {
	requests    int
	wire, plain int
}

// measureFirstView loads the projects page as a browser would on a first
// visit and adds up the bytes of it and its stylesheets, scripts and icons.
func measureFirstView(ctx context.Context, base string) (firstView, error) {
	var fv firstView
	get := func(path, site string) ([]byte, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		req.Header.Set("Sec-Fetch-Site", site)
		res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: time.Minute}).Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		wire, err := io.ReadAll(res.Body)
		if err != nil {
			return nil, err
		}
		plain, err := decode(wire, res.Header.Get("Content-Encoding"))
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		fv.requests++
		fv.wire += len(wire)
		fv.plain += len(plain)
		return plain, nil
	}
	page, err := get("/projects", "none")
	if err != nil {
		return fv, err
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		return fv, err
	}
	var links []string
	doc.Find(`link[rel="stylesheet"], link[rel="icon"][type="image/svg+xml"], script[src]`).Each(func(_ int, s *goquery.Selection) {
		links = append(links, s.AttrOr("href", s.AttrOr("src", "")))
	})
	for _, l := range links {
		if _, err := get(l, "same-origin"); err != nil {
			return fv, err
		}
	}
	return fv, nil
}

func sorted(ds []time.Duration) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s
}
