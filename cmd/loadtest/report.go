package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// decode undoes a Content-Encoding the load asked for.
func decode(body []byte, encoding string) ([]byte, error) {
	switch encoding {
	case "":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	return nil, fmt.Errorf("unexpected Content-Encoding %q", encoding)
}

// report prints one mode's figures.
func report(out io.Writer, mode string, paths []string, r *results, fv firstView, rssBefore, rssPeak, rssAfter int64, recoveries map[string]recovery) {
	secs := r.elapsed.Seconds()
	all := sorted(append(slices.Clone(r.ok), r.shed...))
	ok, shed := sorted(r.ok), sorted(r.shed)
	failed := 0
	for _, n := range r.failed {
		failed += n
	}
	fmt.Fprintf(out, "\n== %s: %s\n", mode, strings.Join(paths, " "))
	fmt.Fprintf(out, "  requests      %d in %.1fs = %.0f/s (%.0f/s answered normally), %.1f MB received\n",
		r.total(), secs, float64(r.total())/secs, float64(len(ok))/secs, float64(r.bytesIn)/1e6)
	fmt.Fprintf(out, "  normal        %d   p50 %s  p99 %s  max %s\n", len(ok), ms(percentile(ok, .5)), ms(percentile(ok, .99)), ms(percentile(ok, 1)))
	for _, p := range paths {
		ds := sorted(r.okByPath[p])
		fmt.Fprintf(out, "    %-40s %6d   p50 %s  p99 %s\n", p, len(ds), ms(percentile(ds, .5)), ms(percentile(ds, .99)))
	}
	fmt.Fprintf(out, "  shed (503)    %d   p50 %s  p99 %s\n", len(shed), ms(percentile(shed, .5)), ms(percentile(shed, .99)))
	fmt.Fprintf(out, "  all answers   p50 %s  p99 %s\n", ms(percentile(all, .5)), ms(percentile(all, .99)))
	fmt.Fprintf(out, "  failed        %d %s\n", failed, statusList(r.failed))
	fmt.Fprintf(out, "  empty/errors  %d", r.empty)
	if r.firstErr != nil {
		fmt.Fprintf(out, " (first: %v)", r.firstErr)
	}
	fmt.Fprintln(out)
	if rssPeak > 0 {
		fmt.Fprintf(out, "  server RSS    %s before, %s peak, %s after (demo: includes the in-process sandbox)\n", mb(rssBefore), mb(rssPeak), mb(rssAfter))
	}
	reportKinds(out, r, recoveries)
	fmt.Fprintf(out, "  first view    %d requests, %.1f KB on the wire (%.1f KB uncompressed)\n", fv.requests, float64(fv.wire)/1024, float64(fv.plain)/1024)
}

// reportKinds prints pages and badges apart: their answers, sheds and
// recovery, the badges next to the pages of the same run.
func reportKinds(out io.Writer, r *results, recoveries map[string]recovery) {
	secs := r.elapsed.Seconds()
	for _, k := range kinds {
		kr := r.byKind[k]
		rec, measured := recoveries[k]
		if kr == nil && !measured {
			continue
		}
		if kr == nil {
			kr = &kindResults{}
		}
		ok, shed := sorted(kr.ok), sorted(kr.shed)
		all := sorted(append(slices.Clone(kr.ok), kr.shed...))
		fmt.Fprintf(out, "  %-13s %d answers = %.0f/s: all p50 %s  p99 %s  max %s\n", k, len(all)+kr.other, float64(len(all)+kr.other)/secs,
			ms(percentile(all, .5)), ms(percentile(all, .99)), ms(percentile(all, 1)))
		fmt.Fprintf(out, "    normal      %d   p50 %s  p99 %s\n", len(ok), ms(percentile(ok, .5)), ms(percentile(ok, .99)))
		fmt.Fprintf(out, "    shed (503)  %d   p50 %s  p99 %s\n", len(shed), ms(percentile(shed, .5)), ms(percentile(shed, .99)))
		fmt.Fprintf(out, "    other       %d (failed or empty)\n", kr.other)
		switch {
		case !measured:
			fmt.Fprintf(out, "    recovery    not timed in this run (-recover)\n")
		case rec.err != nil:
			fmt.Fprintf(out, "    recovery    none for %s: %v\n", rec.path, rec.err)
		default:
			fmt.Fprintf(out, "    recovery    first normal answer %s after the load stopped (%s)\n", ms(rec.after), rec.path)
		}
	}
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

func statusList(m map[int]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d×%d", m[code], code))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
