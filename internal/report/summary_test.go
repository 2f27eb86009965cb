package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

func fixtureMeta() Meta {
	return Meta{
		UsersPeak: 50, Host: "http://127.0.0.1:8080",
		Workers: []WorkerInfo{{ID: "w-1", State: "running", Users: 25}, {ID: "w-2", State: "missing", Users: 25}},
		Thresholds: []ThresholdResult{
			{Expr: "p95 < 500ms", Value: 150.125, Passed: true},
			{Expr: "fail_ratio < 0.01", Value: 0.2033, Passed: false},
		},
	}
}

func encode(t *testing.T, s Summary) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSummaryGolden(t *testing.T) {
	t.Parallel()
	golden(t, "summary.json.golden", encode(t, NewSummary(fixture(), fixtureMeta())))
}

// TestSummaryContractKeys decodes the JSON as a foreign tool would and
// checks every key of the DESIGN.md contract with its JSON type.
func TestSummaryContractKeys(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(encode(t, NewSummary(fixture(), fixtureMeta())), &doc); err != nil {
		t.Fatal(err)
	}
	latency := map[string]string{"min": "number", "avg": "number", "p50": "number", "p90": "number",
		"p95": "number", "p99": "number", "p999": "number", "max": "number"}
	checkKeys(t, "", doc, map[string]string{
		"version": "number", "started": "string", "duration_s": "number", "users_peak": "number",
		"host": "string", "totals": "object", "endpoints": "array", "errors": "array",
		"exceptions": "array", "workers": "array", "thresholds": "array", "dropped_iterations": "number",
		"warnings": "array",
	})
	totals := doc["totals"].(map[string]any)
	checkKeys(t, "totals.", totals, map[string]string{"requests": "number", "failures": "number", "rps": "number", "latency_ms": "object"})
	checkKeys(t, "totals.latency_ms.", totals["latency_ms"].(map[string]any), latency)
	lists := map[string]map[string]string{
		"endpoints": {"method": "string", "name": "string", "requests": "number", "failures": "number",
			"rps": "number", "bytes_avg": "number", "latency_ms": "object"},
		"errors":     {"method": "string", "name": "string", "error": "string", "count": "number"},
		"exceptions": {"message": "string", "count": "number", "traceback": "string"},
		"workers":    {"id": "string", "state": "string", "users": "number"},
		"thresholds": {"expr": "string", "value": "number", "passed": "bool"},
	}
	for list, keys := range lists {
		items := doc[list].([]any)
		if len(items) == 0 {
			t.Fatalf("%s: fixture has no items", list)
		}
		for _, it := range items {
			obj := it.(map[string]any)
			checkKeys(t, list+"[].", obj, keys)
			if list == "endpoints" {
				checkKeys(t, "endpoints[].latency_ms.", obj["latency_ms"].(map[string]any), latency)
			}
		}
	}
	if doc["version"] != 1.0 {
		t.Errorf("version = %v, want 1", doc["version"])
	}
	if _, err := time.Parse(time.RFC3339, doc["started"].(string)); err != nil {
		t.Errorf("started is not RFC3339: %v", err)
	}
}

func checkKeys(t *testing.T, prefix string, obj map[string]any, want map[string]string) {
	t.Helper()
	for k, typ := range want {
		v, ok := obj[k]
		if !ok {
			t.Errorf("missing key %s%s", prefix, k)
			continue
		}
		if got := jsonType(v); got != typ {
			t.Errorf("%s%s is %s, want %s", prefix, k, got, typ)
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
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
	case nil:
		return "null"
	}
	return "unknown"
}

func TestSummaryEmptyListsAreArrays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    Summary
	}{
		{"from empty snapshot", NewSummary(stats.Snapshot{}, Meta{})},
		{"zero Summary", Summary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := encode(t, tt.s)
			if bytes.Contains(out, []byte("null")) {
				t.Errorf("output has null:\n%s", out)
			}
			var doc map[string]any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"endpoints", "errors", "exceptions", "workers", "thresholds", "warnings"} {
				if got := jsonType(doc[k]); got != "array" {
					t.Errorf("%s is %s, want array", k, got)
				}
			}
		})
	}
}

func TestSummaryValues(t *testing.T) {
	t.Parallel()
	snap := fixture()
	snap.Started = time.Date(2025, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	snap.Total.Latency.P99 = 12.34567
	snap.Total.RPS = math.NaN()
	snap.Endpoints[0].Latency.Avg = math.Inf(1)
	s := NewSummary(snap, fixtureMeta())
	if s.Started != "2025-03-01T12:00:00Z" {
		t.Errorf("started = %q, want UTC RFC3339", s.Started)
	}
	if s.DurationS != 65 || s.UsersPeak != 50 || s.DroppedIterations != 3 || s.Host != "http://127.0.0.1:8080" {
		t.Errorf("duration/users/dropped/host = %v/%v/%v/%q", s.DurationS, s.UsersPeak, s.DroppedIterations, s.Host)
	}
	if s.Totals.Latency.P99 != 12.346 {
		t.Errorf("p99 = %v, want rounded to µs 12.346", s.Totals.Latency.P99)
	}
	if s.Totals.RPS != 0 || s.Endpoints[0].Latency.Avg != 0 {
		t.Errorf("non-finite values not zeroed: rps %v avg %v", s.Totals.RPS, s.Endpoints[0].Latency.Avg)
	}
	if s.Totals.Requests != 1500 || s.Totals.Failures != 305 || len(s.Endpoints) != 3 || s.Endpoints[2].Failures != 300 {
		t.Errorf("counts wrong: %+v", s.Totals)
	}
	if len(s.Errors) != 2 || s.Errors[1].Count != 300 || !strings.Contains(s.Errors[1].Error, "404") {
		t.Errorf("errors = %+v", s.Errors)
	}
	encode(t, s) // must not fail on what were NaN and Inf
}

func TestWriteJSONError(t *testing.T) {
	t.Parallel()
	if err := WriteJSON(errWriter{}, Summary{}); err == nil {
		t.Error("WriteJSON to a failing writer returned nil")
	}
}
