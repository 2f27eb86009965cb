package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/horde-load/horde/internal/exitcode"
)

// DecodeSummary reads a summary JSON (--json, /api/v1/report.json). An
// unknown key is allowed (keys may be added), a summary of another version
// is not.
func DecodeSummary(data []byte) (Summary, error) {
	var s Summary
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return Summary{}, fmt.Errorf("summary JSON: %w", err)
	}
	if s.Version != SummaryVersion {
		return Summary{}, fmt.Errorf("summary JSON: version %d, want %d", s.Version, SummaryVersion)
	}
	return s, nil
}

// Outcome is the verdict of the test s reports, read back from its
// summary: the error that carries the exit code horde gave (or gives) it,
// nil when it passed — what Outcome(Final) says of the same test with the
// default --exit-code-on-error. A test that an error ended (aborted)
// failed; with thresholds, they decide; without, any failed request or
// script error fails it. The operator and `horde kube` judge a test run
// on Kubernetes with it, so they agree with the command line.
func (s Summary) Outcome() error {
	if s.Aborted != "" {
		return exitcode.Newf(exitcode.Failed, "test failed: %s", s.Aborted)
	}
	if len(s.Thresholds) > 0 {
		var crossed []string
		for _, t := range s.Thresholds {
			if !t.Passed {
				crossed = append(crossed, t.Expr)
			}
		}
		if len(crossed) == 0 {
			return nil
		}
		return exitcode.Newf(exitcode.Failed, "test failed: %d of %d thresholds crossed: %s",
			len(crossed), len(s.Thresholds), strings.Join(crossed, "; "))
	}
	var exc int64
	for _, e := range s.Exceptions {
		exc += e.Count
	}
	if s.Totals.Failures == 0 && exc == 0 {
		return nil
	}
	return exitcode.Newf(exitcode.Failed, "test failed: %d of %d requests failed, %d script errors",
		s.Totals.Failures, s.Totals.Requests, exc)
}
