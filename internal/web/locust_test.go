package web

import (
	"encoding/json"
	"html"
	"maps"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/stats"
)

func sampleSnapshot() stats.Snapshot {
	t0 := time.Date(2025, 3, 4, 5, 6, 0, 0, time.UTC)
	return stats.Snapshot{
		Time: t0.Add(10 * time.Second), Started: t0, Duration: 10 * time.Second,
		Endpoints: []stats.Row{
			{
				Method: "GET", Name: "/", Requests: 100, Failures: 2, BytesAvg: 512.5,
				RPS: 10, CurrentRPS: 12.5, CurrentFailPerSec: 0.25,
				Latency: stats.Latency{Min: 0.731, Avg: 12.345, P50: 10.5, P90: 20.25, P95: 30.125, P99: 55.5, P999: 80, Max: 91.002},
			},
			{
				Method: "POST", Name: "/login?next=<a>&b", Requests: 50, Failures: 0, BytesAvg: 20,
				RPS: 5, CurrentRPS: 5.5, CurrentFailPerSec: 0,
				Latency: stats.Latency{Min: 1.5, Avg: 4.25, P50: 4, P90: 6, P95: 7.5, P99: 9.75, P999: 10, Max: 10.5},
			},
		},
		Total: stats.Row{
			Method: "", Name: "Aggregated", Requests: 150, Failures: 2, BytesAvg: 348.333,
			RPS: 15, CurrentRPS: 18, CurrentFailPerSec: 0.25,
			Latency: stats.Latency{Min: 0.731, Avg: 9.65, P50: 8.5, P90: 18, P95: 28, P99: 54, P999: 80, Max: 91.002},
		},
		Errors: []stats.ErrorRow{
			{Method: "GET", Name: "/", Error: "HTTP 503", Count: 2, FirstSeen: t0, LastSeen: t0.Add(time.Second)},
		},
		History: []stats.HistoryPoint{
			{Time: t0.Add(8 * time.Second), P50: 99, P95: 199},
			{Time: t0.Add(9 * time.Second), P50: 11.25, P95: 48.5},
		},
	}
}

func sampleStatus() master.Status {
	return master.Status{
		State: master.StateRunning, Users: 30, TargetUsers: 30, SpawnRate: 5,
		Workers: []master.WorkerStatus{
			{ID: "w1", State: master.WorkerRunning, Users: 15, CPUPercent: 45.5, RSSBytes: 123456789},
			{ID: "w2", State: master.WorkerMissing, Users: 15, CPUPercent: 0, RSSBytes: 0},
			{ID: "w3", State: master.WorkerReady, Users: 0, CPUPercent: 1.25, RSSBytes: 2048},
		},
	}
}

// getStats serves GET /stats/requests from src and decodes it the way a
// Python exporter sees it.
func getStats(t *testing.T, src Source) map[string]any {
	t.Helper()
	return getStatsFrom(t, New(Options{Source: src}))
}

// getStatsFrom is getStats against a server already made.
func getStatsFrom(t *testing.T, h http.Handler) map[string]any {
	t.Helper()
	rec := serve(t, h, http.MethodGet, "/stats/requests")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /stats/requests = %d: %s", rec.Code, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, rec.Body)
	}
	return m
}

// kind names a JSON type as encoding/json decodes it into any.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// checkKeys checks that obj has every key of want with its JSON type.
func checkKeys(t *testing.T, what string, obj any, want map[string]string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s is %s, want object", what, kind(obj))
	}
	for k, wk := range want {
		v, ok := m[k]
		if !ok {
			t.Errorf("%s: key %q missing", what, k)
			continue
		}
		if got := kind(v); got != wk {
			t.Errorf("%s: %q is %s, want %s", what, k, got, wk)
		}
	}
}

var (
	topKeys = map[string]string{
		"stats": "array", "errors": "array", "total_rps": "number", "total_fail_per_sec": "number",
		"current_rps": "number", "current_fail_per_sec": "number", "fail_ratio": "number",
		"current_response_time_percentiles":   "object",
		"current_response_time_percentile_50": "number", "current_response_time_percentile_95": "number",
		"current_response_time_percentile_1": "number", "current_response_time_percentile_2": "number",
		"state": "string", "user_count": "number", "workers": "array", "worker_count": "number",
	}
	rowKeys = map[string]string{
		"method": "string", "name": "string", "safe_name": "string",
		"num_requests": "number", "num_failures": "number",
		"avg_response_time": "number", "min_response_time": "number", "max_response_time": "number",
		"median_response_time": "number", "ninetieth_response_time": "number",
		"ninety_ninth_response_time": "number", "current_rps": "number", "current_fail_per_sec": "number",
		"total_rps": "number", "total_fail_per_sec": "number", "avg_content_length": "number",
		"response_time_percentile_0.95": "number", "response_time_percentile_0.99": "number",
	}
	percentileKeys = map[string]string{"response_time_percentile_0.5": "number", "response_time_percentile_0.95": "number"}
	errorKeys      = map[string]string{"method": "string", "name": "string", "error": "string", "occurrences": "number"}
	workerKeys     = map[string]string{
		"id": "string", "state": "string", "user_count": "number", "cpu_usage": "number", "memory_usage": "number",
	}
)

func TestStatsRequestsShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  *fakeSource
	}{
		{name: "running test", src: &fakeSource{snap: sampleSnapshot(), st: sampleStatus()}},
		{name: "empty", src: &fakeSource{snap: stats.Snapshot{Total: stats.Row{Name: "Aggregated"}}, st: master.Status{State: master.StateReady}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := getStats(t, tt.src)
			checkKeys(t, "report", m, topKeys)
			checkKeys(t, "current_response_time_percentiles", m["current_response_time_percentiles"], percentileKeys)
			rows, _ := m["stats"].([]any)
			if len(rows) != len(tt.src.snap.Endpoints)+1 {
				t.Fatalf("stats has %d rows, want %d endpoints + Aggregated", len(rows), len(tt.src.snap.Endpoints))
			}
			for i, r := range rows {
				want := rowKeys
				if i == len(rows)-1 { // Locust's aggregate has method None
					want = maps.Clone(rowKeys)
					want["method"] = "null"
				}
				checkKeys(t, "stats row", r, want)
			}
			errs, _ := m["errors"].([]any)
			for _, e := range errs {
				checkKeys(t, "error", e, errorKeys)
			}
			workers, _ := m["workers"].([]any)
			for _, w := range workers {
				checkKeys(t, "worker", w, workerKeys)
			}
		})
	}
}

// num reads a number at a path of keys and indexes in a decoded report.
func num(t *testing.T, v any, path ...any) float64 {
	t.Helper()
	for _, p := range path {
		switch p := p.(type) {
		case string:
			v = v.(map[string]any)[p]
		case int:
			v = v.([]any)[p]
		}
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v is %s, want number", path, kind(v))
	}
	return f
}

func TestStatsRequestsValues(t *testing.T) {
	t.Parallel()
	snap := sampleSnapshot()
	m := getStats(t, &fakeSource{snap: snap, st: sampleStatus()})
	rows := m["stats"].([]any)
	ep, sn := rows[0].(map[string]any), rows[1].(map[string]any)
	agg := rows[2].(map[string]any)
	if ep["method"] != "GET" || ep["name"] != "/" || sn["method"] != "POST" {
		t.Errorf("endpoint rows out of the snapshot's order: %v %v, %v", ep["method"], ep["name"], sn["method"])
	}
	if agg["name"] != "Aggregated" || agg["method"] != nil {
		t.Errorf("last row = %v %v, want Aggregated with method null", agg["method"], agg["name"])
	}
	if sn["name"] != "/login?next=<a>&b" || sn["safe_name"] != "/login?next=&lt;a&gt;&amp;b" {
		t.Errorf("name %q safe_name %q, want the raw name and its HTML escape", sn["name"], sn["safe_name"])
	}
	l := snap.Endpoints[0].Latency
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"num_requests", num(t, ep, "num_requests"), 100},
		{"num_failures", num(t, ep, "num_failures"), 2},
		{"avg", num(t, ep, "avg_response_time"), l.Avg},
		{"min (not rounded)", num(t, ep, "min_response_time"), l.Min},
		{"max (not rounded)", num(t, ep, "max_response_time"), l.Max},
		{"median", num(t, ep, "median_response_time"), l.P50},
		{"p90", num(t, ep, "ninetieth_response_time"), l.P90},
		{"p99", num(t, ep, "ninety_ninth_response_time"), l.P99},
		{"p95 key", num(t, ep, "response_time_percentile_0.95"), l.P95},
		{"p99 key", num(t, ep, "response_time_percentile_0.99"), l.P99},
		{"row current_rps", num(t, ep, "current_rps"), 12.5},
		{"row current_fail_per_sec", num(t, ep, "current_fail_per_sec"), 0.25},
		{"row total_rps (whole run)", num(t, ep, "total_rps"), 10},
		{"row total_fail_per_sec (2 in 10 s)", num(t, ep, "total_fail_per_sec"), 0.2},
		{"avg_content_length", num(t, ep, "avg_content_length"), 512.5},
		{"aggregate requests", num(t, agg, "num_requests"), 150},
		{"aggregate p95", num(t, agg, "response_time_percentile_0.95"), 28},
		{"aggregate total_rps", num(t, agg, "total_rps"), 15},
		{"top total_rps is the current rate, as Locust", num(t, m, "total_rps"), 18},
		{"top total_fail_per_sec", num(t, m, "total_fail_per_sec"), 0.25},
		{"top current_rps", num(t, m, "current_rps"), 18},
		{"fail_ratio", num(t, m, "fail_ratio"), 2.0 / 150},
		{"current p50 (last history point)", num(t, m, "current_response_time_percentiles", "response_time_percentile_0.5"), 11.25},
		{"current p95", num(t, m, "current_response_time_percentiles", "response_time_percentile_0.95"), 48.5},
		{"flat current p50", num(t, m, "current_response_time_percentile_50"), 11.25},
		{"flat current p95", num(t, m, "current_response_time_percentile_95"), 48.5},
		{"error occurrences", num(t, m, "errors", 0, "occurrences"), 2},
		{"user_count", num(t, m, "user_count"), 30},
	}
	for _, tt := range tests {
		if math.Abs(tt.got-tt.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	e := m["errors"].([]any)[0].(map[string]any)
	if e["method"] != "GET" || e["name"] != "/" || e["error"] != "HTTP 503" {
		t.Errorf("error row = %v", e)
	}
}

func TestStatsRequestsWorkers(t *testing.T) {
	t.Parallel()
	m := getStats(t, &fakeSource{snap: sampleSnapshot(), st: sampleStatus()})
	workers := m["workers"].([]any)
	want := []struct {
		id, state string
		users     float64
		cpu, mem  float64
	}{
		{"w1", "running", 15, 45.5, 123456789},
		{"w2", "missing", 15, 0, 0},
		{"w3", "ready", 0, 1.25, 2048},
	}
	if len(workers) != len(want) {
		t.Fatalf("%d workers, want %d", len(workers), len(want))
	}
	for i, w := range want {
		got := workers[i].(map[string]any)
		if got["id"] != w.id || got["state"] != w.state || got["user_count"] != w.users ||
			got["cpu_usage"] != w.cpu || got["memory_usage"] != w.mem {
			t.Errorf("worker %d = %v, want %+v", i, got, w)
		}
	}
	if got := num(t, m, "worker_count"); got != 2 {
		t.Errorf("worker_count = %v, want 2 (the missing worker does not count)", got)
	}
	if m["state"] != master.StateRunning {
		t.Errorf("state = %v, want running", m["state"])
	}
}

func TestStatsRequestsEmpty(t *testing.T) {
	t.Parallel()
	src := &fakeSource{
		snap: stats.Snapshot{Total: stats.Row{Name: "Aggregated"}},
		st:   master.Status{State: master.StateReady},
	}
	rec := serve(t, New(Options{Source: src}), http.MethodGet, "/stats/requests")
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	rows := m["stats"].([]any)
	if len(rows) != 1 {
		t.Fatalf("stats = %v, want just the Aggregated row", rows)
	}
	agg := rows[0].(map[string]any)
	if agg["name"] != "Aggregated" {
		t.Errorf("row name = %v, want Aggregated", agg["name"])
	}
	for k, v := range agg {
		if f, ok := v.(float64); ok && f != 0 {
			t.Errorf("empty aggregate: %s = %v, want 0", k, f)
		}
	}
	// Arrays, not null: exporters iterate over them.
	for _, k := range []string{"errors", "workers"} {
		if a, ok := m[k].([]any); !ok || len(a) != 0 {
			t.Errorf("%s = %v (%s), want []", k, m[k], kind(m[k]))
		}
	}
	for _, k := range []string{"total_rps", "fail_ratio", "current_response_time_percentile_95", "worker_count", "user_count"} {
		if num(t, m, k) != 0 {
			t.Errorf("%s = %v, want 0", k, m[k])
		}
	}
	if m["state"] != "ready" {
		t.Errorf("state = %v, want ready", m["state"])
	}
}

func TestCurrentPercentilesBeforeHistory(t *testing.T) {
	t.Parallel()
	snap := sampleSnapshot()
	snap.History = nil
	m := getStats(t, &fakeSource{snap: snap, st: sampleStatus()})
	if got := num(t, m, "current_response_time_percentiles", "response_time_percentile_0.95"); got != snap.Total.Latency.P95 {
		t.Errorf("current p95 without history = %v, want the whole-run p95 %v", got, snap.Total.Latency.P95)
	}
}

func TestStatsRequestsNonFinite(t *testing.T) {
	t.Parallel()
	snap := sampleSnapshot()
	snap.Endpoints[0].CurrentRPS = math.NaN()
	snap.Endpoints[0].Latency.P99 = math.Inf(1)
	snap.Total.CurrentRPS = math.Inf(-1)
	st := sampleStatus()
	st.Workers[0].CPUPercent = math.NaN()
	m := getStats(t, &fakeSource{snap: snap, st: st})
	if got := num(t, m, "stats", 0, "current_rps"); got != 0 {
		t.Errorf("NaN current_rps = %v, want 0", got)
	}
	if got := num(t, m, "stats", 0, "ninety_ninth_response_time"); got != 0 {
		t.Errorf("+Inf p99 = %v, want 0", got)
	}
	if got := num(t, m, "total_rps"); got != 0 {
		t.Errorf("-Inf total_rps = %v, want 0", got)
	}
	if got := num(t, m, "workers", 0, "cpu_usage"); got != 0 {
		t.Errorf("NaN cpu_usage = %v, want 0", got)
	}
}

// FuzzLocustReport checks that any names and numbers give valid JSON with
// the aggregate last, and that safe_name is the HTML escape of name.
func FuzzLocustReport(f *testing.F) {
	f.Add("GET", "/a?b=<c>&d", "boom", 1.5, 100.0)
	f.Add("", "", "", math.NaN(), math.Inf(1))
	f.Add("POST", "\xff\xfe&amp;\u2028", "</script>", -1.0, 1e308)
	src := &fakeSource{st: sampleStatus()}
	h := New(Options{Source: src}) // once: building the metrics registry per input made this slow
	f.Fuzz(func(t *testing.T, method, name, errText string, lat, rps float64) {
		snap := sampleSnapshot()
		snap.Endpoints[0].Method, snap.Endpoints[0].Name = method, name
		snap.Endpoints[0].Latency.P95, snap.Endpoints[0].CurrentRPS = lat, rps
		snap.Errors[0].Name, snap.Errors[0].Error = name, errText
		src.mu.Lock()
		src.snap, src.times = snap, nil
		src.mu.Unlock()
		m := getStatsFrom(t, h)
		rows := m["stats"].([]any)
		if last := rows[len(rows)-1].(map[string]any); last["name"] != "Aggregated" {
			t.Fatalf("last row = %v, want Aggregated", last["name"])
		}
		row := rows[0].(map[string]any)
		if got := html.UnescapeString(row["safe_name"].(string)); got != row["name"] {
			t.Errorf("unescaped safe_name %q != name %q", got, row["name"])
		}
		if s := row["safe_name"].(string); strings.ContainsAny(s, "<>") {
			t.Errorf("safe_name %q holds < or >", s)
		}
	})
}
