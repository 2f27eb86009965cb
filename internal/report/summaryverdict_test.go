package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

// TestSummaryOutcomeIsTheExitCode: a test's verdict read back from its
// summary JSON is the one the end-of-test path gives the process — the
// same exit code and the same words — for every kind of test.
func TestSummaryOutcomeIsTheExitCode(t *testing.T) {
	t.Parallel()
	withExceptions := snapWith(100, 0, 10)
	withExceptions.Exceptions = []stats.ExceptionRow{{Message: "boom", Count: 3}}
	tests := []struct {
		name    string
		snap    stats.Snapshot
		ts      []string
		aborted string
		code    int
	}{
		{"no thresholds, clean", snapWith(100, 0, 10), nil, "", exitcode.OK},
		{"no thresholds, a failed request", snapWith(100, 1, 10), nil, "", exitcode.Failed},
		{"no thresholds, script errors", withExceptions, nil, "", exitcode.Failed},
		{"thresholds passed despite failures", snapWith(100, 1, 10), []string{"fail_ratio<0.05"}, "", exitcode.OK},
		{"a threshold crossed", snapWith(100, 0, 400), []string{"p95<300ms", "fail_ratio==0"}, "", exitcode.Failed},
		{"a threshold on an endpoint without requests", snapWith(100, 0, 10), []string{"GET /x: p99<1s"}, "", exitcode.Failed},
		{"thresholds passed, but aborted", snapWith(100, 0, 10), []string{"p95<300ms"}, "shape raised: boom", exitcode.Failed},
		{"nothing sent", snapWith(0, 0, 0), nil, "", exitcode.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ts []threshold.Threshold
			if tt.ts != nil {
				ts = mustParse(t, tt.ts...)
			}
			f := Final{Snapshot: tt.snap, Thresholds: ts, Meta: Meta{Aborted: tt.aborted}, FailureCode: exitcode.Failed}
			want := Outcome(f)
			f.Meta.Thresholds, _ = EvaluateThresholds(ts, tt.snap)
			var buf bytes.Buffer
			if err := WriteJSON(&buf, NewSummary(tt.snap, f.Meta)); err != nil {
				t.Fatal(err)
			}
			s, err := DecodeSummary(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			got := s.Outcome()
			if exitcode.Code(got) != tt.code || exitcode.Code(want) != tt.code {
				t.Fatalf("summary's outcome %v (exit %d), end-of-test path %v (exit %d); want exit %d from both",
					got, exitcode.Code(got), want, exitcode.Code(want), tt.code)
			}
			if want != nil && got.Error() != want.Error() {
				t.Errorf("summary's outcome says %q, the end-of-test path %q", got, want)
			}
		})
	}
}

func TestDecodeSummaryRefuses(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `[]`, `{"version": 2}`, `{"version": 1, "totals": {"requests": "many"}}`} {
		if _, err := DecodeSummary([]byte(in)); err == nil || !strings.Contains(err.Error(), "summary JSON") {
			t.Errorf("DecodeSummary(%q) = %v, want an error about the summary JSON", in, err)
		}
	}
	s, err := DecodeSummary([]byte(`{"version": 1, "a_key_added_later": true, "totals": {"requests": 5}}`))
	if err != nil || s.Totals.Requests != 5 {
		t.Errorf("a summary with a key added later: %+v, %v; want it read", s, err)
	}
}
