package runner

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// userCtx is a context a user runs under (its soft or hard stop). It lives
// inside the user (no allocation of its own), is cancelled only by the
// runner — which keeps every live user and cancels them all when its own
// context ends — makes its Done channel only when one is asked for, and
// runs what AfterFunc registers without a context per registration
// (context.AfterFunc and context.WithCancel use the AfterFunc method of a
// parent that has one). A mostly idle user's two contexts so cost tens of
// bytes, where two context.WithCancel with their children maps and the
// watchers of its HTTP client and script cost about a kibibyte.
type userCtx struct {
	base      context.Context // values and deadline only: the runner's context
	cancelled atomic.Bool
	mu        sync.Mutex
	done      chan struct{} // made by Done, or closedChan once cancelled
	after     []*afterFunc  // what runs when it is cancelled
}

var _ interface {
	context.Context
	AfterFunc(func()) func() bool
} = (*userCtx)(nil)

// closedChan is the Done channel of a context cancelled before anyone
// asked for one.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Deadline implements context.Context: the runner's.
func (c *userCtx) Deadline() (time.Time, bool) { return c.base.Deadline() }

// Value implements context.Context: the runner's values.
func (c *userCtx) Value(key any) any { return c.base.Value(key) }

// Err implements context.Context.
func (c *userCtx) Err() error {
	if c.cancelled.Load() {
		return context.Canceled
	}
	return nil
}

// Done implements context.Context.
func (c *userCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.cancelled.Load() {
			return closedChan
		}
		c.done = make(chan struct{})
	}
	return c.done
}

// String describes the context, as the standard library's do.
func (c *userCtx) String() string { return "runner.userCtx" }

// afterFunc is one AfterFunc registration.
type afterFunc struct {
	c *userCtx
	f func()
}

// AfterFunc arranges for f to run in its own goroutine once c is
// cancelled, as context.AfterFunc does (which calls it). stop reports
// whether it stopped f from running.
func (c *userCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{c: c, f: f}
	c.mu.Lock()
	if c.cancelled.Load() {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.after = append(c.after, a)
	c.mu.Unlock()
	return a.stop
}

func (a *afterFunc) stop() bool {
	c := a.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.after {
		if x == a {
			last := len(c.after) - 1
			c.after[i], c.after[last] = c.after[last], nil
			c.after = c.after[:last]
			if last == 0 {
				c.after = nil // an idle user keeps no empty slice
			}
			return true
		}
	}
	return false
}

// cancel cancels c: Done closes and what AfterFunc registered starts.
// It reports whether c was cancelled by this call.
func (c *userCtx) cancel() bool {
	c.mu.Lock()
	if c.cancelled.Load() {
		c.mu.Unlock()
		return false
	}
	c.cancelled.Store(true)
	if c.done != nil {
		close(c.done)
	} else {
		c.done = closedChan
	}
	after := c.after
	c.after = nil
	c.mu.Unlock()
	for _, a := range after {
		go a.f()
	}
	return true
}
