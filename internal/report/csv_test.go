package report

import (
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

func TestWriteCSVGolden(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "run")
	if err := WriteCSV(prefix, fixture(), CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{StatsCSVSuffix, HistoryCSVSuffix, FailuresCSVSuffix, ExceptionsCSVSuffix} {
		got, err := os.ReadFile(prefix + suffix)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "run"+suffix+".golden", got)
	}
}

// TestCSVHeadersMatchLocust pins the headers to Locust 2.x's
// (StatsCSV.__init__ and StatsCSVFileWriter.__init__ in locust/stats.py),
// independently of the golden files, so scripts written for Locust keep
// working.
func TestCSVHeadersMatchLocust(t *testing.T) {
	t.Parallel()
	pct := "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
	history := "Timestamp,User Count,Type,Name,Requests/s,Failures/s," + pct +
		",Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time," +
		"Total Min Response Time,Total Max Response Time,Total Average Content Size"
	tests := []struct {
		name  string
		write func(io.Writer, stats.Snapshot) error
		want  string
	}{
		{"stats", WriteStatsCSV, "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time," +
			"Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s," + pct},
		{"history", WriteHistoryCSV, history},
		{"full history", WriteFullHistoryCSV, history},
		{"failures", WriteFailuresCSV, "Method,Name,Error,Occurrences,First Seen,Last Seen"},
		{"exceptions", WriteExceptionsCSV, "Count,Message,Traceback,Nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := tt.write(&buf, fullHistoryFixture()); err != nil {
				t.Fatal(err)
			}
			header, _, _ := strings.Cut(buf.String(), "\n")
			if header != tt.want {
				t.Errorf("header\n got %s\nwant %s", header, tt.want)
			}
			records := readCSV(t, buf.Bytes())
			for i, rec := range records {
				if len(rec) != len(records[0]) {
					t.Errorf("row %d has %d fields, header %d", i, len(rec), len(records[0]))
				}
			}
		})
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	return records
}

// cellKind is how Locust writes a column, read from locust/stats.py:
// ints are Python ints (counts, int(percentile)), floats are Python floats
// (averages, exact min/max, rates), rate6 is the history file's
// f"{rate:2f}", pct a percentile (int(...), or "N/A" for a row with no
// requests: _percentile_fields), median median_response_time (an int
// bucket, or the exact min or max when the bucket lies outside them).
type cellKind int

const (
	kindText cellKind = iota
	kindInt
	kindFloat
	kindRate6
	kindPct
	kindMedian
	kindSeen
)

// locustKinds maps each file's columns to the kind of cell Locust writes.
var locustKinds = map[string]cellKind{
	"Request Count": kindInt, "Failure Count": kindInt, "Median Response Time": kindMedian,
	"Average Response Time": kindFloat, "Min Response Time": kindFloat, "Max Response Time": kindFloat,
	"Average Content Size": kindFloat, "Requests/s": kindFloat, "Failures/s": kindFloat,
	"Timestamp": kindInt, "User Count": kindInt,
	"Total Request Count": kindInt, "Total Failure Count": kindInt, "Total Median Response Time": kindMedian,
	"Total Average Response Time": kindFloat, "Total Min Response Time": kindFloat,
	"Total Max Response Time": kindFloat, "Total Average Content Size": kindFloat,
	"Occurrences": kindInt, "First Seen": kindSeen, "Last Seen": kindSeen, "Count": kindInt,
	"50%": kindPct, "66%": kindPct, "75%": kindPct, "80%": kindPct, "90%": kindPct, "95%": kindPct,
	"98%": kindPct, "99%": kindPct, "99.9%": kindPct, "99.99%": kindPct, "100%": kindPct,
}

var sixDecimals = regexp.MustCompile(`^\d+\.\d{6}$`)

// checkLocustCells parses every cell of a CSV file the way a program
// written for Locust's files does, and reports each one it would choke on.
func checkLocustCells(t *testing.T, file string, recs [][]string, history bool) {
	t.Helper()
	header := recs[0]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for i, rec := range recs[1:] {
		count := "Request Count"
		if history {
			count = "Total Request Count"
			if _, ok := col[count]; !ok {
				count = ""
			}
		}
		noRequests := count != "" && rec[col[count]] == "0"
		for j, cell := range rec {
			h := header[j]
			kind := locustKinds[h]
			if history && (h == "Requests/s" || h == "Failures/s") {
				kind = kindRate6
			}
			bad := false
			switch kind {
			case kindInt:
				_, err := strconv.ParseInt(cell, 10, 64)
				bad = err != nil
			case kindFloat:
				_, err := strconv.ParseFloat(cell, 64)
				bad = err != nil
			case kindRate6:
				bad = !sixDecimals.MatchString(cell)
			case kindPct:
				_, err := strconv.ParseInt(cell, 10, 64)
				bad = noRequests && cell != "N/A" || !noRequests && err != nil
			case kindMedian:
				_, err := strconv.ParseInt(cell, 10, 64)
				bad = err != nil && !medianIsExtreme(rec, col, cell, history)
			case kindSeen:
				_, err := time.Parse("2006-01-02T15:04:05Z", cell)
				bad = err != nil
			}
			if bad {
				t.Errorf("%s row %d, %s = %q: Locust writes %s there", file, i+1, h, cell, kindNames[kind])
			}
		}
	}
}

var kindNames = map[cellKind]string{
	kindInt: "an integer", kindFloat: "a number", kindRate6: "a number with 6 decimals",
	kindPct: "an integer (N/A without requests)", kindMedian: "an integer or the row's min or max",
	kindSeen: "a UTC time like 2025-03-01T12:00:03Z",
}

// medianIsExtreme: the only non-integer median Locust writes is the
// row's own min or max.
func medianIsExtreme(rec []string, col map[string]int, cell string, history bool) bool {
	lo, hi := "Min Response Time", "Max Response Time"
	if history {
		lo, hi = "Total "+lo, "Total "+hi
	}
	_, err := strconv.ParseFloat(cell, 64)
	return err == nil && (cell == rec[col[lo]] || cell == rec[col[hi]])
}

// TestCSVCellsParseAsLocustWrites reads every file as a consumer of
// Locust's files would: where Locust writes an integer, strconv.ParseInt
// must accept the cell; N/A only for percentiles of a row without
// requests (the history's first point); the history's rates with six
// decimals; failures with their first and last time.
func TestCSVCellsParseAsLocustWrites(t *testing.T) {
	t.Parallel()
	snap := fullHistoryFixture()
	snap.Endpoints = append(snap.Endpoints, stats.Row{Method: "DELETE", Name: "/never"})
	for name, write := range map[string]func(io.Writer, stats.Snapshot) error{
		"stats": WriteStatsCSV, "history": WriteHistoryCSV, "full history": WriteFullHistoryCSV,
		"failures": WriteFailuresCSV, "exceptions": WriteExceptionsCSV,
	} {
		var buf bytes.Buffer
		if err := write(&buf, snap); err != nil {
			t.Fatal(err)
		}
		recs := readCSV(t, buf.Bytes())
		if len(recs) < 2 {
			t.Fatalf("%s: no rows", name)
		}
		checkLocustCells(t, name, recs, strings.Contains(name, "history"))
	}
}

// TestStatsCSVValues reads the stats file back as a user would and checks
// the figures against the exact quantiles of the fixture's samples.
func TestStatsCSVValues(t *testing.T) {
	t.Parallel()
	snap := fixture()
	snap.Endpoints = append(snap.Endpoints, stats.Row{Method: "DELETE", Name: "/never, \"quoted\""})
	var buf bytes.Buffer
	if err := WriteStatsCSV(&buf, snap); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, buf.Bytes())
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if n := len(recs); n != 6 {
		t.Fatalf("%d records, want header + 4 endpoints + aggregate", n)
	}
	agg := recs[5]
	if agg[col["Type"]] != "" || agg[col["Name"]] != "Aggregated" || agg[col["Request Count"]] != "1500" || agg[col["Failure Count"]] != "305" {
		t.Errorf("aggregate row = %q", agg)
	}
	root := recs[1]
	want := map[string]float64{"50%": 0.5, "66%": 0.66, "99%": 0.99, "99.99%": 0.9999, "100%": 1}
	for h, q := range want {
		exact := snap.Endpoints[0].Percentile(q)
		if got := root[col[h]]; got != strconv.Itoa(int(math.Round(exact))) {
			t.Errorf("GET / %s = %s, want exact %v rounded to the ms", h, got, exact)
		}
	}
	if root[col["Median Response Time"]] != root[col["50%"]] {
		t.Errorf("median %s differs from 50%% %s", root[col["Median Response Time"]], root[col["50%"]])
	}
	if got := root[col["Average Response Time"]]; got != fmtMsCSV(snap.Endpoints[0].Latency.Avg) {
		t.Errorf("Average Response Time = %s, want µs precision %s", got, fmtMsCSV(snap.Endpoints[0].Latency.Avg))
	}
	if got := root[col["Failures/s"]]; got != "0.077" { // 5 failures in 65 s
		t.Errorf("Failures/s = %s, want 0.077", got)
	}
	empty := recs[4]
	if empty[col["Name"]] != "/never, \"quoted\"" || empty[col["50%"]] != "N/A" || empty[col["100%"]] != "N/A" ||
		empty[col["Median Response Time"]] != "0" || empty[col["Min Response Time"]] != "0" {
		t.Errorf("row without requests = %q, want its name intact, N/A percentiles and 0 elsewhere", empty)
	}
}

// TestMedianCellLikeLocust: the median is written in whole ms, but never
// outside the row's exact min and max (Locust's median_response_time
// clamps its bucket the same way).
func TestMedianCellLikeLocust(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		requests    int64
		p50, lo, hi float64
		want        string
	}{
		{"rounded", 10, 12.4, 1, 40, "12"},
		{"half up", 10, 12.5, 1, 40, "13"},
		{"below the min", 10, 0.4, 0.25, 0.9, "0.25"},
		{"above the max", 3, 3.6, 3.2, 3.7, "3.7"},
		{"no requests", 0, 0, 0, 0, "0"},
	}
	for _, tt := range tests {
		if got := medianCell(tt.requests, tt.p50, tt.lo, tt.hi); got != tt.want {
			t.Errorf("%s: median %v in [%v, %v] = %s, want %s", tt.name, tt.p50, tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestHistoryCSVValues(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteHistoryCSV(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, buf.Bytes())
	if len(recs) != 4 {
		t.Fatalf("%d records, want header + 3 points", len(recs))
	}
	last := strings.Join(recs[3], ",")
	// Percentiles are cumulative in whole ms, as Locust's default history
	// file has them; rates have Locust's six decimals.
	want := "1740830465,50,,Aggregated,25.062500,4.750000,11,12,13,14,20,150,170,181,300,390,400,1500,305,11,20.25,0.5,400,512.4"
	if last != want {
		t.Errorf("last history row\n got %s\nwant %s", last, want)
	}
	// Before the first request Locust writes N/A for the percentiles and
	// 0 for the rest (_percentile_fields, median_response_time,
	// min_response_time or 0).
	first := strings.Join(recs[1], ",")
	if want := "1740830401,10,,Aggregated,0.000000,0.000000," + strings.Repeat("N/A,", 11) + "0,0,0,0,0,0,0"; first != want {
		t.Errorf("first history row (no request yet)\n got %s\nwant %s", first, want)
	}
}

func TestFailuresCSVSeen(t *testing.T) {
	t.Parallel()
	snap := fixture()
	snap.Errors = append(snap.Errors, stats.ErrorRow{Method: "GET", Name: "/x", Error: "no time", Count: 1})
	var buf bytes.Buffer
	if err := WriteFailuresCSV(&buf, snap); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, buf.Bytes())
	if len(recs[0]) != 6 {
		t.Fatalf("failures header %q, want First Seen and Last Seen after Occurrences", recs[0])
	}
	if got := recs[1][4:]; got[0] != "2025-03-01T12:00:03Z" || got[1] != "2025-03-01T12:01:00Z" {
		t.Errorf("GET / first and last seen = %q, want 2025-03-01T12:00:03Z and 2025-03-01T12:01:00Z", got)
	}
	if got := recs[3][4:]; got[0] != "" || got[1] != "" {
		t.Errorf("an error with no times: %q, want empty cells", got)
	}
}

func TestWriteCSVErrors(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "missing-dir", "run")
	err := WriteCSV(prefix, fixture(), CSVOptions{})
	if err == nil {
		t.Fatal("WriteCSV into a missing directory returned nil")
	}
	for _, suffix := range []string{StatsCSVSuffix, HistoryCSVSuffix, FailuresCSVSuffix, ExceptionsCSVSuffix} {
		if !strings.Contains(err.Error(), prefix+suffix) {
			t.Errorf("error does not name %s: %v", prefix+suffix, err)
		}
	}
	for name, write := range map[string]func(io.Writer, stats.Snapshot) error{
		"stats": WriteStatsCSV, "history": WriteHistoryCSV, "full history": WriteFullHistoryCSV,
		"failures": WriteFailuresCSV, "exceptions": WriteExceptionsCSV,
	} {
		if err := write(errWriter{}, fullHistoryFixture()); err == nil {
			t.Errorf("%s: writing to a failing writer returned nil", name)
		}
	}
}
