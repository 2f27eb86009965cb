package report

import (
	"io"
	"strconv"
	"strings"
)

// WriteComparison writes a comparison as `horde runs compare` shows it:
// per row, the 50th, 95th and 99th percentiles, the requests per second
// and the failure ratio in both runs, with the change and its direction.
func WriteComparison(w io.Writer, c Comparison) error {
	g := grid{cols: []column{
		{header: "Type"}, {header: "Name", max: 40, flex: true},
		{header: "p50 (ms)", right: true}, {header: "p95 (ms)", right: true}, {header: "p99 (ms)", right: true},
		{header: "req/s", right: true}, {header: "fail %", right: true},
	}}
	row := func(method, name string, f Figures) {
		g.add(method, sanitize(name), deltaCell(f.Latency.P50, fmtMs), deltaCell(f.Latency.P95, fmtMs),
			deltaCell(f.Latency.P99, fmtMs), deltaCell(f.RPS, fmtRate),
			deltaCell(f.FailRatio, func(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) }))
	}
	for _, e := range c.Endpoints {
		row(e.Method, e.Name, e.Figures)
	}
	g.sep()
	row("", "Aggregated", c.Totals)
	var b strings.Builder
	b.WriteString("Each cell: base → other (change, better/worse; same within " +
		strconv.FormatFloat(100*c.SameWithin, 'f', 0, 64) + " %)\n")
	writeLines(&b, g.lines(0))
	only := func(title string, eps []EndpointSummary) {
		if len(eps) == 0 {
			return
		}
		b.WriteString("\n" + title + "\n")
		for _, e := range eps {
			b.WriteString("  " + e.Method + " " + sanitize(e.Name) + "\n")
		}
	}
	only("Only in the base run", c.OnlyBase)
	only("Only in the other run", c.OnlyOther)
	_, err := io.WriteString(w, b.String())
	return err
}

// deltaCell is "base → other (+18% worse)".
func deltaCell(d Delta, f func(float64) string) string {
	s := f(d.Base) + " → " + f(d.Other)
	switch {
	case d.Direction == Same:
		return s + " (same)"
	case d.Rel != nil:
		pct := strconv.FormatFloat(100**d.Rel, 'f', 1, 64)
		if *d.Rel > 0 {
			pct = "+" + pct
		}
		return s + " (" + pct + "% " + string(d.Direction) + ")"
	}
	return s + " (" + string(d.Direction) + ")"
}
