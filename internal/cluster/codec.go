package cluster

import (
	"cmp"
	"errors"
	"slices"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// Limits on one Stats message. DeltaFromPB refuses a message beyond them;
// DeltaToPB folds or truncates what would exceed them, so an honest worker
// never sends a message the master refuses.
const (
	MaxEndpoints       = 100_000
	MaxErrorGroups     = 100_000
	MaxExceptionGroups = 10_000
	// MaxNameBytes bounds a method, a name and a worker id.
	MaxNameBytes = 2 << 10
	// MaxErrorBytes bounds an error text and an exception message.
	MaxErrorBytes = 4 << 10
	// MaxTracebackBytes bounds an exception's traceback.
	MaxTracebackBytes = 16 << 10
	// maxDeltaRequests bounds the requests in one delta: far above what
	// any worker does in a report interval, and low enough that a master
	// summing such deltas does not overflow int64 in practice.
	maxDeltaRequests = 1 << 40
	// maxEndpointBytes bounds the response bytes of one row in a delta.
	maxEndpointBytes = 1 << 50
)

// ErrBadStats reports a Stats message that no honest worker sends.
var ErrBadStats = errors.New("cluster: invalid stats message")

// DeltaToPB converts a worker's delta into the message that ships it, with
// the report's sequence number, running users and whether it is the last.
// Rows are sorted by method and name. Strings that are not valid UTF-8
// (which protobuf refuses to marshal) or are too long are repaired, and
// rows beyond the limits are folded into the overflow rows of package
// stats, so the master never refuses what this returns. d is not changed.
func DeltaToPB(d *stats.Delta, seq uint64, users int32, final bool) *pb.Stats {
	return deltaToPB(d, seq, users, final, false)
}

// DeltaToPBCompact is DeltaToPB with each histogram in its most compact
// form (Histogram.runs where that is smaller), which only a master whose
// Welcome sets compact_histograms reads. The message is smaller, and the
// master checks and merges it several times faster.
func DeltaToPBCompact(d *stats.Delta, seq uint64, users int32, final bool) *pb.Stats {
	return deltaToPB(d, seq, users, final, true)
}

func deltaToPB(d *stats.Delta, seq uint64, users int32, final, compact bool) *pb.Stats {
	m := &pb.Stats{Seq: seq, Users: users, Final: final}
	if d == nil {
		return m
	}
	m.Dropped = d.Dropped
	if needsFit(d) {
		d = fitDelta(d)
	}
	m.Endpoints = endpointsToPB(d.Endpoints, compact)
	m.Errors = errorsToPB(d.Errors)
	m.Exceptions = exceptionsToPB(d.Exceptions)
	return m
}

func compareKeys(a, b stats.Key) int {
	return cmp.Or(cmp.Compare(a.Method, b.Method), cmp.Compare(a.Name, b.Name))
}

func endpointsToPB(src map[stats.Key]*stats.Entry, compact bool) []*pb.Endpoint {
	keys := make([]stats.Key, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	// One allocation for all rows and one for all histograms.
	eps := make([]pb.Endpoint, len(keys))
	hists := make([]pb.Histogram, len(keys))
	out := make([]*pb.Endpoint, len(keys))
	for i, k := range keys {
		e := src[k]
		h := &hists[i]
		if compact {
			histogramToPBCompact(h, e.Hist.Data())
		} else {
			histogramToPB(h, e.Hist.Data())
		}
		ep := &eps[i]
		ep.Method, ep.Name = k.Method, k.Name
		ep.Requests, ep.Failures, ep.SumUs, ep.Bytes = e.Requests, e.Failures, e.SumUS, e.Bytes
		ep.Histogram = h
		out[i] = ep
	}
	return out
}

func errorsToPB(src map[stats.ErrorKey]int64) []*pb.ErrorGroup {
	keys := make([]stats.ErrorKey, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b stats.ErrorKey) int {
		return cmp.Or(compareKeys(a.Key, b.Key), cmp.Compare(a.Error, b.Error))
	})
	out := make([]*pb.ErrorGroup, len(keys))
	for i, k := range keys {
		out[i] = &pb.ErrorGroup{Method: k.Method, Name: k.Name, Error: k.Error, Count: src[k]}
	}
	return out
}

func exceptionsToPB(src map[string]stats.ExceptionGroup) []*pb.ExceptionGroup {
	msgs := make([]string, 0, len(src))
	for msg := range src {
		msgs = append(msgs, msg)
	}
	slices.Sort(msgs)
	out := make([]*pb.ExceptionGroup, len(msgs))
	for i, msg := range msgs {
		g := src[msg]
		out[i] = &pb.ExceptionGroup{Message: msg, Traceback: g.Traceback, Count: g.Count}
	}
	return out
}
