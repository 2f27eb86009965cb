package stats

import (
	"math/rand/v2"
	"time"
)

// Helpers the tests use that the program does not.

// Add merges a worker's Delta, received at time at, into the totals and
// into the sliding window's second of at. It keeps no reference to d.
func (a *Aggregate) Add(d *Delta, at time.Time) {
	if d == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rows := make([]EntryData, 0, len(d.Endpoints))
	for k, e := range d.Endpoints {
		rows = append(rows, e.data(k))
	}
	a.add(&DeltaData{Endpoints: rows, Errors: d.Errors, Exceptions: d.Exceptions, Dropped: d.Dropped}, at, nil)
}

// Shards returns the number of shards.
func (c *Collector) Shards() int { return len(c.shards) }

// Record adds one sample to a randomly chosen shard. Prefer For on hot
// paths: it keeps one user on one shard.
func (c *Collector) Record(s Sample) {
	c.shards[rand.IntN(len(c.shards))].Record(s)
}

// Exception records a script error in a randomly chosen shard.
func (c *Collector) Exception(msg, traceback string) {
	c.shards[rand.IntN(len(c.shards))].Exception(msg, traceback)
}

// Empty reports whether d holds nothing.
func (d *Delta) Empty() bool {
	return len(d.Endpoints) == 0 && len(d.Errors) == 0 && len(d.Exceptions) == 0 && d.Dropped == 0
}

// SizeBytes estimates the memory the histogram holds, struct included.
func (h *Histogram) SizeBytes() int {
	const structSize = 8 + 24 + 8 + 16
	return structSize + 8*cap(h.counts)
}

// data returns e as an EntryData that shares e's histogram buckets.
func (e *Entry) data(k Key) EntryData {
	return EntryData{Key: k, Requests: e.Requests, Failures: e.Failures, SumUS: e.SumUS, Bytes: e.Bytes, Hist: e.Hist.valid()}
}

// valid returns h as a ValidHistogram sharing h's buckets.
func (h *Histogram) valid() ValidHistogram {
	a, b, ok := h.span()
	if !ok {
		return ValidHistogram{}
	}
	return ValidHistogram{
		d:     HistogramData{Min: h.min, Max: h.max, First: h.first, Counts: h.counts},
		total: h.total, lo: h.first + a, hi: h.first + b,
	}
}
