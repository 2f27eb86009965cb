package report

import (
	"math"

	"github.com/horde-load/horde/internal/stats"
)

// quantile returns the q-quantile (0..1) of a row in ms. The quantiles that
// stats.Latency holds come from it, so every output shows the same p50 or
// p99 for a row; others come from Row.Percentile. A row built without
// Percentile (decoded JSON, a test) falls back to the nearest quantile
// Latency holds, ties going to the higher one (the conservative side).
func quantile(r stats.Row, q float64) float64 {
	known := latencyPoints(r.Latency)
	for _, p := range known {
		if p.q == q {
			return p.v
		}
	}
	if r.Percentile != nil {
		return finite(r.Percentile(q))
	}
	best := known[0]
	for _, p := range known[1:] {
		if math.Abs(p.q-q) <= math.Abs(best.q-q) {
			best = p
		}
	}
	return best.v
}

type quantilePoint struct{ q, v float64 }

// latencyPoints lists Latency's quantiles in ascending order of q.
func latencyPoints(l stats.Latency) [7]quantilePoint {
	return [7]quantilePoint{
		{0, l.Min}, {0.5, l.P50}, {0.9, l.P90}, {0.95, l.P95},
		{0.99, l.P99}, {0.999, l.P999}, {1, l.Max},
	}
}
