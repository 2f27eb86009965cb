package report

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/horde-load/horde/internal/stats"
)

func ptr(v float64) *float64 { return &v }

func TestDelta(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		base, othr float64
		s          sense
		want       Delta
	}{
		{"p95 up 18% is worse", 100, 118, upIsWorse, Delta{Base: 100, Other: 118, Diff: 18, Rel: ptr(0.18), Direction: Worse}},
		{"p95 down is better", 118, 100, upIsWorse, Delta{Base: 118, Other: 100, Diff: -18, Rel: ptr(-0.152542), Direction: Better}},
		{"rps down 7% is worse", 200, 186, upIsBetter, Delta{Base: 200, Other: 186, Diff: -14, Rel: ptr(-0.07), Direction: Worse}},
		{"rps up is better", 186, 200, upIsBetter, Delta{Base: 186, Other: 200, Diff: 14, Rel: ptr(0.075269), Direction: Better}},
		{"within 2% is the same", 100, 101.9, upIsWorse, Delta{Base: 100, Other: 101.9, Diff: 1.9, Rel: ptr(0.019), Direction: Same}},
		{"just past 2% is not", 100, 102.1, upIsWorse, Delta{Base: 100, Other: 102.1, Diff: 2.1, Rel: ptr(0.021), Direction: Worse}},
		{"the tolerance is of the larger", 102, 100, upIsBetter, Delta{Base: 102, Other: 100, Diff: -2, Rel: ptr(-0.019608), Direction: Same}},
		{"failures from none is worse, with no ratio", 0, 1, upIsWorse, Delta{Base: 0, Other: 1, Diff: 1, Rel: nil, Direction: Worse}},
		{"failures to none is better", 3, 0, upIsWorse, Delta{Base: 3, Other: 0, Diff: -3, Rel: ptr(-1), Direction: Better}},
		{"nothing both times", 0, 0, upIsWorse, Delta{Direction: Same}},
		{"a neutral figure moves without a direction", 60, 120, neutral, Delta{Base: 60, Other: 120, Diff: 60, Rel: ptr(1), Direction: Same}},
		{"not a number counts as 0", math.NaN(), 5, upIsBetter, Delta{Base: 0, Other: 5, Diff: 5, Direction: Better}},
		{"float noise is rounded away", 0.1, 0.3, upIsWorse, Delta{Base: 0.1, Other: 0.3, Diff: 0.2, Rel: ptr(2), Direction: Worse}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := delta(tc.base, tc.othr, tc.s); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("delta(%v, %v) = %s, want %s", tc.base, tc.othr, show(got), show(tc.want))
			}
		})
	}
}

func TestLatencyDelta(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, othr float64
		wantDiff   float64
		want       Direction
	}{
		{52.6, 62.1, 9.5, Worse},
		{62.1, 52.6, -9.5, Better},
		{0.041, 0.042, 0.001, Worse},  // 2.4% and a whole µs: the histograms tell these apart
		{0.0412, 0.0419, 0.001, Same}, // under the summary's µs: no difference
		{10, 10.15, 0.15, Same},
	} {
		d := latencyDelta(tc.base, tc.othr)
		if d.Direction != tc.want || d.Diff != tc.wantDiff {
			t.Errorf("latencyDelta(%v, %v) = %s, want diff %v, %s", tc.base, tc.othr, show(d), tc.wantDiff, tc.want)
		}
	}
}

func show(d Delta) string {
	b, _ := json.Marshal(d)
	return string(b)
}

func lat(p50, p95 float64) stats.Latency {
	return stats.Latency{Min: p50 / 2, Avg: p50 * 1.1, P50: p50, P90: p95 * 0.9, P95: p95, P99: p95 * 1.5, P999: p95 * 2, Max: p95 * 3}
}

func summaryOf(dur float64, total Totals, eps ...EndpointSummary) Summary {
	return Summary{Version: 1, DurationS: dur, Totals: total, Endpoints: eps}
}

func TestCompareEndpoints(t *testing.T) {
	t.Parallel()
	base := summaryOf(60,
		Totals{Requests: 3000, Failures: 0, RPS: 50, Latency: lat(20, 100)},
		EndpointSummary{Method: "GET", Name: "/", Requests: 2000, RPS: 33.3, Latency: lat(10, 50)},
		EndpointSummary{Method: "GET", Name: "/gone", Requests: 400, RPS: 6.7, Latency: lat(30, 60)},
		EndpointSummary{Method: "POST", Name: "/login", Requests: 600, RPS: 10, Latency: lat(40, 100)},
	)
	other := summaryOf(60,
		Totals{Requests: 2790, Failures: 28, RPS: 46.5, Latency: lat(20.1, 118)},
		// Other order than base's; GET /login is another endpoint than POST /login.
		EndpointSummary{Method: "POST", Name: "/login", Requests: 600, Failures: 28, RPS: 10, Latency: lat(40, 118)},
		EndpointSummary{Method: "GET", Name: "/login", Requests: 90, RPS: 1.5, Latency: lat(5, 8)},
		EndpointSummary{Method: "GET", Name: "/", Requests: 2100, RPS: 35, Latency: lat(9, 40)},
	)
	c := Compare(base, other)

	if c.SameWithin != 0.02 || c.DurationS.Diff != 0 {
		t.Errorf("same_within %v, duration %s", c.SameWithin, show(c.DurationS))
	}
	// The example: p95 +18 %, RPS −7 %, both worse.
	if p := c.Totals.Latency.P95; p.Direction != Worse || p.Rel == nil || *p.Rel != 0.18 || p.Diff != 18 {
		t.Errorf("total p95 = %s, want +18 worse", show(p))
	}
	if r := c.Totals.RPS; r.Direction != Worse || r.Rel == nil || *r.Rel != -0.07 {
		t.Errorf("total rps = %s, want -7%% worse", show(r))
	}
	if p50 := c.Totals.Latency.P50; p50.Direction != Same {
		t.Errorf("total p50 20 → 20.1 = %s, want same", show(p50))
	}
	if f := c.Totals.Failures; f.Direction != Worse || f.Rel != nil || f.Diff != 28 {
		t.Errorf("total failures = %s, want +28 worse with no ratio", show(f))
	}
	if f := c.Totals.FailRatio; f.Direction != Worse || f.Base != 0 || math.Abs(f.Other-28.0/2790) > 1e-12 {
		t.Errorf("total fail ratio = %s, want worse at %v", show(f), 28.0/2790)
	}

	var names []string
	for _, e := range c.Endpoints {
		names = append(names, e.Method+" "+e.Name)
	}
	if want := []string{"GET /", "POST /login"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("compared endpoints %v, want %v", names, want)
	}
	root, login := c.Endpoints[0], c.Endpoints[1]
	if root.Latency.P95.Direction != Better || root.RPS.Direction != Better || root.Requests.Direction != Better {
		t.Errorf("GET /: p95 %s, rps %s, requests %s; want all better", show(root.Latency.P95), show(root.RPS), show(root.Requests))
	}
	if login.Latency.P95.Direction != Worse || login.Latency.Max.Direction != Worse || login.RPS.Direction != Same {
		t.Errorf("POST /login: p95 %s, max %s, rps %s; want worse, worse, same", show(login.Latency.P95), show(login.Latency.Max), show(login.RPS))
	}
	if len(c.OnlyBase) != 1 || c.OnlyBase[0].Name != "/gone" {
		t.Errorf("only in base: %+v, want GET /gone", c.OnlyBase)
	}
	if len(c.OnlyOther) != 1 || c.OnlyOther[0].Method != "GET" || c.OnlyOther[0].Name != "/login" || c.OnlyOther[0].Requests != 90 {
		t.Errorf("only in other: %+v, want GET /login with its 90 requests", c.OnlyOther)
	}
}

func TestCompareSameRunIsSame(t *testing.T) {
	t.Parallel()
	s := NewSummary(fixture(), fixtureMeta())
	c := Compare(s, s)
	rows := []Figures{c.Totals}
	for _, e := range c.Endpoints {
		rows = append(rows, e.Figures)
	}
	if len(c.Endpoints) != len(s.Endpoints) || len(c.OnlyBase)+len(c.OnlyOther) != 0 {
		t.Fatalf("a run compared with itself: %d of %d endpoints matched, %d+%d unmatched",
			len(c.Endpoints), len(s.Endpoints), len(c.OnlyBase), len(c.OnlyOther))
	}
	for i, f := range rows {
		for name, d := range map[string]Delta{"requests": f.Requests, "failures": f.Failures, "fail_ratio": f.FailRatio,
			"rps": f.RPS, "p50": f.Latency.P50, "p90": f.Latency.P90, "p95": f.Latency.P95, "p99": f.Latency.P99,
			"p999": f.Latency.P999, "avg": f.Latency.Avg, "max": f.Latency.Max} {
			if d.Direction != Same || d.Diff != 0 || d.Base != d.Other {
				t.Errorf("row %d %s: %s, want no difference", i, name, show(d))
			}
		}
	}
}

// TestCompareJSON pins the keys: the comparison is an API (the web's
// /api/v1/runs/compare, the CLI's runs compare --json).
func TestCompareJSON(t *testing.T) {
	t.Parallel()
	c := Compare(Summary{}, Summary{})
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "", doc, map[string]string{"same_within": "number", "duration_s": "object", "totals": "object",
		"endpoints": "array", "only_base": "array", "only_other": "array"})
	totals := doc["totals"].(map[string]any)
	checkKeys(t, "totals.", totals, map[string]string{"requests": "object", "failures": "object",
		"fail_ratio": "object", "rps": "object", "latency_ms": "object"})
	checkKeys(t, "totals.latency_ms.", totals["latency_ms"].(map[string]any), map[string]string{"p50": "object",
		"p90": "object", "p95": "object", "p99": "object", "p999": "object", "avg": "object", "max": "object"})
	checkKeys(t, "totals.rps.", totals["rps"].(map[string]any), map[string]string{"base": "number", "other": "number",
		"diff": "number", "rel": "null", "direction": "string"})

	// An endpoint's figures sit beside its method and name.
	c = Compare(summaryOf(1, Totals{}, EndpointSummary{Method: "GET", Name: "/"}), summaryOf(1, Totals{}, EndpointSummary{Method: "GET", Name: "/", Requests: 4}))
	b, _ = json.Marshal(c.Endpoints[0])
	var ep map[string]any
	_ = json.Unmarshal(b, &ep)
	checkKeys(t, "endpoints[].", ep, map[string]string{"method": "string", "name": "string", "requests": "object",
		"failures": "object", "fail_ratio": "object", "rps": "object", "latency_ms": "object"})
}
