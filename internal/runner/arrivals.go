package runner

import (
	"context"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// The open model (arrival rate). Locust only has the closed model: when
// the server stalls, its users stop sending and the stall vanishes from
// the percentiles (coordinated omission). Here arrivals are scheduled
// from the test's origin whatever the server does; each runs one task on
// a free user from a bounded pool, its latency counted from when it was
// due, and an arrival that finds no free user is counted as dropped.
//
// One scheduler goroutine sleeps (a timer, not a ticker) until the next
// arrival is due; when it wakes late it dispatches every arrival that is
// due, each with its own intended time, rather than skipping any.

// maxBatch bounds the arrivals dispatched under one hold of the lock when
// the scheduler catches up.
const maxBatch = 1000

// openModel is the runner's state in the open model.
type openModel struct {
	active  bool // from SetArrivals until Stop
	started bool // the schedule has its origin (Run is going)
	// Set by SetArrivals before Run, applied when Run starts.
	pendingRate float64
	pendingRamp time.Duration

	origin   time.Time
	sched    schedule
	next     int64 // the next arrival to dispatch
	maxUsers int
	idle     [][]*user // idle users of each class, the most recently used last
	cum      []int     // cumulative class weights
	rng      *rand.Rand

	gen    int // counts scheduler lives: a stale one dispatches nothing
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{}

	arrivals, dropped atomic.Int64
}

// SetArrivals switches the runner to the open model and moves the arrival
// rate (arrivals per second) linearly from its current value to rate over
// ramp (0: at once). maxUsers caps the pool of users of all classes; a
// decrease stops idle users beyond it at once and busy ones when their
// task ends. Each arrival picks a class by weight (a fixed_count class
// with no weight counts as weight 1) and runs one task, picked as the
// closed model picks, on an idle user of that class. Without one, a new
// user is started if the pool has room — or an idle user of another class
// is stopped to make room — else the arrival is dropped (OnDropped).
//
// The first sample each task records has its latency counted from when
// the arrival was due, not from when the task started (the correction for
// coordinated omission); later samples of the task are left as measured.
// For an arrival that had to start a new user, the user's on_start time
// is left out: it is the pool warming up, not the server being slow.
// Users and ClassCounts count the pool (busy and idle users), Target is
// maxUsers, and Ramping reports a rate ramp in progress.
//
// The first call fixes the schedule's origin: at once when Run is going,
// or when Run starts if it is called before. Until Stop, SetTarget and
// SetClassTargets are ignored and users do not wait between tasks (wait
// strategies belong to the closed model); Stop ends the open model, and a
// later SetArrivals starts a new schedule from a new origin. A rate that
// is negative, NaN or infinite counts as 0.
func (r *Runner) SetArrivals(rate float64, maxUsers int, ramp time.Duration) {
	if !(rate >= 0) || math.IsInf(rate, 1) {
		r.opts.Logger.Warn("arrival rate must be a finite number ≥ 0; using 0", "rate", rate)
		rate = 0
	}
	maxUsers, ramp = max(maxUsers, 0), max(ramp, 0)
	r.mu.Lock()
	defer r.mu.Unlock()
	o := &r.open
	if !o.active {
		r.beginOpenLocked()
	}
	o.maxUsers = maxUsers
	r.target = maxUsers
	if !o.started {
		o.pendingRate, o.pendingRamp = rate, ramp
		r.startArrivalsLocked()
		return
	}
	r.applyArrivalsLocked(rate, ramp)
	r.trimPoolLocked()
}

// beginOpenLocked starts an open-model session: a fresh schedule and pool.
// Users left from the closed model are stopped.
func (r *Runner) beginOpenLocked() {
	o := &r.open
	o.active, o.started = true, false
	o.sched, o.next = schedule{}, 0
	o.idle = make([][]*user, len(r.classes))
	if o.rng == nil {
		o.rng = rand.New(rand.NewPCG(r.opts.Seed, math.MaxUint64))
		o.wake = make(chan struct{}, 1)
		o.cum = classWeights(r.classes)
	}
	for i := range r.classes {
		for len(r.byClass[i]) > 0 {
			r.stopLastLocked(i)
		}
	}
}

// classWeights returns the cumulative weights the open model picks classes
// by: a fixed_count class with no weight counts 1; all 0 means all equal.
func classWeights(classes []*classPlan) []int {
	cum := make([]int, len(classes))
	sum := 0
	for i, c := range classes {
		w := max(c.Weight, 0)
		if w == 0 && c.FixedCount > 0 {
			w = 1
		}
		sum += w
		cum[i] = sum
	}
	if sum == 0 {
		for i := range cum {
			cum[i] = i + 1
		}
	}
	return cum
}

// startArrivalsLocked applies the settings SetArrivals left for Run, if
// Run is going and the open model waits for it.
func (r *Runner) startArrivalsLocked() {
	o := &r.open
	if !o.active || o.started || r.runCtx == nil || r.stopped {
		return
	}
	r.applyArrivalsLocked(o.pendingRate, o.pendingRamp)
}

// applyArrivalsLocked moves the schedule from now and makes sure the
// scheduler runs. Run must be going.
func (r *Runner) applyArrivalsLocked(rate float64, ramp time.Duration) {
	o := &r.open
	now := r.opts.Now()
	if !o.started {
		o.started, o.origin = true, now
	}
	o.sched.set(now.Sub(o.origin).Seconds(), rate, ramp.Seconds())
	if o.cancel == nil && !r.stopped {
		ctx, cancel := context.WithCancel(r.runCtx)
		o.gen++
		gen, done, wake := o.gen, make(chan struct{}), o.wake
		o.cancel, o.done = cancel, done
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer close(done)
			r.arrive(ctx, gen, wake)
		}()
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// stopArrivals ends the open model: no arrival is dispatched after it
// returns. Users are left to the caller to stop.
func (r *Runner) stopArrivals() {
	r.mu.Lock()
	o := &r.open
	o.active = false
	o.gen++
	cancel, done := o.cancel, o.done
	o.cancel, o.done = nil, nil
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// openRampingLocked reports whether the arrival rate is still ramping.
func (r *Runner) openRampingLocked() bool {
	o := &r.open
	if !o.started {
		return o.pendingRamp > 0 && o.pendingRate > 0
	}
	return o.sched.ramping(r.opts.Now().Sub(o.origin).Seconds())
}

// arrive is the scheduler: it dispatches the arrivals that are due, then
// sleeps until the next one is or the schedule changes.
func (r *Runner) arrive(ctx context.Context, gen int, wake <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait, dropped := r.dispatchDue(gen)
		if r.opts.OnDropped != nil {
			for range dropped {
				r.opts.OnDropped()
			}
		}
		if wait == 0 { // more are due: let others have the lock, then go on
			if ctx.Err() != nil {
				return
			}
			continue
		}
		var tick <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick:
		}
	}
}

// dispatchDue dispatches the arrivals due by now, up to maxBatch, and
// returns how long until the next one is due (0: more are due now; -1:
// none is scheduled) and how many were dropped.
func (r *Runner) dispatchDue(gen int) (wait time.Duration, dropped int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := &r.open
	if o.gen != gen || !o.active || r.stopped {
		return -1, 0
	}
	el := r.opts.Now().Sub(o.origin).Seconds()
	for n := 0; ; n++ {
		t, ok := o.sched.at(o.next)
		if !ok || t > el {
			o.sched.forget(o.next, el)
			if !ok {
				return -1, dropped
			}
			return time.Duration(math.Ceil((t - el) * 1e9)), dropped
		}
		if n == maxBatch {
			return 0, dropped
		}
		if !r.dispatchLocked(o.origin.Add(time.Duration(math.Round(t * 1e9)))) {
			dropped++
		}
		o.next++
	}
}

// dispatchLocked runs one arrival due at intended, or reports that it
// found no free user. The drop is counted here.
func (r *Runner) dispatchLocked(intended time.Time) bool {
	o := &r.open
	ci := r.pickClassLocked()
	if idle := o.idle[ci]; len(idle) > 0 {
		u := idle[len(idle)-1]
		o.idle[ci] = idle[:len(idle)-1]
		u.jobs <- arrival{intended: intended} // never blocks: an idle user's buffer is empty
		o.arrivals.Add(1)
		return true
	}
	if r.placedLocked() >= o.maxUsers && !r.evictIdleLocked() {
		o.dropped.Add(1)
		return false
	}
	first := arrival{intended: intended}
	r.startLocked(r.runCtx, ci, make(chan arrival, 1), func(u *user, soft, hard context.Context) bool {
		r.runOpen(u, soft, hard, first)
		return false
	})
	o.arrivals.Add(1)
	return true
}

func (r *Runner) pickClassLocked() int {
	cum := r.open.cum
	if len(cum) == 1 {
		return 0
	}
	n := r.open.rng.IntN(cum[len(cum)-1])
	for i, c := range cum {
		if n < c {
			return i
		}
	}
	return len(cum) - 1
}

// evictIdleLocked stops the user idle the longest in the class with the
// most idle users, to make room in a full pool. It reports whether there
// was one.
func (r *Runner) evictIdleLocked() bool {
	o := &r.open
	best := -1
	for i, us := range o.idle {
		if len(us) > 0 && (best < 0 || len(us) > len(o.idle[best])) {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	u := o.idle[best][0]
	r.removeLocked(u)
	r.stopUser(u)
	return true
}

// trimPoolLocked stops idle users while the pool is over maxUsers; busy
// users beyond it leave when their task ends.
func (r *Runner) trimPoolLocked() {
	for r.placedLocked() > r.open.maxUsers && r.evictIdleLocked() {
	}
}
