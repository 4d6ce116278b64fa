package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Kinds of click an admin makes, each a page view.
const (
	kindProjects  = "projects"  // /projects
	kindProject   = "project"   // /projects/{id}, then its branch rows' badges
	kindUsers     = "users"     // a branch's users page
	kindSettings  = "settings"  // one of a branch's settings pages
	kindReadiness = "readiness" // a branch's readiness checklist
	kindCompare   = "compare"   // two branches compared
)

// Kinds of what a page loads after itself, counted apart from page views.
const (
	kindBadge    = "badge"    // a branch row's readiness badge
	kindFragment = "fragment" // any other htmx fragment loaded with its page
)

// pageKinds in report order; -mix weighs them.
var pageKinds = []string{kindProjects, kindProject, kindUsers, kindSettings, kindReadiness, kindCompare}

// kindIndex is k's place in pageKinds; -1 for none.
func kindIndex(k string) int { return slices.Index(pageKinds, k) }

// settingsGroups are the settings pages of a branch (handlers/routes.go).
var settingsGroups = []string{"domains", "sign-in", "email", "plugins", "webhooks", "application"}

// Limits of a browser: connections to one host, and how long a page may
// take before the admin gives up.
const (
	browserConns = 6
	clickTimeout = time.Minute
)

// sample is one answer an admin got.
type sample struct {
	kind    string
	at      time.Time // when it was asked for
	latency time.Duration
	status  int // 0: no answer
	// problem says what went wrong, for the first failure of each kind.
	problem string
}

// window is the measured part of the run.
type window struct{ start, end time.Time }

func (w window) contains(t time.Time) bool { return !t.Before(w.start) && t.Before(w.end) }

func (w window) minutes() float64 { return w.end.Sub(w.start).Minutes() }

// recorder keeps the samples asked for within the window.
type recorder struct {
	win     window
	mu      sync.Mutex
	samples []sample
}

func (r *recorder) add(s sample) {
	if !r.win.contains(s.at) {
		return
	}
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// runAdmins lets o.admins admins click for the warm-up and the measured
// window, and returns the window and what the admins saw within it.
func runAdmins(ctx context.Context, base string, projects []project, o options) (window, []sample) {
	begin := time.Now()
	win := window{start: begin.Add(o.warmup), end: begin.Add(o.warmup + o.measure)}
	ctx, cancel := context.WithDeadline(ctx, win.end)
	defer cancel()
	rec := &recorder{win: win}
	var wg sync.WaitGroup
	for i := range o.admins {
		a := newAdmin(base, projects, o, rec, rand.New(rand.NewPCG(o.seed, uint64(i))))
		wg.Go(func() { a.loop(ctx) })
	}
	wg.Wait()
	return win, rec.samples
}

// admin is one person clicking around the dashboard in a browser of their
// own.
type admin struct {
	rng      *rand.Rand
	client   *http.Client
	base     string
	projects []project
	o        options
	rec      *recorder
}

func newAdmin(base string, projects []project, o options, rec *recorder, rng *rand.Rand) *admin {
	tr := &http.Transport{MaxConnsPerHost: browserConns, MaxIdleConnsPerHost: browserConns, IdleConnTimeout: 90 * time.Second}
	client := &http.Client{Transport: tr, Timeout: clickTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 || !isLoopbackHost(req.URL.Hostname()) {
				return fmt.Errorf("redirect to %s refused", req.URL.Redacted())
			}
			return nil
		}}
	return &admin{rng: rng, client: client, base: base, projects: projects, o: o, rec: rec}
}

// loop clicks until ctx ends: a first pause so that the admins do not all
// start at once, then a page view and a pause, over and over.
func (a *admin) loop(ctx context.Context) {
	defer a.client.CloseIdleConnections()
	if !sleepUntil(ctx, time.Now().Add(a.between(0, a.o.pauseMax))) {
		return
	}
	for ctx.Err() == nil {
		kind, path := a.click()
		later := a.view(ctx, kind, path)
		a.idle(ctx, path, a.between(a.o.pauseMin, a.o.pauseMax), later)
	}
}

// between is a random duration in [lo, hi].
func (a *admin) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(a.rng.Int64N(int64(hi-lo)+1))
}

// click picks the next page: its kind by -mix, then a project and a branch.
func (a *admin) click() (kind, path string) {
	total := 0
	for _, w := range a.o.mix {
		total += w
	}
	n := a.rng.IntN(total)
	for i, w := range a.o.mix {
		if n < w {
			kind = pageKinds[i]
			break
		}
		n -= w
	}
	p := a.projects[a.rng.IntN(len(a.projects))]
	pid := url.PathEscape(p.ID)
	i := a.rng.IntN(len(p.Branches))
	branch := "/projects/" + pid + "/branches/" + url.PathEscape(p.Branches[i])
	switch kind {
	case kindProjects:
		return kind, "/projects"
	case kindProject:
		return kind, "/projects/" + pid
	case kindUsers:
		return kind, branch + "/users"
	case kindSettings:
		return kind, branch + "/auth/settings/" + settingsGroups[a.rng.IntN(len(settingsGroups))]
	case kindReadiness:
		return kind, branch + "/auth/readiness"
	}
	j := a.rng.IntN(len(p.Branches) - 1)
	if j >= i {
		j++
	}
	q := url.Values{"a": {p.Branches[i]}, "b": {p.Branches[j]}}
	return kindCompare, "/projects/" + pid + "/auth/compare?" + q.Encode()
}

// maxFragmentDepth bounds fragments loaded by fragments (the users table
// loads its count).
const maxFragmentDepth = 3

// view loads a page as a browser does: the page, then what it loads by
// itself, then what those load. It returns the fragments that load after a
// delay, for idle.
func (a *admin) view(ctx context.Context, kind, path string) (later []trigger) {
	body := a.fetch(ctx, kind, path, "")
	pending := loadTriggers(body, path)
	for depth := 0; depth < maxFragmentDepth && len(pending) > 0 && ctx.Err() == nil; depth++ {
		var now []trigger
		for _, t := range pending {
			if t.delay > 0 {
				later = append(later, t)
			} else {
				now = append(now, t)
			}
		}
		pending = a.fetchAll(ctx, now, path)
	}
	return later
}

// fetchAll fetches fragments of page at once, as many at a time as a
// browser would, and returns what their answers load in turn.
func (a *admin) fetchAll(ctx context.Context, ts []trigger, page string) []trigger {
	found := make([][]trigger, len(ts))
	sem := make(chan struct{}, browserConns)
	var wg sync.WaitGroup
	for i, t := range ts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			found[i] = loadTriggers(a.fetch(ctx, fragmentKind(t.url), t.url, page), t.url)
		})
	}
	wg.Wait()
	return slices.Concat(found...)
}

// idle is the admin's pause on page, during which the fragments that load
// after a delay shorter than the pause are fetched.
func (a *admin) idle(ctx context.Context, page string, pause time.Duration, later []trigger) {
	start := time.Now()
	slices.SortStableFunc(later, func(x, y trigger) int { return cmp.Compare(x.delay, y.delay) })
	for _, t := range later {
		if t.delay >= pause || !sleepUntil(ctx, start.Add(t.delay)) {
			break
		}
		a.fetch(ctx, fragmentKind(t.url), t.url, page)
	}
	sleepUntil(ctx, start.Add(pause))
}

// fetch asks for path as the browser would (a fragment when page is the
// page it belongs to) and records the answer, unless the run ended first.
func (a *admin) fetch(ctx context.Context, kind, path, page string) []byte {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if page == "" {
		req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Sec-Fetch-Dest", "document")
	} else {
		req.Header.Set("Accept", "*/*")
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Current-URL", a.base+page)
		req.Header.Set("Sec-Fetch-Mode", "cors")
		req.Header.Set("Sec-Fetch-Dest", "empty")
	}
	start := time.Now()
	res, err := a.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(res.Body, 8<<20))
		res.Body.Close()
	}
	if ctx.Err() != nil {
		return nil // cut short by the end of the run: not counted
	}
	s := sample{kind: kind, at: start, latency: time.Since(start)}
	switch {
	case err != nil:
		s.problem = "GET " + path + ": " + err.Error()
	case res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests:
		s.status, s.problem = res.StatusCode, "GET "+path+": "+res.Status+": "+gist(body)
	default:
		s.status = res.StatusCode
	}
	a.rec.add(s)
	return body
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
