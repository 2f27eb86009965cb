package threshold

import (
	"math"
	"strconv"
	"strings"

	"github.com/horde-load/horde/internal/stats"
)

// A threshold may compare with a baseline run instead of a fixed value —
// the regression gate of a CI pipeline:
//
//	p95 < baseline * 1.10      no more than 10 % slower than the baseline
//	rps > baseline * 0.95      at most 5 % fewer requests per second
//	GET /x: p99 <= baseline    no slower than the baseline, on one row
//
// Its limit is the same metric measured on the baseline run, times the
// factor; Bind sets it once the baseline is known. Unbound, it fails with
// a note.

// cutBaseline reports whether VALUE is "baseline ..." and returns what
// follows the word.
func cutBaseline(s string) (string, bool) {
	const word = "baseline"
	if len(s) < len(word) || !strings.EqualFold(s[:len(word)], word) {
		return "", false
	}
	rest := s[len(word):]
	if rest != "" && !strings.ContainsRune(" \t*", rune(rest[0])) {
		return "", false // "baselines", "baseline2": not the word
	}
	return strings.TrimSpace(rest), true
}

// setFactor parses what follows "baseline": nothing, or "* F" with F a
// positive finite decimal.
func (t *Threshold) setFactor(rest string) string {
	if rest == "" {
		t.factor = 1
		return ""
	}
	if rest[0] != '*' {
		return "after baseline, want * FACTOR (e.g. baseline * 1.10), got " + strconv.Quote(rest)
	}
	f := strings.TrimSpace(rest[1:])
	num, tail := splitNumber(f)
	v, err := strconv.ParseFloat(num, 64)
	if num == "" || strings.TrimSpace(tail) != "" || err != nil || !(v > 0) || math.IsInf(v, 0) {
		return "the baseline's factor must be a positive number (e.g. baseline * 1.10), got " + strconv.Quote(f)
	}
	t.factor = v
	return ""
}

// UsesBaseline reports whether the threshold compares with a baseline run.
func (t Threshold) UsesBaseline() bool { return t.factor > 0 }

// Bind returns the threshold with its limit set from the baseline run's
// statistics, which label names in notes ("run 1a2b3c4d"). A baseline
// without the metric (no requests to the endpoint) leaves the threshold
// failing with a note. A threshold without a baseline is returned as is.
func (t Threshold) Bind(base *stats.Snapshot, label string) Threshold {
	if t.factor <= 0 {
		return t
	}
	t.baseLabel = label
	probe := t
	probe.factor = 0
	o := probe.observe(base)
	if !o.ok {
		t.baseNote = "the baseline (" + label + ") has nothing to compare with"
		if o.note != "" {
			t.baseNote += ": " + o.note
		}
		return t
	}
	t.limit, t.bound, t.baseNote = o.value*t.factor, true, ""
	return t
}

// baselineNote explains a baseline threshold's limit, or why it has none.
func (t Threshold) baselineNote() (note string, ok bool) {
	switch {
	case t.factor <= 0:
		return "", true
	case t.baseNote != "":
		return t.baseNote, false
	case !t.bound:
		return "compares with a baseline run: give --baseline RUN (an id, latest or latest-passed)", false
	}
	unit := ""
	if t.metric.isLatency() {
		unit = " ms"
	}
	return "limit " + fmtNum(t.limit) + unit + " from the baseline (" + t.baseLabel + ")", true
}

func fmtNum(v float64) string {
	return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(v, 'f', 3, 64), "0"), ".")
}
