package headless

import (
	"testing"
	"time"

	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

func snapWith(requests, failures int64, p95 float64) stats.Snapshot {
	row := stats.Row{Method: "GET", Name: "/", Requests: requests, Failures: failures, Latency: stats.Latency{P95: p95}}
	total := row
	total.Method, total.Name = "", stats.TotalName
	return stats.Snapshot{Endpoints: []stats.Row{row}, Total: total}
}

func mustParse(t *testing.T, exprs ...string) []threshold.Threshold {
	t.Helper()
	ts, err := threshold.ParseAll(exprs)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestAbortingWaitsForGraceAndOnlyAborts(t *testing.T) {
	t.Parallel()
	ts := mustParse(t, "p95<300ms", "fail_ratio<0.01")
	ts[1].AbortOnFail = true
	bad := snapWith(100, 50, 400)
	if _, ok := aborting(ts, bad, abortGrace-time.Second); ok {
		t.Error("aborted within the grace period")
	}
	got, ok := aborting(ts, bad, abortGrace)
	if !ok || got.Expr != "fail_ratio<0.01" {
		t.Errorf("aborting = %q, %v; want the abort_on_fail threshold", got.Expr, ok)
	}
	if _, ok := aborting(ts, snapWith(100, 0, 400), time.Minute); ok {
		t.Error("a crossed threshold without abort_on_fail aborted the test")
	}
}
