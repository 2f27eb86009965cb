package stats

import (
	"errors"
	"fmt"
	"math/bits"
)

// HistogramData is the plain-data form of a Histogram, for shipping it
// between processes (e.g. as protobuf fields) and rebuilding it exactly.
type HistogramData struct {
	// Min and Max are the exact extremes in µs; both 0 when empty.
	Min, Max int64
	// First is the bucket index of Counts[0], or of the first bucket that
	// Sparse counts from.
	First int
	// Counts holds the sample count of each bucket from First on, trimmed
	// to the first and last non-zero bucket.
	Counts []uint64
	// Sparse is the other form of Counts, for histograms whose buckets are
	// mostly empty: pairs (gap, count), gap being the number of buckets
	// skipped since the previous pair, or since First for the first pair.
	Sparse []uint64
	// Runs is the most compact form of Counts (see Compact). At most one
	// of Counts, Sparse and Runs is set.
	Runs []byte
}

// Data returns the dense plain-data form of h; it shares no memory with h.
func (h *Histogram) Data() HistogramData {
	a, b, ok := h.span()
	if !ok {
		return HistogramData{}
	}
	counts := make([]uint64, b-a+1)
	copy(counts, h.counts[a:b+1])
	return HistogramData{Min: h.min, Max: h.max, First: h.first + a, Counts: counts}
}

// ErrBadHistogram reports HistogramData that no Histogram could produce.
var ErrBadHistogram = errors.New("stats: invalid histogram data")

// ValidHistogram is HistogramData that Validate accepted, with what a
// merge needs: it is merged in place (Histogram.MergeValid) without
// building a Histogram first. It shares the slices of the data it was made
// from, which must not change while it is in use. The zero value is empty.
type ValidHistogram struct {
	d      HistogramData
	total  uint64
	lo, hi int // bucket indexes of the first and last non-zero bucket
}

// Count returns the number of samples.
func (v *ValidHistogram) Count() uint64 { return v.total }

// Min returns the exact smallest sample in µs, or 0 when empty.
func (v *ValidHistogram) Min() int64 { return v.d.Min }

// Max returns the exact largest sample in µs, or 0 when empty.
func (v *ValidHistogram) Max() int64 { return v.d.Max }

// Validate checks that some Histogram could have produced d: buckets in
// range, counts that do not overflow, and the exact min and max in the
// first and last non-zero bucket. The result shares d's slices. Errors
// wrap ErrBadHistogram.
func (d HistogramData) Validate() (ValidHistogram, error) {
	v := ValidHistogram{d: d, lo: -1, hi: -1}
	var err error
	switch {
	case len(d.Runs) != 0:
		err = v.scanRuns()
	case len(d.Sparse) != 0:
		err = v.scanSparse()
	default:
		err = v.scanDense()
	}
	if err != nil {
		return ValidHistogram{}, err
	}
	if v.total == 0 {
		if d.Min != 0 || d.Max != 0 {
			return ValidHistogram{}, fmt.Errorf("%w: min/max set on an empty histogram", ErrBadHistogram)
		}
		return ValidHistogram{d: d}, nil
	}
	if d.Min < 0 || d.Min > d.Max || bucketIndex(d.Min) != v.lo || bucketIndex(d.Max) != v.hi {
		return ValidHistogram{}, fmt.Errorf("%w: min %d / max %d do not match the buckets", ErrBadHistogram, d.Min, d.Max)
	}
	return v, nil
}

// scanDense checks the range of dense counts and sets total, lo and hi.
func (v *ValidHistogram) scanDense() error {
	d := &v.d
	if d.First < 0 || d.First > NumBuckets || len(d.Counts) > NumBuckets-d.First {
		return fmt.Errorf("%w: buckets %d+%d out of range", ErrBadHistogram, d.First, len(d.Counts))
	}
	for k, c := range d.Counts {
		var carry uint64
		v.total, carry = bits.Add64(v.total, c, 0)
		if carry != 0 {
			return fmt.Errorf("%w: count overflows", ErrBadHistogram)
		}
		if c != 0 {
			if v.lo < 0 {
				v.lo = d.First + k
			}
			v.hi = d.First + k
		}
	}
	return nil
}

// scanSparse checks the pairs of a sparse form and sets total, lo and hi.
func (v *ValidHistogram) scanSparse() error {
	d := &v.d
	sp := d.Sparse
	switch {
	case len(d.Counts) != 0:
		return fmt.Errorf("%w: both dense and sparse counts", ErrBadHistogram)
	case len(sp)%2 != 0:
		return fmt.Errorf("%w: sparse counts of odd length", ErrBadHistogram)
	case d.First < 0 || d.First >= NumBuckets:
		return fmt.Errorf("%w: sparse counts start at bucket %d", ErrBadHistogram, d.First)
	}
	room := uint64(NumBuckets - d.First)
	var n uint64 // buckets covered so far; n <= room
	for i := 0; i < len(sp); i += 2 {
		if sp[i] >= room-n {
			return fmt.Errorf("%w: sparse counts beyond the last bucket", ErrBadHistogram)
		}
		n += sp[i] + 1
		c := sp[i+1]
		var carry uint64
		v.total, carry = bits.Add64(v.total, c, 0)
		if carry != 0 {
			return fmt.Errorf("%w: count overflows", ErrBadHistogram)
		}
		if c != 0 {
			if v.lo < 0 {
				v.lo = d.First + int(n) - 1
			}
			v.hi = d.First + int(n) - 1
		}
	}
	return nil
}

// MergeValid adds every sample of v to h, exactly, reading v's counts
// where they are: the result is what merging the Histogram that v was
// taken from would give.
func (h *Histogram) MergeValid(v *ValidHistogram) {
	if v.total == 0 {
		return
	}
	// Validate found every non-empty bucket inside lo..hi.
	h.ensure(v.lo, v.hi, 0)
	switch {
	case len(v.d.Runs) != 0:
		h.addRuns(v.d.First, v.d.Runs)
	case len(v.d.Sparse) != 0:
		h.addSparse(v.d.First, v.d.Sparse)
	default:
		dst := h.counts[v.lo-h.first : v.hi-h.first+1]
		for k, c := range v.d.Counts[v.lo-v.d.First : v.hi-v.d.First+1] {
			dst[k] += c
		}
	}
	h.addExtremes(v.d.Min, v.d.Max, v.total)
}

// addSparse adds checked (gap, count) pairs that start at bucket first to
// h's counts, which cover every non-empty bucket of them.
func (h *Histogram) addSparse(first int, sp []uint64) {
	counts := h.counts
	j := first - h.first
	for i := 0; i+1 < len(sp); i += 2 {
		j += int(sp[i])
		if c := sp[i+1]; c != 0 {
			counts[j] += c
		}
		j++
	}
}
