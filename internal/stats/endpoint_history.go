package stats

import (
	"math"
	"slices"
	"time"
)

// The per-endpoint history (AggregateOptions.EndpointHistory) is built at
// each Tick, not on the path that adds deltas: every row keeps copies of
// its cumulative histogram from the last Window+1 ticks, and the window's
// percentiles are those of the difference between the histogram now and
// the copy from one window ago — what Locust does with its cache of
// response-time dicts. So adding deltas costs the same with the option on
// or off, and a tick costs one histogram copy and walk per endpoint.

// tickRing holds copies of a cumulative histogram taken at the last
// ticks, at most one per wall-clock second.
type tickRing struct {
	secs  []int64 // math.MinInt64: empty slot
	hists []Histogram
	next  int // slot the next second goes into
}

func newTickRing(n int) *tickRing {
	r := &tickRing{secs: make([]int64, n), hists: make([]Histogram, n)}
	for i := range r.secs {
		r.secs[i] = math.MinInt64
	}
	return r
}

// at returns the newest copy taken at or before second sec, or nil.
func (r *tickRing) at(sec int64) *Histogram {
	var h *Histogram
	best := int64(math.MinInt64)
	for i, s := range r.secs {
		if s != math.MinInt64 && s <= sec && s > best {
			h, best = &r.hists[i], s
		}
	}
	return h
}

// store copies h as the copy of second sec: over the copy of the same
// second if the last tick was in it, else over the oldest. The slot's
// buckets are reused.
func (r *tickRing) store(sec int64, h *Histogram) {
	last := (r.next + len(r.secs) - 1) % len(r.secs)
	i := last
	if r.secs[last] != sec {
		i = r.next
		r.next = (r.next + 1) % len(r.secs)
	}
	r.secs[i] = sec
	r.hists[i].Reset()
	r.hists[i].Merge(h)
}

// windowQuantiles returns, in ms, the quantiles qs (ascending) of the
// samples in cur that are not in base, an earlier copy of the same
// cumulative histogram (nil: none). They are all 0 when there is no such
// sample.
func windowQuantiles(cur, base *Histogram, qs [11]float64) (out [11]float64) {
	n := cur.total
	if base != nil {
		n -= base.total
	}
	if n == 0 {
		return out
	}
	baseCount := func(i int) uint64 {
		if base == nil {
			return 0
		}
		if j := i - base.first; j >= 0 && j < len(base.counts) {
			return base.counts[j]
		}
		return 0
	}
	j, rank := 0, rankOf(qs[0], n)
	var seen uint64
	for k, c := range cur.counts {
		i := cur.first + k
		seen += c - baseCount(i)
		for seen >= rank {
			v := min(max(bucketMid(i), float64(cur.min)), float64(cur.max))
			out[j] = v / 1000
			if j++; j == len(qs) {
				return out
			}
			rank = rankOf(qs[j], n)
		}
	}
	return out
}

// tickEndpoints appends the per-endpoint history point for now.
func (a *Aggregate) tickEndpoints(now time.Time, users int) {
	sec := now.Unix()
	rows := make([]EndpointHistoryRow, 0, len(a.endpoints))
	for k, ep := range a.endpoints {
		rows = append(rows, a.historyRow(k, ep, now))
	}
	slices.SortFunc(rows, func(x, y EndpointHistoryRow) int {
		return compareKeys(Key{Method: x.Method, Name: x.Name}, Key{Method: y.Method, Name: y.Name})
	})
	a.epHist.add(sec, EndpointHistoryPoint{
		Time: now, Users: users, Endpoints: rows,
		Total: a.historyRow(Key{Name: TotalName}, &a.total, now),
	})
}

// historyRow returns ep's row at now and keeps a copy of its histogram
// for the ticks to come.
func (a *Aggregate) historyRow(k Key, ep *aggEndpoint, now time.Time) EndpointHistoryRow {
	sec := now.Unix()
	if ep.ticks == nil {
		ep.ticks = newTickRing(a.winSec + 1)
	}
	rps, fps := ep.win.rates(now, a.start)
	r := EndpointHistoryRow{
		Method: k.Method, Name: k.Name,
		CurrentRPS: rps, CurrentFailPerSec: fps,
		Quantiles: windowQuantiles(&ep.Hist, ep.ticks.at(sec-int64(a.winSec)), HistoryQuantiles()),
		Requests:  ep.Requests, Failures: ep.Failures,
		BytesAvg: ep.BytesAvg(),
	}
	if ep.Requests > 0 {
		r.Median = ep.Hist.Quantile(0.5) / 1000
		r.Avg = ep.AvgUS() / 1000
		r.Min = float64(ep.MinUS()) / 1000
		r.Max = float64(ep.MaxUS()) / 1000
	}
	ep.ticks.store(sec, &ep.Hist)
	return r
}
