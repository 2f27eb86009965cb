package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/horde-load/horde/internal/stats"
)

// TableOptions tunes the final terminal table. The zero value is usable.
type TableOptions struct {
	// MaxNameWidth caps the Name column; longer names end in "…".
	// 0 means 60.
	MaxNameWidth int
	// MaxErrorWidth caps error texts and script error messages. 0 means 120.
	MaxErrorWidth int
	// Width is the terminal width. When > 0 the Name column shrinks so that
	// rows fit, and longer lines are cut. 0 means no limit.
	Width int
	// MaxTracebackLines caps each script error's traceback. 0 means 20.
	MaxTracebackLines int
}

func (o TableOptions) withDefaults() TableOptions {
	if o.MaxNameWidth <= 0 {
		o.MaxNameWidth = 60
	}
	if o.MaxErrorWidth <= 0 {
		o.MaxErrorWidth = 120
	}
	if o.MaxTracebackLines <= 0 {
		o.MaxTracebackLines = 20
	}
	return o
}

// WriteTable writes the end-of-run summary: the statistics table with the
// aggregate last, then the failures, the script errors and the warnings
// when there are any. Response times are in ms, sizes in bytes, rates over the whole run.
func WriteTable(w io.Writer, snap stats.Snapshot, opts TableOptions) error {
	opts = opts.withDefaults()
	var b strings.Builder
	b.WriteString(fitLine("Response times in ms, sizes in bytes, rates per second over the whole run", opts.Width))
	writeLines(&b, statsGrid(snap, opts).lines(opts.Width))
	if len(snap.Errors) > 0 {
		b.WriteString("\nFailures\n")
		writeLines(&b, failuresGrid(snap.Errors, opts).lines(opts.Width))
	}
	if len(snap.Exceptions) > 0 {
		b.WriteString("\nScript errors\n")
		writeExceptions(&b, snap.Exceptions, opts)
	}
	if len(snap.Warnings) > 0 {
		b.WriteString("\nWarnings\n")
		for _, warn := range snap.Warnings {
			b.WriteString(fitLine("- "+sanitize(warn), opts.Width))
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("report: write table: %w", err)
	}
	return nil
}

func writeLines(b *strings.Builder, lines []string) {
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

func statsGrid(snap stats.Snapshot, opts TableOptions) *grid {
	g := &grid{cols: []column{
		{header: "Type"}, {header: "Name", max: opts.MaxNameWidth, flex: true},
		{header: "# reqs", right: true}, {header: "# fails", right: true},
		{header: "Avg", right: true}, {header: "Min", right: true}, {header: "Max", right: true},
		{header: "Med", right: true}, {header: "p90", right: true}, {header: "p95", right: true},
		{header: "p99", right: true}, {header: "p99.9", right: true}, {header: "avg size", right: true},
		{header: "req/s", right: true}, {header: "fail/s", right: true},
	}}
	g.sep()
	for _, r := range snap.Endpoints {
		g.add(statsCells(r)...)
	}
	if len(snap.Endpoints) > 0 {
		g.sep()
	}
	total := snap.Total
	total.Method, total.Name = "", "Aggregated"
	g.add(statsCells(total)...)
	return g
}

func statsCells(r stats.Row) []string {
	l := r.Latency
	lat := []string{fmtMs(l.Avg), fmtMs(l.Min), fmtMs(l.Max), fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P95), fmtMs(l.P99), fmtMs(l.P999)}
	if r.Requests == 0 {
		for i := range lat {
			lat[i] = "-"
		}
	}
	cells := []string{r.Method, r.Name, fmtCount(r.Requests), fmtFails(r.Failures, r.Requests)}
	cells = append(cells, lat...)
	return append(cells, fmtBytes(r.BytesAvg), fmtRate(r.RPS), fmtRate(failPerSec(r)))
}

// failuresGrid lists failures, most frequent first.
func failuresGrid(errs []stats.ErrorRow, opts TableOptions) *grid {
	sorted := slices.Clone(errs)
	slices.SortStableFunc(sorted, func(a, b stats.ErrorRow) int { return compareDesc(a.Count, b.Count) })
	g := &grid{cols: []column{
		{header: "Count", right: true}, {header: "Method"},
		{header: "Name", max: opts.MaxNameWidth, flex: true}, {header: "Error", max: opts.MaxErrorWidth},
	}}
	g.sep()
	for _, e := range sorted {
		g.add(fmtCount(e.Count), e.Method, e.Name, e.Error)
	}
	return g
}

// writeExceptions lists script errors, most frequent first, each with its
// traceback indented below it.
func writeExceptions(b *strings.Builder, excs []stats.ExceptionRow, opts TableOptions) {
	sorted := slices.Clone(excs)
	slices.SortStableFunc(sorted, func(a, b stats.ExceptionRow) int { return compareDesc(a.Count, b.Count) })
	countWidth, msgWidth := textWidth("Count"), textWidth("Message")
	msgs := make([]string, len(sorted))
	for i, e := range sorted {
		countWidth = max(countWidth, textWidth(fmtCount(e.Count)))
		msgs[i] = truncate(sanitize(e.Message), opts.MaxErrorWidth)
		msgWidth = max(msgWidth, textWidth(msgs[i]))
	}
	fit := func(line string) string { return fitLine(line, opts.Width) }
	b.WriteString(fit(fmt.Sprintf("%*s%sMessage", countWidth, "Count", gap)))
	b.WriteString(fit(strings.Repeat("-", countWidth) + gap + strings.Repeat("-", msgWidth)))
	indent := strings.Repeat(" ", countWidth+textWidth(gap))
	for i, e := range sorted {
		b.WriteString(fit(fmt.Sprintf("%*d%s%s", countWidth, e.Count, gap, msgs[i])))
		for _, tl := range tracebackLines(e.Traceback, opts.MaxTracebackLines) {
			b.WriteString(fit(indent + tl))
		}
	}
}

// tracebackLines splits a traceback into sanitized lines, at most maxLines
// of them (the last saying how many were left out).
func tracebackLines(tb string, maxLines int) []string {
	tb = strings.TrimRight(strings.ReplaceAll(tb, "\r\n", "\n"), "\n")
	if tb == "" {
		return nil
	}
	lines := strings.Split(tb, "\n")
	for i, l := range lines {
		lines[i] = sanitize(strings.ReplaceAll(l, "\t", "    "))
	}
	if len(lines) > maxLines {
		more := len(lines) - (maxLines - 1)
		lines = append(lines[:maxLines-1], fmt.Sprintf("%s %d more lines", ellipsis, more))
	}
	return lines
}

// fitLine cuts line to maxWidth columns (when > 0), trims trailing spaces
// and ends it with a newline.
func fitLine(line string, maxWidth int) string {
	if maxWidth > 0 {
		line = truncate(line, maxWidth)
	}
	return strings.TrimRight(line, " ") + "\n"
}

func compareDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}
