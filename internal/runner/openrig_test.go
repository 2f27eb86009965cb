package runner

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// fakeClock is a clock the test moves by hand. The scheduler still sleeps
// in real time, but decides what is due by this clock, so counts are exact.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sampleRec keeps every sample and script error.
type sampleRec struct {
	mu         sync.Mutex
	samples    []stats.Sample
	exceptions []string
}

func (s *sampleRec) Record(x stats.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, x)
}

func (s *sampleRec) Exception(msg, _ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exceptions = append(s.exceptions, msg)
}

func (s *sampleRec) latencies(name string) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for _, x := range s.samples {
		if x.Name == name {
			out = append(out, x.Latency)
		}
	}
	return out
}

type openRig struct {
	r       *Runner
	rec     *sampleRec
	clock   *fakeClock // nil: the real clock
	dropped atomic.Int64
}

// newOpen starts a runner for sc with a sample recorder, the fake clock
// unless real, and an OnDropped counter.
func newOpen(t *testing.T, sc *scenario.Scenario, real bool, mod func(*Options)) *openRig {
	t.Helper()
	rig := &openRig{rec: &sampleRec{}}
	if !real {
		rig.clock = newClock()
	}
	rig.r, _ = newRunner(t, sc, func(o *Options) {
		o.Recorder = func(int) stats.Recorder { return rig.rec }
		o.OnDropped = func() { rig.dropped.Add(1) }
		if rig.clock != nil {
			o.Now = rig.clock.Now
		}
		if mod != nil {
			mod(o)
		}
	})
	// The schedule's origin is when Run starts if SetArrivals comes first:
	// let Run start, so the origin is the clock's time at SetArrivals.
	waitFor(t, 5*time.Second, "Run to start", func() bool {
		rig.r.mu.Lock()
		defer rig.r.mu.Unlock()
		return rig.r.runCtx != nil
	})
	return rig
}

// waitArrivals polls until n arrivals were started or dropped.
func (g *openRig) waitArrivals(t *testing.T, n int64) {
	t.Helper()
	waitFor(t, 10*time.Second, "arrivals", func() bool { return g.r.Arrivals()+g.r.Dropped() >= n })
}

// idleUsers counts the users waiting in the pool for an arrival.
func (g *openRig) idleUsers() int {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	n := 0
	for _, us := range g.r.open.idle {
		n += len(us)
	}
	return n
}

func (g *openRig) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n := g.r.Users(); n != 0 {
		t.Fatalf("after Stop: %d users", n)
	}
}
