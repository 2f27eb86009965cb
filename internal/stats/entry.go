package stats

import "time"

// Entry accumulates the samples of one (method, name) row: counts, exact
// latency sum/min/max, response bytes and the latency histogram.
// Failed requests count as requests too and their latency is recorded, as
// Locust does. The zero value is empty and ready to use.
type Entry struct {
	Requests int64
	Failures int64
	// SumUS is the sum of all latencies in microseconds.
	SumUS int64
	// Bytes is the sum of response sizes.
	Bytes int64
	// Hist is the latency distribution in µs; it also holds the exact
	// min and max.
	Hist Histogram
}

// Add records one request.
func (e *Entry) Add(latency time.Duration, bytes int64, failed bool) {
	e.add(micros(latency), bytes, failed)
}

func (e *Entry) add(us, bytes int64, failed bool) {
	e.Requests++
	if failed {
		e.Failures++
	}
	e.SumUS += us
	e.Bytes += bytes
	e.Hist.Record(us)
}

// Merge adds every request of o to e, exactly.
func (e *Entry) Merge(o *Entry) {
	e.Requests += o.Requests
	e.Failures += o.Failures
	e.SumUS += o.SumUS
	e.Bytes += o.Bytes
	e.Hist.Merge(&o.Hist)
}

// Clone returns an independent copy of e.
func (e *Entry) Clone() *Entry {
	c := &Entry{}
	c.Merge(e)
	return c
}

// reset empties e but keeps its histogram buckets for reuse.
func (e *Entry) reset() {
	e.Requests, e.Failures, e.SumUS, e.Bytes = 0, 0, 0, 0
	e.Hist.Reset()
}

// MinUS returns the exact smallest latency in µs (0 when empty).
func (e *Entry) MinUS() int64 { return e.Hist.Min() }

// MaxUS returns the exact largest latency in µs (0 when empty).
func (e *Entry) MaxUS() int64 { return e.Hist.Max() }

// AvgUS returns the mean latency in µs (0 when empty).
func (e *Entry) AvgUS() float64 {
	if e.Requests == 0 {
		return 0
	}
	return float64(e.SumUS) / float64(e.Requests)
}

// BytesAvg returns the mean response size (0 when empty).
func (e *Entry) BytesAvg() float64 {
	if e.Requests == 0 {
		return 0
	}
	return float64(e.Bytes) / float64(e.Requests)
}

// Latency returns the row's latency figures in milliseconds.
func (e *Entry) Latency() Latency {
	if e.Requests == 0 {
		return Latency{}
	}
	ms := func(q float64) float64 { return e.Hist.Quantile(q) / 1000 }
	return Latency{
		Min:  float64(e.MinUS()) / 1000,
		Avg:  e.AvgUS() / 1000,
		P50:  ms(0.50),
		P90:  ms(0.90),
		P95:  ms(0.95),
		P99:  ms(0.99),
		P999: ms(0.999),
		Max:  float64(e.MaxUS()) / 1000,
	}
}
