package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

func snapWith(requests, failures int64, p95 float64) stats.Snapshot {
	row := stats.Row{Method: "GET", Name: "/", Requests: requests, Failures: failures, Latency: stats.Latency{P95: p95}}
	total := row
	total.Method, total.Name = "", stats.TotalName
	return stats.Snapshot{Endpoints: []stats.Row{row}, Total: total}
}

func mustParse(t *testing.T, exprs ...string) []threshold.Threshold {
	t.Helper()
	ts, err := threshold.ParseAll(exprs)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		snap stats.Snapshot
		ts   []string
		code int // 0: pass
		msg  string
	}{
		{"no thresholds, clean", snapWith(100, 0, 10), nil, 0, ""},
		{"no thresholds, a failure fails (as Locust)", snapWith(100, 1, 10), nil, exitcode.Failed, "1 of 100 requests failed"},
		{"thresholds decide, failures tolerated", snapWith(100, 1, 10), []string{"fail_ratio<0.05"}, 0, ""},
		{"threshold crossed", snapWith(100, 0, 400), []string{"p95<300ms", "fail_ratio==0"}, exitcode.Failed, "1 of 2 thresholds crossed: p95<300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ts []threshold.Threshold
			if tt.ts != nil {
				ts = mustParse(t, tt.ts...)
			}
			err := Verdict(tt.snap, ts)
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("Verdict = %v, want pass", err)
				}
				return
			}
			if err == nil || exitcode.Code(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Verdict = %v, want exit %d saying %q", err, tt.code, tt.msg)
			}
		})
	}
}

func TestWriteThresholds(t *testing.T) {
	t.Parallel()
	results, ok := EvaluateThresholds(mustParse(t, "p95<300ms", "GET /x: p99<1s"), snapWith(10, 0, 120.5))
	if ok {
		t.Fatal("a threshold on a missing endpoint passed")
	}
	var b bytes.Buffer
	if err := WriteThresholds(&b, results); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"✓ pass  p95<300ms", "120.5", "✗ FAIL  GET /x: p99<1s", "no requests to GET /x"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
