package stats

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sampleStream makes n reproducible samples over a few endpoints, about
// one in ten failing.
func sampleStream(n int, seed uint64) []Sample {
	r := rand.New(rand.NewPCG(seed, 1))
	keys := []Key{{"GET", "/"}, {"GET", "/profile"}, {"POST", "/login"}, {"GET", "/item?id=[id]"}}
	errs := []string{"", "", "", "", "", "", "", "", "", "HTTP 500", "connection refused"}
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{
			Key:     keys[r.IntN(len(keys))],
			Latency: time.Duration(200_000 + r.ExpFloat64()*5e6),
			Bytes:   int64(r.IntN(5000)),
			Err:     errs[r.IntN(len(errs))],
		}
	}
	return out
}

func TestEntryExactFigures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		latencies []time.Duration
		bytes     []int64
		failed    []bool
		want      Latency
		bytesAvg  float64
		failures  int64
	}{
		{
			name:      "three requests",
			latencies: []time.Duration{time.Millisecond, 3 * time.Millisecond, 11 * time.Millisecond},
			bytes:     []int64{100, 200, 600},
			failed:    []bool{false, true, false},
			want:      Latency{Min: 1, Avg: 5, Max: 11},
			bytesAvg:  300,
			failures:  1,
		},
		{
			name:      "sub-millisecond",
			latencies: []time.Duration{1500 * time.Nanosecond, 2500 * time.Nanosecond},
			bytes:     []int64{0, 1},
			failed:    []bool{false, false},
			want:      Latency{Min: 0.002, Avg: 0.0025, Max: 0.003},
			bytesAvg:  0.5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e Entry
			for i, l := range tt.latencies {
				e.Add(l, tt.bytes[i], tt.failed[i])
			}
			got := e.Latency()
			if got.Min != tt.want.Min || got.Avg != tt.want.Avg || got.Max != tt.want.Max {
				t.Errorf("min/avg/max = %v/%v/%v ms, want %v/%v/%v", got.Min, got.Avg, got.Max,
					tt.want.Min, tt.want.Avg, tt.want.Max)
			}
			if e.BytesAvg() != tt.bytesAvg || e.Failures != tt.failures || e.Requests != int64(len(tt.latencies)) {
				t.Errorf("bytes avg %v failures %d requests %d, want %v %d %d",
					e.BytesAvg(), e.Failures, e.Requests, tt.bytesAvg, tt.failures, len(tt.latencies))
			}
		})
	}
}

func TestCollectorFailureAndExceptionGroups(t *testing.T) {
	t.Parallel()
	c := NewCollector(4)
	for i := range 10 {
		r := c.For(i)
		r.Record(Sample{Key: Key{"GET", "/a"}, Latency: time.Millisecond, Err: "HTTP 500"})
		r.Record(Sample{Key: Key{"GET", "/a"}, Latency: time.Millisecond})
		if i%2 == 0 {
			r.Record(Sample{Key: Key{"POST", "/a"}, Latency: time.Millisecond, Err: "HTTP 500"})
		}
	}
	c.Exception("boom", "first traceback") // any shard: shard 3 is cut last
	c.For(3).Exception("boom", "second traceback")
	c.For(1).Exception("other", "tb")
	d := c.Cut()
	wantErrs := map[ErrorKey]int64{
		{Key{"GET", "/a"}, "HTTP 500"}:  10,
		{Key{"POST", "/a"}, "HTTP 500"}: 5,
	}
	if !mapsEqual(d.Errors, wantErrs) {
		t.Errorf("errors = %v, want %v", d.Errors, wantErrs)
	}
	if g := d.Exceptions["boom"]; g.Count != 2 || g.Traceback != "first traceback" {
		t.Errorf("exception group boom = %+v", g)
	}
	if g := d.Exceptions["other"]; g.Count != 1 || g.Traceback != "tb" {
		t.Errorf("exception group other = %+v", g)
	}
	if e := d.Endpoints[Key{"GET", "/a"}]; e.Requests != 20 || e.Failures != 10 {
		t.Errorf("GET /a = %d requests %d failures, want 20 and 10", e.Requests, e.Failures)
	}
	if d2 := c.Cut(); !d2.Empty() {
		t.Errorf("second cut is not empty: %+v", d2)
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func requireSameDelta(t *testing.T, got, want *Delta) {
	t.Helper()
	if len(got.Endpoints) != len(want.Endpoints) {
		t.Fatalf("%d endpoints, want %d", len(got.Endpoints), len(want.Endpoints))
	}
	for k, w := range want.Endpoints {
		g := got.Endpoints[k]
		if g == nil {
			t.Fatalf("endpoint %v missing", k)
		}
		if g.Requests != w.Requests || g.Failures != w.Failures || g.SumUS != w.SumUS || g.Bytes != w.Bytes ||
			g.MinUS() != w.MinUS() || g.MaxUS() != w.MaxUS() {
			t.Errorf("%v: %+v, want %+v", k, g, w)
		}
		gd, wd := g.Hist.Data(), w.Hist.Data()
		if gd.First != wd.First || !slices.Equal(gd.Counts, wd.Counts) {
			t.Errorf("%v: histogram buckets differ", k)
		}
		for _, q := range testQuantiles {
			if g.Hist.Quantile(q) != w.Hist.Quantile(q) {
				t.Errorf("%v: q%v = %v, want %v", k, q, g.Hist.Quantile(q), w.Hist.Quantile(q))
			}
		}
	}
	if !mapsEqual(got.Errors, want.Errors) {
		t.Errorf("errors = %v, want %v", got.Errors, want.Errors)
	}
}

func TestMergeExactAcrossCollectors(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 5, 16} {
		t.Run(fmt.Sprint(n, " collectors"), func(t *testing.T) {
			t.Parallel()
			samples := sampleStream(20000, uint64(n))
			one := NewCollector(1)
			parts := make([]*Collector, n)
			for i := range parts {
				parts[i] = NewCollector(3)
			}
			for i, s := range samples {
				one.Record(s)
				parts[i%n].For(i).Record(s)
			}
			merged := &Delta{} // the zero Delta must be usable too
			for _, p := range parts {
				merged.Merge(p.Cut())
			}
			requireSameDelta(t, merged, one.Cut())
		})
	}
}

func TestCutConcurrentNoLossNoDouble(t *testing.T) {
	t.Parallel()
	const goroutines, minPerG, minCuts = 16, 2000, 200
	c := NewCollector(4)
	samples := sampleStream(minPerG, 99)
	var total Delta
	var cuts atomic.Int64
	done := make(chan struct{})
	cutterDone := make(chan struct{})
	go func() { // the reporter: cuts as fast as it can while users record
		defer close(cutterDone)
		for {
			select {
			case <-done:
				return
			default:
				total.Merge(c.Cut())
				cuts.Add(1)
			}
		}
	}()
	sent := make([]int, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			r := c.For(g)
			// Record until the reporter has cut many times, so that cuts
			// really interleave with records.
			for i := 0; i < minPerG || cuts.Load() < minCuts; i++ {
				s := samples[i%len(samples)]
				if i%7 == 0 {
					c.Record(s) // the unsharded path too
				} else {
					r.Record(s)
				}
				sent[g]++
			}
		})
	}
	wg.Wait()
	close(done)
	<-cutterDone
	total.Merge(c.Cut())

	var want Delta
	sum := 0
	for _, n := range sent {
		one := NewCollector(1)
		for i := range n {
			one.Record(samples[i%len(samples)])
		}
		want.Merge(one.Cut())
		sum += n
	}
	requireSameDelta(t, &total, &want)
	req, fails := total.Requests()
	if want := int64(sum); req != want {
		t.Errorf("requests %d (%d failed), want %d", req, fails, want)
	}
	t.Logf("%d samples, %d cuts", sum, cuts.Load())
}

func TestCollectorForSpreadsUsers(t *testing.T) {
	t.Parallel()
	c := NewCollector(8)
	seen := map[Recorder]bool{}
	for id := -8; id < 8; id++ {
		seen[c.For(id)] = true
	}
	if len(seen) != 8 {
		t.Errorf("16 consecutive ids used %d shards, want 8", len(seen))
	}
	if c.For(3) != c.For(11) {
		t.Error("the same shard index gave different recorders")
	}
	if NewCollector(0).Shards() < 1 {
		t.Error("default shard count < 1")
	}
}

func TestCutDropsIdleEndpoints(t *testing.T) {
	t.Parallel()
	c := NewCollector(1)
	for i := range 100 {
		c.Record(Sample{Key: Key{"GET", fmt.Sprint("/item/", i)}, Latency: time.Millisecond})
	}
	if d := c.Cut(); len(d.Endpoints) != 100 {
		t.Fatalf("cut 1: %d endpoints, want 100", len(d.Endpoints))
	}
	c.Record(Sample{Key: Key{"GET", "/item/1"}, Latency: time.Millisecond})
	if d := c.Cut(); len(d.Endpoints) != 1 {
		t.Fatalf("cut 2: %d endpoints, want 1", len(d.Endpoints))
	}
	if n := len(c.shards[0].endpoints); n != 1 {
		t.Errorf("shard still holds %d endpoints after they went idle, want 1", n)
	}
}

func TestDeltaMergeSharesNoMemory(t *testing.T) {
	t.Parallel()
	c := NewCollector(2)
	for _, s := range sampleStream(1000, 5) {
		c.Record(s)
	}
	src := c.Cut()
	dst := NewDelta()
	dst.Merge(src)
	before := dst.Endpoints[Key{"GET", "/"}].Hist.Quantile(0.99)
	reqBefore, _ := dst.Requests()
	for _, e := range src.Endpoints {
		e.Add(time.Hour, 1, true)
	}
	// The collector reuses its entries after Cut: record again.
	for _, s := range sampleStream(1000, 6) {
		c.Record(s)
	}
	reqAfter, _ := dst.Requests()
	if reqAfter != reqBefore || dst.Endpoints[Key{"GET", "/"}].Hist.Quantile(0.99) != before {
		t.Error("changing the source delta or the collector changed the merged delta")
	}
}

// Dropped arrivals travel in the Delta, merge, and add up in the Aggregate.
func TestDroppedFlowsThroughDeltaAndAggregate(t *testing.T) {
	t.Parallel()
	c := NewCollector(2)
	c.AddDropped(3)
	d := c.Cut()
	if d.Dropped != 3 || d.Empty() {
		t.Fatalf("cut: dropped %d, empty %v; want 3, not empty", d.Dropped, d.Empty())
	}
	if again := c.Cut(); again.Dropped != 0 {
		t.Fatalf("second cut carries %d dropped again", again.Dropped)
	}
	c.AddDropped(2)
	d.Merge(c.Cut())
	a := NewAggregate(AggregateOptions{})
	now := time.Unix(1_700_000_000, 0)
	a.Add(d, now)
	a.Add(&Delta{Dropped: 1}, now)
	if got := a.Snapshot(now).Dropped; got != 6 {
		t.Fatalf("aggregate dropped = %d, want 6", got)
	}
	a.Reset(now)
	if got := a.Snapshot(now).Dropped; got != 0 {
		t.Fatalf("after reset dropped = %d, want 0", got)
	}
}
