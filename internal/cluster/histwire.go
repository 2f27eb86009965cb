package cluster

import (
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// A histogram travels dense (counts) or sparse (gap, count pairs),
// whichever is smaller; to a master that reads it, in the runs form
// (bytes) instead of sparse. A report of a few hundred requests per
// endpoint spreads them over a few hundred buckets, most of them empty;
// sparse then makes the message, and the master's unmarshalling, several
// times smaller, and runs smaller again: about one byte per request, read
// in place by the master, where sparse costs protobuf a slice of uint64s
// to unpack.

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

// histogramToPBCompact fills h with hd in the smallest form, the runs
// form of stats.HistogramData.Compact when that is smaller than dense.
func histogramToPBCompact(h *pb.Histogram, hd stats.HistogramData) {
	hd = hd.Compact()
	h.Min, h.Max, h.First = hd.Min, hd.Max, int32(hd.First)
	h.Counts, h.Runs = hd.Counts, hd.Runs
}
