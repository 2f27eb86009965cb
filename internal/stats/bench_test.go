package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// benchSamples are samples over 10 endpoints with latencies spread
// log-uniformly over 1–100 ms.
func benchSamples() []Sample {
	r := rand.New(rand.NewPCG(1, 1))
	out := make([]Sample, 4096)
	for i := range out {
		out[i] = Sample{
			Key:     Key{"GET", fmt.Sprint("/endpoint/", i%10)},
			Latency: time.Duration(1e6 * math.Pow(100, r.Float64())),
			Bytes:   1024,
		}
		if i%50 == 0 {
			out[i].Err = "HTTP 500"
		}
	}
	return out
}

// BenchmarkRecord measures the request path: parallel users, each
// recording through its own shard-bound recorder.
func BenchmarkRecord(b *testing.B) {
	c := NewCollector(0)
	samples := benchSamples()
	var ids atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := c.For(int(ids.Add(1)))
		i := 0
		for pb.Next() {
			r.Record(samples[i&(len(samples)-1)])
			i++
		}
	})
}

// BenchmarkHistogramRecord measures the histogram alone.
func BenchmarkHistogramRecord(b *testing.B) {
	samples := benchSamples()
	var h Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(micros(samples[i&(len(samples)-1)].Latency))
	}
}

// BenchmarkCut measures one report interval's Cut of 100 active endpoints
// spread over the shards (the refill is not timed).
func BenchmarkCut(b *testing.B) {
	c := NewCollector(8)
	samples := benchSamples()
	fill := func() {
		for i := range 2000 {
			s := samples[i]
			s.Name = fmt.Sprint("/endpoint/", i%100)
			c.For(i).Record(s)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fill()
		b.StartTimer()
		if d := c.Cut(); len(d.Endpoints) != 100 {
			b.Fatalf("%d endpoints", len(d.Endpoints))
		}
	}
}

// hundredEndpoints is a worker's delta of 10,000 samples over 100
// endpoints.
func hundredEndpoints() *Delta {
	c := NewCollector(1)
	samples := benchSamples()
	for i := range 10000 {
		s := samples[i&(len(samples)-1)]
		s.Name = fmt.Sprint("/endpoint/", i%100)
		c.Record(s)
	}
	return c.Cut()
}

// received is d as the master receives it.
func received(d *Delta) *DeltaData {
	dd := &DeltaData{Errors: d.Errors, Exceptions: d.Exceptions}
	for k, e := range d.Endpoints {
		dd.Endpoints = append(dd.Endpoints, e.data(k))
	}
	return dd
}

// BenchmarkAggregateAdd measures the master merging one worker's delta of
// 100 endpoints, as received (AddData); deltas arrive 10 ms apart so that
// the window rolls.
func BenchmarkAggregateAdd(b *testing.B) {
	d := hundredEndpoints()
	dd := received(d)
	a := NewAggregate(AggregateOptions{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.AddData(dd, t0.Add(time.Duration(i)*10*time.Millisecond))
	}
}

// BenchmarkAggregateAddParallel is BenchmarkAggregateAdd from as many
// goroutines as cores, each with its own delta, as a master's streams
// merge their workers' reports: what one report costs when they contend.
func BenchmarkAggregateAddParallel(b *testing.B) {
	d := hundredEndpoints()
	a := NewAggregate(AggregateOptions{})
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		dd := received(d)
		for pb.Next() {
			a.AddData(dd, t0.Add(time.Duration(n.Add(1))*10*time.Millisecond))
		}
	})
}

// BenchmarkSnapshot measures a snapshot of 100 endpoints with history.
func BenchmarkSnapshot(b *testing.B) {
	d := hundredEndpoints()
	a := NewAggregate(AggregateOptions{})
	for i := range 3600 {
		a.Add(d, t0.Add(time.Duration(i)*time.Second))
		a.Tick(t0.Add(time.Duration(i)*time.Second), 100)
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Snapshot(t0.Add(time.Hour))
	}
}

// hourOfEndpoints returns an Aggregate that received, every second for an
// hour, a delta of 100 endpoints, and ticked.
func hourOfEndpoints(b *testing.B, opts AggregateOptions) *Aggregate {
	b.Helper()
	d := hundredEndpoints()
	a := NewAggregate(opts)
	for i := range 3600 {
		a.Add(d, t0.Add(time.Duration(i)*time.Second))
		a.Tick(t0.Add(time.Duration(i)*time.Second), 100)
	}
	return a
}

// BenchmarkSnapshotEndpointHistory is BenchmarkSnapshot with the
// per-endpoint history kept.
func BenchmarkSnapshotEndpointHistory(b *testing.B) {
	a := hourOfEndpoints(b, AggregateOptions{EndpointHistory: true})
	b.ReportAllocs()
	for b.Loop() {
		a.Snapshot(t0.Add(time.Hour))
	}
}

// BenchmarkTick measures one tick of 100 endpoints, with and without the
// per-endpoint history.
func BenchmarkTick(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprint("endpoint_history=", on), func(b *testing.B) {
			a := hourOfEndpoints(b, AggregateOptions{EndpointHistory: on})
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				a.Tick(t0.Add(time.Hour+time.Duration(i)*time.Second), 100)
			}
		})
	}
}

// BenchmarkEndpointHistoryMemory reports the heap an Aggregate holds after
// an hour of 100 endpoints, with and without the per-endpoint history.
func BenchmarkEndpointHistoryMemory(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprint("endpoint_history=", on), func(b *testing.B) {
			var held float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				a := hourOfEndpoints(b, AggregateOptions{EndpointHistory: on})
				runtime.GC()
				runtime.ReadMemStats(&after)
				held = float64(after.HeapAlloc) - float64(before.HeapAlloc)
				runtime.KeepAlive(a)
			}
			b.ReportMetric(held/(1<<20), "MiB-held")
		})
	}
}
