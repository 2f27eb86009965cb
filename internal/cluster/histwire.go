package cluster

import (
	"fmt"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// A histogram travels dense (counts) or sparse (gap, count pairs),
// whichever is smaller. A report of a few hundred requests per endpoint
// spreads them over a few hundred buckets, most of them empty; sparse
// then makes the message, and the master's unmarshalling, several times
// smaller.

// histogramToPB fills h with hd in the smaller form. h keeps hd.Counts.
func histogramToPB(h *pb.Histogram, hd stats.HistogramData) {
	h.Min, h.Max, h.First = hd.Min, hd.Max, int32(hd.First)
	nonzero := 0
	for _, c := range hd.Counts {
		if c != 0 {
			nonzero++
		}
	}
	// Small counts and gaps are one byte each: a pair costs two buckets.
	if 2*nonzero >= len(hd.Counts) {
		h.Counts = hd.Counts
		return
	}
	sparse := make([]uint64, 0, 2*nonzero)
	var gap uint64
	for _, c := range hd.Counts {
		if c == 0 {
			gap++
			continue
		}
		sparse = append(sparse, gap, c)
		gap = 0
	}
	h.Sparse = sparse
}

// histogramData returns the dense form of h for stats.HistogramFromData,
// expanding a sparse one into *scratch, which it grows as needed; the
// result is only valid until the next call with the same scratch, which
// is enough because HistogramFromData copies the counts. It checks only
// what the expansion needs; HistogramFromData checks the rest.
func histogramData(h *pb.Histogram, scratch *[]uint64) (stats.HistogramData, error) {
	d := stats.HistogramData{Min: h.GetMin(), Max: h.GetMax(), First: int(h.GetFirst()), Counts: h.GetCounts()}
	sparse := h.GetSparse()
	if len(sparse) == 0 {
		return d, nil
	}
	switch {
	case len(d.Counts) != 0:
		return d, fmt.Errorf("%w: histogram has both dense and sparse counts", ErrBadStats)
	case len(sparse)%2 != 0:
		return d, fmt.Errorf("%w: sparse histogram of odd length", ErrBadStats)
	case d.First < 0 || d.First >= stats.NumBuckets:
		return d, fmt.Errorf("%w: histogram starts at bucket %d", ErrBadStats, d.First)
	}
	room := uint64(stats.NumBuckets - d.First)
	var n uint64 // buckets covered so far; n <= room
	for i := 0; i < len(sparse); i += 2 {
		if sparse[i] >= room-n {
			return d, fmt.Errorf("%w: sparse histogram beyond the last bucket", ErrBadStats)
		}
		n += sparse[i] + 1
	}
	buf := *scratch
	if uint64(cap(buf)) < n {
		buf = make([]uint64, n, stats.NumBuckets)
	} else {
		buf = buf[:n]
		clear(buf)
	}
	*scratch = buf
	j := 0
	for i := 0; i < len(sparse); i += 2 {
		j += int(sparse[i])
		buf[j] = sparse[i+1]
		j++
	}
	d.Counts = buf
	return d, nil
}
