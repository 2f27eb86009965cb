package web

import (
	"bytes"
	"context"
	"io"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/horde-load/horde/internal/master"
)

// scrape reads /metrics over HTTP and returns the text.
func scrape(t *testing.T, o Options) []byte {
	t.Helper()
	_, ts := newTestServer(t, o)
	resp, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return body
}

func parseMetrics(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the text format does not parse: %v\n%s", err, body)
	}
	return fams
}

// find returns the metric of family name whose labels include want.
func find(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no %s with labels %v", name, want)
	return nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return math.NaN()
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	ctl.drop(42)
	snap := ctl.Snapshot(clk.Now())
	body := scrape(t, Options{Control: ctl, Now: clk.Now})
	fams := parseMetrics(t, body)
	get := find
	ep := func(method, name string) map[string]string { return map[string]string{"method": method, "name": name} }
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"requests GET /", value(get(t, fams, "horde_requests_total", ep("GET", "/"))), 100},
		{"requests POST /login", value(get(t, fams, "horde_requests_total", ep("POST", "/login"))), 50},
		{"failures GET /", value(get(t, fams, "horde_failures_total", ep("GET", "/"))), 10},
		{"failures POST /login", value(get(t, fams, "horde_failures_total", ep("POST", "/login"))), 0},
		{"users", value(get(t, fams, "horde_users", nil)), 20},
		{"target users", value(get(t, fams, "horde_target_users", nil)), 25},
		{"workers running", value(get(t, fams, "horde_workers", map[string]string{"state": "running"})), 1},
		{"workers missing", value(get(t, fams, "horde_workers", map[string]string{"state": "missing"})), 1},
		{"workers ready", value(get(t, fams, "horde_workers", map[string]string{"state": "ready"})), 0},
		{"state running", value(get(t, fams, "horde_state", map[string]string{"state": "running"})), 1},
		{"state stopped", value(get(t, fams, "horde_state", map[string]string{"state": "stopped"})), 0},
		{"current rps", value(get(t, fams, "horde_current_rps", nil)), snap.Total.CurrentRPS},
		{"current failures/s", value(get(t, fams, "horde_current_failures_per_second", nil)), snap.Total.CurrentFailPerSec},
		{"dropped", value(get(t, fams, "horde_dropped_iterations_total", nil)), 42},
	}
	for _, tt := range tests {
		if math.Abs(tt.got-tt.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if n := len(fams["horde_state"].GetMetric()); n != 5 {
		t.Errorf("horde_state has %d series, want one per state (5)", n)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s: the Go and process collectors are missing", name)
		}
	}
	if bytes.Contains(body, []byte(`name="Aggregated"`)) {
		t.Error("the aggregate has series of its own; sums over endpoints would count it twice")
	}
}

// TestMetricsHistogram checks the latency histogram's cumulative buckets
// against what was recorded: 100 requests at 2 ms, 50 at 40 ms.
func TestMetricsHistogram(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	fams := parseMetrics(t, scrape(t, Options{Control: ctl, Now: clk.Now}))
	if typ := fams["horde_request_duration_seconds"].GetType(); typ != dto.MetricType_HISTOGRAM {
		t.Fatalf("horde_request_duration_seconds is %v, want a histogram", typ)
	}
	tests := []struct {
		method, name string
		count        uint64
		sum          float64
		firstIn      float64 // the first bucket holding every request; those before hold none
	}{
		{"GET", "/", 100, 0.2, 0.0025},
		{"POST", "/login", 50, 2.0, 0.05},
	}
	for _, tt := range tests {
		h := find(t, fams, "horde_request_duration_seconds", map[string]string{"method": tt.method, "name": tt.name}).GetHistogram()
		if h.GetSampleCount() != tt.count || math.Abs(h.GetSampleSum()-tt.sum) > 1e-9 {
			t.Errorf("%s %s: count %d sum %v, want %d and %v", tt.method, tt.name, h.GetSampleCount(), h.GetSampleSum(), tt.count, tt.sum)
		}
		bounds := append(latencyBuckets(), math.Inf(1)) // the text format adds +Inf
		if len(h.GetBucket()) != len(bounds) {
			t.Fatalf("%d buckets, want %d", len(h.GetBucket()), len(bounds))
		}
		for i, b := range h.GetBucket() {
			want := uint64(0)
			if b.GetUpperBound() >= tt.firstIn {
				want = tt.count
			}
			if b.GetUpperBound() != bounds[i] || b.GetCumulativeCount() != want {
				t.Errorf("%s %s: bucket le=%v has %d, want le=%v with %d", tt.method, tt.name,
					b.GetUpperBound(), b.GetCumulativeCount(), bounds[i], want)
			}
		}
	}
}

// TestMetricsResetAndOddNames checks the counters follow a reset of the
// statistics, and that names that are not valid UTF-8 (and collide once
// repaired) do not break the scrape.
func TestMetricsResetAndOddNames(t *testing.T) {
	t.Parallel()
	clk := newClock()
	ctl := newFakeControl(clk)
	ctl.load("GET", "/a\xff", 3, 0, time.Millisecond)
	ctl.load("GET", "/a\xfe", 4, 0, time.Millisecond)
	ctl.load("GET", `/q?x="<y>"\`, 5, 0, time.Millisecond)
	fams := parseMetrics(t, scrape(t, Options{Control: ctl, Now: clk.Now}))
	if got := len(fams["horde_requests_total"].GetMetric()); got != 2 {
		t.Errorf("%d series, want 2 (the two repaired names collide; the first wins)", got)
	}
	if v := value(find(t, fams, "horde_requests_total", map[string]string{"name": `/q?x="<y>"\`})); v != 5 {
		t.Errorf("quoted name: %v requests, want 5", v)
	}
	ctl.ResetStats()
	fams = parseMetrics(t, scrape(t, Options{Control: ctl, Now: clk.Now}))
	if _, ok := fams["horde_requests_total"]; ok {
		t.Error("requests series after a reset, want none until new requests")
	}
}

func TestMetricsStates(t *testing.T) {
	t.Parallel()
	for _, state := range testStates() {
		src := &fakeSource{snap: sampleSnapshot(), st: master.Status{State: state}}
		fams := parseMetrics(t, scrape(t, Options{Source: src}))
		for _, m := range fams["horde_state"].GetMetric() {
			want := 0.0
			if m.GetLabel()[0].GetValue() == state {
				want = 1
			}
			if value(m) != want {
				t.Errorf("state %s: horde_state%v = %v, want %v", state, m.GetLabel(), value(m), want)
			}
		}
	}
}

// TestMetricsPromtool runs Prometheus's own linter on the output. CI
// installs promtool (Debian package prometheus).
func TestMetricsPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not in PATH (apt-get install prometheus): skipping its lint of /metrics")
	}
	ctl, clk := runningControl(t)
	body := scrape(t, Options{Control: ctl, Now: clk.Now})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
