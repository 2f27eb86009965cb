package runner

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

type ctxKey struct{}

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestUserCtxIsAContext checks userCtx against the context package's
// contract: Done, Err, Value and Deadline before and after cancel, whether
// Done was asked for before the cancel or only after it.
func TestUserCtxIsAContext(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name       string
		doneBefore bool // Done asked for before the cancel
	}{
		{"Done asked before cancel", true},
		{"Done asked only after cancel", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, stop := context.WithDeadline(context.WithValue(context.Background(), ctxKey{}, "v"), deadline)
			defer stop()
			c := &userCtx{base: base}
			if got := c.Value(ctxKey{}); got != "v" {
				t.Errorf("Value = %v, want the base's value v", got)
			}
			if d, ok := c.Deadline(); !ok || !d.Equal(deadline) {
				t.Errorf("Deadline = %v, %v; want the base's %v, true", d, ok, deadline)
			}
			if err := c.Err(); err != nil {
				t.Fatalf("Err before cancel = %v, want nil", err)
			}
			var before <-chan struct{}
			if tt.doneBefore {
				before = c.Done()
				if before == nil || closed(before) {
					t.Fatal("Done before cancel is nil or closed")
				}
				if c.Done() != before {
					t.Fatal("Done returned a different channel on the second call")
				}
			}
			if !c.cancel() {
				t.Fatal("the first cancel reported it did not cancel")
			}
			if c.cancel() {
				t.Fatal("a second cancel reported it cancelled")
			}
			after := c.Done()
			if !closed(after) {
				t.Fatal("Done after cancel is not closed")
			}
			if tt.doneBefore && after != before {
				t.Fatal("Done changed channel at the cancel")
			}
			if !errors.Is(c.Err(), context.Canceled) {
				t.Fatalf("Err after cancel = %v, want context.Canceled", c.Err())
			}
			if got := context.Cause(c); !errors.Is(got, context.Canceled) {
				t.Fatalf("context.Cause = %v, want context.Canceled", got)
			}
			if base.Err() != nil {
				t.Fatal("cancelling the user's context cancelled the runner's")
			}
		})
	}
}

// TestUserCtxAfterFunc checks the AfterFunc method against
// context.AfterFunc's contract: f runs once, in its own goroutine, after
// the cancel (at once when registered after it); stop reports whether it
// stopped f from running.
func TestUserCtxAfterFunc(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name          string
		registerAfter bool // AfterFunc called after the cancel
		stopBefore    bool // stop called before the cancel
		wantRun       bool
		wantStop      bool // what that stop (or one after the run) returns
	}{
		{"runs at cancel", false, false, true, false},
		{"stopped before cancel", false, true, false, true},
		{"registered after cancel", true, false, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &userCtx{base: context.Background()}
			var runs atomic.Int32
			ran := make(chan struct{}, 2)
			f := func() { runs.Add(1); ran <- struct{}{} }
			var stop func() bool
			if tt.registerAfter {
				c.cancel()
				stop = c.AfterFunc(f)
			} else {
				stop = c.AfterFunc(f)
				if tt.stopBefore {
					if got := stop(); got != tt.wantStop {
						t.Fatalf("stop before cancel = %v, want %v", got, tt.wantStop)
					}
					if stop() {
						t.Fatal("a second stop reported it stopped f")
					}
				}
				c.cancel()
				c.cancel()
			}
			if tt.wantRun {
				select {
				case <-ran:
				case <-time.After(5 * time.Second):
					t.Fatal("f did not run after the cancel")
				}
				if stop() {
					t.Fatal("stop after f ran reported it stopped f")
				}
			}
			// Give a wrong second run (or a run after a stop) the time to show.
			time.Sleep(20 * time.Millisecond)
			want := int32(0)
			if tt.wantRun {
				want = 1
			}
			if got := runs.Load(); got != want {
				t.Fatalf("f ran %d times, want %d", got, want)
			}
		})
	}
}

// TestUserCtxAfterFuncGoroutine checks that f runs on a goroutine of its
// own: cancel returns while f is still blocked.
func TestUserCtxAfterFuncGoroutine(t *testing.T) {
	t.Parallel()
	c := &userCtx{base: context.Background()}
	ran := make(chan struct{}) // unbuffered: f blocks until the test reads
	c.AfterFunc(func() { ran <- struct{}{} })
	returned := make(chan struct{})
	go func() { c.cancel(); close(returned) }()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("cancel waited for f: f does not run on a goroutine of its own")
	}
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("f did not run")
	}
}

// TestUserCtxStandardChildren checks that contexts the standard library
// derives from a userCtx (the script's and the HTTP client's) end with it,
// and that one ended first leaves no registration behind.
func TestUserCtxStandardChildren(t *testing.T) {
	t.Parallel()
	c := &userCtx{base: context.Background()}
	child, cancelChild := context.WithCancel(c)
	defer cancelChild()
	timed, cancelTimed := context.WithTimeout(c, time.Hour)
	defer cancelTimed()
	early, cancelEarly := context.WithCancel(c)
	var afterRuns atomic.Int32
	stopAfter := context.AfterFunc(c, func() { afterRuns.Add(1) })
	cancelEarly()
	if !errors.Is(early.Err(), context.Canceled) {
		t.Fatal("a child cancelled on its own is not cancelled")
	}
	c.mu.Lock()
	n := len(c.after)
	c.mu.Unlock()
	if n != 3 { // child, timed, and context.AfterFunc's; not early's
		t.Fatalf("%d registrations after a child ended on its own, want 3", n)
	}
	if closed(child.Done()) || closed(timed.Done()) {
		t.Fatal("a child ended before its parent")
	}
	c.cancel()
	for _, ch := range []context.Context{child, timed} {
		select {
		case <-ch.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a child context did not end with the user's")
		}
		if !errors.Is(ch.Err(), context.Canceled) {
			t.Fatalf("child Err = %v, want context.Canceled", ch.Err())
		}
	}
	waitFor(t, 5*time.Second, "context.AfterFunc's f", func() bool { return afterRuns.Load() == 1 })
	if stopAfter() {
		t.Fatal("context.AfterFunc's stop after the run reported it stopped f")
	}
}

// TestUserCtxConcurrent races cancel against AfterFunc, stop and Done
// (run with -race): every f either is stopped or runs, exactly once.
func TestUserCtxConcurrent(t *testing.T) {
	t.Parallel()
	for round := 0; round < 50; round++ {
		c := &userCtx{base: context.Background()}
		const n = 8
		var runs, stopped atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stop := c.AfterFunc(func() { runs.Add(1) })
				_ = c.Done()
				if i%2 == 0 && stop() {
					stopped.Add(1)
				}
			}()
		}
		wg.Add(1)
		go func() { defer wg.Done(); c.cancel() }()
		wg.Wait()
		<-c.Done()
		waitFor(t, 5*time.Second, "every f not stopped to run", func() bool { return runs.Load()+stopped.Load() == n })
		time.Sleep(time.Millisecond)
		if got := runs.Load() + stopped.Load(); got != n {
			t.Fatalf("round %d: %d runs + %d stops, want %d in all", round, runs.Load(), stopped.Load(), n)
		}
	}
}

// TestRunEndCancelsEveryUser checks that the end of Run's context reaches
// every user's contexts, though they are not its children: a user in a
// task sees its hard context end, a parked user ends, and Run waits for
// both and leaves no user on its live list.
func TestRunEndCancelsEveryUser(t *testing.T) {
	t.Parallel()
	var inTask, taskEnded atomic.Int64
	blocking := class("Busy", 1, 1, scenario.Task{Name: "block", Weight: 1, Fn: func(ctx context.Context, vu *scenario.VU) error {
		inTask.Add(1)
		<-ctx.Done() // the hard context: only the runner's end cancels it
		if vu.Soft.Err() == nil {
			t.Error("hard ended before soft")
		}
		taskEnded.Add(1)
		return ctx.Err()
	}})
	var parkedTasks atomic.Int64
	parking := class("Idle", 1, 1, scenario.Task{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error {
		parkedTasks.Add(1)
		return nil
	}})
	parking.Wait = &switchWait{d: time.Hour}
	r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{blocking, parking}}, func(o *Options) { o.StopTimeout = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// A second Run is not how the runner is used: this test drives its
	// own, so that it can end it. newRunner's Run gets a target of 0.
	r2, err := New(r.opts)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- r2.Run(ctx) }()
	r2.SetTarget(2, math.Inf(1))
	waitFor(t, 5*time.Second, "both users started", func() bool { return inTask.Load() == 1 && parkedTasks.Load() == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end: a user's context was not cancelled")
	}
	if taskEnded.Load() != 1 {
		t.Fatalf("the busy user's task ended %d times, want 1", taskEnded.Load())
	}
	if r2.Users() != 0 {
		t.Fatalf("%d users after Run, want 0", r2.Users())
	}
	r2.mu.Lock()
	live := r2.live
	r2.mu.Unlock()
	if live != nil {
		t.Fatal("an ended user is still on the live list")
	}
}
