package report

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/stats"
)

func TestWriteCSVGolden(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "run")
	if err := WriteCSV(prefix, fixture()); err != nil {
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

// TestCSVHeadersMatchLocust pins the headers to Locust 2.x's, independently
// of the golden files, so scripts written for Locust keep working.
func TestCSVHeadersMatchLocust(t *testing.T) {
	t.Parallel()
	pct := "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
	tests := []struct {
		name  string
		write func(io.Writer, stats.Snapshot) error
		want  string
	}{
		{"stats", WriteStatsCSV, "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time," +
			"Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s," + pct},
		{"history", WriteHistoryCSV, "Timestamp,User Count,Type,Name,Requests/s,Failures/s," + pct +
			",Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time," +
			"Total Min Response Time,Total Max Response Time,Total Average Content Size"},
		{"failures", WriteFailuresCSV, "Method,Name,Error,Occurrences"},
		{"exceptions", WriteExceptionsCSV, "Count,Message,Traceback,Nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := tt.write(&buf, fixture()); err != nil {
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
		if got, exact := root[col[h]], fmtMsCSV(snap.Endpoints[0].Percentile(q)); got != exact {
			t.Errorf("GET / %s = %s, want exact %s", h, got, exact)
		}
	}
	if root[col["Median Response Time"]] != root[col["50%"]] {
		t.Errorf("median %s differs from 50%% %s", root[col["Median Response Time"]], root[col["50%"]])
	}
	if got := root[col["Failures/s"]]; got != "0.077" { // 5 failures in 65 s
		t.Errorf("Failures/s = %s, want 0.077", got)
	}
	empty := recs[4]
	if empty[col["Name"]] != "/never, \"quoted\"" || empty[col["50%"]] != "N/A" || empty[col["100%"]] != "N/A" {
		t.Errorf("row without requests = %q, want its name intact and N/A percentiles", empty)
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
	// 25.0625 req/s rounds half to even at the third decimal; percentiles
	// are cumulative, as Locust's default history file has them.
	want := "1740830465,50,,Aggregated,25.062,4.75,10.5,12,13,14,20,150.125,170,181.3,300,390,400,1500,305,10.5,20.25,0.5,400,512"
	if last != want {
		t.Errorf("last history row\n got %s\nwant %s", last, want)
	}
	if first := recs[1]; first[6] != "N/A" || first[11] != "N/A" {
		t.Errorf("point without requests should have N/A percentiles: %q", first)
	}
}

func TestWriteCSVErrors(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "missing-dir", "run")
	err := WriteCSV(prefix, fixture())
	if err == nil {
		t.Fatal("WriteCSV into a missing directory returned nil")
	}
	for _, suffix := range []string{StatsCSVSuffix, HistoryCSVSuffix, FailuresCSVSuffix, ExceptionsCSVSuffix} {
		if !strings.Contains(err.Error(), prefix+suffix) {
			t.Errorf("error does not name %s: %v", prefix+suffix, err)
		}
	}
	for name, write := range map[string]func(io.Writer, stats.Snapshot) error{
		"stats": WriteStatsCSV, "history": WriteHistoryCSV, "failures": WriteFailuresCSV, "exceptions": WriteExceptionsCSV,
	} {
		if err := write(errWriter{}, fixture()); err == nil {
			t.Errorf("%s: writing to a failing writer returned nil", name)
		}
	}
}
