package report

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/stats"
)

// fullHistoryFixture is fixture() with the per-endpoint history an
// Aggregate keeps with stats.AggregateOptions.EndpointHistory, at the
// same points as its History.
func fullHistoryFixture() stats.Snapshot {
	s := fixture()
	h := s.History
	root := stats.EndpointHistoryRow{Method: "GET", Name: "/", CurrentRPS: 21.5, CurrentFailPerSec: 0.5,
		Quantiles: [11]float64{9.125, 10, 11, 12, 50, 88.0004, 120, 140.25, 141, 141, 141},
		Requests:  22, Failures: 1, Median: 9.125, Avg: 9, Min: 1, Max: 141, BytesAvg: 100}
	s.EndpointHistory = []stats.EndpointHistoryPoint{
		{Time: h[0].Time, Users: h[0].Users, Total: stats.EndpointHistoryRow{Name: stats.TotalName}},
		{Time: h[1].Time, Users: h[1].Users, Endpoints: []stats.EndpointHistoryRow{root},
			Total: func() stats.EndpointHistoryRow { r := root; r.Method, r.Name = "", stats.TotalName; return r }()},
		{Time: h[2].Time, Users: h[2].Users, Endpoints: []stats.EndpointHistoryRow{
			{Method: "GET", Name: "/", CurrentRPS: 16.9, Quantiles: [11]float64{0.4, 90, 95.5, 99, 120, 140, 160, 200, 250, 256.192, 256.192},
				Requests: 1000, Failures: 5, Median: 100.766, Avg: 101.343, Min: 0.4, Max: 256.192, BytesAvg: 5120.5},
			{Method: "POST", Name: "/login", CurrentRPS: 3.1, Quantiles: [11]float64{132.429, 132.429, 203.224, 203.224, 203.224, 234.823, 270.68, 270.68, 283.735, 283.735, 283.735},
				Requests: 200, Median: 132.429, Avg: 132.427, Min: 35, Max: 283.735, BytesAvg: 87},
			{Method: "GET", Name: longName, CurrentRPS: 5.0625, CurrentFailPerSec: 4.75, Quantiles: [11]float64{220.366, 240.411, 258.286, 264.532, 291.394, 318.898, 333.078, 342.622, 368.735, 368.735, 368.735},
				Requests: 300, Failures: 300, Median: 220.366, Avg: 219.326, Min: 120, Max: 368.735, BytesAvg: 2048},
		}, Total: stats.EndpointHistoryRow{Name: stats.TotalName, CurrentRPS: 25.0625, CurrentFailPerSec: 4.75,
			Quantiles: [11]float64{90.5, 120, 140, 150, 200, 250, 300, 340, 360, 368.735, 368.735},
			Requests:  1500, Failures: 305, Median: 122.178, Avg: 129.084, Min: 0.4, Max: 368.735, BytesAvg: 3834.87}},
	}
	return s
}

func TestWriteFullHistoryCSVGolden(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "run")
	if err := WriteCSV(prefix, fullHistoryFixture(), CSVOptions{FullHistory: true}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(prefix + HistoryCSVSuffix)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "run_full_stats_history.csv.golden", got)
}

// TestFullHistoryCSVRows checks what Locust's --csv-full-history file
// holds: at each second the endpoints' rows, sorted, then the Aggregated
// row, all with their window ("current") percentiles.
func TestFullHistoryCSVRows(t *testing.T) {
	t.Parallel()
	snap := fullHistoryFixture()
	var buf bytes.Buffer
	if err := WriteFullHistoryCSV(&buf, snap); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, buf.Bytes())
	var got []string
	for _, r := range recs[1:] {
		got = append(got, r[0]+" "+r[2]+" "+r[3])
	}
	want := []string{
		"1740830401  Aggregated",
		"1740830402 GET /", "1740830402  Aggregated",
		"1740830465 GET /", "1740830465 POST /login", "1740830465 GET " + longName, "1740830465  Aggregated",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n got %q\nwant %q", got, want)
	}
	agg := strings.Join(recs[len(recs)-1], ",")
	// The aggregate's percentiles are the window's (90.5 ms at 50%), not
	// the cumulative ones of the default file (10.5 ms).
	if want := "1740830465,50,,Aggregated,25.062500,4.750000,91,120,140,150,200,250,300,340,360,369,369,1500,305,122,129.084,0.4,368.735,3834.87"; agg != want {
		t.Errorf("last Aggregated row\n got %s\nwant %s", agg, want)
	}
	if login := strings.Join(recs[5], ","); login != "1740830465,50,POST,/login,3.100000,0.000000,132,132,203,203,203,235,271,271,284,284,284,200,0,132,132.427,35,283.735,87" {
		t.Errorf("POST /login row = %s", login)
	}
}

func TestFullHistoryCSVNeedsEndpointHistory(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := WriteFullHistoryCSV(&buf, fixture())
	if err == nil || !strings.Contains(err.Error(), "EndpointHistory") {
		t.Errorf("full history of a snapshot without one: err = %v, want one naming the option", err)
	}
	buf.Reset()
	if err := WriteFullHistoryCSV(&buf, stats.Snapshot{}); err != nil || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("full history of an empty snapshot: %v, %q; want just the header", err, buf.String())
	}
}

// TestFullHistoryFromAggregate runs Locust's own full-history check
// (test_csv_stats_writer_full_history) through a real Aggregate: "/"
// answers in 100 ms for 10 s, then in 10 ms; its rows' 95% goes from 100
// to 10 while the counts stay cumulative.
func TestFullHistoryFromAggregate(t *testing.T) {
	t.Parallel()
	a := stats.NewAggregate(stats.AggregateOptions{EndpointHistory: true})
	start := time.Unix(1_750_000_000, 0)
	a.Start(start)
	for s := range 25 {
		lat := 100 * time.Millisecond
		if s >= 10 {
			lat = 10 * time.Millisecond
		}
		c := stats.NewCollector(1)
		for range 10 {
			c.For(0).Record(stats.Sample{Key: stats.Key{Method: "GET", Name: "/"}, Latency: lat, Bytes: 666})
			c.For(0).Record(stats.Sample{Key: stats.Key{Method: "GET", Name: "/static"}, Latency: time.Millisecond, Bytes: 10})
		}
		a.AddData(received(t, c.Cut()), start.Add(time.Duration(s)*time.Second+500*time.Millisecond))
		a.Tick(start.Add(time.Duration(s)*time.Second+900*time.Millisecond), 3)
	}
	snap := a.Snapshot(start.Add(25 * time.Second))
	var buf bytes.Buffer
	if err := WriteFullHistoryCSV(&buf, snap); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, buf.Bytes())
	checkLocustCells(t, "full history", recs, true)
	if len(recs) != 1+25*3 {
		t.Fatalf("%d rows, want 25 seconds of 3", len(recs)-1)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var p95 []string
	for i, r := range recs[1:] {
		if want := []string{"/", "/static", "Aggregated"}[i%3]; r[col["Name"]] != want {
			t.Fatalf("row %d is %q, want %q", i+1, r[col["Name"]], want)
		}
		if r[col["Name"]] == "/" && (len(p95) == 0 || p95[len(p95)-1] != r[col["95%"]]) {
			p95 = append(p95, r[col["95%"]])
		}
	}
	if !slices.Equal(p95, []string{"100", "10"}) {
		t.Errorf("\"/\" 95%% went through %q, want 100 then 10", p95)
	}
	last := recs[len(recs)-1]
	if last[col["Total Request Count"]] != "500" || last[col["Requests/s"]] != "20.000000" || last[col["User Count"]] != "3" {
		t.Errorf("last Aggregated row = %q, want 500 requests at 20/s and 3 users", last)
	}
}

// received is d as the master receives it from a worker.
func received(t *testing.T, d *stats.Delta) *stats.DeltaData {
	t.Helper()
	out := &stats.DeltaData{}
	for k, e := range d.Endpoints {
		v, err := e.Hist.Data().Validate()
		if err != nil {
			t.Fatal(err)
		}
		out.Endpoints = append(out.Endpoints, stats.EntryData{Key: k, Requests: e.Requests, Failures: e.Failures,
			SumUS: e.SumUS, Bytes: e.Bytes, Hist: v})
	}
	return out
}

// TestFinishWritesFullHistory: Files.FullHistory reaches the history
// file, and without the kept history the end of the test says why.
func TestFinishWritesFullHistory(t *testing.T) {
	t.Parallel()
	for _, full := range []bool{false, true} {
		prefix := filepath.Join(t.TempDir(), "run")
		err := Finish(&bytes.Buffer{}, Final{Snapshot: fullHistoryFixture(), Files: Files{CSVPrefix: prefix, FullHistory: full}})
		if exitcode.Code(err) == exitcode.CannotRun {
			t.Fatalf("full=%v: %v", full, err)
		}
		b, rerr := os.ReadFile(prefix + HistoryCSVSuffix)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if got := strings.Contains(string(b), "POST,/login"); got != full {
			t.Errorf("full=%v: history file has per-endpoint rows: %v", full, got)
		}
	}
	err := Finish(&bytes.Buffer{}, Final{Snapshot: fixture(), Files: Files{CSVPrefix: filepath.Join(t.TempDir(), "run"), FullHistory: true}})
	if exitcode.Code(err) != exitcode.CannotRun || !strings.Contains(err.Error(), "EndpointHistory") {
		t.Errorf("full history without the kept history: %v, want exit %d naming the option", err, exitcode.CannotRun)
	}
}
