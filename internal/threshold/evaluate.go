package threshold

import (
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/horde-load/horde/internal/stats"
)

// Result is one evaluated threshold, as reports show it.
type Result struct {
	// Expr is the threshold's expression as written.
	Expr string `json:"expr"`
	// Value is the measured value: ms for latencies, a fraction for
	// fail_ratio, as is for counts and rates. It is always finite, and 0
	// when there was nothing to measure.
	Value float64 `json:"value"`
	// Passed is whether "Value OP limit" holds.
	Passed bool `json:"passed"`
	// Note explains a result that could not be measured (no requests, an
	// ambiguous endpoint), or is empty.
	Note string `json:"note,omitempty"`
}

// observation is what Evaluate measured: ok false means there was nothing
// to compare, and the threshold fails without being crossed.
type observation struct {
	value float64
	ok    bool
	note  string
}

// Evaluate measures the threshold on a snapshot and compares. A nil
// snapshot fails with a note.
func (t Threshold) Evaluate(s *stats.Snapshot) Result {
	o := t.observe(s)
	r := Result{Expr: t.Expr, Note: o.note}
	if r.Expr == "" {
		r.Expr = t.String()
	}
	note, bound := t.baselineNote()
	if o.ok {
		r.Value = o.value
		r.Passed = bound && t.op.holds(o.value, t.limit)
	}
	if note != "" && (r.Note == "" || !bound) {
		r.Note = note
	}
	return r
}

// Crossed reports whether the snapshot measures a value that fails the
// threshold: unlike a failed Result, missing data (no requests yet, an
// unknown endpoint) does not cross it. Callers use it for AbortOnFail,
// typically after a grace period, since early in a test counts and rates
// are still small (k6's delayAbortEval).
func (t Threshold) Crossed(s *stats.Snapshot) bool {
	if _, bound := t.baselineNote(); !bound {
		return false
	}
	o := t.observe(s)
	return o.ok && !t.op.holds(o.value, t.limit)
}

// EvaluateAll evaluates each threshold in order; allPassed is true when
// every one passed, and for an empty list.
func EvaluateAll(ts []Threshold, s *stats.Snapshot) (results []Result, allPassed bool) {
	results = make([]Result, 0, len(ts))
	allPassed = true
	for _, t := range ts {
		r := t.Evaluate(s)
		allPassed = allPassed && r.Passed
		results = append(results, r)
	}
	return results, allPassed
}

func (t Threshold) observe(s *stats.Snapshot) observation {
	switch {
	case t.metric == metricInvalid || t.op == opInvalid:
		return observation{note: "threshold was not parsed"}
	case s == nil:
		return observation{note: "no statistics"}
	}
	row, ambiguity := t.selectRow(s)
	switch {
	case ambiguity != "":
		return observation{note: ambiguity}
	case row == nil && t.needsSamples():
		return observation{note: "no requests to " + t.endpoint}
	case row == nil:
		// A count or rate of an endpoint never requested is 0.
		return observation{ok: true, note: "no requests to " + t.endpoint}
	}
	if row.Requests <= 0 && t.needsSamples() {
		if t.endpoint == "" {
			return observation{note: "no requests"}
		}
		return observation{note: "no requests to " + t.endpoint}
	}
	v, note := t.measure(row)
	if note != "" {
		return observation{note: note}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return observation{note: "the measured value is not a finite number"}
	}
	return observation{value: v, ok: true}
}

// needsSamples reports whether the metric means nothing without requests.
func (t Threshold) needsSamples() bool {
	return t.metric.isLatency() || t.metric == metricFailRatio
}

// selectRow finds the threshold's row. A nil row with an empty note means
// the endpoint was never requested; a non-empty note, that it is
// ambiguous.
func (t Threshold) selectRow(s *stats.Snapshot) (*stats.Row, string) {
	if t.endpoint == "" {
		return &s.Total, ""
	}
	if i := strings.IndexFunc(t.endpoint, unicode.IsSpace); i > 0 {
		method, name := t.endpoint[:i], strings.TrimSpace(t.endpoint[i:])
		var found *stats.Row
		for i := range s.Endpoints {
			r := &s.Endpoints[i]
			if r.Name != name || !strings.EqualFold(r.Method, method) {
				continue
			}
			if found == nil || r.Method == method {
				found = r // an exact-case method wins
			}
		}
		if found != nil {
			return found, ""
		}
	}
	var found []*stats.Row
	var methods []string
	for i := range s.Endpoints {
		if r := &s.Endpoints[i]; r.Name == t.endpoint {
			found = append(found, r)
			methods = append(methods, r.Method)
		}
	}
	switch len(found) {
	case 0:
		return nil, ""
	case 1:
		return found[0], ""
	}
	slices.Sort(methods)
	return nil, t.endpoint + " is requested with several methods (" + strings.Join(methods, ", ") +
		"); write METHOD NAME, e.g. \"" + methods[0] + " " + t.endpoint + ": ...\""
}

// measure reads the metric off a row with requests (or any row for counts
// and rates).
func (t Threshold) measure(r *stats.Row) (float64, string) {
	switch t.metric {
	case metricPercentile:
		return t.percentile(r)
	case metricAvg:
		return r.Latency.Avg, ""
	case metricMin:
		return r.Latency.Min, ""
	case metricMax:
		return r.Latency.Max, ""
	case metricFailRatio:
		if r.Requests <= 0 {
			return 0, ""
		}
		return float64(r.Failures) / float64(r.Requests), ""
	case metricFailures:
		return float64(r.Failures), ""
	case metricRequests:
		return float64(r.Requests), ""
	case metricRPS:
		return r.RPS, ""
	case metricCurrentRPS:
		return r.CurrentRPS, ""
	}
	return 0, "threshold was not parsed"
}

// percentile reads the fixed percentiles from the row's Latency, so that
// thresholds agree with the reported table, and the others from its
// Percentile function.
func (t Threshold) percentile(r *stats.Row) (float64, string) {
	switch t.q {
	case 50:
		return r.Latency.P50, ""
	case 90:
		return r.Latency.P90, ""
	case 95:
		return r.Latency.P95, ""
	case 99:
		return r.Latency.P99, ""
	case 99.9:
		return r.Latency.P999, ""
	}
	if r.Percentile == nil {
		return 0, t.metricName() + " is not available for this row"
	}
	return r.Percentile(t.q / 100), ""
}
