package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

// EvaluateThresholds evaluates ts on snap as the summary reports them;
// ok is false when any is crossed.
func EvaluateThresholds(ts []threshold.Threshold, snap stats.Snapshot) (results []ThresholdResult, ok bool) {
	rs, ok := threshold.EvaluateAll(ts, &snap)
	results = make([]ThresholdResult, len(rs))
	for i, r := range rs {
		results[i] = ThresholdResult{Expr: r.Expr, Value: r.Value, Passed: r.Passed, Note: r.Note}
	}
	return results, ok
}

// Verdict is the exit status of a test. With thresholds, they alone
// decide: exit 1 when one is crossed. Without, as in Locust, any failed
// request or script error fails the test.
func Verdict(snap stats.Snapshot, ts []threshold.Threshold) error {
	if len(ts) > 0 {
		results, ok := EvaluateThresholds(ts, snap)
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
func WriteThresholds(w io.Writer, results []ThresholdResult) error {
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
