package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var testQuantiles = []float64{0, 0.5, 0.9, 0.95, 0.99, 0.999, 1}

// exactQuantile is the sort-based nearest-rank quantile: the smallest
// sample such that at least q of all samples are at or below it.
func exactQuantile(sorted []int64, q float64) float64 {
	r := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
	r = min(max(r, 1), len(sorted))
	return float64(sorted[r-1])
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / want
}

// latencySets are the distributions the accuracy tests use, in µs.
func latencySets() map[string][]int64 {
	r := rand.New(rand.NewPCG(7, 11))
	gen := func(n int, f func() float64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(f())
		}
		return out
	}
	return map[string][]int64{
		"uniform 1-100ms": gen(20000, func() float64 { return 1000 + 99000*r.Float64() }),
		"exponential":     gen(20000, func() float64 { return 200 + 5000*r.ExpFloat64() }),
		"long tail":       gen(20000, func() float64 { return 1000 * math.Exp(2*r.NormFloat64()) }),
		"bimodal": gen(20000, func() float64 {
			if r.IntN(10) == 0 {
				return 2e6 + 1e5*r.Float64()
			}
			return 800 + 400*r.Float64()
		}),
		"constant":       gen(1000, func() float64 { return 12345 }),
		"single sample":  {4242},
		"tiny exact":     gen(5000, func() float64 { return float64(r.IntN(128)) }),
		"up to one hour": gen(5000, func() float64 { return 3.6e9 * r.Float64() }),
		"few samples":    {1, 1000, 1000000},
	}
}

func TestHistogramQuantileAccuracy(t *testing.T) {
	t.Parallel()
	for name, samples := range latencySets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var h Histogram
			for _, v := range samples {
				h.Record(v)
			}
			sorted := slices.Sorted(slices.Values(samples))
			if h.Count() != uint64(len(samples)) || h.Min() != sorted[0] || h.Max() != sorted[len(sorted)-1] {
				t.Fatalf("count/min/max = %d/%d/%d, want %d/%d/%d",
					h.Count(), h.Min(), h.Max(), len(samples), sorted[0], sorted[len(sorted)-1])
			}
			for _, q := range testQuantiles {
				got, want := h.Quantile(q), exactQuantile(sorted, q)
				if e := relErr(got, want); e > 0.01 {
					t.Errorf("q%v = %v, exact %v: relative error %.4f > 1%%", q, got, want, e)
				}
				if got < float64(h.Min()) || got > float64(h.Max()) {
					t.Errorf("q%v = %v outside [%d, %d]", q, got, h.Min(), h.Max())
				}
			}
		})
	}
}

func TestHistogramBucketBounds(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 5))
	values := []int64{0, 1, 127, 128, 129, 255, 256, 1 << 40, math.MaxInt64}
	for range 100000 {
		values = append(values, r.Int64N(1<<uint(1+r.IntN(62))))
	}
	for _, v := range values {
		i := bucketIndex(v)
		lo, hi := bucketLower(i), bucketLower(i+1)-1
		if i < 0 || i >= NumBuckets || uint64(v) < lo || uint64(v) > hi {
			t.Fatalf("value %d: bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if e := relErr(bucketMid(i), float64(v)); e > MaxRelativeError {
			t.Fatalf("value %d: midpoint %v off by %v", v, bucketMid(i), e)
		}
	}
	for i := 1; i < NumBuckets; i++ {
		if bucketLower(i) <= bucketLower(i-1) {
			t.Fatalf("bucket %d does not follow %d", i, i-1)
		}
		if bucketIndex(int64(bucketLower(i))) != i {
			t.Fatalf("bucketIndex(lower(%d)) = %d", i, bucketIndex(int64(bucketLower(i))))
		}
	}
}

func TestRankOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q    float64
		n    uint64
		want uint64
	}{
		{0, 10, 1}, {0.5, 1, 1}, {0.5, 2, 1}, {0.5, 3, 2}, {0.95, 100, 95},
		{0.99, 100, 99}, {0.999, 1000, 999}, {0.9, 10, 9}, {1, 7, 7}, {0.001, 10, 1},
	}
	for _, tt := range tests {
		if got := rankOf(tt.q, tt.n); got != tt.want {
			t.Errorf("rankOf(%v, %d) = %d, want %d", tt.q, tt.n, got, tt.want)
		}
	}
}

func TestHistogramMergeExact(t *testing.T) {
	t.Parallel()
	for name, samples := range latencySets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, parts := range []int{2, 3, 7} {
				var whole, merged Histogram
				hs := make([]Histogram, parts)
				for i, v := range samples {
					whole.Record(v)
					hs[i%parts].Record(v)
				}
				for i := range hs {
					merged.Merge(&hs[i])
				}
				if !slices.Equal(merged.Data().Counts, whole.Data().Counts) || merged.Data().First != whole.Data().First {
					t.Fatalf("%d parts: merged buckets differ from one histogram", parts)
				}
				for _, q := range testQuantiles {
					if m, w := merged.Quantile(q), whole.Quantile(q); m != w {
						t.Errorf("%d parts: q%v merged %v, one histogram %v", parts, q, m, w)
					}
				}
			}
		})
	}
}

func TestHistogramEmptyAndReset(t *testing.T) {
	t.Parallel()
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Count() != 0 || h.Min() != 0 || h.Max() != 0 {
		t.Fatal("empty histogram is not all zero")
	}
	if !math.IsNaN(h.Quantile(math.NaN())) {
		t.Error("Quantile(NaN) is not NaN")
	}
	h.Record(-5) // negative counts as zero
	h.Record(500)
	if h.Min() != 0 || h.Max() != 500 {
		t.Fatalf("min/max = %d/%d, want 0/500", h.Min(), h.Max())
	}
	h.Reset()
	if h.Count() != 0 || h.Quantile(0.99) != 0 || len(h.Data().Counts) != 0 {
		t.Fatal("Reset left samples behind")
	}
	h.Record(7000)
	if h.Min() != 7000 || h.Max() != 7000 || h.Quantile(0.5) != 7000 {
		t.Fatalf("after Reset: min %d max %d p50 %v, want 7000", h.Min(), h.Max(), h.Quantile(0.5))
	}
}

func TestHistogramMemory(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name     string
		lo, hi   float64 // µs, log-uniform
		maxBytes int
	}{
		{"two decades 1-100ms", 1000, 100000, 4096},
		{"one decade 10-100ms", 10000, 100000, 2048},
		{"three decades 100us-100ms", 100, 100000, 5500},
	}
	for _, tt := range tests {
		var h Histogram
		for range 100000 {
			h.Record(int64(tt.lo * math.Pow(tt.hi/tt.lo, r.Float64())))
		}
		if got := h.SizeBytes(); got > tt.maxBytes {
			t.Errorf("%s: %d bytes, want <= %d", tt.name, got, tt.maxBytes)
		}
		if got := h.Clone().SizeBytes(); got > tt.maxBytes {
			t.Errorf("%s: clone %d bytes, want <= %d", tt.name, got, tt.maxBytes)
		}
	}
}

func TestHistogramDataRoundTrip(t *testing.T) {
	t.Parallel()
	for name, samples := range latencySets() {
		var h Histogram
		for _, v := range samples {
			h.Record(v)
		}
		back, err := HistogramFromData(h.Data())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, q := range testQuantiles {
			if back.Quantile(q) != h.Quantile(q) {
				t.Errorf("%s: q%v = %v after round trip, want %v", name, q, back.Quantile(q), h.Quantile(q))
			}
		}
		if back.Count() != h.Count() || back.Min() != h.Min() || back.Max() != h.Max() {
			t.Errorf("%s: count/min/max changed in round trip", name)
		}
	}
}

func TestHistogramFromDataRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    HistogramData
	}{
		{"negative first", HistogramData{First: -1, Counts: []uint64{1}, Min: 0, Max: 0}},
		{"past last bucket", HistogramData{First: NumBuckets - 1, Counts: []uint64{1, 1}}},
		{"min above max", HistogramData{First: 5, Counts: []uint64{1, 1}, Min: 6, Max: 5}},
		{"min not in first bucket", HistogramData{First: 5, Counts: []uint64{1}, Min: 4, Max: 5}},
		{"max not in last bucket", HistogramData{First: 5, Counts: []uint64{1, 0, 1}, Min: 5, Max: 6}},
		{"min/max on empty", HistogramData{First: 5, Counts: []uint64{0}, Min: 5, Max: 5}},
		{"count overflow", HistogramData{First: 5, Counts: []uint64{math.MaxUint64, 1}, Min: 5, Max: 6}},
	}
	for _, tt := range tests {
		if _, err := HistogramFromData(tt.d); !errors.Is(err, ErrBadHistogram) {
			t.Errorf("%s: err = %v, want ErrBadHistogram", tt.name, err)
		}
	}
}

func TestMicros(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want int64
	}{
		{-time.Second, 0}, {0, 0}, {499, 0}, {500, 1}, {1499, 1}, {time.Millisecond, 1000},
		{time.Hour, 3_600_000_000}, {math.MaxInt64, math.MaxInt64 / 1000},
	}
	for _, tt := range tests {
		if got := micros(tt.d); got != tt.want {
			t.Errorf("micros(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func FuzzHistogramFromData(f *testing.F) {
	f.Add(int64(5), int64(6), 5, []byte{1, 1})
	f.Add(int64(0), int64(0), 0, []byte{})
	f.Add(int64(130), int64(4000), 130, []byte{3, 0, 0, 9, 0, 1})
	f.Fuzz(func(t *testing.T, lo, hi int64, first int, raw []byte) {
		counts := make([]uint64, len(raw))
		for i, b := range raw {
			counts[i] = uint64(b)
		}
		h, err := HistogramFromData(HistogramData{Min: lo, Max: hi, First: first, Counts: counts})
		if err != nil {
			return
		}
		for _, q := range testQuantiles {
			v := h.Quantile(q)
			if h.Count() > 0 && (v < float64(h.Min()) || v > float64(h.Max())) {
				t.Fatalf("q%v = %v outside [%d, %d]", q, v, h.Min(), h.Max())
			}
		}
		back, err := HistogramFromData(h.Data())
		if err != nil || back.Count() != h.Count() || back.Quantile(0.5) != h.Quantile(0.5) {
			t.Fatalf("round trip of valid data failed: %v", err)
		}
	})
}
