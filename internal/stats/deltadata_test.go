package stats

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// dataOf returns d in received form, each histogram in the given form.
func dataOf(t *testing.T, d *Delta, form func(HistogramData) HistogramData) *DeltaData {
	t.Helper()
	out := &DeltaData{Errors: maps.Clone(d.Errors), Exceptions: maps.Clone(d.Exceptions), Dropped: d.Dropped}
	for k, e := range d.Endpoints {
		v, err := form(e.Hist.Data()).Validate()
		if err != nil {
			t.Fatal(err)
		}
		out.Endpoints = append(out.Endpoints, EntryData{Key: k, Requests: e.Requests, Failures: e.Failures,
			SumUS: e.SumUS, Bytes: e.Bytes, Hist: v})
	}
	return out
}

// randomDelta is a worker's report: up to 8 of 12 endpoints, each with a
// few to a few hundred requests over 0.1–300 ms, some failing.
func randomDelta(r *rand.Rand) *Delta {
	c := NewCollector(1)
	for range 1 + r.IntN(8) {
		k := Key{Method: "GET", Name: fmt.Sprint("/e/", r.IntN(12))}
		for range 1 + r.IntN(300) {
			s := Sample{Key: k, Latency: time.Duration(100+r.IntN(300000)) * time.Microsecond, Bytes: int64(r.IntN(900))}
			if r.IntN(30) == 0 {
				s.Err = "HTTP 502"
			}
			c.Record(s)
		}
	}
	d := c.Cut()
	d.Dropped = int64(r.IntN(3))
	return d
}

// figures is what a user reads of a row, percentiles included.
func figures(r Row) string {
	var qs, le []float64
	for _, q := range []float64{0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999} {
		qs = append(qs, r.Percentile(q))
	}
	for _, ms := range []float64{0.5, 1, 10, 50, 100, 250} {
		le = append(le, float64(r.CountAtMost(ms)))
	}
	r.Percentile, r.CountAtMost = nil, nil
	return fmt.Sprintf("%+v %v %v", r, qs, le)
}

// TestAggregateAddDataEqualsAdd: whatever form the histograms travel in,
// merging them in place gives exactly the statistics of adding the Deltas
// they were taken from, overflow row and late deltas included.
func TestAggregateAddDataEqualsAdd(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 5))
	viaDelta, viaData := NewAggregate(AggregateOptions{MaxEndpoints: 10}), NewAggregate(AggregateOptions{MaxEndpoints: 10})
	forms := []string{"dense", "sparse", "runs", "compact"}
	for sec := range 30 {
		for w := range 6 {
			d := randomDelta(r)
			when := at(float64(sec) + float64(w)/10)
			if w == 5 && sec > 15 {
				when = at(float64(sec - 14)) // late: counts, but has left the window
			}
			viaDelta.Add(d, when)
			viaData.AddData(dataOf(t, d, histForms[forms[(sec+w)%len(forms)]]), when)
		}
		viaDelta.Tick(at(float64(sec)+0.9), sec)
		viaData.Tick(at(float64(sec)+0.9), sec)
	}
	want, got := viaDelta.Snapshot(at(30.5)), viaData.Snapshot(at(30.5))
	sameRows(t, got, want, 11) // 10 and the overflow row
	if !reflect.DeepEqual(got.History, want.History) || !reflect.DeepEqual(got.Errors, want.Errors) || got.Dropped != want.Dropped {
		t.Error("history, errors or dropped differ")
	}
}

// TestAggregateTotalIsSumOfEndpoints: the master merges each row into its
// endpoint only and sums the totals of a second from the endpoints'
// growth; the total equals the sum of the endpoint rows, bucket for
// bucket, and the window equals the samples of its seconds, also when a
// report of the previous second comes in after one of the next.
func TestAggregateTotalIsSumOfEndpoints(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 9))
	a := NewAggregate(AggregateOptions{})
	a.Start(at(0))
	var window Histogram // what the last 10 s and the current second saw
	var all Entry        // everything, merged row by row
	for sec := range 25 {
		for i := range 4 {
			d := randomDelta(r)
			for _, e := range d.Endpoints {
				all.Merge(e)
			}
			s := sec
			if i == 2 && sec > 0 {
				s = sec - 1 // late: read after one of the next second
			}
			a.AddData(dataOf(t, d, HistogramData.Compact), at(float64(s)+0.3))
			if s >= 25-11 {
				for _, e := range d.Endpoints {
					window.Merge(&e.Hist)
				}
			}
		}
	}
	a.mu.Lock() // as every reader does
	a.flush()
	a.mu.Unlock()
	var sum Entry
	for _, ep := range a.endpoints {
		sum.Merge(&ep.Entry)
	}
	tot := &a.total.Entry
	if !reflect.DeepEqual(tot.Hist.Data(), sum.Hist.Data()) || tot.Hist.Count() != sum.Hist.Count() ||
		tot.Hist.Min() != sum.Hist.Min() || tot.Hist.Max() != sum.Hist.Max() {
		t.Error("the total histogram differs from the sum of the endpoints' histograms")
	}
	if tot.Requests != sum.Requests || tot.Failures != sum.Failures || tot.SumUS != sum.SumUS || tot.Bytes != sum.Bytes {
		t.Errorf("total counts %+v, endpoints sum to %+v", *tot, sum)
	}
	if !reflect.DeepEqual(tot.Hist.Data(), all.Hist.Data()) || tot.Requests != all.Requests || tot.SumUS != all.SumUS {
		t.Error("the total differs from every row received, merged one by one")
	}
	p50, p95, p99 := a.windowPercentiles(at(24.5))
	if p50 != window.Quantile(0.5)/1000 || p95 != window.Quantile(0.95)/1000 || p99 != window.Quantile(0.99)/1000 {
		t.Errorf("window p50/95/99 = %v/%v/%v, samples of the window give %v/%v/%v", p50, p95, p99,
			window.Quantile(0.5)/1000, window.Quantile(0.95)/1000, window.Quantile(0.99)/1000)
	}
	if a.sum.Requests != 0 || a.sum.Hist.Count() != 0 || len(a.pending) != 0 {
		t.Error("the second's sum was not emptied")
	}
	for k, ep := range a.endpoints {
		if ep.dirty || !sameCounts(&ep.seen, &ep.Hist) {
			t.Errorf("%v: the counts added to the totals are not the endpoint's", k)
		}
	}
}

// sameRows checks that got has rows rows and every figure of want's.
func sameRows(t *testing.T, got, want Snapshot, rows int) {
	t.Helper()
	if len(got.Endpoints) != len(want.Endpoints) || len(got.Endpoints) != rows {
		t.Fatalf("%d rows, want %d and %d", len(got.Endpoints), len(want.Endpoints), rows)
	}
	for i := range want.Endpoints {
		if g, w := figures(got.Endpoints[i]), figures(want.Endpoints[i]); g != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, g, w)
		}
	}
	if g, w := figures(got.Total), figures(want.Total); g != w {
		t.Errorf("total:\n got %s\nwant %s", g, w)
	}
}

// sameCounts reports whether x and y count the same in every bucket.
func sameCounts(x, y *Histogram) bool {
	at := func(h *Histogram, b int) uint64 {
		if j := b - h.first; j >= 0 && j < len(h.counts) {
			return h.counts[j]
		}
		return 0
	}
	for b := range NumBuckets {
		if at(x, b) != at(y, b) {
			return false
		}
	}
	return true
}

// A master's streams merge reports at once, each decoding into a
// DeltaData it reuses: the totals, the window and every row come out as
// when the same reports are merged one by one, each in a fresh DeltaData.
func TestAggregateAddDataConcurrently(t *testing.T) {
	t.Parallel()
	const streams, reports = 8, 40
	deltas := make([][]*Delta, streams)
	r := rand.New(rand.NewPCG(4, 2))
	for i := range deltas {
		for range reports {
			deltas[i] = append(deltas[i], randomDelta(r))
		}
	}
	serial, parallel := NewAggregate(AggregateOptions{}), NewAggregate(AggregateOptions{})
	serial.Start(at(0))
	parallel.Start(at(0))
	for i := range deltas {
		for j, d := range deltas[i] {
			serial.AddData(dataOf(t, d, HistogramData.Compact), at(float64(j)/4))
		}
	}
	var wg sync.WaitGroup
	for i := range deltas {
		wg.Go(func() {
			reused := &DeltaData{}
			for j, d := range deltas[i] {
				x := dataOf(t, d, HistogramData.Compact)
				reused.Reset()
				reused.Endpoints = append(reused.Endpoints, x.Endpoints...)
				maps.Copy(reused.Errors, x.Errors)
				maps.Copy(reused.Exceptions, x.Exceptions)
				reused.Dropped = x.Dropped
				parallel.AddData(reused, at(float64(j)/4))
			}
		})
	}
	wg.Wait()
	want, got := serial.Snapshot(at(10.5)), parallel.Snapshot(at(10.5))
	for _, s := range []*Snapshot{&want, &got} { // functions are never DeepEqual
		s.Total.Percentile, s.Total.CountAtMost = nil, nil
		for i := range s.Endpoints {
			s.Endpoints[i].Percentile, s.Endpoints[i].CountAtMost = nil, nil
		}
	}
	if !reflect.DeepEqual(want.Total, got.Total) {
		t.Errorf("total merged concurrently %+v, one by one %+v", got.Total, want.Total)
	}
	if !reflect.DeepEqual(want.Endpoints, got.Endpoints) || !reflect.DeepEqual(want.Errors, got.Errors) ||
		!reflect.DeepEqual(want.Exceptions, got.Exceptions) || want.Dropped != got.Dropped {
		t.Errorf("rows merged concurrently differ from rows merged one by one")
	}
	if wt, gt := serial.total.Hist.Data(), parallel.total.Hist.Data(); !reflect.DeepEqual(wt, gt) {
		t.Error("the total histogram merged concurrently differs")
	}
}

func TestDeltaDataRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	d := randomDelta(r)
	d.Errors[ErrorKey{Key: Key{"GET", "/e/1"}, Error: "HTTP 502"}] = 1
	d.Exceptions["boom"] = ExceptionGroup{Count: 2, Traceback: "tb"}
	dd := dataOf(t, d, toRuns)
	back := dd.Delta()
	if len(back.Endpoints) != len(d.Endpoints) || !reflect.DeepEqual(back.Errors, d.Errors) ||
		!reflect.DeepEqual(back.Exceptions, d.Exceptions) || back.Dropped != d.Dropped {
		t.Fatalf("Delta() = %+v, want %+v", back, d)
	}
	for k, e := range d.Endpoints {
		b := back.Endpoints[k]
		if b == nil || b.Requests != e.Requests || b.Failures != e.Failures || b.SumUS != e.SumUS ||
			b.Bytes != e.Bytes || !reflect.DeepEqual(b.Hist.Data(), e.Hist.Data()) {
			t.Errorf("%v: %+v, want %+v", k, b, e)
		}
	}
	wantReq, wantFail := d.Requests()
	if req, fail := dd.Requests(); req != wantReq || fail != wantFail {
		t.Errorf("requests/failures %d/%d, want the Delta's", req, fail)
	}
	dd.Errors[ErrorKey{}] = 5 // Delta shares no memory with dd
	dd.Reset()
	if len(dd.Endpoints) != 0 || len(dd.Errors) != 0 || len(dd.Exceptions) != 0 || dd.Dropped != 0 || !reflect.DeepEqual(back.Errors, d.Errors) {
		t.Errorf("after Reset: %+v; the Delta's errors: %v", dd, back.Errors)
	}
}

// TestRowCacheGivesWhatLookupsGive: a stream's rows that go where the
// same rows of its last report went, when they have the same names, land
// in the same rows as when looked up by name: rows moving, coming and
// going between reports, names past the cap in the overflow row, and a
// Reset in between.
func TestRowCacheGivesWhatLookupsGive(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 13))
	lookup, cached := NewAggregate(AggregateOptions{MaxEndpoints: 10}), NewAggregate(AggregateOptions{MaxEndpoints: 10})
	caches := make([]RowCache, 3) // one per worker stream
	last := make([]*DeltaData, len(caches))
	for sec := range 30 {
		if sec == 13 { // before reports that repeat the last ones' rows
			lookup.Reset(at(float64(sec)))
			cached.Reset(at(float64(sec)))
		}
		for w := range caches {
			d := dataOf(t, randomDelta(r), HistogramData.Compact)
			switch {
			case sec%3 == 1: // the same rows in the same order
				d = last[w]
			case sec%3 == 2: // the same rows, moved by one
				d = &DeltaData{Endpoints: append(slices.Clone(last[w].Endpoints[1:]), last[w].Endpoints[0])}
			}
			last[w] = d
			when := at(float64(sec) + float64(w)/10)
			lookup.AddData(d, when)
			cached.AddStream(d, when, &caches[w])
		}
	}
	want, got := lookup.Snapshot(at(30.5)), cached.Snapshot(at(30.5))
	sameRows(t, got, want, 11) // 10 and the overflow row
}
