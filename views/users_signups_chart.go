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

// chartTick is one axis label and where it goes.
type chartTick struct {
	Pos   string
	Label string
}

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
	every := (len(pts) + chartXLabels - 1) / chartXLabels
	for i, p := range pts {
		x := chartLeft + float64(i)*slot + slot*barGap
		bar(x, p.Signups, "chart-signups")
		if deletions {
			bar(x+width, p.Deletions, "chart-deletions")
		}
		if i%every == 0 {
			g.XTicks = append(g.XTicks, chartTick{Pos: num(chartLeft + (float64(i)+0.5)*slot), Label: BucketLabel(p.Start, week)})
		}
	}
	return g
}

// BucketLabel names a bucket on the axis and in the table.
func BucketLabel(t time.Time, week bool) string {
	if week {
		return "wk " + t.Format("Jan 2")
	}
	return t.Format("Jan 2")
}
