// Package memtune keeps the resident memory of a process that runs users
// close to what those users need. It does two things, both from what the
// process measures of itself:
//
//   - Tune sets the garbage collector's headroom (GOGC) from the live heap
//     and the allocation rate. Go's default lets the heap grow to twice
//     what is live before collecting; for 18,000 mostly idle users that is
//     as much memory again as the users hold, to absorb an allocation rate
//     of well under a megabyte a second. Tune lowers the headroom to what
//     two seconds of allocation need (at least 8 MiB, at least a quarter of
//     the live heap), so a collection comes at most about every two
//     seconds because of it, and never more often than GOGC=100 would:
//     busy users keep Go's default.
//   - Trim (trim_linux.go) drops from the process's page tables the pages
//     of its executable that start-up touched and the test will not.
//
// It is not a memory limit: nothing here bounds what users may hold.
// GOGC or GOMEMLIMIT set in the environment switch Tune off.
package memtune

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

const (
	// minHeadroom is the least headroom Tune leaves above the live heap.
	minHeadroom = 8 << 20
	// allocWindow is how much allocation the headroom absorbs: a
	// collection caused by the tuning at most this often.
	allocWindow = 2 * time.Second
	// minPercent is the lowest GOGC Tune sets (headroom ≥ live/4);
	// maxPercent the highest (Go's default).
	minPercent = 25
	maxPercent = 100
	// interval is how often Tune looks.
	interval = time.Second
	// rateDecay is how much of the last allocation rate a quieter second
	// keeps: a burst (a ramp) raises the headroom at once, and it comes
	// down over a few seconds.
	rateDecay = 0.8
)

// Percent is the GOGC for a live heap of live bytes allocated to at rate
// bytes a second: headroom for allocWindow of allocation, at least
// minHeadroom, within [minPercent, maxPercent].
func Percent(live, rate float64) int {
	if live <= 0 {
		return maxPercent
	}
	headroom := max(rate*allocWindow.Seconds(), minHeadroom)
	p := math.Ceil(100 * headroom / live)
	return int(min(max(p, minPercent), maxPercent))
}

// Tune sets GOGC every second from the live heap and the allocation rate
// until ctx ends, then puts back what was set before. It returns at once,
// doing nothing, when getenv finds GOGC or GOMEMLIMIT (the user's choice
// stands) or when another Tune is running: GOGC is the process's, and two
// tuners would each put back what the other set.
func Tune(ctx context.Context, getenv func(string) (string, bool)) {
	for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
		if _, set := getenv(k); set {
			return
		}
	}
	if !running.CompareAndSwap(false, true) {
		return
	}
	t := newTuner()
	go func() {
		defer running.Store(false)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				debug.SetGCPercent(t.initial)
				return
			case now := <-tick.C:
				metrics.Read(t.samples)
				if p, ok := t.step(t.value(0), t.value(1), now); ok {
					debug.SetGCPercent(p)
				}
			}
		}
	}()
}

// running is set while a Tune runs. It is the one package variable: what
// it guards, the collector's GOGC, is the process's too.
var running atomic.Bool

// tuner is Tune's state between two looks.
type tuner struct {
	samples []metrics.Sample
	initial int // GOGC before Tune
	current int
	allocs  uint64 // bytes allocated so far, at the last look
	at      time.Time
	rate    float64 // bytes a second, decayed
}

func newTuner() *tuner {
	t := &tuner{samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/gc/gogc:percent"},
	}}
	metrics.Read(t.samples)
	t.initial = int(t.value(2))
	t.current = t.initial
	t.allocs, t.at = t.value(1), time.Now()
	return t
}

func (t *tuner) value(i int) uint64 {
	if t.samples[i].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return t.samples[i].Value.Uint64()
}

// step takes a look at the heap — live bytes after the last collection,
// bytes allocated since the start — at now, and returns the GOGC to set
// when it should change by more than a few percent.
func (t *tuner) step(live, allocs uint64, now time.Time) (percent int, change bool) {
	if dt := now.Sub(t.at).Seconds(); dt > 0 && allocs >= t.allocs {
		t.rate = max(float64(allocs-t.allocs)/dt, t.rate*rateDecay)
	}
	t.allocs, t.at = allocs, now
	if live == 0 {
		return 0, false // no collection yet
	}
	p := Percent(float64(live), t.rate)
	// A bound is always reached: at 27, 25 is within 5 %, and GOGC
	// would stay above the floor for good.
	bound := p == minPercent || p == maxPercent
	if p != t.current && (p < t.current*95/100 || p > t.current*105/100 || bound) {
		t.current = p
		return p, true
	}
	return 0, false
}
