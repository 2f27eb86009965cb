package report

import (
	"bytes"
	_ "embed" // the report template
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

//go:embed html_report.tmpl
var htmlReportTemplate string

// htmlPercentiles are the columns of the report's response time table
// (Locust's, plus 99.9).
func htmlPercentiles() []float64 {
	return []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1}
}

// htmlView is what the template shows: every number already formatted.
type htmlView struct {
	Period, Duration, Host, Generated string
	UsersPeak                         int
	Workers                           []WorkerInfo
	Thresholds                        []htmlThreshold
	ThresholdsPassed                  int
	Dropped                           int64
	Warnings                          []string
	Stats                             []htmlStatsRow
	PctHeaders                        []string
	PctRows                           []htmlPctRow
	AnyApprox                         bool
	Errors                            []stats.ErrorRow
	Exceptions                        []stats.ExceptionRow
	Charts                            []htmlChart
}

type htmlThreshold struct {
	Expr, Value string
	Passed      bool
}

type htmlStatsRow struct {
	Total                                bool
	Type, Name, Requests, Fails, FailPct string
	Avg, Min, Max, Size, RPS, FailPerSec string
}

type htmlPctRow struct {
	Total      bool
	Type, Name string
	Cells      []htmlPctCell
}

// htmlPctCell is one percentile; Approx marks a value taken from the
// nearest stored percentile because the row had no histogram.
type htmlPctCell struct {
	Value  string
	Approx bool
}

type htmlChart struct {
	Title, Note string
	SVG         template.HTML
}

// WriteHTML writes a self-contained HTML report of the test: no scripts or
// styles fetched from anywhere, charts inline as SVG, readable offline and
// printable. Response times are in ms, rates over the whole run; the
// charts show the sliding-window values of snap.History.
func WriteHTML(w io.Writer, snap stats.Snapshot, meta Meta) error {
	tmpl, err := template.New("report").Funcs(template.FuncMap{"pathParts": pathParts}).Parse(htmlReportTemplate)
	if err != nil {
		return fmt.Errorf("report: parse html template: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, newHTMLView(snap, meta)); err != nil {
		return fmt.Errorf("report: render html: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

func newHTMLView(snap stats.Snapshot, meta Meta) htmlView {
	v := htmlView{
		Period:    fmtPeriod(snap.Started, snap.Duration),
		Duration:  fmtDuration(snap.Duration),
		Host:      meta.Host,
		UsersPeak: meta.UsersPeak,
		Workers:   meta.Workers,
		Dropped:   snap.Dropped,
		Warnings:  snap.Warnings,
		Errors:    sortedErrors(snap.Errors),
	}
	if !snap.Time.IsZero() {
		v.Generated = snap.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	for _, t := range meta.Thresholds {
		v.Thresholds = append(v.Thresholds, htmlThreshold{Expr: t.Expr, Value: fmtDecimal(t.Value, 3), Passed: t.Passed})
		if t.Passed {
			v.ThresholdsPassed++
		}
	}
	v.Exceptions = slices.Clone(snap.Exceptions)
	slices.SortStableFunc(v.Exceptions, func(a, b stats.ExceptionRow) int { return compareDesc(a.Count, b.Count) })
	total := snap.Total
	total.Method, total.Name = "", "Aggregated"
	rows := append(slices.Clip(snap.Endpoints), total)
	for _, q := range htmlPercentiles() {
		v.PctHeaders = append(v.PctHeaders, fmtDecimal(q*100, 1)+"%")
	}
	for i, r := range rows {
		isTotal := i == len(rows)-1
		v.Stats = append(v.Stats, htmlStatsCells(r, isTotal))
		pr := htmlPercentileCells(r, isTotal)
		for _, c := range pr.Cells {
			v.AnyApprox = v.AnyApprox || c.Approx
		}
		v.PctRows = append(v.PctRows, pr)
	}
	v.Charts = htmlCharts(snap)
	return v
}

func htmlStatsCells(r stats.Row, total bool) htmlStatsRow {
	row := htmlStatsRow{
		Total: total, Type: r.Method, Name: r.Name,
		Requests: fmtCount(r.Requests), Fails: fmtCount(r.Failures), FailPct: fmtPct(ratio(r.Failures, r.Requests)),
		Avg: "-", Min: "-", Max: "-",
		Size: fmtBytes(r.BytesAvg), RPS: fmtRate(r.RPS), FailPerSec: fmtRate(failPerSec(r)),
	}
	if r.Requests > 0 {
		row.Avg, row.Min, row.Max = fmtMs(r.Latency.Avg), fmtMs(r.Latency.Min), fmtMs(r.Latency.Max)
	}
	return row
}

func htmlPercentileCells(r stats.Row, total bool) htmlPctRow {
	row := htmlPctRow{Total: total, Type: r.Method, Name: r.Name}
	for _, q := range htmlPercentiles() {
		if r.Requests == 0 {
			row.Cells = append(row.Cells, htmlPctCell{Value: "-"})
			continue
		}
		row.Cells = append(row.Cells, htmlPctCell{
			Value:  fmtMs(quantile(r, q)),
			Approx: r.Percentile == nil && !isStoredQuantile(q),
		})
	}
	return row
}

// pathParts splits an endpoint name after each slash, where the page may
// break a long name across lines.
func pathParts(name string) []string {
	parts := strings.SplitAfter(name, "/")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// isStoredQuantile reports whether stats.Latency holds quantile q exactly.
func isStoredQuantile(q float64) bool {
	for _, p := range latencyPoints(stats.Latency{}) {
		if p.q == q {
			return true
		}
	}
	return false
}

// sortedErrors lists failures most frequent first.
func sortedErrors(errs []stats.ErrorRow) []stats.ErrorRow {
	sorted := slices.Clone(errs)
	slices.SortStableFunc(sorted, func(a, b stats.ErrorRow) int { return compareDesc(a.Count, b.Count) })
	return sorted
}

// fmtPeriod formats the test's period in UTC: the end's date only when it
// differs from the start's.
func fmtPeriod(start time.Time, d time.Duration) string {
	if start.IsZero() {
		return ""
	}
	start = start.UTC()
	end := start.Add(max(d, 0))
	const day, clock = "2006-01-02 ", "15:04:05"
	endFmt := clock
	if end.Format(day) != start.Format(day) {
		endFmt = day + clock
	}
	return start.Format(day+clock) + " – " + end.Format(endFmt) + " UTC"
}

// htmlCharts builds the three charts from the history, or none when there
// is no history.
func htmlCharts(snap stats.Snapshot) []htmlChart {
	h := snap.History
	if len(h) == 0 {
		return nil
	}
	origin := h[0].Time
	if !snap.Started.IsZero() && snap.Started.Before(origin) {
		origin = snap.Started
	}
	series := func(label, color, dash string, val func(stats.HistoryPoint) float64) chartSeries {
		s := chartSeries{label: label, color: color, dash: dash, pts: make([]chartPoint, len(h))}
		for i, p := range h {
			s.pts[i] = chartPoint{x: max(p.Time.Sub(origin).Seconds(), 0), y: max(finite(val(p)), 0)}
		}
		return s
	}
	rps := lineChart{label: "Requests and failures per second over time", unit: "per second", series: []chartSeries{
		series("Requests/s", "#2563eb", "", func(p stats.HistoryPoint) float64 { return p.CurrentRPS }),
		series("Failures/s", "#dc2626", "6 3", func(p stats.HistoryPoint) float64 { return p.CurrentFailPerSec }),
	}}
	lat := lineChart{label: "Response time percentiles over time", unit: "ms", series: []chartSeries{
		series("p50", "#16a34a", "", func(p stats.HistoryPoint) float64 { return p.P50 }),
		series("p95", "#d97706", "6 3", func(p stats.HistoryPoint) float64 { return p.P95 }),
		series("p99", "#9333ea", "2 3", func(p stats.HistoryPoint) float64 { return p.P99 }),
	}}
	users := lineChart{label: "Users over time", unit: "users", series: []chartSeries{
		series("Users", "#0f766e", "", func(p stats.HistoryPoint) float64 { return float64(p.Users) }),
	}}
	window := "over the sliding window, " + strconv.Itoa(len(h)) + " samples"
	return []htmlChart{
		{Title: "Requests and failures per second", Note: window, SVG: rps.svg()},
		{Title: "Response time percentiles", Note: window, SVG: lat.svg()},
		{Title: "Users", Note: "running users", SVG: users.svg()},
	}
}
