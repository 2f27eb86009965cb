// Package threshold parses and evaluates the pass/fail thresholds of a load
// test: horde's repeatable --threshold EXPR flag and a script's
// thresholds = [...] list, in the spirit of k6 thresholds. It does not
// decide exit codes or abort runs; callers do that with the results.
//
// # Grammar
//
//	[ENDPOINT ":"] METRIC OP VALUE
//
// Whitespace around each part is ignored, and between a number and its
// unit too; metric names and units are case-insensitive. Examples:
//
//	p95<300ms
//	p99.9 < 1s
//	avg<200ms
//	fail_ratio<0.01
//	fail_ratio < 1%
//	rps>500
//	GET /profile: p99<500ms
//	/login: fail_ratio == 0
//
// ENDPOINT selects a row of the statistics table; without it the threshold
// is on the aggregated row. The expression is split at its last colon
// (METRIC, OP and VALUE never contain one), so names may contain colons.
// At evaluation, ENDPOINT "WORD REST" selects the row whose method is WORD
// (case-insensitive) and whose name is REST ("GET /profile"); if there is
// no such row, ENDPOINT is taken as a whole name ("Login page", "/login")
// and selects the row with that name whatever its method. A name requested
// with several methods is ambiguous there: the threshold fails with a note
// asking for METHOD NAME. Names are case-sensitive, as URL paths are.
//
// METRIC is one of:
//
//	pNN, pNN.N...  a percentile, 0 < NN < 100 (p50, p90, p95, p99.9); p100 is max
//	med, median    p50
//	avg, min, max  latency
//	fail_ratio     failures / requests, a fraction
//	failures       failed requests, a count
//	requests       requests, a count
//	rps            requests per second over the whole test
//	current_rps    requests per second over the sliding window
//
// OP is one of <, <=, >, >=, ==, !=.
//
// VALUE is a non-negative finite decimal number. A latency takes a unit,
// us (or µs), ms, s or m, and is in ms without one. fail_ratio is a fraction
// from 0 to 1 or a percent (1% is 0.01). Counts are whole numbers; counts
// and rates take no unit.
//
// # Evaluation
//
// Result values are in ms for latencies, a fraction for fail_ratio, and as
// is for counts and rates. A latency or fail_ratio threshold on a row with
// no requests, or on an endpoint that was never requested, FAILS with the
// note "no requests": unlike k6, which passes a threshold that has no
// samples, since a silent pass would hide a broken test. Counts and rates
// of a missing endpoint are 0 and compare as such, so "GET /admin:
// requests == 0" passes when /admin was never requested. A name requested
// with several methods fails with a note. Result values are always finite.
//
// Thresholds have no abort syntax: callers set Threshold.AbortOnFail (a
// script's threshold("p95<300ms", abort_on_fail=True)) and poll Crossed,
// which, unlike a failed Result, is false while there is nothing to measure.
package threshold

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Threshold is one parsed expression. The zero value is not a valid
// threshold: it fails every evaluation.
type Threshold struct {
	// Expr is the expression as written (without surrounding whitespace);
	// results and reports quote it.
	Expr string
	// AbortOnFail asks the caller to stop the test as soon as the
	// threshold is crossed (see Crossed). Parse leaves it false.
	AbortOnFail bool

	endpoint string  // "" for the aggregated row
	metric   metric  // what is measured
	q        float64 // the percentile, in (0, 100), for metricPercentile
	op       op
	limit    float64 // ms for latencies, a fraction for fail_ratio

	// factor > 0 makes the limit the baseline run's value times factor
	// (VALUE "baseline" or "baseline * F"); Bind sets limit from it.
	factor    float64
	bound     bool   // Bind found the baseline's value
	baseNote  string // why the baseline gives no value, when it does not
	baseLabel string // which run the baseline is, for notes
}

// ParseError is the error of Parse and ParseAll.
type ParseError struct {
	// Expr is the offending expression as given.
	Expr string
	// Index is its 1-based position in the list given to ParseAll, 0 from
	// Parse.
	Index int
	// Reason says what is wrong.
	Reason string
}

// Error implements error; the message quotes the expression.
func (e *ParseError) Error() string {
	if e.Index > 0 {
		return "invalid threshold #" + strconv.Itoa(e.Index) + " " + strconv.Quote(e.Expr) + ": " + e.Reason
	}
	return "invalid threshold " + strconv.Quote(e.Expr) + ": " + e.Reason
}

// Parse parses one expression of the grammar in the package comment. Its
// errors are *ParseError.
func Parse(expr string) (Threshold, error) {
	t, reason := parse(strings.TrimSpace(expr))
	if reason != "" {
		return Threshold{}, &ParseError{Expr: expr, Reason: reason}
	}
	t.Expr = strings.TrimSpace(expr)
	return t, nil
}

// ParseAll parses a list of expressions. The first error wins; it carries
// the expression's position.
func ParseAll(exprs []string) ([]Threshold, error) {
	ts := make([]Threshold, 0, len(exprs))
	for i, e := range exprs {
		t, err := Parse(e)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.Index = i + 1
			}
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// String returns the canonical form of the threshold: latencies in ms,
// fail_ratio as a fraction, no optional whitespace but after the endpoint's
// colon. It parses back to an equal threshold.
func (t Threshold) String() string {
	if t.metric == metricInvalid {
		return "<invalid threshold>"
	}
	var b strings.Builder
	if t.endpoint != "" {
		b.WriteString(t.endpoint)
		b.WriteString(": ")
	}
	b.WriteString(t.metricName())
	b.WriteString(t.op.String())
	if t.factor > 0 {
		b.WriteString("baseline")
		if t.factor != 1 {
			b.WriteString("*" + strconv.FormatFloat(t.factor, 'g', -1, 64))
		}
		return b.String()
	}
	b.WriteString(strconv.FormatFloat(t.limit, 'g', -1, 64))
	if t.metric.isLatency() {
		b.WriteString("ms")
	}
	return b.String()
}

func (t Threshold) metricName() string {
	if t.metric == metricPercentile {
		return "p" + strconv.FormatFloat(t.q, 'f', -1, 64)
	}
	return t.metric.String()
}

// parse parses a trimmed expression; a non-empty reason is the error.
func parse(s string) (Threshold, string) {
	var t Threshold
	if s == "" {
		return t, "empty expression; want [ENDPOINT:] METRIC OP VALUE, e.g. p95<300ms"
	}
	rest := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		t.endpoint = strings.TrimSpace(s[:i])
		rest = strings.TrimSpace(s[i+1:])
		if t.endpoint == "" {
			return t, "empty endpoint before ':'; write e.g. \"GET /profile: p95<300ms\", or drop the colon for the aggregated row"
		}
	}
	name, rest := splitMetric(rest)
	if name == "" {
		return t, "missing metric; want METRIC OP VALUE, e.g. p95<300ms"
	}
	if reason := t.setMetric(name); reason != "" {
		return t, reason
	}
	rest = strings.TrimLeft(rest, " \t\r\n")
	o, rest, reason := parseOp(rest, name)
	if reason != "" {
		return t, reason
	}
	t.op = o
	if reason := t.setLimit(strings.TrimSpace(rest)); reason != "" {
		return t, reason
	}
	return t, ""
}

// splitMetric cuts the metric name off s: it ends at whitespace or at an
// operator character.
func splitMetric(s string) (name, rest string) {
	i := strings.IndexAny(s, " \t\r\n<>=!")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// setMetric sets the metric (and percentile) named by name.
func (t *Threshold) setMetric(name string) string {
	lower := strings.ToLower(name)
	if m, q, ok := lookupMetric(lower); ok {
		t.metric, t.q = m, q
		return ""
	}
	if q, ok := parsePercentile(lower); ok {
		if q == 100 {
			t.metric = metricMax
		} else {
			t.metric, t.q = metricPercentile, q
		}
		return ""
	}
	if len(lower) > 1 && lower[0] == 'p' && isDecimal(lower[1:]) {
		return "percentile " + strconv.Quote(name) + " out of range: want pNN with 0 < NN < 100 (e.g. p95, p99.9), or p100 for max"
	}
	return "unknown metric " + strconv.Quote(name) + "; known metrics are " + knownMetrics
}

// parsePercentile parses "pNN" or "pNN.N..." with 0 < NN <= 100.
func parsePercentile(s string) (float64, bool) {
	if len(s) < 2 || s[0] != 'p' || !isDecimal(s[1:]) {
		return 0, false
	}
	q, err := strconv.ParseFloat(s[1:], 64)
	if err != nil || !(q > 0 && q <= 100) {
		return 0, false
	}
	return q, true
}

// isDecimal reports whether s is digits, optionally followed by a dot and
// more digits.
func isDecimal(s string) bool {
	intPart, frac, dot := strings.Cut(s, ".")
	return allDigits(intPart) && (!dot || allDigits(frac))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// setLimit parses VALUE (trimmed) for the threshold's metric.
func (t *Threshold) setLimit(s string) string {
	if s == "" {
		return "missing value after " + strconv.Quote(t.op.String())
	}
	if rest, ok := cutBaseline(s); ok {
		return t.setFactor(rest)
	}
	num, unit := splitNumber(s)
	if num == "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "value " + strconv.Quote(s) + " is not a finite number"
		}
		return "value " + strconv.Quote(s) + " is not a number"
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) {
		return "value " + strconv.Quote(num) + " is out of range"
	}
	if v < 0 {
		return "value " + strconv.Quote(num) + " must not be negative"
	}
	v, reason := t.applyUnit(num, v, strings.TrimSpace(unit))
	if reason != "" {
		return reason
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "value " + strconv.Quote(s) + " is out of range"
	}
	t.limit = math.Abs(v) // -0 reads as 0
	return ""
}

// splitNumber cuts a decimal number, with an optional sign and exponent,
// off the front of s. It accepts neither hex nor underscores nor NaN/Inf.
func splitNumber(s string) (num, rest string) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	digits := i - start
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return "", s
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	return s[:i], s[i:]
}

// applyUnit converts the number num (v once parsed) with its unit to the
// metric's base unit.
func (t *Threshold) applyUnit(num string, v float64, unit string) (float64, string) {
	name := t.metricName()
	lower := strings.ToLower(unit)
	switch {
	case t.metric.isLatency():
		ms, ok := toMillis(num, lower)
		if !ok {
			return 0, "unknown unit " + strconv.Quote(unit) + " for " + name + "; latency units are us, ms, s and m (ms when none)"
		}
		return ms, ""
	case t.metric == metricFailRatio:
		switch lower {
		case "%":
			f := shiftDecimal(num, -2)
			return f, checkFraction(f, unit)
		case "":
			return v, checkFraction(v, unit)
		}
		return 0, "unit " + strconv.Quote(unit) + " does not apply to fail_ratio; write a fraction (0.01) or a percent (1%)"
	case unit != "":
		return 0, "unit " + strconv.Quote(unit) + " does not apply to " + name + ", which is a plain number"
	case t.metric.isCount() && v != math.Trunc(v):
		return 0, name + " is a count; want a whole number, not " + strconv.FormatFloat(v, 'g', -1, 64)
	}
	return v, ""
}

func checkFraction(f float64, unit string) string {
	if f > 1 {
		if unit == "" {
			return "fail_ratio is a fraction from 0 to 1; for a percent write e.g. 1%"
		}
		return "fail_ratio must not exceed 100%"
	}
	return ""
}

// toMillis converts the number num in a lower-case latency unit to ms.
func toMillis(num, unit string) (float64, bool) {
	switch unit {
	case "", "ms":
		return shiftDecimal(num, 0), true
	case "us", "µs", "μs":
		return shiftDecimal(num, -3), true
	case "s":
		return shiftDecimal(num, 3), true
	case "m":
		return shiftDecimal(num, 4) * 6, true
	}
	return 0, false
}

// shiftDecimal parses the number num (as splitNumber cuts it) times
// 10^shift. Shifting the decimal exponent before parsing rounds once, so
// "1.001s" is exactly what "1001ms" is; multiplying after parsing is not.
func shiftDecimal(num string, shift int) float64 {
	mant, exp := num, 0
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		e, err := strconv.Atoi(num[i+1:])
		if err != nil || e > 1<<20 || e < -(1<<20) {
			// An exponent this large is 0 or Inf whatever the shift.
			f, _ := strconv.ParseFloat(num, 64)
			return f * math.Pow10(shift)
		}
		mant, exp = num[:i], e
	}
	f, _ := strconv.ParseFloat(mant+"e"+strconv.Itoa(exp+shift), 64)
	return f
}
