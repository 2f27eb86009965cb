package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/horde-load/horde/internal/runstore"
)

// WriteRuns writes stored runs as `horde runs list` shows them: newest as
// given, one line each.
func WriteRuns(w io.Writer, runs []runstore.Run) error {
	g := grid{cols: []column{
		{header: "ID"}, {header: "Started"}, {header: "Script", max: 32, flex: true}, {header: "Status"},
		{header: "# reqs", right: true}, {header: "# fails", right: true}, {header: "req/s", right: true},
		{header: "p95", right: true}, {header: "Duration", right: true}, {header: "Labels", max: 40},
	}}
	for _, r := range runs {
		g.add(shortRunID(r.ID), r.Started.Local().Format("2006-01-02 15:04:05"), sanitize(r.Script), string(r.Status),
			fmtCount(r.Metrics.Requests), fmtCount(r.Metrics.Failures), fmtRate(r.Metrics.RPS), fmtMs(r.Metrics.P95Ms),
			(time.Duration(r.Metrics.DurationS * float64(time.Second))).Round(time.Second).String(), labelText(r.Labels))
	}
	var b strings.Builder
	if len(runs) == 0 {
		b.WriteString("no runs stored\n")
	} else {
		writeLines(&b, g.lines(0))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteRun writes one stored run's facts, as `horde runs show` begins.
func WriteRun(w io.Writer, r runstore.Run) error {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-10s %s\n", k+":", sanitize(v))
		}
	}
	line("Run", r.ID)
	line("Status", string(r.Status))
	line("Reason", r.Reason)
	line("Script", r.Script)
	line("Host", r.Host)
	line("Started", r.Started.Local().Format(time.RFC3339))
	if !r.Ended.IsZero() {
		line("Ended", r.Ended.Local().Format(time.RFC3339))
	}
	line("Options", labelText(r.Options))
	line("Labels", labelText(r.Labels))
	line("Version", r.Version)
	_, err := io.WriteString(w, b.String())
	return err
}

func shortRunID(id string) string { return id[:min(len(id), 8)] }

// labelText is k=v pairs in key order.
func labelText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}
