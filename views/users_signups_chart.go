package views

import (
	"math"
	"strconv"
	"time"
)

// SignupsPoint is one bucket of the signups chart.
type SignupsPoint struct {
	Start     time.Time
	Signups   int64
	Deletions int64
}

// Chart geometry, in SVG user units: the viewBox is chartW × chartH and the
// plot sits inside the margins, leaving room for the axes' labels.
const (
	chartW, chartH            = 720, 260
	chartLeft, chartRight     = 52, 12
	chartTop, chartBottom     = 12, 40
	plotW                     = chartW - chartLeft - chartRight
	plotH                     = chartH - chartTop - chartBottom
	chartXLabels, chartYTicks = 8, 4
	barShare, barGap          = 0.4, 0.1
)

// chartBar is one bar, already placed.
type chartBar struct {
	X, Y, W, H string
	Class      string
}

// chartTick is one axis label and where it goes. A time axis label is
// centred on Pos, or, when Anchor is "end", ends there.
type chartTick struct {
	Pos    string
	Label  string
	Anchor string
}

// labelHalfWidth is about half the width of an axis label in user units
// (12px text, 6.6 units a character on average).
func labelHalfWidth(label string) float64 { return float64(len(label)) * 3.3 }

// chartGeometry is the chart laid out for the template.
type chartGeometry struct {
	Bars           []chartBar
	XTicks, YTicks []chartTick
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// niceStep rounds a tick step up to 1, 2 or 5 times a power of ten, so the
// axis reads in round numbers.
func niceStep(raw float64) int64 {
	if raw <= 1 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return int64(m * pow)
		}
	}
	return int64(10 * pow)
}

// layout places the bars and the axes' labels of pts.
func layout(pts []SignupsPoint, deletions bool, week bool) chartGeometry {
	var g chartGeometry
	top := int64(0)
	for _, p := range pts {
		top = max(top, p.Signups, p.Deletions)
	}
	step := niceStep(float64(top) / chartYTicks)
	yMax := float64(step * chartYTicks)
	for i := range chartYTicks + 1 {
		v := step * int64(i)
		g.YTicks = append(g.YTicks, chartTick{Pos: num(chartTop + plotH - float64(v)/yMax*plotH), Label: groupDigits(v)})
	}
	if len(pts) == 0 {
		return g
	}
	slot := float64(plotW) / float64(len(pts))
	width := slot * (1 - 2*barGap)
	if deletions {
		width = slot * barShare
	}
	bar := func(x float64, v int64, class string) {
		h := float64(v) / yMax * plotH
		g.Bars = append(g.Bars, chartBar{X: num(x), Y: num(chartTop + plotH - h), W: num(width), H: num(h), Class: class})
	}
	for i, p := range pts {
		x := chartLeft + float64(i)*slot + slot*barGap
		bar(x, p.Signups, "chart-signups")
		if deletions {
			bar(x+width, p.Deletions, "chart-deletions")
		}
	}
	for _, l := range axisLabels(pts, week) {
		// A label centred on a bucket near the right edge would run out of
		// the picture; it ends at the edge instead.
		x, anchor := chartLeft+(float64(l.bucket)+0.5)*slot, "middle"
		if x+labelHalfWidth(l.text) > chartW {
			x, anchor = chartW, "end"
		}
		g.XTicks = append(g.XTicks, chartTick{Pos: num(x), Label: l.text, Anchor: anchor})
	}
	return g
}

// longRange is the span from which the time axis names months, not days.
const longRange = 180 * 24 * time.Hour

// axisLabel is the label of one bucket on the time axis.
type axisLabel struct {
	bucket int
	text   string
}

// axisLabels labels the time axis with at most chartXLabels labels, all of
// one form so the axis reads evenly: over a long range, months with their
// year ("Jan 2026") at the first bucket of each month; over a shorter one
// that crosses a year boundary, days with their year ("Dec 29, 2025");
// otherwise days ("Mar 2", "wk Mar 2" for weeks).
func axisLabels(pts []SignupsPoint, week bool) []axisLabel {
	if len(pts) == 0 {
		return nil
	}
	first, last := pts[0].Start.UTC(), pts[len(pts)-1].Start.UTC()
	if last.Sub(first) >= longRange {
		if ls := monthLabels(pts); len(ls) > 0 {
			return ls
		}
	}
	layout := "Jan 2"
	if first.Year() != last.Year() {
		layout = "Jan 2, 2006"
	}
	prefix := ""
	if week {
		prefix = "wk "
	}
	var ls []axisLabel
	every := (len(pts) + chartXLabels - 1) / chartXLabels
	for i := 0; i < len(pts); i += every {
		ls = append(ls, axisLabel{i, prefix + pts[i].Start.UTC().Format(layout)})
	}
	return ls
}

// monthLabels names the first bucket that starts in each month ("Jan
// 2026"), but not the range's first bucket unless it starts on the 1st: a
// label there would stand for a month mostly outside the chart. Every n-th
// month is named, counted from January so the same months are named
// whatever the range's start, with n as small as keeps the labels to
// chartXLabels.
func monthLabels(pts []SignupsPoint) []axisLabel {
	var starts []int
	for i, p := range pts {
		t := p.Start.UTC()
		if i == 0 && t.Day() != 1 {
			continue
		}
		if i == 0 || t.Month() != pts[i-1].Start.UTC().Month() {
			starts = append(starts, i)
		}
	}
	n := (len(starts) + chartXLabels - 1) / chartXLabels
	var ls []axisLabel
	for _, i := range starts {
		t := pts[i].Start.UTC()
		if (int(t.Month())-1)%n == 0 {
			ls = append(ls, axisLabel{i, t.Format("Jan 2006")})
		}
	}
	return ls
}
