package stats

import (
	"cmp"
	"slices"
	"time"
)

// Tick appends a history point for now: the current users, the window's
// rates and percentiles, and the cumulative counts; with
// AggregateOptions.EndpointHistory, a per-endpoint point too. Several
// ticks in one wall-clock second leave one point, the last.
func (a *Aggregate) Tick(now time.Time, users int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flush()
	a.ensureStart(now)
	rps, fps := a.total.win.rates(now, a.start)
	p50, p95, p99 := a.windowPercentiles(now)
	var qs [11]float64
	for i, q := range HistoryQuantiles() {
		if a.total.Requests > 0 {
			qs[i] = a.total.Hist.Quantile(q) / 1000
		}
	}
	a.hist.add(now.Unix(), HistoryPoint{
		Time:              now,
		Users:             users,
		CurrentRPS:        rps,
		CurrentFailPerSec: fps,
		P50:               p50,
		P95:               p95,
		P99:               p99,
		Requests:          a.total.Requests,
		Failures:          a.total.Failures,
		Total:             a.total.Latency(),
		Quantiles:         qs,
		BytesAvg:          a.total.BytesAvg(),
	})
	if a.opts.EndpointHistory {
		a.tickEndpoints(now, users)
	}
}

// windowPercentiles merges the per-second histograms of the window, the
// current second included, and returns p50, p95 and p99 in ms.
func (a *Aggregate) windowPercentiles(now time.Time) (p50, p95, p99 float64) {
	a.scratch.Reset()
	cur := now.Unix()
	for i, s := range a.total.win {
		if s.sec >= cur-int64(a.winSec) && s.sec <= cur {
			a.scratch.Merge(&a.totalHist[i])
		}
	}
	h := &a.scratch
	return h.Quantile(0.50) / 1000, h.Quantile(0.95) / 1000, h.Quantile(0.99) / 1000
}

// Snapshot returns a consistent copy of the statistics at now. Rows are
// sorted by name, then method; each row's Percentile works on a private
// copy of its histogram, so it stays valid and unchanged after later Adds.
func (a *Aggregate) Snapshot(now time.Time) Snapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flush()
	var elapsed time.Duration
	if !a.start.IsZero() {
		elapsed = now.Sub(a.start)
	}
	s := Snapshot{
		Time:       now,
		Started:    a.start,
		Duration:   elapsed,
		Endpoints:  make([]Row, 0, len(a.endpoints)),
		Errors:     make([]ErrorRow, 0, len(a.errors)),
		Exceptions: make([]ExceptionRow, 0, len(a.exceptions)),
		History:    a.hist.points(),
		Warnings:   slices.Clone(a.warning),
		Dropped:    a.dropped,
	}
	if a.opts.EndpointHistory {
		s.EndpointHistory = a.epHist.points()
	}
	for k, ep := range a.endpoints {
		s.Endpoints = append(s.Endpoints, a.row(k, ep, now, elapsed))
	}
	slices.SortFunc(s.Endpoints, func(x, y Row) int {
		return compareKeys(Key{Method: x.Method, Name: x.Name}, Key{Method: y.Method, Name: y.Name})
	})
	s.Total = a.row(Key{Name: TotalName}, &a.total, now, elapsed)
	for _, e := range a.errors {
		s.Errors = append(s.Errors, *e)
	}
	slices.SortFunc(s.Errors, func(x, y ErrorRow) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Name, y.Name),
			cmp.Compare(x.Method, y.Method), cmp.Compare(x.Error, y.Error))
	})
	for _, e := range a.exceptions {
		s.Exceptions = append(s.Exceptions, *e)
	}
	slices.SortFunc(s.Exceptions, func(x, y ExceptionRow) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Message, y.Message))
	})
	return s
}

func (a *Aggregate) row(k Key, ep *aggEndpoint, now time.Time, elapsed time.Duration) Row {
	var rps float64
	if elapsed > 0 {
		rps = float64(ep.Requests) / elapsed.Seconds()
	}
	cur, curFails := ep.win.rates(now, a.start)
	h := ep.Hist.Clone()
	return Row{
		Method:            k.Method,
		Name:              k.Name,
		Requests:          ep.Requests,
		Failures:          ep.Failures,
		BytesAvg:          ep.BytesAvg(),
		RPS:               rps,
		CurrentRPS:        cur,
		CurrentFailPerSec: curFails,
		Latency:           ep.Latency(),
		Percentile:        func(q float64) float64 { return h.Quantile(q) / 1000 },
		CountAtMost:       func(ms float64) uint64 { return h.CountAtMost(ms * 1000) },
	}
}
