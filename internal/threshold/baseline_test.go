package threshold

import (
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/stats"
)

func TestBaselineParse(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"p95 < baseline * 1.10":    "p95<baseline*1.1",
		"rps>baseline*0.95":        "rps>baseline*0.95",
		"GET /x: p99 <= baseline":  "GET /x: p99<=baseline",
		"fail_ratio <= BASELINE*2": "fail_ratio<=baseline*2",
	}
	for in, canon := range good {
		th, err := Parse(in)
		if err != nil || !th.UsesBaseline() || th.String() != canon {
			t.Errorf("Parse(%q) = %q, uses baseline %v, err %v; want %q", in, th.String(), th.UsesBaseline(), err, canon)
			continue
		}
		back, err := Parse(th.String())
		if err != nil || back.String() != canon {
			t.Errorf("%q does not parse back: %v", canon, err)
		}
	}
	bad := map[string]string{
		"p95 < baseline 1.1":    "after baseline, want * FACTOR",
		"p95 < baseline * 0":    "factor must be a positive number",
		"p95 < baseline * -1":   "factor must be a positive number",
		"p95 < baseline * x":    "factor must be a positive number",
		"p95 < baseline * 1 ms": "factor must be a positive number",
		"p95 < baselines":       "is not a number",
	}
	for in, want := range bad {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", in, err, want)
		}
	}
	if th, _ := Parse("p95<300ms"); th.UsesBaseline() {
		t.Error("a fixed threshold says it uses a baseline")
	}
}

func TestBaselineBindAndEvaluate(t *testing.T) {
	t.Parallel()
	snap := func(p95, rps float64) *stats.Snapshot {
		row := stats.Row{Method: "GET", Name: "/x", Requests: 100, RPS: rps, Latency: stats.Latency{P95: p95}}
		total := row
		total.Method, total.Name = "", stats.TotalName
		return &stats.Snapshot{Endpoints: []stats.Row{row}, Total: total}
	}
	base := snap(100, 50)
	tests := []struct {
		expr   string
		now    *stats.Snapshot
		passed bool
		note   string
	}{
		{"p95 < baseline * 1.10", snap(105, 50), true, "limit 110 ms from the baseline (run abc)"},
		{"p95 < baseline * 1.10", snap(118, 50), false, "limit 110 ms"},
		{"rps > baseline * 0.95", snap(100, 46), false, "limit 47.5 from the baseline"},
		{"rps > baseline * 0.95", snap(100, 49), true, ""},
		{"GET /x: p95 <= baseline", snap(100, 50), true, ""},
		{"GET /y: p95 < baseline", snap(100, 50), false, "the baseline (run abc) has nothing to compare with: no requests to GET /y"},
	}
	for _, tc := range tests {
		th, err := Parse(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if r := th.Evaluate(tc.now); r.Passed || !strings.Contains(r.Note, "give --baseline") {
			t.Errorf("%s unbound: %+v, want a failure asking for --baseline", tc.expr, r)
		}
		r := th.Bind(base, "run abc").Evaluate(tc.now)
		if r.Passed != tc.passed || !strings.Contains(r.Note, tc.note) {
			t.Errorf("%s on %v: %+v, want passed %v with note %q", tc.expr, tc.now.Total.Latency.P95, r, tc.passed, tc.note)
		}
	}
}
