package runner

import (
	"context"
	"errors"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// outcome is what a task's end asks of its user.
type outcome int

const (
	goOn        outcome = iota // the next task, after a wait
	goOnNow                    // the next task at once (a set left with reschedule)
	stopUser                   // the user ends (stop_user(), or cancelled)
	leaveSet                   // interrupt(): the task set ends, its parent waits
	leaveSetNow                // interrupt(reschedule=True): the parent goes on at once
)

// runTask runs t — its function, or the task set it is — and returns what
// follows: goOn, goOnNow (after a set left with reschedule: no wait),
// stopUser, or, from a task inside a set, leaveSet or leaveSetNow.
func (u *user) runTask(soft, hard context.Context, t *scenario.Task) outcome {
	if t.Set != nil {
		return u.runSet(soft, hard, t.Set)
	}
	u.vu.Iteration++
	o := u.invoke(hard, t.Fn)
	if o != stopUser && u.iterations > 0 && u.vu.Iteration >= u.iterations {
		u.ranAll = true
		return stopUser // its iterations are done
	}
	return o
}

// runSet runs a task set until a task interrupts it or the user stops,
// between its on_start and on_stop, as Locust's TaskSet.run does.
func (u *user) runSet(soft, hard context.Context, set *scenario.TaskSet) outcome {
	u.depth++
	defer func() {
		u.setHook(hard, set.OnStop)
		u.depth--
	}()
	if set.OnStart != nil {
		switch o := u.invoke(hard, set.OnStart); o {
		case stopUser:
			return stopUser
		case leaveSet, leaveSetNow:
			return ofParent(o)
		}
	}
	var seq, state int
	var timer *time.Timer
	for soft.Err() == nil {
		i := state
		switch {
		case set.Transitions != nil:
		case set.Sequential:
			i, seq = seq%len(set.Tasks), seq+1
		default:
			i = pickWeighted(set.Tasks, u.vu.Rand.IntN)
		}
		start := time.Now()
		o := u.runTask(soft, hard, &set.Tasks[i])
		if set.Transitions != nil {
			state = nextState(set.Transitions[i], u.vu.Rand.IntN)
		}
		switch o {
		case stopUser:
			return stopUser
		case leaveSet, leaveSetNow:
			return ofParent(o)
		}
		w := set.Wait
		if w == nil {
			w = u.class.Wait
		}
		if w == nil || o == goOnNow {
			continue
		}
		d := u.waitFor(hard, w, time.Since(start))
		if d <= 0 {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(d)
			defer timer.Stop()
		} else {
			timer.Reset(d)
		}
		select {
		case <-soft.Done():
		case <-timer.C:
		}
	}
	return goOn
}

// ofParent is what a set's interrupt means to the set's parent: go on,
// at once or after a wait.
func ofParent(o outcome) outcome {
	if o == leaveSetNow {
		return goOnNow
	}
	return goOn
}

// setHook runs a task set's on_stop: under the task's context while the
// user is not cancelled, else under the user's on_stop bound.
func (u *user) setHook(hard context.Context, fn scenario.Func) {
	if fn == nil {
		return
	}
	ctx := hard
	if hard.Err() != nil {
		if u.base.Err() != nil {
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(u.base, u.onStopGrace)
		defer cancel()
	}
	u.invoke(ctx, fn)
}

// waitFor is how long the user waits after a task that took taskDur: the
// wait's answer, or the script's for a wait function of the user (whose
// error is a script error, and no wait).
func (u *user) waitFor(ctx context.Context, w scenario.Wait, taskDur time.Duration) time.Duration {
	uw, ok := w.(scenario.UserWait)
	if !ok {
		return w.Next(taskDur, u.vu.Rand)
	}
	d, err := uw.NextFor(ctx, &u.vu, taskDur)
	if err != nil {
		if ctx.Err() == nil {
			u.record(err)
		}
		return 0
	}
	return d
}

// pickWeighted draws a task by weight; intn is the user's random source.
func pickWeighted(tasks []scenario.Task, intn func(int) int) int {
	total := 0
	for _, t := range tasks {
		total += t.Weight
	}
	if total <= 0 {
		return intn(len(tasks))
	}
	n := intn(total)
	for i, t := range tasks {
		if n < t.Weight {
			return i
		}
		n -= t.Weight
	}
	return len(tasks) - 1
}

// nextState draws the next task of a Markov set from the transitions of
// the last one.
func nextState(edges []scenario.Transition, intn func(int) int) int {
	total := 0
	for _, e := range edges {
		total += e.Weight
	}
	n := intn(max(total, 1))
	for _, e := range edges {
		if n < e.Weight {
			return e.To
		}
		n -= e.Weight
	}
	return edges[len(edges)-1].To
}

// invoke runs fn and records a script error (traceback included); it
// returns what the user does next.
func (u *user) invoke(ctx context.Context, fn scenario.Func) outcome {
	err := fn(ctx, &u.vu)
	var intr scenario.Interrupt
	switch {
	case err == nil:
		return goOn
	case errors.Is(err, scenario.ErrStopUser):
		return stopUser
	case ctx.Err() != nil:
		return stopUser // cancelled while stopping: not a script error
	case errors.As(err, &intr) && u.depth > 0:
		if intr.Reschedule {
			return leaveSetNow
		}
		return leaveSet
	}
	u.record(err)
	return goOn
}

// record records a script error with its traceback.
func (u *user) record(err error) {
	tb := ""
	var t interface{ Traceback() string }
	if errors.As(err, &t) {
		tb = t.Traceback()
	}
	u.vu.Rec.Exception(err.Error(), tb)
}
