package runner

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// user is one running virtual user: a goroutine with two contexts. soft is
// done when the user should stop after its current task (and interrupts
// waits); hard is done when its requests must be cancelled. Both are part
// of the user, as is its VU: a user is a few allocations, not a dozen.
type user struct {
	r     *Runner
	class *classPlan
	vu    scenario.VU
	rnd   rand.PCG
	soft  userCtx
	hard  userCtx
	jobs  chan arrival // open model: the arrivals handed to it; nil in the closed model
	life  func(u *user, soft, hard context.Context) (parked bool)

	exitMu sync.Mutex
	done   chan struct{} // made by wait, closed at the exit
	exited atomic.Bool

	prev, next *user // the runner's live users (Runner.live)

	// A user waiting a long time between tasks parks: its goroutine ends
	// and a timer (or its stop) starts a new one, so that a mostly idle
	// user costs no goroutine stack (DESIGN.md §4: memory per idle user).
	base    context.Context // the runner's: on_stop runs under it, not under hard
	started bool            // on_start has run
	parked  atomic.Bool     // no goroutine: waiting for wake or the stop
	wake    *time.Timer     // ends the wait; made at the first park

	onStopGrace time.Duration // how long on_stop may run
	iterations  int64         // the user ends after this many tasks (0: never)
	picks       int64         // top-level tasks picked: a sequence's position
	depth       int           // task sets the user is in
	ranAll      bool          // it ended after its iterations
}

// parkAfter is the shortest wait for which a user parks. Below it, a
// goroutine's start and stack growth would cost more than its stack saves.
const parkAfter = 250 * time.Millisecond

// spawnLocked starts a user of class ci.
func (r *Runner) spawnLocked(ctx context.Context, ci int) {
	r.startLocked(ctx, ci, nil, (*user).run)
}

// startLocked adds a user of class ci to the running users and starts its
// goroutine, which lives life.
// life returns true when the user parked (see user.park).
func (r *Runner) startLocked(ctx context.Context, ci int, jobs chan arrival, life func(u *user, soft, hard context.Context) (parked bool)) {
	cp := r.classes[ci]
	id := r.nextID
	r.nextID++
	// The test's host (-H, TARGET_HOST, the UI's host field) wins over
	// the class's, which is only its default: as Locust's --host does.
	host := r.opts.Host
	if host == "" {
		host = cp.Host
	}
	client := r.opts.NewClient()
	if host != "" {
		// The host was validated by the caller; a bad one shows up as
		// failed requests rather than a crash.
		_ = client.SetBaseURL(host)
	}
	u := &user{r: r, class: cp, jobs: jobs, life: life, base: ctx,
		onStopGrace: r.opts.OnStopGrace, iterations: r.opts.Iterations}
	u.soft.base, u.hard.base = ctx, ctx
	u.rnd.Seed(r.opts.Seed, uint64(id))
	u.vu = scenario.VU{
		ID:    id,
		Class: cp.UserClass,
		Host:  host,
		HTTP:  client,
		Rec:   r.opts.Recorder(id),
		Rand:  rand.New(&u.rnd),
		Soft:  &u.soft,
	}
	r.byClass[ci] = append(r.byClass[ci], u)
	r.addLiveLocked(u)
	r.wg.Add(1)
	go u.resume()
}

// resume lives the user's life on the calling goroutine, from where it
// parked (or from its start), until it parks again or ends.
func (u *user) resume() {
	if parked := u.life(u, &u.soft, &u.hard); parked {
		return // a new goroutine goes on when the wait ends
	}
	u.vu.HTTP.Close()
	u.hard.cancel()
	u.soft.cancel()
	if u.ranAll {
		u.r.finished.Add(1)
	}
	u.r.removeLive(u)
	u.exitMu.Lock()
	u.exited.Store(true)
	if u.done != nil {
		close(u.done)
	}
	u.exitMu.Unlock()
	u.r.wg.Done()
}

// wait returns a channel closed when the user has ended.
func (u *user) wait() <-chan struct{} {
	u.exitMu.Lock()
	defer u.exitMu.Unlock()
	if u.done == nil {
		if u.exited.Load() {
			return closedChan
		}
		u.done = make(chan struct{})
	}
	return u.done
}

// softStop asks the user to stop after its current task: a parked user
// goes on at once (to its on_stop).
func (u *user) softStop() {
	if u.soft.cancel() && u.parked.CompareAndSwap(true, false) {
		u.wake.Stop()
		go u.resume()
	}
}

// hardStop cancels the user's requests, and stops it.
func (u *user) hardStop() {
	u.hard.cancel()
	u.softStop()
}

// run is the user's life: on_start, then task, wait, task, … until soft is
// done, then on_stop. As in Locust, the first task runs right after
// on_start, and the wait comes after each task. A long wait parks the
// user (run returns true) and a new goroutine calls run again after it.
func (u *user) run(soft, hard context.Context) (parked bool) {
	c := u.class
	if !u.started {
		u.started = true
		if c.OnStart != nil {
			if stop := u.call(hard, c.OnStart); stop {
				u.onStop()
				return false
			}
		}
	}
	var timer *time.Timer
	for soft.Err() == nil {
		t := u.pick()
		var start time.Time // only a wait reads the clock: a task's requests read it themselves
		if c.Wait != nil {
			start = time.Now()
		}
		o := u.runTask(soft, hard, &t)
		if o == stopUser {
			break
		}
		if c.Wait == nil || o == goOnNow {
			continue
		}
		d := u.waitFor(hard, c.Wait, time.Since(start))
		if d <= 0 {
			continue
		}
		if d >= parkAfter && u.park(d, soft) {
			return true
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-soft.Done():
			timer.Stop()
		case <-timer.C:
		}
	}
	u.onStop()
	return false
}

// onStop runs the class's on_stop, as Locust does whenever a user stops:
// after its last task, stop_user(), a stop of the test or a scale-down,
// even when the stop timeout cut its task short. It runs under its own
// bound (OnStopGrace), not under the user's cancelled contexts, so what it
// sends (a logout) is sent and recorded.
func (u *user) onStop() {
	if u.class.OnStop == nil || u.base.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(u.base, u.onStopGrace)
	defer cancel()
	u.call(ctx, u.class.OnStop)
}

// park ends the user's goroutine for a wait of d: the wait's timer, or
// soft's end (softStop), resumes the user on a new goroutine, exactly
// once. It returns false when soft has ended already (nothing to wait for).
func (u *user) park(d time.Duration, soft context.Context) bool {
	if u.wake == nil {
		u.wake = time.AfterFunc(time.Duration(math.MaxInt64), u.unpark) // armed below
	}
	u.parked.Store(true) // publishes wake to whoever resumes
	u.wake.Reset(d)
	if soft.Err() != nil && u.parked.CompareAndSwap(true, false) {
		u.wake.Stop()
		return false // stopped while parking, and no one resumed it
	}
	return true
}

// unpark resumes a parked user on the calling goroutine (the timer's);
// of a wake and a stop, only the first resumes.
func (u *user) unpark() {
	if u.parked.CompareAndSwap(true, false) {
		u.wake.Stop()
		u.resume()
	}
}

// call runs a hook and records a script error. It reports whether the
// user must end: it asked to stop, or it is being cancelled.
func (u *user) call(ctx context.Context, fn scenario.Func) (stop bool) {
	return u.invoke(ctx, fn) == stopUser
}

// pick chooses the next task: in order for a sequence, else at random by weight.
func (u *user) pick() scenario.Task {
	c := u.class
	u.picks++
	if c.Sequential {
		return c.tasks[int((u.picks-1)%int64(len(c.tasks)))]
	}
	if len(c.tasks) == 1 {
		return c.tasks[0]
	}
	n := u.vu.Rand.IntN(c.cum[len(c.cum)-1])
	for i, cum := range c.cum {
		if n < cum {
			return c.tasks[i]
		}
	}
	return c.tasks[len(c.tasks)-1]
}
