package runner

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// counting is a task that counts its runs and records one 5 ms sample.
func counting(name string, n *atomic.Int64) scenario.Task {
	return scenario.Task{Name: name, Weight: 1, Fn: func(_ context.Context, vu *scenario.VU) error {
		n.Add(1)
		vu.Rec.Record(stats.Sample{Key: stats.Key{Method: "GET", Name: name}, Latency: 5 * time.Millisecond})
		return nil
	}}
}

func TestOpenConstantRateRealClock(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0, counting("t", &runs))}}, true, nil)
	start := time.Now()
	rig.r.SetArrivals(200, 1000, 0)
	rig.waitArrivals(t, 200)
	elapsed := time.Since(start)
	rig.stop(t)
	// No more than the schedule had due when the stop returned (a busy
	// machine may take a while to stop; the schedule never runs ahead).
	due := int64(time.Since(start)*200/time.Second) + 1
	// Arrival 199 is due at 995 ms: 200 arrivals cannot come sooner.
	if elapsed < 990*time.Millisecond {
		t.Fatalf("200 arrivals at 200/s came in %v, faster than the schedule", elapsed)
	}
	if got, a := runs.Load(), rig.r.Arrivals(); got != a || rig.r.Dropped() != 0 {
		t.Fatalf("%d tasks ran for %d arrivals, %d dropped; want every arrival run once", got, a, rig.r.Dropped())
	}
	if got := runs.Load(); got < 200 || got > due {
		t.Fatalf("%d tasks ran, want 200 to %d (what was due at the stop)", got, due)
	}
}

func TestOpenCountsFollowTheSchedule(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0, counting("t", &runs))}}, false, nil)
	rig.r.SetArrivals(200, 1000, 0)
	if rig.r.Target() != 1000 {
		t.Fatalf("Target() = %d, want maxUsers 1000", rig.r.Target())
	}
	rig.clock.Add(997 * time.Millisecond) // arrivals 0…199 (199 at 995 ms)
	rig.waitArrivals(t, 200)
	rig.stop(t)
	if a, d := rig.r.Arrivals(), rig.r.Dropped(); a != 200 || d != 0 || runs.Load() != 200 {
		t.Fatalf("arrivals %d, dropped %d, tasks %d; want 200, 0, 200", a, d, runs.Load())
	}
}

func TestOpenDropsWhenNoUserIsFree(t *testing.T) {
	t.Parallel()
	var started atomic.Int64
	block := scenario.Task{Name: "block", Weight: 1, Fn: func(ctx context.Context, _ *scenario.VU) error {
		started.Add(1)
		<-ctx.Done()
		return nil
	}}
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0, block)}}, false, nil)
	rig.r.SetArrivals(100, 2, 0)
	rig.clock.Add(95 * time.Millisecond) // arrivals 0…9
	rig.waitArrivals(t, 10)
	waitFor(t, 5*time.Second, "2 blocked tasks", func() bool { return started.Load() == 2 })
	if u, c := rig.r.Users(), rig.r.ClassCounts()["U"]; u != 2 || c != 2 {
		t.Fatalf("Users() = %d, ClassCounts()[U] = %d; want the pool of 2", u, c)
	}
	rig.stop(t)
	if a, d := rig.r.Arrivals(), rig.r.Dropped(); a != 2 || d != 8 {
		t.Fatalf("arrivals %d, dropped %d; want 2 and 8", a, d)
	}
	if n := rig.dropped.Load(); n != rig.r.Dropped() {
		t.Fatalf("OnDropped called %d times, Dropped() = %d", n, rig.r.Dropped())
	}
}

// The scheduler catches up arrivals it woke late for, and each one's first
// sample is charged how late its task started; later samples are not.
func TestOpenCorrectsCoordinatedOmission(t *testing.T) {
	t.Parallel()
	twice := scenario.Task{Name: "two", Weight: 1, Fn: func(_ context.Context, vu *scenario.VU) error {
		vu.Rec.Record(stats.Sample{Key: stats.Key{Name: "first"}, Latency: 5 * time.Millisecond})
		vu.Rec.Record(stats.Sample{Key: stats.Key{Name: "second"}, Latency: 5 * time.Millisecond})
		return nil
	}}
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0, twice)}}, false, nil)
	rig.r.SetArrivals(10, 100, 0)
	rig.waitArrivals(t, 1)
	waitFor(t, 5*time.Second, "the first task", func() bool { return len(rig.rec.latencies("second")) == 1 })
	rig.clock.Add(time.Second) // arrivals 1…10, due at 0.1 … 1.0 s, all start at 1.0 s
	rig.waitArrivals(t, 11)
	waitFor(t, 5*time.Second, "11 tasks", func() bool { return len(rig.rec.latencies("second")) == 11 })
	rig.stop(t)
	first := rig.rec.latencies("first")
	slices.Sort(first)
	for i, got := range first {
		lag := time.Duration(0)
		if i > 0 {
			lag = time.Duration(i-1) * 100 * time.Millisecond // 0 (arrival 10) … 900 ms (arrival 1)
		}
		if want := 5*time.Millisecond + lag; got != want {
			t.Fatalf("first samples %v: #%d is %v, want %v (5 ms + lag)", first, i, got, want)
		}
	}
	for _, got := range rig.rec.latencies("second") {
		if got != 5*time.Millisecond {
			t.Fatalf("a later sample of a task was changed: %v, want 5ms", got)
		}
	}
}

// on_start time is not charged to the arrival that made the user; the
// next arrival on that user is charged its lag.
func TestOpenDoesNotChargeOnStart(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	c := class("U", 1, 0, counting("t", &runs))
	var clock *fakeClock
	c.OnStart = func(context.Context, *scenario.VU) error { clock.Add(50 * time.Millisecond); return nil }
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, false, nil)
	clock = rig.clock
	rig.r.SetArrivals(10, 10, 0)
	waitFor(t, 5*time.Second, "the first task", func() bool { return runs.Load() == 1 })
	rig.clock.Add(80 * time.Millisecond) // now 130 ms: arrival 1 (due at 100 ms) starts 30 ms late
	waitFor(t, 5*time.Second, "the second task", func() bool { return runs.Load() == 2 })
	rig.stop(t)
	got := rig.rec.latencies("t")
	if want := []time.Duration{5 * time.Millisecond, 35 * time.Millisecond}; !slices.Equal(got, want) {
		t.Fatalf("latencies %v, want %v (on_start not charged, then 30 ms lag)", got, want)
	}
}

// Raising the rate neither bursts nor pauses: the 100 ms after the change
// hold 0.1 s × the new rate.
func TestOpenRateChangeIsContinuous(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0, counting("t", &runs))}}, false, nil)
	rig.r.SetArrivals(10, 1000, 0)
	rig.clock.Add(550 * time.Millisecond) // arrivals 0…5; 5.5 counted
	rig.waitArrivals(t, 6)
	rig.r.SetArrivals(1000, 1000, 0)
	before := rig.r.Arrivals()
	rig.clock.Add(100 * time.Millisecond)
	rig.waitArrivals(t, 106)
	rig.stop(t)
	if n := rig.r.Arrivals() - before; before != 6 || n != 100 {
		t.Fatalf("%d arrivals before the change, %d in the 100 ms after it; want 6 and 100", before, n)
	}
}

func TestOpenRampReachesTheRate(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0, counting("t", &runs))}}, false, nil)
	rig.r.SetArrivals(100, 1000, time.Second)
	if !rig.r.Ramping() {
		t.Fatal("Ramping() = false at the start of a ramp")
	}
	rig.clock.Add(999 * time.Millisecond) // the ramp 0→100/s counts 50 in its second
	rig.waitArrivals(t, 50)
	rig.clock.Add(time.Millisecond)
	if rig.r.Ramping() {
		t.Fatal("Ramping() = true after the ramp")
	}
	rig.waitArrivals(t, 51)
	after := rig.r.Arrivals() + rig.r.Dropped()
	rig.clock.Add(time.Second) // then 100/s: arrivals 51…150 (150 at 2 s)
	rig.waitArrivals(t, 151)
	rig.stop(t)
	if after != 51 || rig.r.Arrivals() != 151 || rig.r.Dropped() != 0 {
		t.Fatalf("%d arrivals by the end of the ramp, %d a second later (%d dropped); want 51, 151, 0",
			after, rig.r.Arrivals(), rig.r.Dropped())
	}
}

func TestOpenFollowsClassAndTaskWeights(t *testing.T) {
	t.Parallel()
	const total = 3000
	var x, y, z atomic.Int64
	a := class("A", 3, 0, counting("x", &x), counting("y", &y))
	a.Tasks[0].Weight = 2
	sc := &scenario.Scenario{Users: []*scenario.UserClass{a, class("B", 1, 0, counting("z", &z))}}
	rig := newOpen(t, sc, false, nil)
	rig.r.SetArrivals(total, 200, 0)
	for step := 1; step <= 100; step++ { // 30 arrivals a step, to keep the pool small
		rig.clock.Add(10 * time.Millisecond)
		rig.waitArrivals(t, min(int64(step*30), total))
	}
	rig.stop(t)
	// At 1 s exactly, arrival 3000 may have come too.
	if n := x.Load() + y.Load() + z.Load(); n != rig.r.Arrivals() || n < total || rig.r.Dropped() != 0 {
		t.Fatalf("tasks %d+%d+%d for %d arrivals, dropped %d; want ≥ %d, all run, none dropped",
			x.Load(), y.Load(), z.Load(), rig.r.Arrivals(), rig.r.Dropped(), total)
	}
	// Binomial shares, within 4 standard deviations.
	within := func(what string, got int64, n int64, p float64) {
		t.Helper()
		mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
		if math.Abs(float64(got)-mean) > 4*sd {
			t.Errorf("%s: %d of %d, want ≈ %.0f (± %.0f)", what, got, n, mean, 4*sd)
		}
	}
	within("class A (weight 3:1)", x.Load()+y.Load(), total, 0.75)
	within("task x in A (weight 2:1)", x.Load(), x.Load()+y.Load(), 2.0/3)
}

func TestOpenSequenceRunsInOrderPerUser(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	step := func(name string) scenario.Task {
		return scenario.Task{Name: name, Weight: 1, Fn: func(context.Context, *scenario.VU) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, name)
			return nil
		}}
	}
	c := class("S", 1, 0, step("a"), step("b"), step("c"))
	c.Sequential = true
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, false, nil)
	rig.r.SetArrivals(100, 1, 0)
	for n := range 7 {
		waitFor(t, 5*time.Second, "the next step", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == n+1 })
		waitFor(t, 5*time.Second, "the user back in the pool", func() bool { return rig.idleUsers() == 1 })
		rig.clock.Add(10 * time.Millisecond)
	}
	rig.stop(t)
	mu.Lock()
	defer mu.Unlock()
	if joined(got[:7]) != "abcabca" {
		t.Fatalf("one user ran %q, want abcabca", joined(got))
	}
}

// A lower maxUsers stops idle users at once and busy ones after their
// task; Stop ends the rest, and on_start/on_stop run once per user.
func TestOpenPoolCapAndStop(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	var starts, stops atomic.Int64
	var busy atomic.Int64
	c := class("U", 1, 0, scenario.Task{Name: "gated", Weight: 1, Fn: func(ctx context.Context, _ *scenario.VU) error {
		busy.Add(1)
		defer busy.Add(-1)
		select {
		case <-gate:
		case <-ctx.Done():
		}
		return nil
	}})
	c.OnStart = func(context.Context, *scenario.VU) error { starts.Add(1); return nil }
	c.OnStop = func(context.Context, *scenario.VU) error { stops.Add(1); return nil }
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, false, func(o *Options) { o.StopTimeout = time.Second })
	rig.r.SetArrivals(100, 5, 0)
	rig.r.SetTarget(50, 0)               // ignored in the open model
	rig.clock.Add(45 * time.Millisecond) // arrivals 0…4
	waitFor(t, 5*time.Second, "5 busy users", func() bool { return busy.Load() == 5 })
	rig.r.SetArrivals(100, 2, 0)
	if u, tg := rig.r.Users(), rig.r.Target(); u != 5 || tg != 2 {
		t.Fatalf("after lowering maxUsers with all busy: %d users, target %d; want 5 and 2", u, tg)
	}
	close(gate)
	waitFor(t, 5*time.Second, "the pool to shrink to 2", func() bool { return rig.r.Users() == 2 && stops.Load() == 3 })
	rig.stop(t)
	if starts.Load() != 5 || stops.Load() != 5 {
		t.Fatalf("on_start ran %d times, on_stop %d; want 5 and 5", starts.Load(), stops.Load())
	}
}

// stop_user() takes a user out of the pool (the next arrival starts a new
// one); a script error is recorded through the latency wrapper and the
// user stays.
func TestOpenStopUserAndScriptErrors(t *testing.T) {
	t.Parallel()
	var runs, starts atomic.Int64
	c := class("U", 1, 0, scenario.Task{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error {
		if runs.Add(1)%2 == 1 {
			return errors.New("boom")
		}
		return scenario.ErrStopUser
	}})
	c.OnStart = func(context.Context, *scenario.VU) error { starts.Add(1); return nil }
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, false, nil)
	rig.r.SetArrivals(10, 1, 0)
	for n := range 4 {
		waitFor(t, 5*time.Second, "the next task", func() bool {
			return runs.Load() == int64(n+1) && rig.r.Users() == (n+1)%2 && rig.idleUsers() == (n+1)%2
		})
		rig.clock.Add(100 * time.Millisecond)
	}
	rig.stop(t)
	rig.rec.mu.Lock()
	defer rig.rec.mu.Unlock()
	if starts.Load() != 2 || len(rig.rec.exceptions) != 2 || rig.r.Dropped() != 0 {
		t.Fatalf("users started %d, script errors %q, dropped %d; want 2, 2 boom, 0", starts.Load(), rig.rec.exceptions, rig.r.Dropped())
	}
}

// Settings given before Run wait for it: the schedule starts with Run,
// not with a burst of what was due since the call.
func TestOpenSetArrivalsBeforeRun(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	sc := &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0, counting("t", &runs))}}
	fac, err := httpx.NewFactory(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	r, err := New(Options{Scenario: sc, NewClient: fac.NewClient, Recorder: func(int) stats.Recorder { return &fakeRec{} }, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.SetArrivals(100, 10, 0)
	clock.Add(10 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	waitFor(t, 5*time.Second, "the first arrival", func() bool { return runs.Load() == 1 })
	clock.Add(15 * time.Millisecond) // one more
	waitFor(t, 5*time.Second, "the second arrival", func() bool { return runs.Load() == 2 })
	cancel()
	<-done
	if a := r.Arrivals(); a != 2 || r.Users() != 0 {
		t.Fatalf("arrivals %d, users %d after Run; want 2 and 0", a, r.Users())
	}
}

// After Stop the open model is over: a new SetArrivals starts a new
// schedule from its own origin, and SetTarget works again.
func TestOpenStopThenRestart(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	c := class("U", 1, 0, counting("t", &runs))
	c.Wait = scenario.Constant{D: time.Hour} // for the closed model at the end
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, false, nil)
	rig.r.SetArrivals(100, 10, 0)
	rig.waitArrivals(t, 1)
	rig.stop(t)
	rig.clock.Add(time.Hour)
	rig.r.SetArrivals(100, 10, 0)
	rig.waitArrivals(t, 2)
	rig.stop(t)
	if a := rig.r.Arrivals(); a != 2 {
		t.Fatalf("%d arrivals; want 1 per schedule, no catch-up of the hour between", a)
	}
	rig.r.SetTarget(3, math.Inf(1))
	waitFor(t, 5*time.Second, "3 closed-model users", func() bool { return rig.r.Users() == 3 })
}

// A full pool whose only idle user is of another class makes room: that
// user is stopped and one of the arrival's class started, no drop.
func TestOpenFullPoolSwapsIdleUserOfAnotherClass(t *testing.T) {
	t.Parallel()
	var a, b, starts atomic.Int64
	ca, cb := class("A", 1, 0, counting("a", &a)), class("B", 1, 0, counting("b", &b))
	for _, c := range []*scenario.UserClass{ca, cb} {
		c.OnStart = func(context.Context, *scenario.VU) error { starts.Add(1); return nil }
	}
	rig := newOpen(t, &scenario.Scenario{Users: []*scenario.UserClass{ca, cb}}, false, nil)
	rig.r.SetArrivals(100, 1, 0)
	for n := range 20 {
		waitFor(t, 5*time.Second, "the next task", func() bool { return a.Load()+b.Load() == int64(n+1) && rig.idleUsers() == 1 })
		rig.clock.Add(10 * time.Millisecond)
	}
	rig.stop(t)
	if a.Load() == 0 || b.Load() == 0 || rig.r.Dropped() != 0 || starts.Load() < 2 {
		t.Fatalf("A ran %d, B %d, dropped %d, users started %d; want both classes, no drop", a.Load(), b.Load(), rig.r.Dropped(), starts.Load())
	}
}
