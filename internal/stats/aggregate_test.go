package stats

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

// t0 is the artificial clock's origin, on a whole second.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// deltaOf returns a Delta of n requests to k, the first fails of them
// failing, all with the given latency.
func deltaOf(k Key, n, fails int, latency time.Duration) *Delta {
	c := NewCollector(1)
	for i := range n {
		s := Sample{Key: k, Latency: latency, Bytes: 100}
		if i < fails {
			s.Err = "HTTP 503"
		}
		c.Record(s)
	}
	return c.Cut()
}

var keyIndex = Key{"GET", "/"}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestAggregateWindowRates(t *testing.T) {
	t.Parallel()
	type add struct {
		sec      float64
		n, fails int
	}
	steady := func(from, to int, n, fails int) []add {
		var out []add
		for s := from; s < to; s++ {
			out = append(out, add{float64(s) + 0.5, n, fails})
		}
		return out
	}
	tests := []struct {
		name     string
		window   time.Duration
		start    float64
		adds     []add
		now      float64
		rps, fps float64
	}{
		{"steady 100 rps", 0, 0, steady(0, 20, 100, 10), 20.2, 100, 10},
		{"current second excluded", 0, 0, append(steady(0, 20, 100, 10), add{20.1, 5000, 5000}), 20.9, 100, 10},
		{"ramp up: only elapsed part of the window", 0, 0, steady(0, 4, 50, 0), 4.5, 50, 0},
		{"start mid-second", 0, 0.5, []add{{0.7, 50, 5}}, 1.3, 100, 10},
		{"no full second yet", 0, 0.5, []add{{0.7, 50, 5}}, 0.9, 0, 0},
		{"load stopped", 0, 0, steady(0, 10, 100, 0), 30, 0, 0},
		{"load stopped 5 s ago", 0, 0, steady(0, 20, 100, 0), 25, 50, 0},
		{"5 s window", 5 * time.Second, 0, append(steady(0, 10, 10, 0), steady(10, 20, 30, 3)...), 20, 30, 3},
		{"window rounded up to whole seconds", 1500 * time.Millisecond, 0, steady(0, 10, 10, 0), 10, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := NewAggregate(AggregateOptions{Window: tt.window})
			a.Start(at(tt.start))
			for _, ad := range tt.adds {
				a.Add(deltaOf(keyIndex, ad.n, ad.fails, time.Millisecond), at(ad.sec))
			}
			s := a.Snapshot(at(tt.now))
			if !near(s.Total.CurrentRPS, tt.rps) || !near(s.Total.CurrentFailPerSec, tt.fps) {
				t.Errorf("total current rps/fps = %v/%v, want %v/%v", s.Total.CurrentRPS, s.Total.CurrentFailPerSec, tt.rps, tt.fps)
			}
			if len(s.Endpoints) == 1 && (!near(s.Endpoints[0].CurrentRPS, tt.rps) || !near(s.Endpoints[0].CurrentFailPerSec, tt.fps)) {
				t.Errorf("endpoint current rps/fps = %v/%v, want %v/%v",
					s.Endpoints[0].CurrentRPS, s.Endpoints[0].CurrentFailPerSec, tt.rps, tt.fps)
			}
			a.Tick(at(tt.now), 7)
			if h := a.Snapshot(at(tt.now)).History; len(h) != 1 || !near(h[0].CurrentRPS, tt.rps) || h[0].Users != 7 {
				t.Errorf("history = %+v, want one point with rps %v and 7 users", h, tt.rps)
			}
		})
	}
}

func TestAggregateLateDeltaCountsButNotInWindow(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{})
	a.Start(at(0))
	a.Add(deltaOf(keyIndex, 10, 0, time.Millisecond), at(30.5))
	a.Add(deltaOf(keyIndex, 99, 0, time.Millisecond), at(19.5)) // its slot now holds second 30
	s := a.Snapshot(at(31))
	if s.Total.Requests != 109 || s.Total.CurrentRPS != 1 {
		t.Errorf("requests %d current rps %v, want 109 and 1", s.Total.Requests, s.Total.CurrentRPS)
	}
}

func TestAggregateSnapshotRows(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{})
	a.Start(at(0))
	d := deltaOf(Key{"POST", "/b"}, 10, 2, 2*time.Millisecond)
	d.Merge(deltaOf(Key{"GET", "/b"}, 20, 0, 4*time.Millisecond))
	d.Merge(deltaOf(Key{"GET", "/a"}, 30, 0, 8*time.Millisecond))
	a.Add(d, at(1))
	s := a.Snapshot(at(10))
	var order []string
	for _, r := range s.Endpoints {
		order = append(order, r.Method+" "+r.Name)
	}
	if fmt.Sprint(order) != "[GET /a GET /b POST /b]" {
		t.Errorf("row order = %v, want [GET /a GET /b POST /b]", order)
	}
	tot := s.Total
	if tot.Name != TotalName || tot.Method != "" || tot.Requests != 60 || tot.Failures != 2 || tot.RPS != 6 {
		t.Errorf("total row = %+v", tot)
	}
	if tot.Latency.Min != 2 || tot.Latency.Max != 8 || !near(tot.Latency.Avg, (10*2+20*4+30*8)/60.0) || tot.BytesAvg != 100 {
		t.Errorf("total latency = %+v bytes avg %v", tot.Latency, tot.BytesAvg)
	}
	if s.Duration != 10*time.Second || !s.Started.Equal(at(0)) || !s.Time.Equal(at(10)) {
		t.Errorf("duration %v started %v time %v", s.Duration, s.Started, s.Time)
	}
	p := s.Endpoints[0].Percentile
	if p(0.5) != 8 || p(0.5) != s.Endpoints[0].Latency.P50 {
		t.Errorf("GET /a p50 = %v, latency.P50 = %v, want 8", p(0.5), s.Endpoints[0].Latency.P50)
	}
	a.Add(deltaOf(Key{"GET", "/a"}, 1000, 0, time.Second), at(2))
	if p(0.5) != 8 || tot.Percentile(0.99) != 8 {
		t.Error("a snapshot's Percentile changed after a later Add")
	}
}

func TestAggregateOverflowRow(t *testing.T) {
	t.Parallel()
	var warnings []string
	a := NewAggregate(AggregateOptions{MaxEndpoints: 3, OnWarning: func(m string) { warnings = append(warnings, m) }})
	d := NewDelta()
	for _, name := range []string{"/e", "/d", "/c", "/b", "/a"} {
		d.Merge(deltaOf(Key{"GET", name}, 10, 1, time.Millisecond))
	}
	a.Add(d, at(0))
	a.Add(deltaOf(Key{"GET", "/f"}, 5, 0, time.Millisecond), at(1))
	a.Add(deltaOf(Key{"GET", "/a"}, 5, 0, time.Millisecond), at(2))
	s := a.Snapshot(at(3))
	got := map[Key]int64{}
	for _, r := range s.Endpoints {
		got[Key{r.Method, r.Name}] = r.Requests
	}
	want := map[Key]int64{{"GET", "/a"}: 15, {"GET", "/b"}: 10, {"GET", "/c"}: 10, {"", OverflowName}: 25}
	if !mapsEqual(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	if s.Total.Requests != 60 || s.Total.Failures != 5 {
		t.Errorf("total = %d requests %d failures, want 60 and 5: overflow must lose nothing", s.Total.Requests, s.Total.Failures)
	}
	if len(warnings) != 1 || len(s.Warnings) != 1 || len(a.Warnings()) != 1 || warnings[0] != s.Warnings[0] {
		t.Errorf("warnings: callback %q, snapshot %q; want exactly one", warnings, s.Warnings)
	}
}

func TestAggregateErrorsAndExceptions(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{MaxErrors: 2})
	a.Add(&Delta{Errors: map[ErrorKey]int64{
		{Key{"GET", "/"}, "HTTP 500"}: 3,
		{Key{"GET", "/x"}, "timeout"}: 5,
	}, Exceptions: map[string]ExceptionGroup{"boom": {Count: 1, Traceback: "tb1"}}}, at(1))
	a.Add(&Delta{Errors: map[ErrorKey]int64{
		{Key{"GET", "/"}, "HTTP 500"}: 4,
		{Key{"GET", "/y"}, "reset"}:   1,
	}, Exceptions: map[string]ExceptionGroup{
		"boom": {Count: 2, Traceback: "tb2"}, "b": {Count: 1}, "c": {Count: 1},
	}}, at(4))
	s := a.Snapshot(at(5))
	want := []ErrorRow{
		{Method: "GET", Name: "/", Error: "HTTP 500", Count: 7, FirstSeen: at(1), LastSeen: at(4)},
		{Method: "GET", Name: "/x", Error: "timeout", Count: 5, FirstSeen: at(1), LastSeen: at(1)},
		{Method: "", Name: OverflowName, Error: OverflowError, Count: 1, FirstSeen: at(4), LastSeen: at(4)},
	}
	if fmt.Sprint(s.Errors) != fmt.Sprint(want) {
		t.Errorf("errors =\n%v\nwant\n%v", s.Errors, want)
	}
	if len(s.Exceptions) != 3 || s.Exceptions[0] != (ExceptionRow{Count: 3, Message: "boom", Traceback: "tb1"}) ||
		s.Exceptions[1].Count+s.Exceptions[2].Count != 2 {
		t.Errorf("exceptions = %+v", s.Exceptions)
	}
	if len(s.Warnings) != 2 {
		t.Errorf("warnings = %q, want one for errors and one for exceptions", s.Warnings)
	}
}

func TestAggregateWindowPercentiles(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{})
	a.Start(at(0))
	for s := range 10 {
		a.Add(deltaOf(keyIndex, 100, 0, time.Millisecond), at(float64(s)+0.5))
	}
	a.Tick(at(9.9), 1)
	for s := 20; s < 30; s++ {
		a.Add(deltaOf(keyIndex, 100, 0, 100*time.Millisecond), at(float64(s)+0.5))
	}
	a.Tick(at(29.9), 1)
	h := a.Snapshot(at(30)).History
	if len(h) != 2 {
		t.Fatalf("%d history points, want 2", len(h))
	}
	for i, want := range []float64{1, 100} {
		if h[i].P50 != want || h[i].P95 != want || h[i].P99 != want {
			t.Errorf("point %d: p50/95/99 = %v/%v/%v, want %v (window only)", i, h[i].P50, h[i].P95, h[i].P99, want)
		}
	}
	if h[1].Requests != 2000 || h[1].Failures != 0 {
		t.Errorf("cumulative requests %d failures %d, want 2000 and 0", h[1].Requests, h[1].Failures)
	}
}

func TestAggregateHistoryBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		recent, archive int
		ticks           int
	}{
		{"defaults, 100,000 ticks", 0, 0, 100000},
		{"small, 100,000 ticks", 50, 100, 100000},
		{"fewer ticks than the ring", 0, 0, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := NewAggregate(AggregateOptions{HistoryRecent: tt.recent, HistoryArchive: tt.archive})
			a.Start(at(0))
			for i := range tt.ticks {
				a.Tick(at(float64(i)), i)
			}
			h := a.Snapshot(at(float64(tt.ticks))).History
			opts := a.opts
			if len(h) > opts.HistoryRecent+opts.HistoryArchive || len(h) < min(tt.ticks, opts.HistoryRecent) {
				t.Fatalf("%d points, want between %d and %d", len(h), opts.HistoryRecent, opts.HistoryRecent+opts.HistoryArchive)
			}
			if !h[0].Time.Equal(at(0)) || !h[len(h)-1].Time.Equal(at(float64(tt.ticks-1))) {
				t.Errorf("history covers %v..%v, want the whole test", h[0].Time, h[len(h)-1].Time)
			}
			for i := 1; i < len(h); i++ {
				if !h[i].Time.After(h[i-1].Time) {
					t.Fatalf("point %d not after point %d", i, i-1)
				}
			}
			recent := h[len(h)-min(len(h), opts.HistoryRecent):]
			for i := 1; i < len(recent); i++ {
				if recent[i].Time.Sub(recent[i-1].Time) != time.Second {
					t.Fatalf("recent points are not one second apart at %d", i)
				}
			}
		})
	}
}

func TestAggregateTickOncePerSecond(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{})
	a.Tick(at(1.1), 1)
	a.Tick(at(1.6), 2)
	a.Tick(at(2.0), 3)
	h := a.Snapshot(at(3)).History
	if len(h) != 2 || h[0].Users != 2 || h[1].Users != 3 {
		t.Errorf("history = %+v, want users 2 then 3", h)
	}
}

func TestAggregateReset(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{MaxEndpoints: 2})
	a.Start(at(0))
	for i := range 5 {
		d := deltaOf(Key{"GET", fmt.Sprint("/", i)}, 10, 5, time.Second)
		d.Exceptions = map[string]ExceptionGroup{"x": {Count: 1}}
		a.Add(d, at(float64(i)))
		a.Tick(at(float64(i)), 10)
	}
	a.Reset(at(10))
	s := a.Snapshot(at(12))
	if len(s.Endpoints) != 0 || s.Total.Requests != 0 || len(s.Errors) != 0 || len(s.Exceptions) != 0 ||
		len(s.History) != 0 || s.Total.CurrentRPS != 0 || !s.Started.Equal(at(10)) {
		t.Fatalf("after Reset: %+v", s)
	}
	if len(a.endpoints) != 0 || a.total.Hist.SizeBytes() > 64 {
		t.Error("Reset kept the old rows' memory")
	}
	a.Add(deltaOf(keyIndex, 30, 0, time.Millisecond), at(11.5))
	s = a.Snapshot(at(13))
	if s.Total.Requests != 30 || s.Total.RPS != 10 || s.Total.CurrentRPS != 10 || s.Total.Latency.Max != 1 {
		t.Errorf("after Reset and 30 requests: %+v", s.Total)
	}
}

func TestAggregateConcurrentUse(t *testing.T) {
	t.Parallel()
	a := NewAggregate(AggregateOptions{})
	a.Start(at(0))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				a.Add(deltaOf(Key{"GET", fmt.Sprint("/", w)}, 10, 1, time.Millisecond), at(float64(i)))
				_ = a.Snapshot(at(float64(i)))
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			a.Tick(at(float64(i)), i)
		}
	})
	wg.Wait()
	s := a.Snapshot(at(50))
	if s.Total.Requests != 8*50*10 || s.Total.Failures != 8*50 || len(s.Endpoints) != 8 {
		t.Errorf("total %d requests %d failures %d rows, want 4000, 400, 8", s.Total.Requests, s.Total.Failures, len(s.Endpoints))
	}
}
