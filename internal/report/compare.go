package report

import (
	"math"
	"sort"

	"github.com/horde-load/horde/internal/stats"
)

// This file compares two runs' summaries: what `horde runs compare` prints
// and what GET /api/v1/runs/compare serves. Its JSON keys are an API:
// they may be added, never renamed.

// SameWithin is the relative difference under which two figures are the
// "same": 2 %, twice the histograms' relative error (≤ 1 %, DESIGN.md §3),
// since each of the two runs' percentiles carries its own. Counts and
// rates use the same bound, so a run that served 1 % fewer requests is
// not called worse for what is usually noise between two runs.
const SameWithin = 0.02

// sameMs is the absolute difference under which two latencies are the
// same whatever their ratio: the summary's resolution (1 µs).
const sameMs = 0.001

// Direction is how a change looks to the user: latency and failures
// going up are worse, requests and requests per second going up are
// better.
type Direction string

// The directions of a Delta.
const (
	Better Direction = "better"
	Worse  Direction = "worse"
	Same   Direction = "same" // within SameWithin (or 1 µs for latencies)
)

// Delta is one figure in two runs.
type Delta struct {
	Base  float64 `json:"base"`
	Other float64 `json:"other"`
	// Diff is Other − Base.
	Diff float64 `json:"diff"`
	// Rel is Diff / Base (0.18 for +18 %); null when Base is 0, where no
	// ratio exists.
	Rel       *float64  `json:"rel"`
	Direction Direction `json:"direction"`
}

// LatencyDeltas are the latency figures of a row, in milliseconds. The
// minimum is left out: it says little about a run.
type LatencyDeltas struct {
	P50  Delta `json:"p50"`
	P90  Delta `json:"p90"`
	P95  Delta `json:"p95"`
	P99  Delta `json:"p99"`
	P999 Delta `json:"p999"`
	Avg  Delta `json:"avg"`
	Max  Delta `json:"max"`
}

// Figures are the compared figures of a row (an endpoint, or the totals).
type Figures struct {
	Requests Delta `json:"requests"`
	Failures Delta `json:"failures"`
	// FailRatio is failures / requests (0.05 for 5 %).
	FailRatio Delta         `json:"fail_ratio"`
	RPS       Delta         `json:"rps"`
	Latency   LatencyDeltas `json:"latency_ms"`
}

// EndpointComparison is an endpoint that both runs have.
type EndpointComparison struct {
	Method string `json:"method"`
	Name   string `json:"name"`
	Figures
}

// Comparison is two runs' summaries side by side: base is the reference
// (an older run, a baseline), other the run compared with it; every Diff
// is other − base.
type Comparison struct {
	// SameWithin is the relative tolerance of Direction "same".
	SameWithin float64 `json:"same_within"`
	// DurationS is the two runs' lengths, whose Direction is always
	// "same": neither is better. A longer run serves more requests
	// without being better, so counts compare only between runs of a
	// length; rates and ratios compare across lengths.
	DurationS Delta   `json:"duration_s"`
	Totals    Figures `json:"totals"`
	// Endpoints are those both runs have, by name then method.
	Endpoints []EndpointComparison `json:"endpoints"`
	// OnlyBase and OnlyOther are the endpoints one run has and the other
	// has not, as that run's summary has them.
	OnlyBase  []EndpointSummary `json:"only_base"`
	OnlyOther []EndpointSummary `json:"only_other"`
}

// Compare compares other with base. Endpoints are matched by method and
// name; every list of the result is non-nil.
func Compare(base, other Summary) Comparison {
	c := Comparison{
		SameWithin: SameWithin,
		DurationS:  delta(base.DurationS, other.DurationS, neutral),
		Totals:     figures(base.Totals.Requests, base.Totals.Failures, base.Totals.RPS, base.Totals.Latency, other.Totals.Requests, other.Totals.Failures, other.Totals.RPS, other.Totals.Latency),
		Endpoints:  []EndpointComparison{},
		OnlyBase:   []EndpointSummary{},
		OnlyOther:  []EndpointSummary{},
	}
	type key struct{ method, name string }
	others := make(map[key]EndpointSummary, len(other.Endpoints))
	for _, e := range other.Endpoints {
		others[key{e.Method, e.Name}] = e
	}
	seen := make(map[key]bool, len(base.Endpoints))
	for _, b := range base.Endpoints {
		k := key{b.Method, b.Name}
		seen[k] = true
		o, ok := others[k]
		if !ok {
			c.OnlyBase = append(c.OnlyBase, b)
			continue
		}
		c.Endpoints = append(c.Endpoints, EndpointComparison{Method: b.Method, Name: b.Name,
			Figures: figures(b.Requests, b.Failures, b.RPS, b.Latency, o.Requests, o.Failures, o.RPS, o.Latency)})
	}
	for _, o := range other.Endpoints {
		if !seen[key{o.Method, o.Name}] {
			c.OnlyOther = append(c.OnlyOther, o)
		}
	}
	sort.SliceStable(c.Endpoints, func(i, j int) bool {
		a, b := c.Endpoints[i], c.Endpoints[j]
		return a.Name < b.Name || a.Name == b.Name && a.Method < b.Method
	})
	return c
}

// sense says which way a figure is better.
type sense int

const (
	upIsBetter sense = iota
	upIsWorse
	neutral // neither way is better (the duration): always "same"
)

func figures(bReq, bFail int64, bRPS float64, bLat stats.Latency, oReq, oFail int64, oRPS float64, oLat stats.Latency) Figures {
	lat := latencyDelta
	return Figures{
		Requests:  delta(float64(bReq), float64(oReq), upIsBetter),
		Failures:  delta(float64(bFail), float64(oFail), upIsWorse),
		FailRatio: delta(ratio(bFail, bReq), ratio(oFail, oReq), upIsWorse),
		RPS:       delta(bRPS, oRPS, upIsBetter),
		Latency: LatencyDeltas{
			P50: lat(bLat.P50, oLat.P50), P90: lat(bLat.P90, oLat.P90), P95: lat(bLat.P95, oLat.P95),
			P99: lat(bLat.P99, oLat.P99), P999: lat(bLat.P999, oLat.P999),
			Avg: lat(bLat.Avg, oLat.Avg), Max: lat(bLat.Max, oLat.Max),
		},
	}
}

// latencyDelta compares two latencies: up is worse, and a difference
// under the summary's resolution is no difference.
func latencyDelta(b, o float64) Delta {
	d := delta(b, o, upIsWorse)
	d.Diff = roundMs(d.Diff)
	if math.Abs(o-b) < sameMs {
		d.Direction = Same
	}
	return d
}

// delta compares two values of a figure: same when they differ by at
// most SameWithin of the larger, else better or worse as s says. A
// neutral figure is always "same"; Diff and Rel say how much it moved.
func delta(b, o float64, s sense) Delta {
	b, o = finite(b), finite(o)
	d := Delta{Base: b, Other: o, Diff: round6(o - b), Direction: Same}
	if b != 0 {
		r := round6((o - b) / math.Abs(b))
		d.Rel = &r
	}
	if math.Abs(o-b) <= SameWithin*math.Max(math.Abs(b), math.Abs(o)) || s == neutral {
		return d
	}
	up := o > b
	if up == (s == upIsBetter) {
		d.Direction = Better
	} else {
		d.Direction = Worse
	}
	return d
}

// round6 rounds to six decimals: enough for any figure compared here,
// and no 0.30000000000000004 in the JSON.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
