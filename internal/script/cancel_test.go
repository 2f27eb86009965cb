package script

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// afterFuncCtx is a context with an AfterFunc method of its own, as the
// runner's user contexts have; it counts the registrations made through it.
type afterFuncCtx struct {
	context.Context
	registered atomic.Int32
}

func (c *afterFuncCtx) AfterFunc(f func()) func() bool {
	c.registered.Add(1)
	return context.AfterFunc(c.Context, f)
}

// runUntilCancelled starts fn in a goroutine, waits until started reports
// true, cancels, and returns the error or fails after a deadline.
// With own set, the context has an AfterFunc method of its own (as the
// runner's do), and the task must have been watched through it.
func runUntilCancelled(t *testing.T, src string, own bool, started func(*fakeRec) bool) (*fakeRec, error) {
	t.Helper()
	srv := newServer(t)
	sc := mustLoad(t, src+"\nusers = user(name='U', tasks=[t])\n")
	vu, rec := newVU(t, 1, srv.URL)
	inner, cancel := context.WithCancel(t.Context())
	defer cancel()
	var ctx context.Context = inner
	if own {
		a := &afterFuncCtx{Context: inner}
		ctx = a
		defer func() {
			if a.registered.Load() == 0 {
				t.Error("the call was not watched through the context's AfterFunc method")
			}
		}()
	}
	done := make(chan error, 1)
	go func() { done <- task(t, sc, "t")(ctx, vu) }()
	deadline := time.Now().Add(10 * time.Second)
	for !started(rec) {
		if time.Now().After(deadline) {
			t.Fatal("task never got going")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		return rec, err
	case <-time.After(10 * time.Second):
		t.Fatal("task did not stop after its context was cancelled")
		return nil, nil
	}
}

func TestCancelStopsInfiniteLoop(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src string }{
		{"while", "def t(u):\n    record('started', 0)\n    n = 0\n    while True:\n        n += 1\n"},
		{"for over a huge range", "def t(u):\n    record('started', 0)\n    for i in range(1 << 60):\n        for j in range(1 << 60):\n            pass\n"},
		{"sleep", "def t(u):\n    record('started', 0)\n    u.sleep(3600)\n"},
		{"slow request", "def t(u):\n    record('started', 0)\n    u.get('/slow')\n    fail('not reached')\n"},
	}
	for _, tc := range tests {
		for _, own := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/own AfterFunc %v", tc.name, own), func(t *testing.T) {
				t.Parallel()
				rec, err := runUntilCancelled(t, tc.src, own, func(r *fakeRec) bool { return len(r.all()) > 0 })
				if !errors.Is(err, context.Canceled) {
					t.Errorf("got %T %v, want an error that is context.Canceled", err, err)
				}
				if s := rec.all(); len(s) != 1 {
					t.Errorf("samples: got %+v, want only the start marker (a cancelled request is not recorded)", s)
				}
			})
		}
	}
}

func TestNextCallAfterCancelRuns(t *testing.T) {
	t.Parallel()
	// The runner calls on_stop after the task context is gone: the thread's
	// cancellation must not leak into it.
	srv := newServer(t)
	sc := mustLoad(t, `
def t(u):
    record("started", 0)
    while True:
        pass
def bye(u):
    u.get("/text")
users = user(name="U", tasks=[t], on_stop=bye)
`)
	vu, rec := newVU(t, 1, srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- sc.Users[0].Tasks[0].Fn(ctx, vu) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("task: %v", err)
	}
	if err := sc.Users[0].OnStop(t.Context(), vu); err != nil {
		t.Fatalf("on_stop after a cancelled task: %v", err)
	}
	if s := rec.all(); len(s) != 2 || s[1].Key.Name != "/text" || s[1].Err != "" {
		t.Errorf("samples: got %+v", s)
	}
	// A background context (never done) works too.
	if err := sc.Users[0].OnStop(context.Background(), vu); err != nil {
		t.Fatal(err)
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := runTask(t, "def t(u):\n    u.sleep(0.02)\n    u.sleep(0)\n")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("u.sleep(0.02) returned after %v", d)
	}
	_, err = runTask(t, "def t(u):\n    u.sleep(-1)\n")
	contains(t, errString(err), "sleep: seconds must be >= 0, got -1")
}

// doneCountingCtx is a user's context that counts who asks it for a Done
// channel, which a runner's user context makes on demand and then keeps.
type doneCountingCtx struct {
	afterFuncCtx
	doneAsked atomic.Int32
}

func (c *doneCountingCtx) Done() <-chan struct{} {
	c.doneAsked.Add(1)
	return c.afterFuncCtx.Done()
}

// A task call that sends a request is watched through the user's
// AfterFunc alone: nothing asks the user's context for a Done channel,
// which an idle user would keep all its life (112 bytes).
func TestACallKeepsNoDoneChannel(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sc := mustLoad(t, "def t(u):\n    u.get('/text')\nusers = user(name='U', tasks=[t])\n")
	vu, rec := newVU(t, 1, srv.URL)
	ctx := &doneCountingCtx{afterFuncCtx: afterFuncCtx{Context: t.Context()}}
	for range 2 {
		if err := task(t, sc, "t")(ctx, vu); err != nil {
			t.Fatal(err)
		}
	}
	if s := rec.all(); len(s) != 2 || s[0].Err != "" {
		t.Fatalf("samples %+v, want two successful requests", s)
	}
	if ctx.registered.Load() == 0 {
		t.Error("the call was not watched through the context's AfterFunc method")
	}
	if n := ctx.doneAsked.Load(); n != 0 {
		t.Errorf("the user's context was asked for its Done channel %d times, want never", n)
	}
}
