package cluster

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
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
	m := &pb.Stats{Seq: seq, Users: users, Final: final}
	if d == nil {
		return m
	}
	m.Dropped = d.Dropped
	if needsFit(d) {
		d = fitDelta(d)
	}
	m.Endpoints = endpointsToPB(d.Endpoints)
	m.Errors = errorsToPB(d.Errors)
	m.Exceptions = exceptionsToPB(d.Exceptions)
	return m
}

func compareKeys(a, b stats.Key) int {
	return cmp.Or(cmp.Compare(a.Method, b.Method), cmp.Compare(a.Name, b.Name))
}

func endpointsToPB(src map[stats.Key]*stats.Entry) []*pb.Endpoint {
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
		histogramToPB(h, e.Hist.Data())
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

// DeltaFromPB converts and validates a worker's Stats message. It refuses
// (with an error wrapping ErrBadStats, never a panic) anything an honest
// worker cannot send: negative counts, more failures than requests, a
// histogram that does not hold exactly the row's requests, duplicate
// rows, more errors than failures, sizes beyond the limits above. The
// Delta shares no memory with m.
func DeltaFromPB(m *pb.Stats) (*stats.Delta, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil message", ErrBadStats)
	}
	if err := checkSizes(m); err != nil {
		return nil, err
	}
	d := &stats.Delta{
		Endpoints:  make(map[stats.Key]*stats.Entry, len(m.Endpoints)),
		Errors:     make(map[stats.ErrorKey]int64, len(m.Errors)),
		Exceptions: make(map[string]stats.ExceptionGroup, len(m.Exceptions)),
		Dropped:    m.Dropped,
	}
	failures, err := endpointsFromPB(d, m.Endpoints)
	if err != nil {
		return nil, err
	}
	if err := errorsFromPB(d, m.Errors, failures); err != nil {
		return nil, err
	}
	if err := exceptionsFromPB(d, m.Exceptions); err != nil {
		return nil, err
	}
	return d, nil
}

func checkSizes(m *pb.Stats) error {
	switch {
	case m.Users < 0:
		return fmt.Errorf("%w: users %d", ErrBadStats, m.Users)
	case m.Dropped < 0 || m.Dropped > maxDeltaRequests:
		return fmt.Errorf("%w: %d dropped iterations", ErrBadStats, m.Dropped)
	case len(m.Endpoints) > MaxEndpoints:
		return fmt.Errorf("%w: %d endpoints, limit %d", ErrBadStats, len(m.Endpoints), MaxEndpoints)
	case len(m.Errors) > MaxErrorGroups:
		return fmt.Errorf("%w: %d error groups, limit %d", ErrBadStats, len(m.Errors), MaxErrorGroups)
	case len(m.Exceptions) > MaxExceptionGroups:
		return fmt.Errorf("%w: %d exception groups, limit %d", ErrBadStats, len(m.Exceptions), MaxExceptionGroups)
	}
	return nil
}

// endpointsFromPB adds the rows of eps to d and returns their failures.
func endpointsFromPB(d *stats.Delta, eps []*pb.Endpoint) (failures int64, err error) {
	var requests int64
	var scratch []uint64
	for i, ep := range eps {
		e, err := entryFromPB(ep, &scratch)
		if err != nil {
			return 0, fmt.Errorf("endpoint %d (%.64q %.64q): %w", i, ep.GetMethod(), ep.GetName(), err)
		}
		k := stats.Key{Method: ep.GetMethod(), Name: ep.GetName()}
		if len(k.Method) > MaxNameBytes || len(k.Name) > MaxNameBytes {
			return 0, fmt.Errorf("%w: endpoint %d: method or name longer than %d bytes", ErrBadStats, i, MaxNameBytes)
		}
		if _, dup := d.Endpoints[k]; dup {
			return 0, fmt.Errorf("%w: endpoint %.64q %.64q twice", ErrBadStats, k.Method, k.Name)
		}
		// Each row is below maxDeltaRequests, so these sums cannot wrap
		// before the check trips.
		requests += e.Requests
		failures += e.Failures
		if requests > maxDeltaRequests {
			return 0, fmt.Errorf("%w: more than %d requests in one delta", ErrBadStats, int64(maxDeltaRequests))
		}
		d.Endpoints[k] = e
	}
	return failures, nil
}

// entryFromPB converts and checks one row; scratch is for histogramData.
func entryFromPB(ep *pb.Endpoint, scratch *[]uint64) (*stats.Entry, error) {
	n, f := ep.GetRequests(), ep.GetFailures()
	switch {
	case n < 0 || f < 0 || ep.GetSumUs() < 0 || ep.GetBytes() < 0:
		return nil, fmt.Errorf("%w: negative count", ErrBadStats)
	case f > n:
		return nil, fmt.Errorf("%w: %d failures > %d requests", ErrBadStats, f, n)
	case n > maxDeltaRequests || ep.GetBytes() > maxEndpointBytes:
		return nil, fmt.Errorf("%w: absurd count", ErrBadStats)
	}
	hd, err := histogramData(ep.GetHistogram(), scratch)
	if err != nil {
		return nil, err
	}
	h, err := stats.HistogramFromData(hd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadStats, err)
	}
	if h.Count() != uint64(n) {
		return nil, fmt.Errorf("%w: histogram holds %d samples, row has %d requests", ErrBadStats, h.Count(), n)
	}
	if !sumFits(ep.GetSumUs(), n, h.Min(), h.Max()) {
		return nil, fmt.Errorf("%w: latency sum %d outside %d × [%d, %d] µs", ErrBadStats, ep.GetSumUs(), n, h.Min(), h.Max())
	}
	e := &stats.Entry{Requests: n, Failures: f, SumUS: ep.GetSumUs(), Bytes: ep.GetBytes()}
	e.Hist = *h
	return e, nil
}

// sumFits reports whether n samples between lo and hi can add up to sum.
func sumFits(sum, n, lo, hi int64) bool {
	if n == 0 {
		return sum == 0
	}
	if h, l := bits.Mul64(uint64(lo), uint64(n)); h != 0 || l > math.MaxInt64 || sum < int64(l) {
		return false
	}
	h, l := bits.Mul64(uint64(hi), uint64(n))
	return h != 0 || l > math.MaxInt64 || sum <= int64(l)
}

// errorsFromPB adds the error groups to d; they may not count more than
// the delta's failures.
func errorsFromPB(d *stats.Delta, groups []*pb.ErrorGroup, failures int64) error {
	left := failures
	for i, g := range groups {
		k := stats.ErrorKey{Key: stats.Key{Method: g.GetMethod(), Name: g.GetName()}, Error: g.GetError()}
		switch {
		case g.GetCount() < 0:
			return fmt.Errorf("%w: error group %d: negative count", ErrBadStats, i)
		case g.GetCount() > left:
			return fmt.Errorf("%w: error groups count more than the %d failures", ErrBadStats, failures)
		case len(k.Method) > MaxNameBytes || len(k.Name) > MaxNameBytes || len(k.Error) > MaxErrorBytes:
			return fmt.Errorf("%w: error group %d: text too long", ErrBadStats, i)
		}
		if _, dup := d.Errors[k]; dup {
			return fmt.Errorf("%w: error group %.64q twice", ErrBadStats, k.Error)
		}
		left -= g.GetCount()
		d.Errors[k] = g.GetCount()
	}
	return nil
}

func exceptionsFromPB(d *stats.Delta, groups []*pb.ExceptionGroup) error {
	for i, g := range groups {
		msg := g.GetMessage()
		switch {
		case g.GetCount() < 0 || g.GetCount() > maxDeltaRequests:
			return fmt.Errorf("%w: exception group %d: count %d", ErrBadStats, i, g.GetCount())
		case len(msg) > MaxErrorBytes || len(g.GetTraceback()) > MaxTracebackBytes:
			return fmt.Errorf("%w: exception group %d: text too long", ErrBadStats, i)
		}
		if _, dup := d.Exceptions[msg]; dup {
			return fmt.Errorf("%w: exception %.64q twice", ErrBadStats, msg)
		}
		d.Exceptions[msg] = stats.ExceptionGroup{Count: g.GetCount(), Traceback: g.GetTraceback()}
	}
	return nil
}
