package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// within reports whether got is want within the histogram's error.
func within(got, want float64) bool { return relErr(got, want) <= MaxRelativeError }

// rowNames lists a point's rows as "METHOD name", the aggregate last.
func rowNames(p EndpointHistoryPoint) []string {
	var out []string
	for _, r := range append(slices.Clone(p.Endpoints), p.Total) {
		out = append(out, r.Method+" "+r.Name)
	}
	return out
}

// TestEndpointHistoryCurrentPercentiles is Locust's full-history check:
// an endpoint answers in 100 ms, then in 10 ms; its rows' percentiles
// follow the last window (Locust's "current" values) while its counts and
// median stay cumulative, and a second endpoint gets rows from its first
// request on.
func TestEndpointHistoryCurrentPercentiles(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{EndpointHistory: true})
	a.Start(at(0))
	login := Key{"POST", "/login"}
	for s := range 25 {
		lat := 100 * time.Millisecond
		if s >= 10 {
			lat = 10 * time.Millisecond
		}
		d := deltaOf(keyIndex, 100, 0, lat)
		if s >= 5 {
			d.Merge(deltaOf(login, 10, 10, 50*time.Millisecond))
		}
		a.Add(d, at(float64(s)+0.5))
		a.Tick(at(float64(s)+0.9), s)
	}
	s := a.Snapshot(at(25))
	eh := s.EndpointHistory
	if len(eh) != 25 || len(s.History) != 25 {
		t.Fatalf("%d per-endpoint points, %d aggregate points, want 25 of each", len(eh), len(s.History))
	}
	for i, p := range eh {
		want := []string{"GET /", "POST /login", " Aggregated"}
		if i < 5 {
			want = []string{"GET /", " Aggregated"}
		}
		if got := rowNames(p); !slices.Equal(got, want) {
			t.Fatalf("point %d rows %q, want %q", i, got, want)
		}
		if !p.Time.Equal(s.History[i].Time) || p.Users != i {
			t.Errorf("point %d at %v with %d users, want %v and %d", i, p.Time, p.Users, s.History[i].Time, i)
		}
	}
	p95 := func(i int) float64 { return eh[i].Endpoints[0].Quantiles[5] }
	if !within(p95(9), 100) || !within(p95(24), 10) {
		t.Errorf("GET / 95%% = %v at 9 s and %v at 24 s, want 100 then 10 (the window's)", p95(9), p95(24))
	}
	// At 14.9 s the window holds seconds 5-14: 500 requests of 100 ms
	// and 500 of 10 ms, so 50% is 10 and 66% is 100.
	if q := eh[14].Endpoints[0].Quantiles; !within(q[0], 10) || !within(q[1], 100) || !within(q[10], 100) {
		t.Errorf("GET / at 14.9 s: 50%%/66%%/100%% = %v/%v/%v, want 10/100/100", q[0], q[1], q[10])
	}
	last := eh[24]
	root, lg, tot := last.Endpoints[0], last.Endpoints[1], last.Total
	if root.Requests != 2500 || root.Failures != 0 || !within(root.Median, 10) || root.Min != 10 || root.Max != 100 ||
		!near(root.Avg, (1000*100+1500*10)/2500.0) || root.BytesAvg != 100 {
		t.Errorf("GET / cumulative figures = %+v", root)
	}
	if lg.Requests != 200 || lg.Failures != 200 || !near(lg.CurrentRPS, 10) || !near(lg.CurrentFailPerSec, 10) {
		t.Errorf("POST /login = %+v, want 200 requests and failures, 10/s of each", lg)
	}
	if tot.Requests != 2700 || tot.Failures != 200 || !near(tot.CurrentRPS, 110) || !within(tot.Quantiles[10], 50) || !within(tot.Quantiles[0], 10) {
		t.Errorf("aggregate row = %+v, want 2700 requests at 110/s, window 50%% 10 and 100%% 50", tot)
	}
}

// TestWindowQuantilesExact checks the window's percentiles against the
// exact nearest-rank quantiles of the samples recorded since the copy.
func TestWindowQuantilesExact(t *testing.T) {
	t.Parallel()
	qs := HistoryQuantiles()
	for name, samples := range latencySets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(3, 5))
			var cur Histogram
			before := len(samples) / 3
			for _, v := range samples[:before] {
				cur.Record(v * int64(1+r.IntN(3))) // earlier samples differ from the window's
			}
			base := cur.Clone()
			window := slices.Clone(samples[before:])
			for _, v := range window {
				cur.Record(v)
			}
			if len(window) == 0 {
				window, base = samples, nil
				for _, v := range samples {
					cur.Record(v)
				}
			}
			slices.Sort(window)
			got := windowQuantiles(&cur, base, qs)
			for i, q := range qs {
				want := exactQuantile(window, q) / 1000
				if e := relErr(got[i], want); e > MaxRelativeError+1e-12 {
					t.Errorf("q%v = %v ms, exact %v ms: error %.4f > %.4f", q, got[i], want, e, MaxRelativeError)
				}
			}
		})
	}
	var h Histogram
	h.Record(5000)
	if got := windowQuantiles(&h, h.Clone(), qs); got != ([11]float64{}) {
		t.Errorf("empty window = %v, want zeros", got)
	}
}

func TestEndpointHistoryOffByDefault(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{})
	for s := range 30 {
		a.Add(deltaOf(Key{"GET", fmt.Sprint("/", s%3)}, 10, 1, time.Millisecond), at(float64(s)))
		a.Tick(at(float64(s)), 1)
	}
	if s := a.Snapshot(at(30)); s.EndpointHistory != nil || len(s.History) != 30 {
		t.Errorf("%d per-endpoint points, %d aggregate points; want none and 30", len(s.EndpointHistory), len(s.History))
	}
	if a.epHist.len() != 0 || a.total.ticks != nil {
		t.Error("the per-endpoint history holds memory while off")
	}
	for k, ep := range a.endpoints {
		if ep.ticks != nil {
			t.Errorf("%v keeps histogram copies while the option is off", k)
		}
	}
}

// TestEndpointHistoryBounded: a long test keeps the per-endpoint history
// within the aggregate history's bounds, at its seconds, and never more
// rows per point than the cap on names allows.
func TestEndpointHistoryBounded(t *testing.T) {
	t.Parallel()
	const ticks = 20000
	a := NewAggregate(AggregateOptions{EndpointHistory: true, MaxEndpoints: 3, HistoryRecent: 50, HistoryArchive: 100})
	a.Start(at(0))
	for i := range ticks {
		a.Add(deltaOf(Key{"GET", fmt.Sprint("/", i%5)}, 1, 0, time.Millisecond), at(float64(i)))
		a.Tick(at(float64(i)), i)
	}
	s := a.Snapshot(at(ticks))
	eh := s.EndpointHistory
	if len(eh) != len(s.History) || len(eh) > 150 || len(eh) < 50 {
		t.Fatalf("%d per-endpoint points, %d aggregate points; want the same number, 50..150", len(eh), len(s.History))
	}
	for i, p := range eh {
		if !p.Time.Equal(s.History[i].Time) {
			t.Fatalf("point %d at %v, aggregate point at %v", i, p.Time, s.History[i].Time)
		}
		if len(p.Endpoints) > 4 {
			t.Fatalf("point %d has %d rows, want at most 3 names and the overflow row", i, len(p.Endpoints))
		}
	}
	if !eh[0].Time.Equal(at(0)) || !eh[len(eh)-1].Time.Equal(at(ticks-1)) {
		t.Errorf("per-endpoint history covers %v..%v, want the whole test", eh[0].Time, eh[len(eh)-1].Time)
	}
	if got := rowNames(eh[len(eh)-1]); !slices.Equal(got, []string{" " + OverflowName, "GET /0", "GET /1", "GET /2", " Aggregated"}) {
		t.Errorf("last point's rows %q", got)
	}
	for _, ep := range a.endpoints {
		if n := len(ep.ticks.secs); n != a.winSec+1 {
			t.Errorf("an endpoint keeps %d histogram copies, want %d", n, a.winSec+1)
		}
	}
}

func TestEndpointHistoryTickOncePerSecondAndReset(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{EndpointHistory: true})
	a.Add(deltaOf(keyIndex, 10, 0, time.Millisecond), at(1.05))
	a.Tick(at(1.1), 1)
	a.Add(deltaOf(keyIndex, 10, 0, 3*time.Millisecond), at(1.5))
	a.Tick(at(1.6), 2)
	eh := a.Snapshot(at(2)).EndpointHistory
	if len(eh) != 1 || eh[0].Users != 2 || eh[0].Endpoints[0].Requests != 20 || !within(eh[0].Endpoints[0].Quantiles[10], 3) {
		t.Fatalf("points = %+v, want one, the second tick's", eh)
	}
	a.Reset(at(5))
	if eh := a.Snapshot(at(6)).EndpointHistory; len(eh) != 0 {
		t.Errorf("after Reset: %d points, want none", len(eh))
	}
	a.Add(deltaOf(keyIndex, 4, 0, 7*time.Millisecond), at(5.5))
	a.Tick(at(5.9), 3)
	eh = a.Snapshot(at(6)).EndpointHistory
	if len(eh) != 1 || eh[0].Total.Requests != 4 || !within(eh[0].Total.Quantiles[0], 7) {
		t.Errorf("after Reset and 4 requests: %+v", eh)
	}
}

// TestEndpointHistorySnapshotsIndependent: a snapshot's rows do not move
// when later ticks replace or thin points.
func TestEndpointHistorySnapshotsIndependent(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{EndpointHistory: true, HistoryRecent: 2, HistoryArchive: 2})
	a.Add(deltaOf(keyIndex, 1, 0, time.Millisecond), at(0))
	a.Tick(at(0.5), 1)
	before := a.Snapshot(at(1)).EndpointHistory
	for i := 1; i < 50; i++ {
		a.Add(deltaOf(keyIndex, 1, 0, time.Duration(i)*time.Millisecond), at(float64(i)))
		a.Tick(at(float64(i)+0.5), i)
	}
	if r := before[0].Endpoints[0]; len(before) != 1 || r.Requests != 1 || !within(r.Quantiles[0], 1) || math.IsNaN(r.Avg) {
		t.Errorf("an earlier snapshot changed: %+v", before)
	}
}
