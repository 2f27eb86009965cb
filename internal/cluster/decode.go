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
	if err := checkSizes(m.Users, m.Dropped, len(m.Endpoints), len(m.Errors), len(m.Exceptions)); err != nil {
		return err
	}
	d.Dropped = m.Dropped
	rows := rowChecker{d: d, sorted: true}
	var err error
	d.Endpoints = slices.Grow(d.Endpoints, len(m.Endpoints))
	for i, ep := range m.Endpoints {
		h := ep.GetHistogram()
		hd := stats.HistogramData{Min: h.GetMin(), Max: h.GetMax(), First: int(h.GetFirst()),
			Counts: h.GetCounts(), Sparse: h.GetSparse(), Runs: h.GetRuns()}
		if err = rows.add(i, ep.GetMethod(), ep.GetName(), ep.GetRequests(), ep.GetFailures(), ep.GetSumUs(), ep.GetBytes(), hd); err != nil {
			break
		}
	}
	if err == nil {
		err = rows.finish()
	}
	if err == nil {
		err = errorsFromPB(d.Errors, m.Errors, rows.failures)
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

func checkSizes(users int32, dropped int64, endpoints, errorGroups, exceptions int) error {
	switch {
	case users < 0:
		return fmt.Errorf("%w: users %d", ErrBadStats, users)
	case dropped < 0 || dropped > maxDeltaRequests:
		return fmt.Errorf("%w: %d dropped iterations", ErrBadStats, dropped)
	case endpoints > MaxEndpoints:
		return fmt.Errorf("%w: %d endpoints, limit %d", ErrBadStats, endpoints, MaxEndpoints)
	case errorGroups > MaxErrorGroups:
		return fmt.Errorf("%w: %d error groups, limit %d", ErrBadStats, errorGroups, MaxErrorGroups)
	case exceptions > MaxExceptionGroups:
		return fmt.Errorf("%w: %d exception groups, limit %d", ErrBadStats, exceptions, MaxExceptionGroups)
	}
	return nil
}

// rowChecker checks a report's rows one by one as they are decoded and
// appends them to d; finish ends the checks.
type rowChecker struct {
	d                  *stats.DeltaData
	requests, failures int64
	// DeltaToPB sorts the rows, so a duplicate is the previous row; rows
	// in another order are checked with a set by finish.
	sorted bool
}

// add checks and appends row i; its histogram stays in hd's memory.
func (c *rowChecker) add(i int, method, name string, n, f, sumUS, bytes int64, hd stats.HistogramData) error {
	r, err := entryFrom(method, name, n, f, sumUS, bytes, hd)
	if err != nil {
		return fmt.Errorf("endpoint %d (%.64q %.64q): %w", i, method, name, err)
	}
	if len(r.Method) > MaxNameBytes || len(r.Name) > MaxNameBytes {
		return fmt.Errorf("%w: endpoint %d: method or name longer than %d bytes", ErrBadStats, i, MaxNameBytes)
	}
	if k := len(c.d.Endpoints); c.sorted && k > 0 {
		switch cmp := compareKeys(c.d.Endpoints[k-1].Key, r.Key); {
		case cmp == 0:
			return duplicateRow(r.Key)
		case cmp > 0:
			c.sorted = false
		}
	}
	// Each row is below maxDeltaRequests, so these sums cannot wrap
	// before the check trips.
	c.requests += r.Requests
	c.failures += r.Failures
	if c.requests > maxDeltaRequests {
		return fmt.Errorf("%w: more than %d requests in one delta", ErrBadStats, int64(maxDeltaRequests))
	}
	c.d.Endpoints = append(c.d.Endpoints, r)
	return nil
}

func (c *rowChecker) finish() error {
	if c.sorted {
		return nil
	}
	seen := make(map[stats.Key]struct{}, len(c.d.Endpoints))
	for i := range c.d.Endpoints {
		k := c.d.Endpoints[i].Key
		if _, dup := seen[k]; dup {
			return duplicateRow(k)
		}
		seen[k] = struct{}{}
	}
	return nil
}

func duplicateRow(k stats.Key) error {
	return fmt.Errorf("%w: endpoint %.64q %.64q twice", ErrBadStats, k.Method, k.Name)
}

// entryFrom converts and checks one row; its histogram stays in hd's
// memory.
func entryFrom(method, name string, n, f, sumUS, bytes int64, hd stats.HistogramData) (stats.EntryData, error) {
	switch {
	case n < 0 || f < 0 || sumUS < 0 || bytes < 0:
		return stats.EntryData{}, fmt.Errorf("%w: negative count", ErrBadStats)
	case f > n:
		return stats.EntryData{}, fmt.Errorf("%w: %d failures > %d requests", ErrBadStats, f, n)
	case n > maxDeltaRequests || bytes > maxEndpointBytes:
		return stats.EntryData{}, fmt.Errorf("%w: absurd count", ErrBadStats)
	}
	v, err := hd.Validate()
	if err != nil {
		return stats.EntryData{}, fmt.Errorf("%w: %w", ErrBadStats, err)
	}
	if v.Count() != uint64(n) {
		return stats.EntryData{}, fmt.Errorf("%w: histogram holds %d samples, row has %d requests", ErrBadStats, v.Count(), n)
	}
	if !sumFits(sumUS, n, v.Min(), v.Max()) {
		return stats.EntryData{}, fmt.Errorf("%w: latency sum %d outside %d × [%d, %d] µs", ErrBadStats, sumUS, n, v.Min(), v.Max())
	}
	return stats.EntryData{
		Key:      stats.Key{Method: method, Name: name},
		Requests: n, Failures: f, SumUS: sumUS, Bytes: bytes, Hist: v,
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
	c := errorChecker{errs: errs, failures: failures, left: failures}
	for i, g := range groups {
		if err := c.add(i, g.GetMethod(), g.GetName(), g.GetError(), g.GetCount()); err != nil {
			return err
		}
	}
	return nil
}

// errorChecker checks a report's error groups one by one and adds them
// to errs.
type errorChecker struct {
	errs           map[stats.ErrorKey]int64
	failures, left int64
}

func (c *errorChecker) add(i int, method, name, text string, count int64) error {
	k := stats.ErrorKey{Key: stats.Key{Method: method, Name: name}, Error: text}
	switch {
	case count < 0:
		return fmt.Errorf("%w: error group %d: negative count", ErrBadStats, i)
	case count > c.left:
		return fmt.Errorf("%w: error groups count more than the %d failures", ErrBadStats, c.failures)
	case len(k.Method) > MaxNameBytes || len(k.Name) > MaxNameBytes || len(k.Error) > MaxErrorBytes:
		return fmt.Errorf("%w: error group %d: text too long", ErrBadStats, i)
	}
	if _, dup := c.errs[k]; dup {
		return fmt.Errorf("%w: error group %.64q twice", ErrBadStats, k.Error)
	}
	c.left -= count
	c.errs[k] = count
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
