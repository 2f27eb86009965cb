package threshold

import (
	"strconv"
	"strings"
)

// metric is what a threshold measures.
type metric int

const (
	metricInvalid metric = iota
	metricPercentile
	metricAvg
	metricMin
	metricMax
	metricFailRatio
	metricFailures
	metricRequests
	metricRPS
	metricCurrentRPS
)

// knownMetrics is the list given in unknown-metric errors.
const knownMetrics = "pNN (e.g. p95, p99.9), med, avg, min, max, fail_ratio, failures, requests, rps, current_rps"

// String returns the canonical name; a percentile's depends on its value.
func (m metric) String() string {
	switch m {
	case metricPercentile:
		return "pNN"
	case metricAvg:
		return "avg"
	case metricMin:
		return "min"
	case metricMax:
		return "max"
	case metricFailRatio:
		return "fail_ratio"
	case metricFailures:
		return "failures"
	case metricRequests:
		return "requests"
	case metricRPS:
		return "rps"
	case metricCurrentRPS:
		return "current_rps"
	}
	return "invalid"
}

// lookupMetric finds a metric by its lower-case name (not pNN). med and
// median are the 50th percentile.
func lookupMetric(name string) (m metric, q float64, ok bool) {
	switch name {
	case "med", "median":
		return metricPercentile, 50, true
	case "avg":
		return metricAvg, 0, true
	case "min":
		return metricMin, 0, true
	case "max":
		return metricMax, 0, true
	case "fail_ratio":
		return metricFailRatio, 0, true
	case "failures":
		return metricFailures, 0, true
	case "requests":
		return metricRequests, 0, true
	case "rps":
		return metricRPS, 0, true
	case "current_rps":
		return metricCurrentRPS, 0, true
	}
	return metricInvalid, 0, false
}

// isLatency reports whether the metric is a latency in ms.
func (m metric) isLatency() bool {
	return m == metricPercentile || m == metricAvg || m == metricMin || m == metricMax
}

// isCount reports whether the metric is a whole number of requests.
func (m metric) isCount() bool { return m == metricFailures || m == metricRequests }

// op is a comparison operator.
type op int

const (
	opInvalid op = iota
	opLT
	opLE
	opGT
	opGE
	opEQ
	opNE
)

// String returns the operator as written.
func (o op) String() string {
	switch o {
	case opLT:
		return "<"
	case opLE:
		return "<="
	case opGT:
		return ">"
	case opGE:
		return ">="
	case opEQ:
		return "=="
	case opNE:
		return "!="
	}
	return "?"
}

// holds reports whether "value OP limit" is true.
func (o op) holds(value, limit float64) bool {
	switch o {
	case opLT:
		return value < limit
	case opLE:
		return value <= limit
	case opGT:
		return value > limit
	case opGE:
		return value >= limit
	case opEQ:
		return value == limit
	case opNE:
		return value != limit
	}
	return false
}

// parseOp reads the operator at the start of s (which follows the metric
// named metricName) and returns what follows it.
func parseOp(s, metricName string) (op, string, string) {
	n := 0
	for n < len(s) && strings.IndexByte("<>=!", s[n]) >= 0 {
		n++
	}
	if n == 0 {
		if s == "" {
			return opInvalid, "", "missing comparison operator after " + strconv.Quote(metricName) + "; want one of <, <=, >, >=, ==, !="
		}
		return opInvalid, "", "expected a comparison operator after " + strconv.Quote(metricName) + ", found " + strconv.Quote(s)
	}
	var o op
	switch s[:n] {
	case "<":
		o = opLT
	case "<=":
		o = opLE
	case ">":
		o = opGT
	case ">=":
		o = opGE
	case "==":
		o = opEQ
	case "!=":
		o = opNE
	default:
		hint := ""
		if s[:n] == "=" {
			hint = " (use == for equality)"
		}
		return opInvalid, "", "unknown operator " + strconv.Quote(s[:n]) + hint + "; want one of <, <=, >, >=, ==, !="
	}
	return o, s[n:], ""
}
