package stats

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// The runs form of a histogram's counts is a byte string of varints, one
// per non-empty bucket: gap<<3 | count, gap being the number of empty
// buckets since the previous non-empty one (or since First), and count
// 1..7. A larger count (or 0) is written as 0 there, followed by a varint
// holding it. A report of a few hundred requests per endpoint, most
// buckets holding one, takes one byte per request; the master reads it
// where it lies, with no slice of counts unpacked first.

const (
	runCountBits = 3
	runCountMax  = 1<<runCountBits - 1
)

// uvarintLen returns the length of v as a varint.
func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// runLen returns the length in the runs form of one non-empty bucket.
func runLen(gap, c uint64) int {
	if c <= runCountMax {
		return uvarintLen(gap<<runCountBits | c)
	}
	return uvarintLen(gap<<runCountBits) + uvarintLen(c)
}

// Compact returns d, which must be in the dense form Data returns, with
// its counts in the runs form (Runs) when that is smaller than the dense
// form as protobuf varints, and as it is otherwise.
func (d HistogramData) Compact() HistogramData {
	if len(d.Counts) == 0 || len(d.Sparse) != 0 || len(d.Runs) != 0 {
		return d
	}
	dense, runs := 0, 0
	var gap uint64
	for _, c := range d.Counts {
		dense += uvarintLen(c)
		if c == 0 {
			gap++
			continue
		}
		runs += runLen(gap, c)
		gap = 0
	}
	if runs >= dense {
		return d
	}
	return HistogramData{Min: d.Min, Max: d.Max, First: d.First, Runs: appendRuns(make([]byte, 0, runs), d.Counts)}
}

// appendRuns appends dense counts in the runs form to b.
func appendRuns(b []byte, counts []uint64) []byte {
	var gap uint64
	for _, c := range counts {
		switch {
		case c == 0:
			gap++
			continue
		case c <= runCountMax:
			b = binary.AppendUvarint(b, gap<<runCountBits|c)
		default:
			b = binary.AppendUvarint(b, gap<<runCountBits)
			b = binary.AppendUvarint(b, c)
		}
		gap = 0
	}
	return b
}

// runAt decodes the bucket that starts at b[i]: its gap and count, and
// where the next one starts; next is -1 when b is malformed there.
func runAt(b []byte, i int) (gap, count uint64, next int) {
	v, k := binary.Uvarint(b[i:])
	if k <= 0 {
		return 0, 0, -1
	}
	i += k
	gap, count = v>>runCountBits, v&runCountMax
	if count != 0 {
		return gap, count, i
	}
	count, k = binary.Uvarint(b[i:])
	if k <= 0 {
		return 0, 0, -1
	}
	return gap, count, i + k
}

// scanRuns checks the runs form and sets total, lo and hi.
//
// Most buckets take one byte (a count of 1 to 7 at most 15 buckets on),
// and those are only added up here: the bucket index and the total can
// grow by 16 and 7 at most per byte, so neither can wrap, and both are
// checked when a longer run comes and at the end. A histogram is refused
// exactly when checking every run would refuse it: both only grow.
func (v *ValidHistogram) scanRuns() error {
	d := &v.d
	switch {
	case len(d.Counts) != 0 || len(d.Sparse) != 0:
		return fmt.Errorf("%w: runs and another form of counts", ErrBadHistogram)
	case d.First < 0 || d.First >= NumBuckets:
		return fmt.Errorf("%w: runs start at bucket %d", ErrBadHistogram, d.First)
	}
	room := uint64(NumBuckets - d.First)
	// n: buckets covered so far; small: the samples of one-byte runs,
	// big: of the others (checked as they come).
	var n, small, big uint64
	lo, hi := uint64(0), uint64(0) // from 1; 0 means none
	b := d.Runs
	for i := 0; i < len(b); {
		if x := b[i]; x < 0x80 && x&runCountMax != 0 {
			n += uint64(x>>runCountBits) + 1
			small += uint64(x & runCountMax)
			if lo == 0 {
				lo = n
			}
			hi = n
			i++
			continue
		}
		if n > room {
			return errRunsBeyond
		}
		gap, c, next := runAt(b, i)
		if next < 0 {
			return fmt.Errorf("%w: runs malformed at byte %d", ErrBadHistogram, i)
		}
		if gap >= room-n {
			return errRunsBeyond
		}
		n += gap + 1
		if big += c; big < c {
			return errRunsOverflow
		}
		if c != 0 {
			if lo == 0 {
				lo = n
			}
			hi = n
		}
		i = next
	}
	total := small + big
	switch {
	case n > room:
		return errRunsBeyond
	case total < big:
		return errRunsOverflow
	}
	v.total, v.lo, v.hi = total, d.First+int(lo)-1, d.First+int(hi)-1
	return nil
}

var (
	errRunsBeyond   = fmt.Errorf("%w: runs beyond the last bucket", ErrBadHistogram)
	errRunsOverflow = fmt.Errorf("%w: count overflows", ErrBadHistogram)
)

// addRuns adds checked runs that start at bucket first to h's counts,
// which cover every non-empty bucket of them.
func (h *Histogram) addRuns(first int, b []byte) {
	counts := h.counts
	j := first - h.first
	for i := 0; i < len(b); {
		// Most buckets hold a count below 8 one gap under 16 away: one byte.
		if x := b[i]; x < 0x80 && x&runCountMax != 0 {
			j += int(x >> runCountBits)
			counts[j] += uint64(x & runCountMax)
			j++
			i++
			continue
		}
		gap, c, next := runAt(b, i)
		j += int(gap)
		if c != 0 {
			counts[j] += c
		}
		j++
		i = next
	}
}
