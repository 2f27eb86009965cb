package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// Thresholds decide the verdict: all passed → 0, one crossed → 1 (even
// with no failed request), a malformed one → 2 before any load; the
// summary lists each with its measured value.
func TestThresholdVerdicts(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	tests := []struct {
		name       string
		url        string
		thresholds []string
		code       int
		passed     []bool
		stderr     string
	}{
		{"all pass", "/", []string{"p95<2s", "fail_ratio<1%", "GET /: requests>0"}, 0, []bool{true, true, true}, ""},
		{"one crossed", "/delay?ms=30", []string{"p50<5ms", "fail_ratio==0"}, 1, []bool{false, true}, "1 of 2 thresholds crossed: p50<5ms"},
		{"failures allowed by threshold", "/status/500", []string{"fail_ratio<=1"}, 0, []bool{true}, ""},
		{"no requests to an endpoint", "/", []string{"GET /never: p99<1s"}, 1, []bool{false}, "thresholds crossed"},
		{"malformed", "/", []string{"p95<300xs"}, 2, nil, `invalid threshold #1 "p95<300xs": unknown unit "xs"`},
		{"malformed op", "/", []string{"p95 = 300"}, 2, nil, `use ==`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "s.json")
			args := []string{"run", host + tt.url, "-u", "2", "-t", "2s", "--headless", "--json", out}
			for _, th := range tt.thresholds {
				args = append(args, "--threshold", th)
			}
			r := horde(t, nil, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			if tt.stderr != "" && !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q does not say %q", r.stderr, tt.stderr)
			}
			if tt.code == 2 {
				return
			}
			s := readSummary(t, out)
			if len(s.Thresholds) != len(tt.passed) {
				t.Fatalf("summary has %d thresholds, want %d", len(s.Thresholds), len(tt.passed))
			}
			for i, th := range s.Thresholds {
				if th.Expr != tt.thresholds[i] || th.Passed != tt.passed[i] {
					t.Errorf("threshold %d: %q passed=%v (value %v, %s); want %q passed=%v", i, th.Expr, th.Passed, th.Value, th.Note, tt.thresholds[i], tt.passed[i])
				}
			}
			if !strings.Contains(r.stdout, "Thresholds") {
				t.Errorf("the final table does not list the thresholds:\n%s", r.stdout)
			}
		})
	}
}
