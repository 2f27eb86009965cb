package threshold

import (
	"math"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/stats"
)

// testSnapshot is a hand-built snapshot: rows sorted by name then method,
// as stats builds them.
func testSnapshot() *stats.Snapshot {
	return &stats.Snapshot{
		Endpoints: []stats.Row{
			{Method: "", Name: stats.OverflowName, Requests: 7, Latency: stats.Latency{P95: 3}},
			{Method: "GET", Name: "/a:b", Requests: 1, Latency: stats.Latency{P95: 5}},
			{Method: "GET", Name: "/login", Requests: 10, Latency: stats.Latency{P95: 10}},
			{Method: "POST", Name: "/login", Requests: 20, Failures: 1, Latency: stats.Latency{P95: 20}},
			{
				Method: "GET", Name: "/profile", Requests: 100, Failures: 2, RPS: 10, CurrentRPS: 12,
				Latency:    stats.Latency{Min: 1, Avg: 50, P50: 40, P90: 90, P95: 120, P99: 300, P999: 800, Max: 1500},
				Percentile: func(q float64) float64 { return q * 1000 },
			},
			{Method: "POST", Name: "/submit", Latency: stats.Latency{P95: 0}},
			{Method: "GET", Name: "API health", Requests: 4, Latency: stats.Latency{P95: 7}},
			{Method: "CUSTOM", Name: "my step", Requests: 3, Latency: stats.Latency{P95: 9}},
		},
		Total: stats.Row{
			Name: stats.TotalName, Requests: 1000, Failures: 3, RPS: 100, CurrentRPS: 90,
			Latency: stats.Latency{Min: 0.5, Avg: 60, P50: 45, P90: 95, P95: 1001, P99: 310, P999: 900, Max: 2000},
		},
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr   string
		value  float64
		passed bool
		note   string // substring of Note; "" means Note must be empty
	}{
		// Every metric, on the aggregate.
		{"p50<46", 45, true, ""},
		{"med<45", 45, false, ""},
		{"p90<=95", 95, true, ""},
		{"p95<1.001s", 1001, false, ""},
		{"p95<=1.001s", 1001, true, ""},
		{"p99>=310", 310, true, ""},
		{"p99.9==900ms", 900, true, ""},
		{"p100<2s", 2000, false, ""},
		{"avg<200ms", 60, true, ""},
		{"min>0.5", 0.5, false, ""},
		{"max!=2000", 2000, false, ""},
		{"fail_ratio<0.01", 0.003, true, ""},
		{"fail_ratio<=0.3%", 0.003, true, ""},
		{"fail_ratio<0.3%", 0.003, false, ""},
		{"failures==3", 3, true, ""},
		{"requests>1000", 1000, false, ""},
		{"rps>=100", 100, true, ""},
		{"current_rps>90", 90, false, ""},
		// Every operator at, below and above the boundary (p95 is 120).
		{"GET /profile: p95<120", 120, false, ""},
		{"GET /profile: p95<120.5", 120, true, ""},
		{"GET /profile: p95<=120", 120, true, ""},
		{"GET /profile: p95<=119.9", 120, false, ""},
		{"GET /profile: p95>120", 120, false, ""},
		{"GET /profile: p95>119", 120, true, ""},
		{"GET /profile: p95>=120", 120, true, ""},
		{"GET /profile: p95>=121", 120, false, ""},
		{"GET /profile: p95==120", 120, true, ""},
		{"GET /profile: p95==121", 120, false, ""},
		{"GET /profile: p95!=121", 120, true, ""},
		{"GET /profile: p95!=120", 120, false, ""},
		// Unit conversions.
		{"GET /profile: p95<=120000us", 120, true, ""},
		{"GET /profile: p95<120000µs", 120, false, ""},
		{"GET /profile: max==1.5s", 1500, true, ""},
		{"GET /profile: max<0.025m", 1500, false, ""},
		{"GET /profile: max<=0.025m", 1500, true, ""},
		{"GET /profile: fail_ratio==2%", 0.02, true, ""},
		// Every metric on an endpoint; percentiles off the fixed fields
		// and from Percentile.
		{"GET /profile: p97<971", 970, true, ""},
		{"GET /profile: p99.99<=999.9", 999.9, true, ""},
		{"GET /profile: median<41", 40, true, ""},
		{"GET /profile: p90<90", 90, false, ""},
		{"GET /profile: p99<500ms", 300, true, ""},
		{"GET /profile: p99.9<800", 800, false, ""},
		{"GET /profile: avg<=50", 50, true, ""},
		{"GET /profile: min>=1", 1, true, ""},
		{"GET /profile: failures<2", 2, false, ""},
		{"GET /profile: requests==100", 100, true, ""},
		{"GET /profile: rps>=10", 10, true, ""},
		{"GET /profile: current_rps<=12", 12, true, ""},
		// Endpoint selection.
		{"get /profile: p95<=120", 120, true, ""},
		{"GET\t/profile : p95<=120", 120, true, ""},
		{"/profile: p95<=120", 120, true, ""},
		{"GET /login: p95<=10", 10, true, ""},
		{"POST /login: fail_ratio==0.05", 0.05, true, ""},
		{"GET /a:b: p95==5", 5, true, ""},
		{"API health: p95==7", 7, true, ""},
		{"my step: p95==9", 9, true, ""},
		{"CUSTOM my step: p95==9", 9, true, ""},
		{stats.OverflowName + ": requests==7", 7, true, ""},
		// A name with several methods is ambiguous.
		{"/login: fail_ratio == 0", 0, false, "several methods (GET, POST)"},
		{"/login: requests > 0", 0, false, "write METHOD NAME"},
		// Endpoints never requested.
		{"GET /x: p95<300ms", 0, false, "no requests to GET /x"},
		{"GET /x: fail_ratio==0", 0, false, "no requests to GET /x"},
		{"GET /x: requests==0", 0, true, "no requests to GET /x"},
		{"GET /x: requests>0", 0, false, "no requests to GET /x"},
		{"POST /profile: avg<1", 0, false, "no requests to POST /profile"},
		{"/Profile: avg<1", 0, false, "no requests to /Profile"},
		// A row with no requests: latencies and fail_ratio fail.
		{"POST /submit: p95<1s", 0, false, "no requests to POST /submit"},
		{"POST /submit: fail_ratio<=1", 0, false, "no requests"},
		{"POST /submit: failures==0", 0, true, ""},
		{"POST /submit: rps<1", 0, true, ""},
		// A percentile the row cannot give.
		{"GET /login: p97<1s", 0, false, "p97 is not available"},
	}
	snap := testSnapshot()
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			th, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			r := th.Evaluate(snap)
			if r.Expr != tt.expr {
				t.Errorf("Expr = %q, want %q", r.Expr, tt.expr)
			}
			if math.Abs(r.Value-tt.value) > 1e-9 || r.Passed != tt.passed {
				t.Errorf("Evaluate = %v passed %v (note %q), want %v passed %v", r.Value, r.Passed, r.Note, tt.value, tt.passed)
			}
			if tt.note == "" && r.Note != "" || !strings.Contains(r.Note, tt.note) {
				t.Errorf("Note = %q, want %q", r.Note, tt.note)
			}
		})
	}
}

func TestEvaluateZeroRequests(t *testing.T) {
	t.Parallel()
	empty := &stats.Snapshot{Total: stats.Row{Name: stats.TotalName}}
	tests := []struct {
		expr   string
		passed bool
		note   string
	}{
		{"p95<300ms", false, "no requests"},
		{"avg<1s", false, "no requests"},
		{"fail_ratio==0", false, "no requests"},
		{"requests==0", true, ""},
		{"failures==0", true, ""},
		{"rps==0", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			th, err := Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			r := th.Evaluate(empty)
			if r.Passed != tt.passed || r.Note != tt.note || r.Value != 0 {
				t.Errorf("Evaluate = %+v, want passed %v note %q value 0", r, tt.passed, tt.note)
			}
			if th.Crossed(empty) != (tt.note == "" && !tt.passed) {
				t.Errorf("Crossed = %v with no requests", th.Crossed(empty))
			}
		})
	}
}

func TestEvaluateNotFinite(t *testing.T) {
	t.Parallel()
	snap := &stats.Snapshot{Total: stats.Row{
		Requests: 1, RPS: math.Inf(1),
		Latency:    stats.Latency{P95: math.NaN()},
		Percentile: func(float64) float64 { return math.NaN() },
	}}
	for _, expr := range []string{"p95<1", "rps>0", "p97<1"} {
		th, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		r := th.Evaluate(snap)
		if r.Value != 0 || r.Passed || !strings.Contains(r.Note, "not a finite number") {
			t.Errorf("%s: Evaluate = %+v, want a failure with value 0 and a note", expr, r)
		}
	}
}

func TestEvaluateInvalid(t *testing.T) {
	t.Parallel()
	var zero Threshold
	if r := zero.Evaluate(testSnapshot()); r.Passed || r.Note == "" {
		t.Errorf("zero Threshold evaluated to %+v, want a failure with a note", r)
	}
	th, err := Parse("requests>=0")
	if err != nil {
		t.Fatal(err)
	}
	if r := th.Evaluate(nil); r.Passed || r.Note != "no statistics" {
		t.Errorf("Evaluate(nil) = %+v, want a failure noting no statistics", r)
	}
	if th.Crossed(nil) {
		t.Error("Crossed(nil) = true")
	}
	th.Expr = ""
	if r := th.Evaluate(testSnapshot()); r.Expr != "requests>=0" {
		t.Errorf("Expr of a threshold without one = %q, want its String()", r.Expr)
	}
}

func TestEvaluateAll(t *testing.T) {
	t.Parallel()
	snap := testSnapshot()
	tests := []struct {
		name  string
		exprs []string
		want  []bool
		all   bool
	}{
		{"none", nil, nil, true},
		{"all pass", []string{"p95<2s", "fail_ratio<1%"}, []bool{true, true}, true},
		{"one fails", []string{"p95<2s", "rps>500", "GET /profile: p99<500ms"}, []bool{true, false, true}, false},
		{"missing endpoint", []string{"GET /nope: p95<1s"}, []bool{false}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts, err := ParseAll(tt.exprs)
			if err != nil {
				t.Fatal(err)
			}
			results, all := EvaluateAll(ts, snap)
			if all != tt.all || len(results) != len(tt.want) {
				t.Fatalf("EvaluateAll = %+v, %v; want %d results, all %v", results, all, len(tt.want), tt.all)
			}
			for i, r := range results {
				if r.Passed != tt.want[i] || r.Expr != tt.exprs[i] {
					t.Errorf("result %d = %+v, want %q passed %v", i, r, tt.exprs[i], tt.want[i])
				}
			}
		})
	}
}

func TestCrossed(t *testing.T) {
	t.Parallel()
	snap := testSnapshot()
	tests := []struct {
		expr string
		want bool
	}{
		{"p95<300ms", true},                   // 1001 ms measured
		{"p95<2s", false},                     // passes
		{"GET /nope: p95<1s", false},          // no data yet: not crossed
		{"POST /submit: p95<1s", false},       // no requests yet
		{"/login: p95<1s", false},             // ambiguous: not measured
		{"GET /nope: requests>0", true},       // a count of 0 is a measurement
		{"GET /profile: fail_ratio<1%", true}, // 2% measured
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			th, err := Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			th.AbortOnFail = true
			if got := th.Crossed(snap); got != tt.want {
				t.Errorf("Crossed = %v, want %v (result %+v)", got, tt.want, th.Evaluate(snap))
			}
		})
	}
}
