package headless

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

// abortGrace is how long a test runs before thresholds with abort_on_fail
// are checked: the first seconds' figures rest on too few requests.
const abortGrace = 5 * time.Second

// Thresholds evaluates ts on snap as the summary reports them.
func Thresholds(ts []threshold.Threshold, snap stats.Snapshot) ([]report.ThresholdResult, bool) {
	results, ok := threshold.EvaluateAll(ts, &snap)
	out := make([]report.ThresholdResult, len(results))
	for i, r := range results {
		out[i] = report.ThresholdResult{Expr: r.Expr, Value: r.Value, Passed: r.Passed, Note: r.Note}
	}
	return out, ok
}

// aborting returns the first threshold with abort_on_fail that snap
// crosses, once the test has run for abortGrace.
func aborting(ts []threshold.Threshold, snap stats.Snapshot, elapsed time.Duration) (threshold.Threshold, bool) {
	if elapsed < abortGrace {
		return threshold.Threshold{}, false
	}
	for _, t := range ts {
		if t.AbortOnFail && t.Crossed(&snap) {
			return t, true
		}
	}
	return threshold.Threshold{}, false
}

// Verdict is the exit status of a test. With thresholds, they alone
// decide: exit 1 when one is crossed. Without, as in Locust, any failed
// request or script error fails the test.
func Verdict(snap stats.Snapshot, ts []threshold.Threshold) error {
	if len(ts) > 0 {
		results, ok := Thresholds(ts, snap)
		if ok {
			return nil
		}
		var crossed []string
		for _, r := range results {
			if !r.Passed {
				crossed = append(crossed, r.Expr)
			}
		}
		return exitcode.Newf(exitcode.Failed, "test failed: %d of %d thresholds crossed: %s",
			len(crossed), len(results), strings.Join(crossed, "; "))
	}
	var exc int64
	for _, e := range snap.Exceptions {
		exc += e.Count
	}
	if snap.Total.Failures == 0 && exc == 0 {
		return nil
	}
	return exitcode.Newf(exitcode.Failed, "test failed: %d of %d requests failed, %d script errors",
		snap.Total.Failures, snap.Total.Requests, exc)
}

// WriteThresholds prints the thresholds' verdicts under the final table.
func WriteThresholds(w io.Writer, results []report.ThresholdResult) error {
	if len(results) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("\nThresholds\n")
	for _, r := range results {
		mark := "✓ pass"
		if !r.Passed {
			mark = "✗ FAIL"
		}
		fmt.Fprintf(&b, "  %s  %-40s  %s", mark, r.Expr, fmtValue(r.Value))
		if r.Note != "" {
			fmt.Fprintf(&b, "  (%s)", r.Note)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtValue(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}
