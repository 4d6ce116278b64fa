package views

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// buckets is n consecutive buckets from start, a day or a week apart.
func buckets(start time.Time, n int, week bool) []SignupsPoint {
	pts := make([]SignupsPoint, n)
	for i := range pts {
		d := i
		if week {
			d = 7 * i
		}
		pts[i] = SignupsPoint{Start: start.AddDate(0, 0, d)}
	}
	return pts
}

func tickLabels(g chartGeometry) []string {
	var ls []string
	for _, t := range g.XTicks {
		ls = append(ls, t.Label)
	}
	return ls
}

// TestChartAxisLabels: the time axis says the year when the range is long or
// crosses a year boundary, every label in the same form, never more than
// chartXLabels of them.
func TestChartAxisLabels(t *testing.T) {
	utc := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		pts  []SignupsPoint
		week bool
		want []string
	}{
		{"30 days in one year", buckets(utc(2026, 3, 1), 30, false), false,
			[]string{"Mar 1", "Mar 5", "Mar 9", "Mar 13", "Mar 17", "Mar 21", "Mar 25", "Mar 29"}},
		{"30 days across new year", buckets(utc(2025, 12, 15), 30, false), false,
			[]string{"Dec 15, 2025", "Dec 19, 2025", "Dec 23, 2025", "Dec 27, 2025", "Dec 31, 2025", "Jan 4, 2026", "Jan 8, 2026", "Jan 12, 2026"}},
		{"90 days of weeks across new year", buckets(utc(2025, 11, 3), 13, true), true,
			[]string{"wk Nov 3, 2025", "wk Nov 17, 2025", "wk Dec 1, 2025", "wk Dec 15, 2025", "wk Dec 29, 2025", "wk Jan 12, 2026", "wk Jan 26, 2026"}},
		// 365 days to Dec 7, 2026: months only, from January.
		{"365 days of weeks", buckets(utc(2025, 12, 8), 53, true), true,
			[]string{"Jan 2026", "Mar 2026", "May 2026", "Jul 2026", "Sep 2026", "Nov 2026"}},
		{"365 days of days", buckets(utc(2025, 12, 8), 365, false), false,
			[]string{"Jan 2026", "Mar 2026", "May 2026", "Jul 2026", "Sep 2026", "Nov 2026"}},
		// A long range within one year still names the year, and a range
		// starting on the 1st names its first month.
		{"200 days from Jan 1", buckets(utc(2026, 1, 1), 200, false), false,
			[]string{"Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026", "Jul 2026"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := layout(tc.pts, false, tc.week)
			got := tickLabels(g)
			if !slices.Equal(got, tc.want) {
				t.Errorf("labels = %q, want %q", got, tc.want)
			}
			if len(got) > chartXLabels {
				t.Errorf("%d labels, want at most %d", len(got), chartXLabels)
			}
			for _, tk := range g.XTicks {
				x, _ := strconv.ParseFloat(tk.Pos, 64)
				left, right := x-labelHalfWidth(tk.Label), x+labelHalfWidth(tk.Label)
				if tk.Anchor == "end" {
					left, right = x-2*labelHalfWidth(tk.Label), x
				}
				if left < 0 || right > chartW {
					t.Errorf("%q spans %.0f to %.0f, out of the %d wide picture", tk.Label, left, right, chartW)
				}
			}
			for i := 1; i < len(g.XTicks); i++ {
				x, _ := strconv.ParseFloat(g.XTicks[i].Pos, 64)
				prev, _ := strconv.ParseFloat(g.XTicks[i-1].Pos, 64)
				if x <= prev {
					t.Errorf("label %d is not right of label %d", i, i-1)
				}
			}
		})
	}
}

// TestChartAxisLabelsAtMonthStarts: over a long range a month's label sits
// at the first bucket that starts in that month.
func TestChartAxisLabelsAtMonthStarts(t *testing.T) {
	pts := buckets(time.Date(2025, 12, 8, 0, 0, 0, 0, time.UTC), 53, true)
	for _, l := range axisLabels(pts, true) {
		start := pts[l.bucket].Start
		if prev := pts[l.bucket-1].Start; prev.Month() == start.Month() || !strings.HasPrefix(l.text, start.Format("Jan")) {
			t.Errorf("%q is at the week of %s, after the week of %s", l.text, start.Format("2006-01-02"), prev.Format("2006-01-02"))
		}
	}
}
