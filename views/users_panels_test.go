package views

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestGroupDigitsAndHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 8192: "8.00 KiB", 16384: "16.0 KiB", 1536000: "1.46 MiB", 300 << 20: "300 MiB", 5 << 30: "5.00 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestChartLayout checks the bars stand on the axis, the tallest reaches
// no higher than the top tick, and the ticks are round numbers.
func TestChartLayout(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	pts := []SignupsPoint{{Start: start, Signups: 7, Deletions: 2}, {Start: start.AddDate(0, 0, 1)}, {Start: start.AddDate(0, 0, 2), Signups: 13}}
	g := layout(pts, true, false)
	if len(g.Bars) != 6 {
		t.Fatalf("%d bars, want 6", len(g.Bars))
	}
	labels := []string{}
	for _, tk := range g.YTicks {
		labels = append(labels, tk.Label)
	}
	if strings.Join(labels, " ") != "0 5 10 15 20" {
		t.Errorf("y ticks = %v", labels)
	}
	base := float64(chartTop + plotH)
	for _, b := range g.Bars {
		y, _ := strconv.ParseFloat(b.Y, 64)
		h, _ := strconv.ParseFloat(b.H, 64)
		if d := y + h - base; d > 0.1 || d < -0.1 || y < chartTop-0.1 {
			t.Errorf("bar %+v does not stand on the axis inside the plot", b)
		}
	}
	want := float64(plotH) * 13 / 20
	if h, _ := strconv.ParseFloat(g.Bars[4].H, 64); h < want-0.1 || h > want+0.1 {
		t.Errorf("13 of 20 drawn %v high, want %v", h, want)
	}
	if g.XTicks[0].Label != "Jan 5" {
		t.Errorf("first x label = %q", g.XTicks[0].Label)
	}
	if empty := layout(nil, false, true); len(empty.Bars) != 0 || len(empty.YTicks) != chartYTicks+1 {
		t.Errorf("empty chart = %+v", empty)
	}
}

// TestIndexAdvisorSlotsLoadAfterThePage checks both slots fetch their panel
// once, on load, and say they are loading meanwhile.
func TestIndexAdvisorSlotsLoadAfterThePage(t *testing.T) {
	ref := UsersPanelRef{ProjectID: "p-1", Provider: "stack"}
	for name, c := range map[string]struct {
		html func(*bytes.Buffer) error
		want string
	}{
		"index":   {func(b *bytes.Buffer) error { return IndexAdvisorSlot(ref).Render(context.Background(), b) }, "/projects/p-1/users/index?provider=stack"},
		"signups": {func(b *bytes.Buffer) error { return SignupsSlot(ref).Render(context.Background(), b) }, "/projects/p-1/users/signups?provider=stack"},
	} {
		var buf bytes.Buffer
		if err := c.html(&buf); err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		slot := doc.Find("section")
		get, _ := slot.Attr("hx-get")
		trig, _ := slot.Attr("hx-trigger")
		if get != c.want || trig != "load" || slot.Find(`[aria-busy="true"]`).Length() != 1 {
			t.Errorf("%s slot: hx-get %q, hx-trigger %q:\n%s", name, get, trig, buf.String())
		}
	}
}
