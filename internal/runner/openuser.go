package runner

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

// arrival is one dispatched arrival of the open model.
type arrival struct {
	intended time.Time // when the schedule had it due
}

// runOpen is the life of an open-model user: on_start, then the arrival
// that made it, then the arrivals it is given while idle in the pool, with
// no wait between them, until it is stopped or leaves the pool; then
// on_stop. Errors and stop_user() behave as in the closed model.
func (r *Runner) runOpen(u *user, soft, hard context.Context, first arrival) {
	rec := &lagRecorder{Recorder: u.vu.Rec}
	u.vu.Rec = rec
	c := u.class
	begin := r.opts.Now()
	if c.OnStart != nil && u.call(hard, c.OnStart) {
		r.leavePool(u)
		u.onStop()
		return
	}
	// The arrival that started this user is not charged its on_start:
	// that time is the pool warming up, not the server being slow.
	setup := r.opts.Now().Sub(begin)
	a, ok := first, true
	for ok {
		if stop := r.runArrival(soft, hard, u, rec, a, setup); stop {
			break
		}
		setup = 0
		a, ok = r.nextArrival(soft, u)
	}
	r.leavePool(u)
	u.onStop()
}

// runArrival runs one task for arrival a. The first sample it records is
// corrected for coordinated omission: its latency grows by how late the
// task started after the arrival was due (less setup). It reports whether
// the user must end.
func (r *Runner) runArrival(soft, hard context.Context, u *user, rec *lagRecorder, a arrival, setup time.Duration) bool {
	rec.arm(r.opts.Now().Sub(a.intended) - setup)
	t := u.pick()
	stop := u.runTask(soft, hard, &t) == stopUser
	rec.arm(0)
	return stop
}

// nextArrival puts u back in the idle pool and waits for its next
// arrival. It reports false when u must end instead: it is being stopped,
// or the pool is over its cap (then u has left it).
func (r *Runner) nextArrival(soft context.Context, u *user) (arrival, bool) {
	r.mu.Lock()
	if soft.Err() != nil || r.placedLocked() > r.open.maxUsers {
		r.removeLocked(u)
		r.mu.Unlock()
		return arrival{}, false
	}
	ci := r.classIndex(u.class)
	r.open.idle[ci] = append(r.open.idle[ci], u)
	r.mu.Unlock()
	select {
	case a := <-u.jobs:
		return a, true
	case <-soft.Done():
		// An arrival handed over just before the stop still runs.
		select {
		case a := <-u.jobs:
			return a, true
		default:
			return arrival{}, false
		}
	}
}

// leavePool takes u out of the pool, if it is still there.
func (r *Runner) leavePool(u *user) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(u)
}

// removeLocked takes u out of its class's users and idle list.
func (r *Runner) removeLocked(u *user) {
	ci := r.classIndex(u.class)
	is := func(v *user) bool { return v == u }
	r.byClass[ci] = slices.DeleteFunc(r.byClass[ci], is)
	if ci < len(r.open.idle) {
		r.open.idle[ci] = slices.DeleteFunc(r.open.idle[ci], is)
	}
}

func (r *Runner) classIndex(c *classPlan) int {
	for i, cp := range r.classes {
		if cp == c {
			return i
		}
	}
	panic("runner: user of an unknown class")
}

// lagRecorder adds the lag of the current arrival to the first sample a
// task records, and passes everything else through unchanged.
type lagRecorder struct {
	stats.Recorder
	lag atomic.Int64 // nanoseconds still to add; 0 once used
}

var _ stats.Recorder = (*lagRecorder)(nil)

// arm sets the lag for the next sample; a negative one counts as 0.
func (l *lagRecorder) arm(d time.Duration) { l.lag.Store(int64(max(d, 0))) }

// Record implements stats.Recorder.
func (l *lagRecorder) Record(s stats.Sample) {
	if l.lag.Load() != 0 {
		s.Latency += time.Duration(l.lag.Swap(0))
	}
	l.Recorder.Record(s)
}

// Exception implements stats.Recorder.
func (l *lagRecorder) Exception(msg, traceback string) { l.Recorder.Exception(msg, traceback) }
