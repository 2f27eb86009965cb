package runner

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// As in Locust, on_stop runs whenever a user stops — a test's stop with no
// stop timeout cancelling its task mid-way, a scale-down, stop_user() in
// on_start — and it runs with a live context, so its requests (a logout)
// are sent; it is bounded by OnStopGrace.
func TestOnStopRunsWheneverAUserStops(t *testing.T) {
	t.Parallel()
	t.Run("test stopped, task cancelled, no stop timeout", func(t *testing.T) {
		t.Parallel()
		var live, stops atomic.Int64
		c := class("U", 1, 0) // an idle task: it ends only when cancelled
		c.OnStop = func(ctx context.Context, _ *scenario.VU) error {
			stops.Add(1)
			if ctx.Err() == nil {
				live.Add(1)
			}
			return nil
		}
		r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, nil)
		r.SetTarget(3, math.Inf(1))
		waitFor(t, 5*time.Second, "3 users", func() bool { return r.Users() == 3 })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if stops.Load() != 3 || live.Load() != 3 {
			t.Fatalf("on_stop ran %d times, %d with a live context; want 3 and 3", stops.Load(), live.Load())
		}
	})
	t.Run("scaled down", func(t *testing.T) {
		t.Parallel()
		var stops atomic.Int64
		c := class("U", 1, 0)
		c.OnStop = func(context.Context, *scenario.VU) error { stops.Add(1); return nil }
		r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, nil)
		r.SetTarget(4, math.Inf(1))
		waitFor(t, 5*time.Second, "4 users", func() bool { return r.Users() == 4 })
		r.SetTarget(1, math.Inf(1))
		waitFor(t, 5*time.Second, "on_stop of the 3 users scaled down", func() bool { return stops.Load() == 3 })
	})
	t.Run("stop_user in on_start", func(t *testing.T) {
		t.Parallel()
		var tasks, stops atomic.Int64
		c := class("U", 1, 0, scenario.Task{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { tasks.Add(1); return nil }})
		c.OnStart = func(context.Context, *scenario.VU) error { return scenario.ErrStopUser }
		c.OnStop = func(context.Context, *scenario.VU) error { stops.Add(1); return nil }
		r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, nil)
		r.SetTarget(2, math.Inf(1))
		waitFor(t, 5*time.Second, "on_stop of both users", func() bool { return stops.Load() == 2 })
		if tasks.Load() != 0 {
			t.Errorf("%d tasks ran after stop_user() in on_start", tasks.Load())
		}
	})
	t.Run("bounded by the grace", func(t *testing.T) {
		t.Parallel()
		c := class("U", 1, 0)
		c.OnStop = func(ctx context.Context, _ *scenario.VU) error { <-ctx.Done(); return ctx.Err() }
		r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, func(o *Options) { o.OnStopGrace = 200 * time.Millisecond })
		r.SetTarget(2, math.Inf(1))
		waitFor(t, 5*time.Second, "2 users", func() bool { return r.Users() == 2 })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 200*time.Millisecond || took > 3*time.Second {
			t.Errorf("stopping with an on_stop that never returns took %v, want about the 200ms grace", took)
		}
	})
}
