package report

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

// The CSV files follow Locust 2.x (--csv PREFIX, --csv-full-history) column
// for column and cell type for cell type, so scripts and dashboards written
// for Locust read them unchanged: where Locust writes an integer (counts,
// percentiles, the median, timestamps) horde writes one, and where it
// writes a float horde writes a decimal number. Horde's figures are its own
// — percentiles from its histograms rounded to the nearest ms, not Locust's
// two significant digits — and the summary JSON keeps them unrounded (µs).
// One deliberate difference: lines end in \n rather than Python's \r\n.

// csvQuantiles are the percentile columns of Locust's CSV files.
func csvQuantiles() [11]float64 { return stats.HistoryQuantiles() }

// csvQuantileHeaders are the headers of csvQuantiles, in Locust's spelling.
func csvQuantileHeaders() [11]string {
	return [...]string{"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"}
}

// notAvailable fills the percentile cells of a row with no requests, as
// Locust does (its other cells are 0 then).
const notAvailable = "N/A"

// CSV file suffixes appended to the --csv prefix.
const (
	StatsCSVSuffix      = "_stats.csv"
	HistoryCSVSuffix    = "_stats_history.csv"
	FailuresCSVSuffix   = "_failures.csv"
	ExceptionsCSVSuffix = "_exceptions.csv"
)

func statsCSVHeader() []string {
	h := []string{
		"Type", "Name", "Request Count", "Failure Count", "Median Response Time",
		"Average Response Time", "Min Response Time", "Max Response Time",
		"Average Content Size", "Requests/s", "Failures/s",
	}
	hs := csvQuantileHeaders()
	return append(h, hs[:]...)
}

func historyCSVHeader() []string {
	h := []string{"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"}
	hs := csvQuantileHeaders()
	h = append(h, hs[:]...)
	return append(h,
		"Total Request Count", "Total Failure Count", "Total Median Response Time",
		"Total Average Response Time", "Total Min Response Time", "Total Max Response Time",
		"Total Average Content Size")
}

// CSVOptions are the choices of WriteCSV.
type CSVOptions struct {
	// FullHistory writes a row per endpoint and second in the history
	// file, as Locust's --csv-full-history does (WriteFullHistoryCSV);
	// the snapshot must come from an Aggregate that kept them
	// (stats.AggregateOptions.EndpointHistory).
	FullHistory bool
}

// WriteCSV writes Locust's four files PREFIX_stats.csv,
// PREFIX_stats_history.csv, PREFIX_failures.csv and PREFIX_exceptions.csv.
// It writes every file it can and returns all the errors met.
func WriteCSV(prefix string, snap stats.Snapshot, opts CSVOptions) error {
	history := WriteHistoryCSV
	if opts.FullHistory {
		history = WriteFullHistoryCSV
	}
	files := []struct {
		suffix string
		write  func(io.Writer, stats.Snapshot) error
	}{
		{StatsCSVSuffix, WriteStatsCSV},
		{HistoryCSVSuffix, history},
		{FailuresCSVSuffix, WriteFailuresCSV},
		{ExceptionsCSVSuffix, WriteExceptionsCSV},
	}
	var errs []error
	for _, f := range files {
		errs = append(errs, writeFile(prefix+f.suffix, func(w io.Writer) error { return f.write(w, snap) }))
	}
	return errors.Join(errs...)
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("report: close %s: %w", path, cerr)
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}

// WriteStatsCSV writes the statistics table in Locust's _stats.csv layout:
// one row per endpoint, then the aggregate (Type "", Name "Aggregated").
func WriteStatsCSV(w io.Writer, snap stats.Snapshot) error {
	rows := [][]string{statsCSVHeader()}
	for _, r := range snap.Endpoints {
		rows = append(rows, statsCSVRow(r))
	}
	total := snap.Total
	total.Method, total.Name = "", "Aggregated"
	rows = append(rows, statsCSVRow(total))
	return writeCSVRows(w, rows)
}

func statsCSVRow(r stats.Row) []string {
	lat := r.Latency
	row := []string{
		r.Method, r.Name, fmtCount(r.Requests), fmtCount(r.Failures),
		medianCell(r.Requests, lat.P50, lat.Min, lat.Max), fmtMsCSV(lat.Avg), fmtMsCSV(lat.Min), fmtMsCSV(lat.Max),
		fmtDecimal(r.BytesAvg, 2), fmtDecimal(r.RPS, 3), fmtDecimal(failPerSec(r), 3),
	}
	var qs [11]float64
	for i, q := range csvQuantiles() {
		if r.Requests > 0 {
			qs[i] = quantile(r, q)
		}
	}
	return append(row, percentileCells(r.Requests, qs)...)
}

// percentileCells are the percentile columns: whole milliseconds, or N/A
// for a row with no requests, as Locust writes them.
func percentileCells(requests int64, qs [11]float64) []string {
	out := make([]string, len(qs))
	for i, v := range qs {
		if requests == 0 {
			out[i] = notAvailable
		} else {
			out[i] = fmtMsInt(v)
		}
	}
	return out
}

// medianCell is the median column as Locust writes it: whole
// milliseconds, kept within the row's exact min and max (then written
// as they are), and 0 for a row with no requests.
func medianCell(requests int64, p50, lo, hi float64) string {
	m := math.Round(finite(p50))
	switch {
	case requests == 0:
		return "0"
	case m > hi:
		return fmtMsCSV(hi)
	case m < lo:
		return fmtMsCSV(lo)
	}
	return fmtMsInt(m)
}

// failPerSec is the failure rate over the same period as Row.RPS.
func failPerSec(r stats.Row) float64 { return finite(r.RPS) * ratio(r.Failures, r.Requests) }

// WriteHistoryCSV writes the aggregate over time in Locust's
// _stats_history.csv layout (Locust's default: aggregated rows only), one
// row per second (thinned in long tests, see stats.AggregateOptions):
// current rates, cumulative counts, cumulative percentiles — Locust writes
// the cumulative ones without --csv-full-history — and cumulative latency.
func WriteHistoryCSV(w io.Writer, snap stats.Snapshot) error {
	rows := [][]string{historyCSVHeader()}
	for _, h := range snap.History {
		rows = append(rows, historyCSVRow(h.Time, h.Users, stats.EndpointHistoryRow{
			Name: "Aggregated", CurrentRPS: h.CurrentRPS, CurrentFailPerSec: h.CurrentFailPerSec,
			Quantiles: h.Quantiles, Requests: h.Requests, Failures: h.Failures,
			Median: h.Total.P50, Avg: h.Total.Avg, Min: h.Total.Min, Max: h.Total.Max, BytesAvg: h.BytesAvg,
		}))
	}
	return writeCSVRows(w, rows)
}

// WriteFullHistoryCSV writes the history file of Locust's
// --csv-full-history: at each point, a row per endpoint (sorted by name,
// then method) and then the Aggregated row, every one with its
// percentiles over the sliding window, as Locust's "current" values.
// It needs a snapshot with Snapshot.EndpointHistory.
func WriteFullHistoryCSV(w io.Writer, snap stats.Snapshot) error {
	if len(snap.History) > 0 && len(snap.EndpointHistory) == 0 {
		return errors.New("report: no per-endpoint history to write: the statistics were kept without it " +
			"(stats.AggregateOptions.EndpointHistory)")
	}
	rows := [][]string{historyCSVHeader()}
	for _, p := range snap.EndpointHistory {
		for _, r := range p.Endpoints {
			rows = append(rows, historyCSVRow(p.Time, p.Users, r))
		}
		total := p.Total
		total.Method, total.Name = "", "Aggregated"
		rows = append(rows, historyCSVRow(p.Time, p.Users, total))
	}
	return writeCSVRows(w, rows)
}

// historyCSVRow is one row of the history file. Before the first request
// the percentiles are N/A and the other figures 0, as in Locust; rates
// have Locust's six decimals.
func historyCSVRow(t time.Time, users int, r stats.EndpointHistoryRow) []string {
	row := []string{
		strconv.FormatInt(t.Unix(), 10), strconv.Itoa(users), r.Method, r.Name,
		fmtRate6(r.CurrentRPS), fmtRate6(r.CurrentFailPerSec),
	}
	row = append(row, percentileCells(r.Requests, r.Quantiles)...)
	return append(row, fmtCount(r.Requests), fmtCount(r.Failures),
		medianCell(r.Requests, r.Median, r.Min, r.Max), fmtMsCSV(r.Avg),
		fmtMsCSV(r.Min), fmtMsCSV(r.Max), fmtDecimal(r.BytesAvg, 2))
}

// fmtMsInt formats milliseconds as a whole number, for the cells where
// Locust writes integers.
func fmtMsInt(v float64) string { return fmtDecimal(math.Round(finite(v)), 0) }

// fmtRate6 formats a rate as Locust's history file does ("%2f"): six
// decimals.
func fmtRate6(v float64) string { return strconv.FormatFloat(finite(v), 'f', 6, 64) }

// WriteFailuresCSV writes failed requests grouped by error, in Locust's
// _failures.csv layout, with the first and last time each was seen (UTC,
// to the second, as Locust 2.44+ writes them).
func WriteFailuresCSV(w io.Writer, snap stats.Snapshot) error {
	rows := [][]string{{"Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"}}
	for _, e := range snap.Errors {
		rows = append(rows, []string{e.Method, e.Name, e.Error, fmtCount(e.Count), fmtSeen(e.FirstSeen), fmtSeen(e.LastSeen)})
	}
	return writeCSVRows(w, rows)
}

// fmtSeen formats a time as Locust's failures file does, or "" for none.
func fmtSeen(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// WriteExceptionsCSV writes script errors in Locust's _exceptions.csv
// layout. The Nodes column is empty: snapshots do not say which workers
// raised an error.
func WriteExceptionsCSV(w io.Writer, snap stats.Snapshot) error {
	rows := [][]string{{"Count", "Message", "Traceback", "Nodes"}}
	for _, e := range snap.Exceptions {
		rows = append(rows, []string{fmtCount(e.Count), e.Message, e.Traceback, ""})
	}
	return writeCSVRows(w, rows)
}

func writeCSVRows(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}
