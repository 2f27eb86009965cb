package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file draws the report's charts as inline SVG, so the HTML report
// needs no script and no network to show them and prints as vectors.

// maxChartPoints caps the points drawn per series: more would not show on a
// page and would only make the file large.
const maxChartPoints = 1000

// Chart geometry, in SVG user units; the SVG scales to the page width.
const (
	chartW, chartH = 960.0, 250.0
	plotL, plotR   = 64.0, 16.0 // left and right margins
	plotT, plotB   = 34.0, 30.0 // top (legend) and bottom (x labels) margins
)

// chartPoint is one point of a series: x in seconds since the test started.
type chartPoint struct{ x, y float64 }

// chartSeries is one line of a chart.
type chartSeries struct {
	label string
	color string
	// dash is an SVG stroke-dasharray, so lines stay apart when printed in grey.
	dash string
	pts  []chartPoint
}

// lineChart is a time chart of one or more series sharing a y axis.
type lineChart struct {
	label  string // accessible name of the chart
	unit   string // y axis unit, written above the axis
	series []chartSeries
}

// svg renders the chart. Every text it writes is escaped, so the result is
// safe to put into the page as is.
func (c lineChart) svg() template.HTML {
	xMax, yMax := 1.0, 0.0
	for _, s := range c.series {
		for _, p := range s.pts {
			xMax, yMax = max(xMax, p.x), max(yMax, p.y)
		}
	}
	xStep := timeStep(xMax / 6)
	yStep := niceStep(yMax / 4)
	yTop := yStep * math.Max(1, math.Ceil(yMax/yStep-1e-9))
	sx := func(x float64) float64 { return plotL + x/xMax*(chartW-plotL-plotR) }
	sy := func(y float64) float64 { return chartH - plotB - y/yTop*(chartH-plotT-plotB) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %s %s" role="img" aria-label="%s">`,
		num(chartW), num(chartH), html.EscapeString(c.label))
	fmt.Fprintf(&b, `<text class="unit" x="4" y="18">%s</text>`, html.EscapeString(c.unit))
	for i := 0; ; i++ {
		y := float64(i) * yStep
		if y > yTop*(1+1e-9) {
			break
		}
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(plotL), num(sy(y)), num(chartW-plotR), num(sy(y)))
		fmt.Fprintf(&b, `<text class="yl" x="%s" y="%s">%s</text>`, num(plotL-6), num(sy(y)+4), fmtTick(y))
	}
	for i := 0; ; i++ {
		x := float64(i) * xStep
		if x > xMax+1e-9 {
			break
		}
		fmt.Fprintf(&b, `<line class="tick" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(sx(x)), num(chartH-plotB), num(sx(x)), num(chartH-plotB+5))
		fmt.Fprintf(&b, `<text class="xl" x="%s" y="%s">%s</text>`, num(sx(x)), num(chartH-plotB+18), fmtElapsed(x))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(plotL), num(chartH-plotB), num(chartW-plotR), num(chartH-plotB))
	fmt.Fprintf(&b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(plotL), num(plotT), num(plotL), num(chartH-plotB))
	for _, s := range c.series {
		writeSeries(&b, s, sx, sy)
	}
	writeLegend(&b, max(plotL, 4+textLen(c.unit)+24), c.series)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built here; every text is escaped above
}

// writeSeries draws one series as a polyline; a lone point as a dot, since
// a one-point line is invisible.
func writeSeries(b *strings.Builder, s chartSeries, sx, sy func(float64) float64) {
	pts := downsample(s.pts, maxChartPoints)
	if len(pts) == 0 {
		return
	}
	if len(pts) == 1 {
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`, num(sx(pts[0].x)), num(sy(pts[0].y)), s.color)
		return
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.6" stroke-linejoin="round"`, s.color)
	if s.dash != "" {
		fmt.Fprintf(b, ` stroke-dasharray="%s"`, s.dash)
	}
	b.WriteString(` points="`)
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(sx(p.x)) + "," + num(sy(p.y)))
	}
	fmt.Fprintf(b, `"><title>%s</title></polyline>`, html.EscapeString(s.label))
}

// writeLegend writes the series' names above the plot, left to right from x.
func writeLegend(b *strings.Builder, x float64, series []chartSeries) {
	for _, s := range series {
		fmt.Fprintf(b, `<line x1="%s" y1="14" x2="%s" y2="14" stroke="%s" stroke-width="2.5"`, num(x), num(x+22), s.color)
		if s.dash != "" {
			fmt.Fprintf(b, ` stroke-dasharray="%s"`, s.dash)
		}
		fmt.Fprintf(b, `/><text class="lg" x="%s" y="18">%s</text>`, num(x+28), html.EscapeString(s.label))
		x += 28 + textLen(s.label) + 24
	}
}

// textLen estimates the width of a label at the chart's 12px font.
func textLen(s string) float64 { return 7.5 * float64(utf8.RuneCountInString(s)) }

// downsample keeps at most limit points of pts (ordered by x): the first
// and the last, and between them each of (limit-2)/2 buckets' lowest and
// highest point in their order, so spikes and dips survive the thinning.
func downsample(pts []chartPoint, limit int) []chartPoint {
	if len(pts) <= limit || limit < 4 {
		return pts
	}
	inner := pts[1 : len(pts)-1]
	buckets := (limit - 2) / 2
	out := make([]chartPoint, 0, limit)
	out = append(out, pts[0])
	for i := range buckets {
		lo, hi := i*len(inner)/buckets, (i+1)*len(inner)/buckets
		minI, maxI := lo, lo
		for j := lo + 1; j < hi; j++ {
			if inner[j].y < inner[minI].y {
				minI = j
			}
			if inner[j].y > inner[maxI].y {
				maxI = j
			}
		}
		out = append(out, inner[min(minI, maxI)])
		if minI != maxI {
			out = append(out, inner[max(minI, maxI)])
		}
	}
	return append(out, pts[len(pts)-1])
}

// niceStep returns a round step (1, 2 or 5 times a power of ten) of at
// least raw, for the y axis; 1 when raw is not positive.
func niceStep(raw float64) float64 {
	if !(raw > 0) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// timeStep returns the smallest step of at least raw seconds that reads
// well on a clock.
func timeStep(raw float64) float64 {
	steps := [...]float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}
	for _, s := range steps {
		if s >= raw {
			return s
		}
	}
	return 86400 * niceStep(raw/86400)
}

// fmtElapsed labels an x tick: 0s, 45s, 2m, 1m30s, 1h, 2h30m.
func fmtElapsed(sec float64) string {
	s := int64(math.Round(sec))
	h, m, r := s/3600, s/60%60, s%60
	var b strings.Builder
	if h > 0 {
		b.WriteString(strconv.FormatInt(h, 10) + "h")
	}
	if m > 0 {
		b.WriteString(strconv.FormatInt(m, 10) + "m")
	}
	if r > 0 || s == 0 {
		b.WriteString(strconv.FormatInt(r, 10) + "s")
	}
	return b.String()
}

// fmtTick labels a y tick: 0.05, 250, 12k, 1.5M.
func fmtTick(v float64) string {
	switch {
	case v >= 1e6:
		return fmtDecimal(v/1e6, 2) + "M"
	case v >= 1e4:
		return fmtDecimal(v/1e3, 2) + "k"
	default:
		return fmtDecimal(v, 3)
	}
}

// num formats an SVG coordinate: one decimal is finer than a printed dot.
func num(v float64) string { return fmtDecimal(v, 1) }
