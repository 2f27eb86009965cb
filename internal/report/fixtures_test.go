package report

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// visible makes escape sequences readable in golden files and failure output.
func visible(s string) string {
	return strings.NewReplacer("\x1b", "<ESC>", "\r", "<CR>").Replace(s)
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// samples returns n deterministic latencies (ms) spread from base upward,
// with a long tail, like a real endpoint.
func samples(n int, base float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = base + float64(i*i%997)/7.0 + math.Pow(float64(i%50), 3)/1000
	}
	return out
}

// exactRow builds a row from raw latencies with exact (nearest-rank)
// quantiles, so tests can check what the report prints against them.
func exactRow(method, name string, lat []float64, failures int64, bytesAvg float64, dur time.Duration) stats.Row {
	s := slices.Clone(lat)
	slices.Sort(s)
	pct := func(q float64) float64 {
		if len(s) == 0 {
			return 0
		}
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	r := stats.Row{
		Method: method, Name: name,
		Requests: int64(len(s)), Failures: failures, BytesAvg: bytesAvg,
		RPS:        float64(len(s)) / dur.Seconds(),
		CurrentRPS: float64(len(s)) / dur.Seconds() * 1.1, CurrentFailPerSec: float64(failures) / dur.Seconds(),
		Percentile: pct,
	}
	if len(s) > 0 {
		r.Latency = stats.Latency{
			Min: s[0], Avg: sum / float64(len(s)), P50: pct(0.5), P90: pct(0.9), P95: pct(0.95),
			P99: pct(0.99), P999: pct(0.999), Max: s[len(s)-1],
		}
	}
	return r
}

const longName = "/profile/with/a/very/long/name/that/needs/truncating/because/it/does/not/fit/in/a/table/column"

// fixture is a finished 65-second run with three endpoints, failures,
// a script error and history.
func fixture() stats.Snapshot {
	dur := 65 * time.Second
	a, b, c := samples(1000, 0.4), samples(200, 35), samples(300, 120)
	all := slices.Concat(a, b, c)
	login := exactRow("POST", "/login", b, 0, 87, dur)
	login.Percentile = nil // as after a JSON round trip: exercises the fallback
	total := exactRow("", "Aggregated", all, 305, (1000*5120.5+200*87+300*2048)/1500, dur)
	return stats.Snapshot{
		Time: t0.Add(dur), Started: t0, Duration: dur, Dropped: 3,
		Endpoints: []stats.Row{
			exactRow("GET", "/", a, 5, 5120.5, dur),
			login,
			exactRow("GET", longName, c, 300, 2048, dur),
		},
		Total: total,
		Errors: []stats.ErrorRow{
			{Method: "GET", Name: "/", Error: "HTTPError: 503 Service Unavailable", Count: 5, FirstSeen: t0.Add(3 * time.Second), LastSeen: t0.Add(60 * time.Second)},
			{Method: "GET", Name: longName, Error: "expect status 200, got 404\nbody: \"not found\", sorry", Count: 300, FirstSeen: t0.Add(time.Second), LastSeen: t0.Add(64 * time.Second)},
		},
		Exceptions: []stats.ExceptionRow{{
			Count: 7, Message: "key \"token\" not in dict",
			Traceback: "Traceback (most recent call last):\n  script.star:12:9: in login\nError: key \"token\" not in dict\n",
		}},
		Warnings: []string{"more than 1000 endpoint names: new ones are counted under \"overflow\""},
		History: []stats.HistoryPoint{
			{Time: t0.Add(time.Second), Users: 10},
			{Time: t0.Add(2 * time.Second), Users: 20, CurrentRPS: 21.5, CurrentFailPerSec: 0.5, P50: 9.125, P95: 88.0004, P99: 140.25, Requests: 22, Failures: 1,
				Total:     stats.Latency{Min: 1, Avg: 9, P50: 9.125, Max: 141},
				Quantiles: [11]float64{9.125, 10, 11, 12, 50, 88.0004, 120, 140.25, 141, 141, 141}, BytesAvg: 100},
			{Time: t0.Add(65 * time.Second), Users: 50, CurrentRPS: 25.0625, CurrentFailPerSec: 4.75, P50: 10.5, P95: 150.125, P99: 181.3, Requests: 1500, Failures: 305,
				Total:     stats.Latency{Min: 0.5, Avg: 20.25, P50: 10.5, Max: 400},
				Quantiles: [11]float64{10.5, 12, 13, 14, 20, 150.125, 170, 181.3, 300, 390, 400}, BytesAvg: 512.4},
		},
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }
