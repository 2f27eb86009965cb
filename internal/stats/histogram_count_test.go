package stats

import (
	"math"
	"slices"
	"testing"
	"time"
)

// exactAtMost counts the samples of sorted that are ≤ v.
func exactAtMost(sorted []int64, v float64) uint64 {
	n, _ := slices.BinarySearchFunc(sorted, v, func(s int64, v float64) int {
		if float64(s) <= v {
			return -1
		}
		return 1
	})
	return uint64(n)
}

// TestHistogramCountAtMost checks the cumulative counts a Prometheus
// histogram is built from against an exact count over the samples: the
// count never misses a sample at or below the bound, and may add only
// samples within twice the histogram's relative error above it.
func TestHistogramCountAtMost(t *testing.T) {
	t.Parallel()
	bounds := []float64{0, 1, 50.5, 127, 128, 1000, 2500, 5000, 10000, 25000, 1e5, 2.5e5, 1e6, 1e7, 1e9, 1e12}
	for name, set := range latencySets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var h Histogram
			for _, v := range set {
				h.Record(v)
			}
			sorted := slices.Sorted(slices.Values(set))
			for _, b := range append(bounds, float64(sorted[0]), float64(sorted[len(sorted)-1])) {
				got := h.CountAtMost(b)
				lo := exactAtMost(sorted, b)
				hi := exactAtMost(sorted, b*(1+2*MaxRelativeError))
				if got < lo || got > hi {
					t.Errorf("CountAtMost(%v) = %d, want within [%d, %d] (exact %d)", b, got, lo, hi, exactAtMost(sorted, b))
				}
				if b < linearLimit && got != exactAtMost(sorted, b) {
					t.Errorf("CountAtMost(%v) = %d, want exactly %d below %d µs", b, got, exactAtMost(sorted, b), linearLimit)
				}
			}
			for _, q := range testQuantiles {
				if q == 0 {
					continue
				}
				if got, rank := h.CountAtMost(h.Quantile(q)), rankOf(q, h.Count()); got < rank {
					t.Errorf("CountAtMost(Quantile(%v)) = %d, below the quantile's rank %d", q, got, rank)
				}
			}
			if got := h.CountAtMost(float64(sorted[len(sorted)-1])); got != h.Count() {
				t.Errorf("CountAtMost(max) = %d, want all %d", got, h.Count())
			}
		})
	}
}

func TestHistogramCountAtMostEdges(t *testing.T) {
	t.Parallel()
	var h Histogram
	if got := h.CountAtMost(1e9); got != 0 {
		t.Errorf("empty: CountAtMost = %d, want 0", got)
	}
	for _, v := range []int64{500, 1000, 1000, 40000} {
		h.Record(v)
	}
	tests := []struct {
		us   float64
		want uint64
	}{
		{math.NaN(), 0},
		{math.Inf(-1), 0},
		{-1, 0},
		{499.9, 0},
		{500, 1},
		{1000, 3},
		{39000, 3},
		{39999, 4}, // 40000's bucket starts at 39936: counted, 0.003% off
		{40000, 4},
		{math.Inf(1), 4},
	}
	for _, tt := range tests {
		if got := h.CountAtMost(tt.us); got != tt.want {
			t.Errorf("CountAtMost(%v) = %d, want %d", tt.us, got, tt.want)
		}
	}
}

// TestRowCountAtMost checks the snapshot's rows expose the histogram's
// cumulative counts in milliseconds, frozen at the snapshot.
func TestRowCountAtMost(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{})
	a.Start(at(0))
	a.Add(deltaOf(keyIndex, 10, 0, 2*time.Millisecond), at(0.5))
	a.Add(deltaOf(keyIndex, 5, 1, 40*time.Millisecond), at(0.6))
	s := a.Snapshot(at(1))
	a.Add(deltaOf(keyIndex, 100, 0, time.Millisecond), at(0.7))
	for _, r := range []Row{s.Endpoints[0], s.Total} {
		for _, c := range []struct {
			ms   float64
			want uint64
		}{{1, 0}, {2, 10}, {39, 10}, {40, 15}, {1e6, 15}} {
			if got := r.CountAtMost(c.ms); got != c.want {
				t.Errorf("%s: CountAtMost(%v ms) = %d, want %d", r.Name, c.ms, got, c.want)
			}
		}
	}
}
