package web

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/stats"
)

// runningControl is a test with two endpoints, failures, a script error,
// two workers and ten seconds of history.
func runningControl(t *testing.T) (*fakeControl, *clock) {
	t.Helper()
	clk := newClock()
	ctl := newFakeControl(clk)
	ctl.setStatus(func(st *master.Status) {
		*st = master.Status{
			State: master.StateRunning, Users: 20, TargetUsers: 25, SpawnRate: 5, Host: "http://127.0.0.1:8080",
			Started: epoch, RunTime: 10 * time.Minute,
			Workers: []master.WorkerStatus{
				{ID: "w1", Index: 0, Hostname: "h1", State: master.WorkerRunning, Users: 12, Target: 13,
					CPUPercent: 35.5, RSSBytes: 41234432, RPS: 110.5},
				{ID: "w2", Index: 1, Hostname: "h2", State: master.WorkerMissing, Users: 8, Target: 12, CPUWarning: true},
			},
		}
	})
	for range 10 {
		ctl.load("GET", "/", 10, 1, 2*time.Millisecond)
		ctl.load("POST", "/login", 5, 0, 40*time.Millisecond)
		ctl.tick()
	}
	return ctl, clk
}

var (
	apiRowKeys = map[string]string{
		"method": "string", "name": "string", "requests": "number", "failures": "number", "rps": "number",
		"current_rps": "number", "current_fail_per_sec": "number", "bytes_avg": "number", "latency_ms": "object",
	}
	apiLatencyKeys = map[string]string{
		"min": "number", "avg": "number", "p50": "number", "p90": "number", "p95": "number",
		"p99": "number", "p999": "number", "max": "number",
	}
	apiStatsKeys = map[string]string{
		"state": "string", "users": "number", "target_users": "number", "spawn_rate": "number", "arrival_rate": "number", "shape": "string", "host": "string",
		"started": "string", "elapsed_s": "number", "run_time_s": "number", "total": "object",
		"endpoints": "array", "errors": "array", "exceptions": "array", "workers": "array",
		"warnings": "array", "dropped_iterations": "number",
	}
	apiWorkerKeys = map[string]string{
		"id": "string", "index": "number", "hostname": "string", "state": "string", "users": "number",
		"target": "number", "cpu_percent": "number", "rss_bytes": "number", "cpu_warning": "bool", "rps": "number",
	}
	apiFailureKeys   = map[string]string{"method": "string", "name": "string", "error": "string", "count": "number"}
	apiExceptionKeys = map[string]string{"message": "string", "count": "number", "traceback": "string"}
	apiPointKeys     = map[string]string{
		"t": "number", "users": "number", "rps": "number", "fail_per_sec": "number",
		"p50": "number", "p95": "number", "p99": "number", "requests": "number", "failures": "number",
	}
)

func TestAPIStats(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	ctl.drop(7)
	h := New(Options{Control: ctl, Now: clk.Now})
	rec := do(t, h, "GET", "/api/v1/stats", "", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/v1/stats = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	m := decode(t, rec)
	checkKeys(t, "stats", m, apiStatsKeys)
	checkKeys(t, "total", m["total"], apiRowKeys)
	checkKeys(t, "total.latency_ms", m["total"].(map[string]any)["latency_ms"], apiLatencyKeys)
	eps := m["endpoints"].([]any)
	if len(eps) != 2 {
		t.Fatalf("%d endpoints, want 2", len(eps))
	}
	for _, e := range eps {
		checkKeys(t, "endpoint", e, apiRowKeys)
	}
	for _, w := range m["workers"].([]any) {
		checkKeys(t, "worker", w, apiWorkerKeys)
	}
	errs := m["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want one group", errs)
	}
	checkKeys(t, "error", errs[0], apiFailureKeys)

	snap := ctl.Snapshot(clk.Now())
	ep0 := eps[0].(map[string]any)
	total := m["total"].(map[string]any)
	tests := []struct {
		name      string
		got, want any
	}{
		{"state", m["state"], "running"},
		{"users", m["users"], 20.0},
		{"target_users", m["target_users"], 25.0},
		{"spawn_rate", m["spawn_rate"], 5.0},
		{"host", m["host"], "http://127.0.0.1:8080"},
		{"started", m["started"], "2026-11-26T23:00:00Z"},
		{"elapsed_s", m["elapsed_s"], 10.0},
		{"run_time_s", m["run_time_s"], 600.0},
		{"dropped_iterations (from Meta)", m["dropped_iterations"], 7.0},
		{"total name", total["name"], "Aggregated"},
		{"total method", total["method"], ""},
		{"total requests", total["requests"], 150.0},
		{"total failures", total["failures"], 10.0},
		{"sorted by name: / first", ep0["name"], "/"},
		{"endpoint method", ep0["method"], "GET"},
		{"endpoint requests", ep0["requests"], 100.0},
		{"endpoint p50", num(t, ep0, "latency_ms", "p50"), snap.Endpoints[0].Latency.P50},
		{"endpoint max", num(t, ep0, "latency_ms", "max"), 2.0},
		{"endpoint rps", ep0["rps"], snap.Endpoints[0].RPS},
		{"endpoint bytes_avg", ep0["bytes_avg"], 100.0},
		{"error count", errs[0].(map[string]any)["count"], 10.0},
		{"error text", errs[0].(map[string]any)["error"], "HTTP 500 Internal Server Error"},
		{"worker id", num(t, m, "workers", 1, "index"), 1.0},
		{"worker cpu", num(t, m, "workers", 0, "cpu_percent"), 35.5},
		{"worker rss", num(t, m, "workers", 0, "rss_bytes"), 41234432.0},
		{"worker warning", m["workers"].([]any)[1].(map[string]any)["cpu_warning"], true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestAPIStatsBeforeAnyTest(t *testing.T) {
	t.Parallel()
	h := New(Options{Source: &fakeSource{st: master.Status{State: master.StateReady}}})
	m := decode(t, do(t, h, "GET", "/api/v1/stats", "", nil))
	if _, ok := m["started"]; ok {
		t.Errorf("started = %v before any test, want it absent", m["started"])
	}
	for _, k := range []string{"endpoints", "errors", "exceptions", "workers", "warnings"} {
		if a, ok := m[k].([]any); !ok || len(a) != 0 {
			t.Errorf("%s = %v, want []", k, m[k])
		}
	}
}

func TestAPIStatsNonFinite(t *testing.T) {
	t.Parallel()
	snap := sampleSnapshot()
	snap.Total.CurrentRPS = math.NaN()
	snap.Endpoints[0].Latency.P99 = math.Inf(1)
	st := sampleStatus()
	st.SpawnRate = math.Inf(1)
	rec := do(t, New(Options{Source: &fakeSource{snap: snap, st: st}}), "GET", "/api/v1/stats", "", nil)
	m := decode(t, rec)
	if num(t, m, "total", "current_rps") != 0 || num(t, m, "endpoints", 0, "latency_ms", "p99") != 0 ||
		num(t, m, "spawn_rate") != 0 {
		t.Errorf("non-finite numbers not 0: %s", rec.Body)
	}
}

func TestAPIHistory(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	m := decode(t, do(t, New(Options{Control: ctl, Now: clk.Now}), "GET", "/api/v1/history", "", nil))
	pts := m["points"].([]any)
	if len(pts) != 10 {
		t.Fatalf("%d points, want 10 (one per tick)", len(pts))
	}
	for i, p := range pts {
		checkKeys(t, "point", p, apiPointKeys)
		if got, want := num(t, p, "t"), float64(epoch.Add(time.Duration(i+1)*time.Second).UnixMilli()); got != want {
			t.Errorf("point %d: t = %v, want %v (Unix ms)", i, got, want)
		}
		if got := num(t, p, "requests"); got != float64(15*(i+1)) {
			t.Errorf("point %d: requests = %v, want cumulative %d", i, got, 15*(i+1))
		}
	}
	if got := num(t, pts[9], "users"); got != 20 {
		t.Errorf("users = %v, want 20", got)
	}
}

func TestAPIWorkersAndErrors(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	h := New(Options{Control: ctl, Now: clk.Now})
	w := decode(t, do(t, h, "GET", "/api/v1/workers", "", nil))
	ws := w["workers"].([]any)
	if len(ws) != 2 || ws[0].(map[string]any)["id"] != "w1" || ws[1].(map[string]any)["state"] != "missing" {
		t.Errorf("workers = %v", ws)
	}
	e := decode(t, do(t, h, "GET", "/api/v1/errors", "", nil))
	if errs := e["errors"].([]any); len(errs) != 1 {
		t.Errorf("errors = %v, want one group", errs)
	}
	if ex, ok := e["exceptions"].([]any); !ok || len(ex) != 0 {
		t.Errorf("exceptions = %v, want []", e["exceptions"])
	}

	snap := sampleSnapshot()
	snap.Exceptions = append(snap.Exceptions, stats.ExceptionRow{
		Count: 2, Message: "boom", Traceback: "Traceback:\n  script.star:3:5: in task",
	})
	e = decode(t, do(t, New(Options{Source: &fakeSource{snap: snap}}), "GET", "/api/v1/errors", "", nil))
	ex := e["exceptions"].([]any)
	if len(ex) != 1 {
		t.Fatalf("exceptions = %v", ex)
	}
	checkKeys(t, "exception", ex[0], apiExceptionKeys)
	if got := ex[0].(map[string]any)["traceback"]; got != "Traceback:\n  script.star:3:5: in task" {
		t.Errorf("traceback = %q", got)
	}
}

func TestAPIWithoutSource(t *testing.T) {
	t.Parallel()
	h := New(Options{})
	for _, p := range []string{"/api/v1/stats", "/api/v1/history", "/api/v1/stream", "/api/v1/report.json", "/stats/requests/csv"} {
		if rec := do(t, h, "GET", p, "", nil); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s without a source = %d, want 503", p, rec.Code)
		}
	}
}
