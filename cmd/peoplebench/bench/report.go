package bench

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

// write prints the report as Markdown: the read cases without and with the
// session index, the revocation, and a closing note.
func (rep *Report) write(w io.Writer) {
	c := rep.Config
	fmt.Fprintf(w, "People console benchmark: %s users and %s sessions in one Better Auth branch (Neon's exact DDL, seeded by peopleseed), "+
		"seeded and analyzed in %s; PostgreSQL %s, %d CPUs; up to %d runs per side of each case (%s budget), alternating the dashboard's call "+
		"and the bare SQL on the same pool; ratio = dashboard / bare SQL in the same run; p99 is the slowest run below 100 runs; "+
		"a ratio target is judged at the median, a p99 target in absolute terms. "+
		"Load average (1 min) %s when measuring began, %s when it ended.\n\n",
		thousands(int64(c.Users)), thousands(rep.Sessions), rep.Seeded.Round(time.Second), rep.Server, runtime.NumCPU(), c.Runs, c.Budget,
		rep.Load[0], rep.Load[1])
	fmt.Fprintln(w, "| session index | case | bare SQL plan | n | ours p50 ms | ours p99 ms | bare p50 ms | bare p99 ms | ratio p50 | ratio p99 | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rep.Results {
		writeResult(w, r)
	}
	if r := rep.Revoke; r != nil {
		fmt.Fprintf(w, "\nRevoking sessions by filter (RevokeMatchingSessions, batches of %d) while one app goroutine, on a connection of its own, "+
			"runs Better Auth's queries without pause (a session by token, its \"updatedAt\" refreshed by id, its user by id) for random sessions, "+
			"half of them among those revoked. \"Alone\" is the same app for %s before the revocation.\n\n", db.RevokeBatch, appBaseline)
		fmt.Fprintln(w, "| filter | matched (exact count) | revoked | batches | took | app alone n / p50 / p99 / max ms | app during n / p50 / p99 / max ms | slowest query | app queries ≥ target alone / during | app errors | target | met |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %s | %s | %d / %d | %s | app max<%s | %s |\n", cell(r.Filter), thousands(r.Matched), thousands(r.Revoked),
			r.Batches, r.Took.Round(time.Millisecond), appText(r.Before), appText(r.During), r.During.Slowest, r.Before.Over, r.During.Over,
			appErrors(r), appTarget, r.Met())
	}
	fmt.Fprintln(w)
	for _, line := range rep.closingNote() {
		fmt.Fprintln(w, line)
	}
}

func indexText(indexed bool) string {
	if indexed {
		return db.SessionsIndex
	}
	return "none"
}

func writeResult(w io.Writer, r Result) {
	target := ""
	if r.Case.Target != nil {
		target = r.Case.Target.String()
	}
	if r.Err != nil {
		fmt.Fprintf(w, "| %s | %s | %s | | | | | | | | %s | ERROR: %s |\n", indexText(r.Index), r.Case.Name, r.Case.Plan, target, cell(r.Err.Error()))
		return
	}
	fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", indexText(r.Index), r.Case.Name, r.Case.Plan,
		max(r.Ours.N, r.Bare.N), ms(r.Ours.Median), ms(r.Ours.P99), ms(r.Bare.Median), ms(r.Bare.P99),
		ratioText(r.RatioMedian()), ratioText(r.RatioP99()), target, r.Met())
}

func appText(s AppStats) string {
	return fmt.Sprintf("%s / %s / %s / %s", thousands(int64(s.N)), ms(s.Median), ms(s.P99), ms(s.Max))
}

func appErrors(r *RevokeResult) string {
	e := r.Before.Errors + r.During.Errors
	first := r.Before.FirstErr + r.During.FirstErr
	if r.Err != nil {
		first += " revoke: " + r.Err.Error()
	}
	if first == "" {
		return fmt.Sprint(e)
	}
	return fmt.Sprintf("%d: %s", e, cell(first))
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

// Thresholds for calling a case slower with the session index rather than
// noise: both relative and absolute, at the median.
const (
	slowerRatio = 1.25
	slowerBy    = time.Millisecond
)

// closingNote sums the run up: targets met, whether the session index made
// another case slower, the revocation, and the notes gathered on the way.
func (rep *Report) closingNote() []string {
	met, total := 0, 0
	var misses []string
	for _, r := range rep.Results {
		switch r.Met() {
		case "ok":
			met++
			total++
		case "MISS", "ERROR":
			total++
			misses = append(misses, fmt.Sprintf("%s (session index: %s): %s; ours median %s ms, p99 %s ms, %s of the bare SQL",
				r.Case.Name, indexText(r.Index), r.Met(), ms(r.Ours.Median), ms(r.Ours.P99), ratioText(r.RatioMedian())))
		}
	}
	lines := []string{fmt.Sprintf("**Closing note.** %d of %d read targets met.", met, total)}
	for _, m := range misses {
		lines = append(lines, "- missed: "+m)
	}
	slower := rep.slowdowns()
	if len(slower) == 0 && len(rep.Results) > 0 {
		lines = append(lines, fmt.Sprintf("- The advised session index made no other case slower: none slowed by more than %.0f%% and %s at the median once it existed.",
			(slowerRatio-1)*100, slowerBy))
	}
	for _, s := range slower {
		lines = append(lines, "- slower with the session index: "+s)
	}
	if r := rep.Revoke; r != nil {
		verdict := fmt.Sprintf("no app query waited %s or more (the slowest, %s, took %s ms)", appTarget, r.During.Slowest, ms(r.During.Max))
		if r.Met() != "ok" {
			verdict = fmt.Sprintf("%s: the slowest app query (%s) took %s ms (alone, before it: %s ms); %d of %s app queries took %s or more during it, %d of %s alone; %d app errors",
				r.Met(), r.During.Slowest, ms(r.During.Max), ms(r.Before.Max), r.During.Over, thousands(int64(r.During.N)), appTarget,
				r.Before.Over, thousands(int64(r.Before.N)), r.During.Errors)
		}
		lines = append(lines, fmt.Sprintf("- Revoking %s sessions took %s in %d batches; %s.", thousands(r.Revoked), r.Took.Round(time.Millisecond), r.Batches, verdict))
	}
	for _, n := range rep.Notes {
		lines = append(lines, "- "+n)
	}
	return lines
}

// slowdowns lists the cases whose dashboard median grew once the session
// index existed, saying whether the bare SQL grew alike (a busier machine,
// not the index).
func (rep *Report) slowdowns() []string {
	without := map[string]Result{}
	for _, r := range rep.Results {
		if !r.Index && r.Err == nil {
			without[r.Case.Name] = r
		}
	}
	var out []string
	for _, with := range rep.Results {
		before, ok := without[with.Case.Name]
		if !with.Index || with.Err != nil || !ok {
			continue
		}
		b, a := before.Ours.Median, with.Ours.Median
		if b == 0 || float64(a) <= slowerRatio*float64(b) || a-b <= slowerBy {
			continue
		}
		why := "the bare SQL did not slow alike"
		if before.Bare.Median > 0 && with.RatioMedian() <= slowerRatio*before.RatioMedian() {
			why = "the bare SQL slowed alike"
		}
		out = append(out, fmt.Sprintf("%s: median %s → %s ms, bare %s → %s ms (%s; bare plan %s → %s)", with.Case.Name,
			ms(b), ms(a), ms(before.Bare.Median), ms(with.Bare.Median), why, before.Case.Plan, with.Case.Plan))
	}
	return out
}
