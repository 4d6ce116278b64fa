package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// budgetPerMinute is Neon's rate limit: API calls a minute per API key,
// shared by every tool using the key.
const budgetPerMinute = 700

// topOperations is how many operations the report lists.
const topOperations = 10

// Report is one run's figures; -json prints it as is.
type Report struct {
	Scenario Scenario `json:"scenario"`
	// Build is the dashboard's source and the commit built.
	Build         string  `json:"build"`
	WindowSeconds float64 `json:"window_seconds"`

	NeonCalls          int     `json:"neon_calls"`
	NeonCallsPerMinute float64 `json:"neon_calls_per_minute"`
	BudgetPerMinute    int     `json:"budget_per_minute"`
	// BudgetShare is NeonCallsPerMinute / BudgetPerMinute (1 = all of it).
	BudgetShare float64 `json:"budget_share"`
	// CallsPerPageView counts the calls of a page's badges and fragments
	// with the page.
	CallsPerPageView float64 `json:"calls_per_page_view"`
	WarmupNeonCalls  int     `json:"warmup_neon_calls"`
	// NeonAnswered429 and NeonAnswered5xx are the sandbox's own refusals
	// and failures (502: no answer).
	NeonAnswered429 int `json:"neon_answered_429"`
	NeonAnswered5xx int `json:"neon_answered_5xx"`

	PageViews                int     `json:"page_views"`
	PageViewsPerMinute       float64 `json:"page_views_per_minute"`
	BadgeFetches             int     `json:"badge_fetches"`
	BadgeFetchesPerMinute    float64 `json:"badge_fetches_per_minute"`
	FragmentFetches          int     `json:"fragment_fetches"`
	FragmentFetchesPerMinute float64 `json:"fragment_fetches_per_minute"`

	TopOperations []OpCount `json:"top_operations"`
	Kinds         []Kind    `json:"kinds"`

	// Errors5xx, RateLimited429 and NoAnswer are the admins' answers, every
	// kind together.
	Errors5xx      int `json:"errors_5xx"`
	RateLimited429 int `json:"rate_limited_429"`
	NoAnswer       int `json:"no_answer"`
	// RateLimitLines are the dashboard's stderr lines that say "rate limit",
	// in the window and in the whole run.
	RateLimitLines      int `json:"rate_limit_lines"`
	RateLimitLinesTotal int `json:"rate_limit_lines_total"`
}

// Scenario is what was replayed.
type Scenario struct {
	Projects int      `json:"projects"`
	Branches int      `json:"branches_per_project"`
	Admins   int      `json:"admins"`
	PauseMin string   `json:"pause_min"`
	PauseMax string   `json:"pause_max"`
	Warmup   string   `json:"warmup"`
	Measure  string   `json:"measure"`
	Seed     uint64   `json:"seed"`
	CacheTTL string   `json:"cache_ttl"`
	Env      []string `json:"env"`
	Mix      string   `json:"mix"`
}

// OpCount is one Neon operation's calls in the window.
type OpCount struct {
	Op        string  `json:"op"`
	Calls     int     `json:"calls"`
	PerMinute float64 `json:"per_minute"`
}

// Kind is what the admins saw of one kind of page or fragment.
type Kind struct {
	Kind           string  `json:"kind"`
	Count          int     `json:"count"`
	P50ms          float64 `json:"p50_ms"`
	P95ms          float64 `json:"p95_ms"`
	P99ms          float64 `json:"p99_ms"`
	Errors5xx      int     `json:"errors_5xx"`
	RateLimited429 int     `json:"rate_limited_429"`
	NoAnswer       int     `json:"no_answer"`
	// FirstProblem is the first failure of the kind: the request, the
	// status and what the error page said.
	FirstProblem string `json:"first_problem,omitempty"`
}

// buildReport adds up the run.
func buildReport(o options, build string, win window, samples []sample, calls []neonCall, limited []time.Time) Report {
	mins := win.minutes()
	r := Report{Scenario: scenarioOf(o), Build: build, WindowSeconds: win.end.Sub(win.start).Seconds(), BudgetPerMinute: budgetPerMinute}
	ops := map[string]int{}
	for _, c := range calls {
		switch {
		case c.at.Before(win.start):
			r.WarmupNeonCalls++
		case win.contains(c.at):
			r.NeonCalls++
			ops[c.op]++
			if c.status == 429 {
				r.NeonAnswered429++
			} else if c.status >= 500 {
				r.NeonAnswered5xx++
			}
		}
	}
	r.NeonCallsPerMinute = float64(r.NeonCalls) / mins
	r.BudgetShare = r.NeonCallsPerMinute / budgetPerMinute
	for _, op := range slices.SortedFunc(maps.Keys(ops), func(a, b string) int { return cmp.Or(ops[b]-ops[a], strings.Compare(a, b)) }) {
		if len(r.TopOperations) == topOperations {
			break
		}
		r.TopOperations = append(r.TopOperations, OpCount{Op: op, Calls: ops[op], PerMinute: float64(ops[op]) / mins})
	}
	r.Kinds = kindsOf(samples)
	for _, k := range r.Kinds {
		switch k.Kind {
		case kindBadge:
			r.BadgeFetches = k.Count
		case kindFragment:
			r.FragmentFetches = k.Count
		default:
			r.PageViews += k.Count
		}
		r.Errors5xx += k.Errors5xx
		r.RateLimited429 += k.RateLimited429
		r.NoAnswer += k.NoAnswer
	}
	r.PageViewsPerMinute = float64(r.PageViews) / mins
	r.BadgeFetchesPerMinute = float64(r.BadgeFetches) / mins
	r.FragmentFetchesPerMinute = float64(r.FragmentFetches) / mins
	if r.PageViews > 0 {
		r.CallsPerPageView = float64(r.NeonCalls) / float64(r.PageViews)
	}
	for _, t := range limited {
		if win.contains(t) {
			r.RateLimitLines++
		}
	}
	r.RateLimitLinesTotal = len(limited)
	return r
}

func scenarioOf(o options) Scenario {
	mix := make([]string, 0, len(pageKinds))
	for i, k := range pageKinds {
		mix = append(mix, fmt.Sprintf("%s=%d", k, o.mix[i]))
	}
	return Scenario{
		Projects: o.projects, Branches: o.branches, Admins: o.admins,
		PauseMin: o.pauseMin.String(), PauseMax: o.pauseMax.String(),
		Warmup: o.warmup.String(), Measure: o.measure.String(), Seed: o.seed,
		CacheTTL: cmp.Or(o.cacheTTL, "default"), Env: append([]string{}, o.env...), Mix: strings.Join(mix, ","),
	}
}

// kindsOf sums the samples per kind: the pages in pageKinds order, then the
// badges and the other fragments.
func kindsOf(samples []sample) []Kind {
	var out []Kind
	for _, kind := range append(slices.Clone(pageKinds), kindBadge, kindFragment) {
		k := Kind{Kind: kind}
		var ds []time.Duration
		for _, s := range samples {
			if s.kind != kind {
				continue
			}
			k.Count++
			if k.FirstProblem == "" {
				k.FirstProblem = s.problem
			}
			switch {
			case s.status == 0:
				k.NoAnswer++
			case s.status == 429:
				k.RateLimited429++
			case s.status >= 500:
				k.Errors5xx++
			}
			ds = append(ds, s.latency)
		}
		slices.Sort(ds)
		k.P50ms, k.P95ms, k.P99ms = ms(percentile(ds, .50)), ms(percentile(ds, .95)), ms(percentile(ds, .99))
		out = append(out, k)
	}
	return out
}

// percentile of sorted durations by the nearest rank, p in (0, 1].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func writeJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText prints the report for a person.
func writeText(w io.Writer, r Report) {
	s := r.Scenario
	fmt.Fprintf(w, "neonload: %d projects × %d branches with Better Auth, %d admins pausing %s–%s between clicks (seed %d, mix %s)\n",
		s.Projects, s.Branches, s.Admins, s.PauseMin, s.PauseMax, s.Seed, s.Mix)
	fmt.Fprintf(w, "  dashboard     %s; CACHE_TTL %s; extra env: %s\n", r.Build, s.CacheTTL, cmp.Or(strings.Join(s.Env, " "), "none"))
	fmt.Fprintf(w, "  window        %.1fs measured after %s of warm-up (%d Neon calls during the warm-up)\n", r.WindowSeconds, s.Warmup, r.WarmupNeonCalls)
	fmt.Fprintf(w, "\nNeon API calls  %d in the window = %.1f/min = %.1f%% of the %d/min budget\n",
		r.NeonCalls, r.NeonCallsPerMinute, 100*r.BudgetShare, r.BudgetPerMinute)
	fmt.Fprintf(w, "  per page view %.2f (its badges' and fragments' calls included)\n", r.CallsPerPageView)
	fmt.Fprintf(w, "  Neon answered %d with 429, %d with 5xx or not at all\n", r.NeonAnswered429, r.NeonAnswered5xx)
	fmt.Fprintf(w, "page views      %d = %.1f/min\n", r.PageViews, r.PageViewsPerMinute)
	fmt.Fprintf(w, "badge fetches   %d = %.1f/min\n", r.BadgeFetches, r.BadgeFetchesPerMinute)
	fmt.Fprintf(w, "other fragments %d = %.1f/min\n", r.FragmentFetches, r.FragmentFetchesPerMinute)
	fmt.Fprintf(w, "\ntop operations by calls\n")
	for _, op := range r.TopOperations {
		fmt.Fprintf(w, "  %6d  %7.1f/min  %s\n", op.Calls, op.PerMinute, op.Op)
	}
	fmt.Fprintf(w, "\n  %-10s %6s %9s %9s %9s %6s %6s %6s\n", "kind", "count", "p50 ms", "p95 ms", "p99 ms", "5xx", "429", "none")
	for _, k := range r.Kinds {
		fmt.Fprintf(w, "  %-10s %6d %9.1f %9.1f %9.1f %6d %6d %6d\n", k.Kind, k.Count, k.P50ms, k.P95ms, k.P99ms, k.Errors5xx, k.RateLimited429, k.NoAnswer)
	}
	fmt.Fprintf(w, "\nanswers to the admins: %d errors (5xx), %d rate limited (429), %d without an answer\n", r.Errors5xx, r.RateLimited429, r.NoAnswer)
	for _, k := range r.Kinds {
		if k.FirstProblem != "" {
			fmt.Fprintf(w, "  first %s problem: %s\n", k.Kind, k.FirstProblem)
		}
	}
	fmt.Fprintf(w, "\"rate limit\" lines in the dashboard's stderr: %d in the window, %d in the whole run\n", r.RateLimitLines, r.RateLimitLinesTotal)
}
