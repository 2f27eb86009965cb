package report

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/horde-load/horde/internal/stats"
)

// The CSV files follow Locust 2.x (--csv PREFIX) column for column, so
// scripts and dashboards written for Locust read them unchanged. Two
// deliberate differences: latencies are written in ms with up to three
// decimals (µs precision) where Locust rounds percentiles to two significant
// digits, and lines end in \n rather than Python's \r\n.

// csvQuantiles are the percentile columns of Locust's CSV files.
func csvQuantiles() [11]float64 { return stats.HistoryQuantiles() }

// csvQuantileHeaders are the headers of csvQuantiles, in Locust's spelling.
func csvQuantileHeaders() [11]string {
	return [...]string{"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"}
}

// notAvailable fills a cell with no value, as Locust does for the
// percentiles of a row with no requests.
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

// WriteCSV writes Locust's four files PREFIX_stats.csv,
// PREFIX_stats_history.csv, PREFIX_failures.csv and PREFIX_exceptions.csv.
// It writes every file it can and returns all the errors met.
func WriteCSV(prefix string, snap stats.Snapshot) error {
	files := []struct {
		suffix string
		write  func(io.Writer, stats.Snapshot) error
	}{
		{StatsCSVSuffix, WriteStatsCSV},
		{HistoryCSVSuffix, WriteHistoryCSV},
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
	row := []string{
		r.Method, r.Name, fmtCount(r.Requests), fmtCount(r.Failures),
		fmtMsCSV(r.Latency.P50), fmtMsCSV(r.Latency.Avg), fmtMsCSV(r.Latency.Min), fmtMsCSV(r.Latency.Max),
		fmtDecimal(r.BytesAvg, 2), fmtDecimal(r.RPS, 3), fmtDecimal(failPerSec(r), 3),
	}
	for _, q := range csvQuantiles() {
		if r.Requests == 0 {
			row = append(row, notAvailable)
			continue
		}
		row = append(row, fmtMsCSV(quantile(r, q)))
	}
	return row
}

// failPerSec is the failure rate over the same period as Row.RPS.
func failPerSec(r stats.Row) float64 { return finite(r.RPS) * ratio(r.Failures, r.Requests) }

// WriteHistoryCSV writes the aggregate over time in Locust's
// _stats_history.csv layout (Locust's default: aggregated rows only).
// A stats.HistoryPoint holds the sliding-window p50, p95 and p99 and the
// cumulative counts and cumulative percentiles, as Locust writes by default.
func WriteHistoryCSV(w io.Writer, snap stats.Snapshot) error {
	rows := [][]string{historyCSVHeader()}
	for _, h := range snap.History {
		row := []string{
			strconv.FormatInt(h.Time.Unix(), 10), strconv.Itoa(h.Users), "", "Aggregated",
			fmtDecimal(h.CurrentRPS, 3), fmtDecimal(h.CurrentFailPerSec, 3),
		}
		for _, v := range h.Quantiles {
			row = append(row, historyCell(h, fmtMsCSV(v)))
		}
		row = append(row, fmtCount(h.Requests), fmtCount(h.Failures),
			historyCell(h, fmtMsCSV(h.Total.P50)), historyCell(h, fmtMsCSV(h.Total.Avg)),
			historyCell(h, fmtMsCSV(h.Total.Min)), historyCell(h, fmtMsCSV(h.Total.Max)),
			fmtBytes(h.BytesAvg))
		rows = append(rows, row)
	}
	return writeCSVRows(w, rows)
}

// historyCell is v, or N/A before the first request (as Locust writes).
func historyCell(h stats.HistoryPoint, v string) string {
	if h.Requests == 0 {
		return notAvailable
	}
	return v
}

// WriteFailuresCSV writes failed requests grouped by error, in Locust's
// _failures.csv layout.
func WriteFailuresCSV(w io.Writer, snap stats.Snapshot) error {
	rows := [][]string{{"Method", "Name", "Error", "Occurrences"}}
	for _, e := range snap.Errors {
		rows = append(rows, []string{e.Method, e.Name, e.Error, fmtCount(e.Count)})
	}
	return writeCSVRows(w, rows)
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
