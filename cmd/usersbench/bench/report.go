package bench

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

// write prints the report as Markdown: the single requests, the mixed
// load, and a closing note that can be pasted into the README as is.
func (rep *Report) write(w io.Writer) {
	c := rep.Config
	fmt.Fprintf(w, "Users benchmark: %s rows in `neon_auth.users_sync`, %s in `neon_auth.\"user\"`; PostgreSQL %s, %d CPUs; "+
		"up to %d runs per side of each case (%s budget), alternating dashboard and bare SQL; ratio = dashboard / bare SQL in the same run.\n\n",
		thousands(c.StackRows), thousands(c.BetterAuthRows), rep.Server, runtime.NumCPU(), c.Runs, c.Budget)
	fmt.Fprintln(w, "| table | offered indexes present | case | bare SQL plan | n | ours median ms | ours p99 ms | bare median ms | bare p99 ms | ratio median | ratio p99 | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rep.Results {
		writeResult(w, r)
	}
	if len(rep.Mixed) > 0 {
		fmt.Fprintf(w, "\nMixed load: %d clients for %s per side against the dashboard's HTTP server on loopback, then the same mix as bare SQL "+
			"(one plain connection per client). %d clients search without pause (a 1-match, a 0-match and an every-user search in turn); "+
			"the others read the first, deep and last browse pages as htmx does, %s apart. "+
			"Busy = 503 with Retry-After, after which a client waits as told (at most %s). The dashboard's lanes (connections per users database) are at their defaults: %s.\n\n",
			c.Clients, c.Load, c.Searchers, c.Think, maxBackoff, laneDefaults())
		fmt.Fprintln(w, "| table | offered indexes present | browse n | browse p50 ms | browse p99 ms | bare browse p50 / p99 ms | browse p99 ratio | browse busy | search n | search p50 ms | search p99 ms | bare search p50 / p99 ms | search busy | errors | target | met |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, m := range rep.Mixed {
			writeMixed(w, m)
		}
	}
	fmt.Fprintln(w)
	for _, line := range rep.closingNote() {
		fmt.Fprintln(w, line)
	}
}

func writeResult(w io.Writer, r Result) {
	target := ""
	if r.Case.Target != nil {
		target = r.Case.Target.String()
	}
	if r.Err != nil {
		fmt.Fprintf(w, "| %s | %s | %s | %s | | | | | | | | %s | ERROR: %s |\n", r.Table, r.Indexes, r.Case.Name, r.Case.Plan, target, cell(r.Err.Error()))
		return
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Table, r.Indexes, r.Case.Name, r.Case.Plan,
		max(r.Ours.N, r.Bare.N), ms(r.Ours.Median), ms(r.Ours.P99), ms(r.Bare.Median), ms(r.Bare.P99),
		ratioText(r.RatioMedian()), ratioText(r.RatioP99()), target, r.Met())
}

func writeMixed(w io.Writer, m MixedResult) {
	target := ""
	if m.BrowseIndexed {
		target = fmt.Sprintf("browse p99<%s", mixedTarget)
	}
	d, b := m.Dashboard, m.Bare
	errs := fmt.Sprintf("%d", d.Errors())
	if b.Errors() > 0 {
		errs += fmt.Sprintf(" (bare %d)", b.Errors())
	}
	if first := d.FirstErr + b.FirstErr; first != "" {
		errs += ": " + cell(first)
	}
	fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s / %s | %s | %d | %d | %s | %s | %s / %s | %d | %s | %s | %s |\n",
		m.Table, m.Indexes, d.Browse.N, ms(d.Browse.Median), ms(d.Browse.P99), ms(b.Browse.Median), ms(b.Browse.P99),
		ratioText(ratio(d.Browse.P99, b.Browse.P99)), d.Browse.Busy, d.Search.N, ms(d.Search.Median), ms(d.Search.P99),
		ms(b.Search.Median), ms(b.Search.P99), d.Search.Busy, errs, target, m.Met())
}

// laneDefaults describes the lanes the benchmark's server runs with.
func laneDefaults() string {
	var parts []string
	for _, l := range []db.Lane{db.LaneFast, db.LaneSlow, db.LaneExport} {
		d := db.DefaultLaneLimits(l)
		p := fmt.Sprintf("%s %d (%s wait", l, d.MaxConns, d.AcquireWait)
		if d.StatementTimeout > 0 {
			p += fmt.Sprintf(", %s statement timeout", d.StatementTimeout)
		}
		parts = append(parts, p+")")
	}
	return strings.Join(parts, ", ")
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Thresholds for calling a difference between two combinations of indexes
// a slowdown rather than noise: both relative and absolute.
// Under load the tail moves more, so the mixed load needs a wider margin.
const (
	slowerRatio   = 1.25
	slowerBy      = time.Millisecond
	mixedSlowerBy = 10 * time.Millisecond
)

// closingNote sums the run up: targets met, whether any offered index made
// another case slower, the mixed load, and the notes gathered on the way.
func (rep *Report) closingNote() []string {
	var lines []string
	met, total := 0, 0
	var misses []string
	for _, r := range rep.Results {
		switch r.Met() {
		case "ok":
			met++
			total++
		case "MISS", "ERROR":
			total++
			misses = append(misses, fmt.Sprintf("%s, %s: %s (%s; ours median %s ms, p99 %s ms, %s of the bare SQL)",
				r.Table, r.Indexes, r.Case.Name, r.Met(), ms(r.Ours.Median), ms(r.Ours.P99), ratioText(r.RatioMedian())))
		}
	}
	lines = append(lines, fmt.Sprintf("**Closing note.** %d of %d single-request targets met.", met, total))
	for _, m := range misses {
		lines = append(lines, "- missed: "+m)
	}
	var real, noise []string
	for _, s := range rep.slowdowns() {
		if s.noise {
			noise = append(noise, s.text)
		} else {
			real = append(real, s.text)
		}
	}
	if len(real) == 0 {
		lines = append(lines, fmt.Sprintf("- No offered index made another case slower: none slowed by more than %.0f%% and %s at the median "+
			"(under the mixed load, %s at the browse p99 or search median) without the bare SQL, on the same plan, slowing alike.",
			(slowerRatio-1)*100, slowerBy, mixedSlowerBy))
	}
	for _, s := range real {
		lines = append(lines, "- slower with an offered index: "+s)
	}
	for _, s := range noise {
		lines = append(lines, "- slower, but the bare SQL slowed alike on the same plan (a busier machine, not the index): "+s)
	}
	for _, m := range rep.Mixed {
		verdict := "no index serves the browse order, so every page scans the table (the bare SQL too)"
		switch m.Met() {
		case "ok":
			verdict = fmt.Sprintf("browse p99 %s ms < %s while searches ran", ms(m.Dashboard.Browse.P99), mixedTarget)
		case "MISS":
			verdict = fmt.Sprintf("browse p99 %s ms, over the %s target", ms(m.Dashboard.Browse.P99), mixedTarget)
		case "ERROR":
			verdict = "no browse page was answered"
		}
		d := m.Dashboard
		lines = append(lines, fmt.Sprintf("- mixed load, %s, %s: %s; busy answers: %d of the browsing, %d of the searching clients; %d errors.",
			m.Table, m.Indexes, verdict, d.Browse.Busy, d.Search.Busy, d.Errors()))
	}
	for _, n := range rep.Notes {
		lines = append(lines, "- "+n)
	}
	return lines
}

// slowdown is a case that got slower once an offered index existed.
type slowdown struct {
	text string
	// noise: the bare SQL slowed alike on the same plan, so the index did
	// not change what the dashboard does; the machine was busier.
	noise bool
}

// slowdowns compares each case under every combination of indexes with the
// same case once one more offered index exists, and lists where the
// dashboard got slower.
func (rep *Report) slowdowns() []slowdown {
	type key struct {
		table string
		mask  uint
		name  string
	}
	byKey := map[key]Result{}
	for _, r := range rep.Results {
		byKey[key{r.Table, r.Indexes.mask, r.Case.Name}] = r
	}
	slower := func(before, after time.Duration, by time.Duration) bool {
		return before > 0 && after > 0 && float64(after) > slowerRatio*float64(before) && after-before > by
	}
	// steady reports whether the dashboard kept its ratio to the bare SQL.
	steady := func(before, after float64) bool { return before > 0 && after <= slowerRatio*before }
	var out []slowdown
	for _, r := range rep.Results {
		if r.Err != nil || r.Ours.N == 0 {
			continue
		}
		for i, o := range r.Indexes.offers {
			if r.Indexes.has(i) {
				continue
			}
			with, ok := byKey[key{r.Table, r.Indexes.mask | 1<<i, r.Case.Name}]
			if !ok || with.Err != nil || !slower(r.Ours.Median, with.Ours.Median, slowerBy) {
				continue
			}
			out = append(out, slowdown{
				text: fmt.Sprintf("%s, %s (with %s): adding %s took the dashboard's median from %s to %s ms, bare SQL %s to %s ms (ratio %s to %s, bare plan %s)",
					r.Table, r.Case.Name, r.Indexes, o.Label(), ms(r.Ours.Median), ms(with.Ours.Median), ms(r.Bare.Median), ms(with.Bare.Median),
					ratioText(r.RatioMedian()), ratioText(with.RatioMedian()), planChange(r.Case.Plan, with.Case.Plan)),
				noise: r.Case.Plan == with.Case.Plan && steady(r.RatioMedian(), with.RatioMedian()),
			})
		}
	}
	for _, m := range rep.Mixed {
		for i, o := range m.Indexes.offers {
			if m.Indexes.has(i) {
				continue
			}
			for _, with := range rep.Mixed {
				if with.Table != m.Table || with.Indexes.mask != m.Indexes.mask|1<<i {
					continue
				}
				d, b, wd, wb := m.Dashboard, m.Bare, with.Dashboard, with.Bare
				if slower(d.Browse.P99, wd.Browse.P99, mixedSlowerBy) {
					out = append(out, slowdown{
						text: fmt.Sprintf("%s, mixed load (with %s): adding %s took the browse p99 from %s to %s ms (bare SQL %s to %s ms)",
							m.Table, m.Indexes, o.Label(), ms(d.Browse.P99), ms(wd.Browse.P99), ms(b.Browse.P99), ms(wb.Browse.P99)),
						noise: m.BrowsePlan == with.BrowsePlan && steady(ratio(d.Browse.P99, b.Browse.P99), ratio(wd.Browse.P99, wb.Browse.P99)),
					})
				}
				if slower(d.Search.Median, wd.Search.Median, mixedSlowerBy) {
					out = append(out, slowdown{
						text: fmt.Sprintf("%s, mixed load (with %s): adding %s took the search median from %s to %s ms (bare SQL %s to %s ms)",
							m.Table, m.Indexes, o.Label(), ms(d.Search.Median), ms(wd.Search.Median), ms(b.Search.Median), ms(wb.Search.Median)),
						noise: steady(ratio(d.Search.Median, b.Search.Median), ratio(wd.Search.Median, wb.Search.Median)),
					})
				}
			}
		}
	}
	return out
}

// planChange describes the bare plan before and after an index came.
func planChange(before, after string) string {
	if before == after {
		return "unchanged, " + before
	}
	return before + " → " + after
}
