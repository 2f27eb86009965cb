package cluster

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/stats"
)

// DecodeStats checks m exactly as DeltaFromPB does, and fills d (Reset
// first) with its rows without copying a histogram: what the master hands
// to stats.Aggregate.AddData. Until d is Reset again it shares memory with
// m, which must not change meanwhile. On error d is left empty.
func DecodeStats(m *pb.Stats, d *stats.DeltaData) error {
	d.Reset()
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrBadStats)
	}
	if err := checkSizes(m); err != nil {
		return err
	}
	d.Dropped = m.Dropped
	failures, err := endpointsFromPB(d, m.Endpoints)
	if err == nil {
		err = errorsFromPB(d.Errors, m.Errors, failures)
	}
	if err == nil {
		err = exceptionsFromPB(d.Exceptions, m.Exceptions)
	}
	if err != nil {
		d.Reset()
		return err
	}
	return nil
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
func endpointsFromPB(d *stats.DeltaData, eps []*pb.Endpoint) (failures int64, err error) {
	d.Endpoints = slices.Grow(d.Endpoints, len(eps))
	var requests int64
	// DeltaToPB sorts the rows, so a duplicate is the previous row; rows
	// in another order are checked with a set.
	sorted := true
	for i, ep := range eps {
		r, err := entryFromPB(ep)
		if err != nil {
			return 0, fmt.Errorf("endpoint %d (%.64q %.64q): %w", i, ep.GetMethod(), ep.GetName(), err)
		}
		if len(r.Method) > MaxNameBytes || len(r.Name) > MaxNameBytes {
			return 0, fmt.Errorf("%w: endpoint %d: method or name longer than %d bytes", ErrBadStats, i, MaxNameBytes)
		}
		if n := len(d.Endpoints); sorted && n > 0 {
			switch c := compareKeys(d.Endpoints[n-1].Key, r.Key); {
			case c == 0:
				return 0, duplicateRow(r.Key)
			case c > 0:
				sorted = false
			}
		}
		// Each row is below maxDeltaRequests, so these sums cannot wrap
		// before the check trips.
		requests += r.Requests
		failures += r.Failures
		if requests > maxDeltaRequests {
			return 0, fmt.Errorf("%w: more than %d requests in one delta", ErrBadStats, int64(maxDeltaRequests))
		}
		d.Endpoints = append(d.Endpoints, r)
	}
	if !sorted {
		seen := make(map[stats.Key]struct{}, len(d.Endpoints))
		for i := range d.Endpoints {
			k := d.Endpoints[i].Key
			if _, dup := seen[k]; dup {
				return 0, duplicateRow(k)
			}
			seen[k] = struct{}{}
		}
	}
	return failures, nil
}

func duplicateRow(k stats.Key) error {
	return fmt.Errorf("%w: endpoint %.64q %.64q twice", ErrBadStats, k.Method, k.Name)
}

// entryFromPB converts and checks one row; its histogram stays in ep.
func entryFromPB(ep *pb.Endpoint) (stats.EntryData, error) {
	n, f := ep.GetRequests(), ep.GetFailures()
	switch {
	case n < 0 || f < 0 || ep.GetSumUs() < 0 || ep.GetBytes() < 0:
		return stats.EntryData{}, fmt.Errorf("%w: negative count", ErrBadStats)
	case f > n:
		return stats.EntryData{}, fmt.Errorf("%w: %d failures > %d requests", ErrBadStats, f, n)
	case n > maxDeltaRequests || ep.GetBytes() > maxEndpointBytes:
		return stats.EntryData{}, fmt.Errorf("%w: absurd count", ErrBadStats)
	}
	h := ep.GetHistogram()
	v, err := stats.HistogramData{
		Min: h.GetMin(), Max: h.GetMax(), First: int(h.GetFirst()), Counts: h.GetCounts(), Sparse: h.GetSparse(), Runs: h.GetRuns(),
	}.Validate()
	if err != nil {
		return stats.EntryData{}, fmt.Errorf("%w: %w", ErrBadStats, err)
	}
	if v.Count() != uint64(n) {
		return stats.EntryData{}, fmt.Errorf("%w: histogram holds %d samples, row has %d requests", ErrBadStats, v.Count(), n)
	}
	if !sumFits(ep.GetSumUs(), n, v.Min(), v.Max()) {
		return stats.EntryData{}, fmt.Errorf("%w: latency sum %d outside %d × [%d, %d] µs", ErrBadStats, ep.GetSumUs(), n, v.Min(), v.Max())
	}
	return stats.EntryData{
		Key:      stats.Key{Method: ep.GetMethod(), Name: ep.GetName()},
		Requests: n, Failures: f, SumUS: ep.GetSumUs(), Bytes: ep.GetBytes(), Hist: v,
	}, nil
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

// errorsFromPB adds the error groups to errs; they may not count more
// than the delta's failures.
func errorsFromPB(errs map[stats.ErrorKey]int64, groups []*pb.ErrorGroup, failures int64) error {
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
		if _, dup := errs[k]; dup {
			return fmt.Errorf("%w: error group %.64q twice", ErrBadStats, k.Error)
		}
		left -= g.GetCount()
		errs[k] = g.GetCount()
	}
	return nil
}

func exceptionsFromPB(excs map[string]stats.ExceptionGroup, groups []*pb.ExceptionGroup) error {
	for i, g := range groups {
		msg := g.GetMessage()
		switch {
		case g.GetCount() < 0 || g.GetCount() > maxDeltaRequests:
			return fmt.Errorf("%w: exception group %d: count %d", ErrBadStats, i, g.GetCount())
		case len(msg) > MaxErrorBytes || len(g.GetTraceback()) > MaxTracebackBytes:
			return fmt.Errorf("%w: exception group %d: text too long", ErrBadStats, i)
		}
		if _, dup := excs[msg]; dup {
			return fmt.Errorf("%w: exception %.64q twice", ErrBadStats, msg)
		}
		excs[msg] = stats.ExceptionGroup{Count: g.GetCount(), Traceback: g.GetTraceback()}
	}
	return nil
}
