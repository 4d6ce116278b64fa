package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Case is one measured operation: the dashboard's call (Ours) timed against
// the bare SQL run through pgx on the same pool (Bare), alternately, so that
// both see the same machine. Bare may be nil where nothing bare compares,
// such as a cached answer.
type Case struct {
	Name string
	// Next, when set, runs untimed before each pair of runs: it picks the
	// input both sides then read, such as the next random user.
	Next func()
	Ours func(context.Context) error
	Bare func(context.Context) error
	// Target, when set, judges the result.
	Target *Target
	// Runs caps the runs of a slow case below Config.Runs.
	Runs int
	// Plan is how Postgres runs the bare statement, so that a ratio can be
	// read against an index scan or a table scan.
	Plan string
}

// Target is what a case must achieve: a median at most MaxRatio times the
// bare SQL's, a p99 under MaxP99, and/or a median at most MaxAdded above
// the bare SQL's. Ratios are judged at the median: the tails of two sides
// timed a few milliseconds apart say more about the machine than about the
// dashboard, so the tail is held to an absolute bound instead.
type Target struct {
	MaxRatio float64
	MaxP99   time.Duration
	MaxAdded time.Duration
}

// String is the target as the results table prints it.
func (t *Target) String() string {
	var parts []string
	if t.MaxRatio > 0 {
		parts = append(parts, fmt.Sprintf("≤%.1f×", t.MaxRatio))
	}
	if t.MaxP99 > 0 {
		parts = append(parts, fmt.Sprintf("p99<%s", t.MaxP99))
	}
	if t.MaxAdded > 0 {
		parts = append(parts, fmt.Sprintf("adds<%s", t.MaxAdded))
	}
	return strings.Join(parts, ", ")
}

// Stats summarizes the durations of one side of a case.
type Stats struct {
	N           int
	Median, P99 time.Duration
}

func summarize(d []time.Duration) Stats {
	if len(d) == 0 {
		return Stats{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	// Nearest rank: with fewer than 100 runs the p99 is the slowest run.
	p99 := s[min(len(s)-1, (99*len(s)+99)/100-1)]
	return Stats{N: len(s), Median: s[len(s)/2], P99: p99}
}

// Result is one measured case.
type Result struct {
	// Index says whether the advised session index was present.
	Index bool
	Case  *Case
	Ours  Stats
	Bare  Stats
	Err   error
}

// RatioMedian compares ours to bare at the median; 0 when either is missing.
func (r Result) RatioMedian() float64 { return ratio(r.Ours.Median, r.Bare.Median) }

// RatioP99 is RatioMedian for the p99.
func (r Result) RatioP99() float64 { return ratio(r.Ours.P99, r.Bare.P99) }

// Added is how much longer ours took than bare at the median.
func (r Result) Added() time.Duration { return r.Ours.Median - r.Bare.Median }

func ratio(a, b time.Duration) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Met reports whether the case met its target ("" without one).
func (r Result) Met() string {
	t := r.Case.Target
	switch {
	case r.Err != nil:
		return "ERROR"
	case t == nil:
		return ""
	case t.MaxRatio > 0 && r.RatioMedian() > t.MaxRatio,
		t.MaxP99 > 0 && r.Ours.P99 > t.MaxP99,
		t.MaxAdded > 0 && r.Added() > t.MaxAdded:
		return "MISS"
	}
	return "ok"
}

// measure runs c: one warm-up of each side, then alternating runs until
// runs are done or budget is spent (at least minRuns each).
func measure(ctx context.Context, c *Case, runs int, budget time.Duration) Result {
	const minRuns = 5
	if c.Runs > 0 {
		runs = min(runs, c.Runs)
	}
	r := Result{Case: c}
	var ours, bare []time.Duration
	timed := func(f func(context.Context) error, into *[]time.Duration) error {
		if f == nil {
			return nil
		}
		start := time.Now()
		err := f(ctx)
		if into != nil {
			*into = append(*into, time.Since(start))
		}
		return err
	}
	pair := func(o, b *[]time.Duration) error {
		if c.Next != nil {
			c.Next()
		}
		if err := timed(c.Ours, o); err != nil {
			return fmt.Errorf("ours: %w", err)
		}
		if err := timed(c.Bare, b); err != nil {
			return fmt.Errorf("bare: %w", err)
		}
		return nil
	}
	if r.Err = pair(nil, nil); r.Err != nil {
		return r
	}
	start := time.Now()
	for i := 0; i < runs && (i < min(minRuns, runs) || time.Since(start) < budget); i++ {
		if r.Err = pair(&ours, &bare); r.Err != nil {
			return r
		}
	}
	r.Ours, r.Bare = summarize(ours), summarize(bare)
	return r
}

func ms(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

func ratioText(x float64) string {
	if x == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", x)
}
