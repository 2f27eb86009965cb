package runner

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// user is one running virtual user: a goroutine with two contexts. soft is
// done when the user should stop after its current task (and interrupts
// waits); hard is done when its requests must be cancelled.
type user struct {
	class    *classPlan
	vu       *scenario.VU
	softStop context.CancelFunc
	hardStop context.CancelFunc
	done     chan struct{}
	exited   atomic.Bool
	jobs     chan arrival // open model: the arrivals handed to it; nil in the closed model
}

// spawnLocked starts a user of class ci.
func (r *Runner) spawnLocked(ctx context.Context, ci int) {
	r.startLocked(ctx, ci, nil, (*user).run)
}

// startLocked adds a user of class ci to the running users and starts its
// goroutine, which lives life.
func (r *Runner) startLocked(ctx context.Context, ci int, jobs chan arrival, life func(u *user, soft, hard context.Context)) {
	cp := r.classes[ci]
	id := r.nextID
	r.nextID++
	host := cp.Host
	if host == "" {
		host = r.opts.Host
	}
	client := r.opts.NewClient()
	if host != "" {
		// The host was validated by the caller; a bad one shows up as
		// failed requests rather than a crash.
		_ = client.SetBaseURL(host)
	}
	vu := &scenario.VU{
		ID:    id,
		Class: cp.UserClass,
		Host:  host,
		HTTP:  client,
		Rec:   r.opts.Recorder(id),
		Rand:  rand.New(rand.NewPCG(r.opts.Seed, uint64(id))),
	}
	hard, hardStop := context.WithCancel(ctx)
	soft, softStop := context.WithCancel(hard)
	u := &user{class: cp, vu: vu, softStop: softStop, hardStop: hardStop, done: make(chan struct{}), jobs: jobs}
	r.byClass[ci] = append(r.byClass[ci], u)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(u.done)
		defer u.exited.Store(true)
		defer hardStop()
		defer client.Close()
		life(u, soft, hard)
	}()
}

// run is the user's life: on_start, then task, wait, task, … until soft is
// done, then on_stop. As in Locust, the first task runs right after
// on_start, and the wait comes after each task.
func (u *user) run(soft, hard context.Context) {
	c := u.class
	if c.OnStart != nil {
		if stop := u.call(hard, c.OnStart); stop {
			return
		}
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for soft.Err() == nil {
		t := u.pick()
		start := time.Now()
		u.vu.Iteration++
		if stop := u.call(hard, t.Fn); stop {
			break
		}
		if c.Wait == nil {
			continue
		}
		d := c.Wait.Next(time.Since(start), u.vu.Rand)
		if d <= 0 {
			continue
		}
		timer.Reset(d)
		select {
		case <-soft.Done():
			timer.Stop()
		case <-timer.C:
		}
	}
	if c.OnStop != nil && hard.Err() == nil {
		u.call(hard, c.OnStop)
	}
}

// call runs fn and records a script error. It reports whether the user
// must end: it asked to stop, or it is being cancelled.
func (u *user) call(ctx context.Context, fn scenario.Func) (stop bool) {
	err := fn(ctx, u.vu)
	switch {
	case err == nil:
		return false
	case errors.Is(err, scenario.ErrStopUser):
		return true
	case ctx.Err() != nil:
		return true // cancelled while stopping: not a script error
	}
	tb := ""
	var t interface{ Traceback() string }
	if errors.As(err, &t) {
		tb = t.Traceback()
	}
	u.vu.Rec.Exception(err.Error(), tb)
	return false
}

// pick chooses the next task: in order for a sequence, else at random by weight.
func (u *user) pick() scenario.Task {
	c := u.class
	if c.Sequential {
		return c.tasks[int(u.vu.Iteration%int64(len(c.tasks)))]
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
