package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

// A stored run (package runstore) keeps the summary JSON and the final
// histograms of every row; this file reads them back.

// ReadSummary decodes a summary JSON, as --json writes it.
func ReadSummary(b []byte) (Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return Summary{}, fmt.Errorf("reading a summary: %w", err)
	}
	return s, nil
}

// ReadHistograms decodes the final histograms of a stored run.
func ReadHistograms(b []byte) ([]stats.EndpointHistogram, error) {
	var hs []stats.EndpointHistogram
	if len(b) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(b, &hs); err != nil {
		return nil, fmt.Errorf("reading histograms: %w", err)
	}
	return hs, nil
}

// StoredSnapshot rebuilds the statistics of a stored run well enough to
// evaluate thresholds on it (a baseline): every row's counts, rates and
// latency figures from the summary, and any other percentile from the
// histograms when they are there.
func StoredSnapshot(sum Summary, hists []stats.EndpointHistogram) (stats.Snapshot, error) {
	byKey := map[[2]string]*stats.Histogram{}
	for _, h := range hists {
		hist, err := stats.HistogramFromData(h.Data)
		if err != nil {
			return stats.Snapshot{}, fmt.Errorf("the histogram of %s %s: %w", h.Method, h.Name, err)
		}
		byKey[[2]string{h.Method, h.Name}] = hist
	}
	row := func(method, name string, req, fail int64, rps, bytes float64, lat stats.Latency) stats.Row {
		r := stats.Row{Method: method, Name: name, Requests: req, Failures: fail, RPS: rps, BytesAvg: bytes, Latency: lat}
		if h := byKey[[2]string{method, name}]; h != nil {
			r.Percentile = func(q float64) float64 { return h.Quantile(q) / 1000 }
			r.CountAtMost = func(ms float64) uint64 { return h.CountAtMost(ms * 1000) }
		}
		return r
	}
	snap := stats.Snapshot{Dropped: sum.DroppedIterations}
	for _, e := range sum.Endpoints {
		snap.Endpoints = append(snap.Endpoints, row(e.Method, e.Name, e.Requests, e.Failures, e.RPS, e.BytesAvg, e.Latency))
	}
	t := sum.Totals
	snap.Total = row("", stats.TotalName, t.Requests, t.Failures, t.RPS, 0, t.Latency)
	for _, e := range sum.Errors {
		snap.Errors = append(snap.Errors, stats.ErrorRow{Method: e.Method, Name: e.Name, Error: e.Error, Count: e.Count})
	}
	for _, e := range sum.Exceptions {
		snap.Exceptions = append(snap.Exceptions, stats.ExceptionRow{Message: e.Message, Count: e.Count, Traceback: e.Traceback})
	}
	snap.Warnings = sum.Warnings
	if started, err := time.Parse(time.RFC3339, sum.Started); err == nil {
		snap.Started = started
	}
	snap.Duration = time.Duration(sum.DurationS * float64(time.Second))
	return snap, nil
}

// WriteSummaryTable writes a stored run's final table and thresholds, as
// the run's end printed them.
func WriteSummaryTable(w io.Writer, sum Summary) error {
	snap, err := StoredSnapshot(sum, nil)
	if err != nil {
		return err
	}
	if err := WriteTable(w, snap, TableOptions{}); err != nil {
		return err
	}
	return WriteThresholds(w, sum.Thresholds)
}
