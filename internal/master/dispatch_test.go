package master

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/runner"
	"github.com/horde-load/horde/internal/scenario"
)

func idleTask(ctx context.Context, _ *scenario.VU) error { <-ctx.Done(); return nil }

func classes(spec ...any) []*scenario.UserClass {
	var out []*scenario.UserClass
	for i := 0; i < len(spec); i += 3 {
		out = append(out, &scenario.UserClass{Name: spec[i].(string), Weight: spec[i+1].(int), FixedCount: spec[i+2].(int),
			Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: idleTask}}})
	}
	return out
}

func ids(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("w%d", i))
	}
	return out
}

// settle steps the dispatcher until nothing is pending, advancing a fake
// clock, and returns the time it took.
func settle(t *testing.T, d *dispatcher, now *time.Time, workers []string) time.Duration {
	t.Helper()
	start := *now
	for range 100000 {
		next := d.step(*now, workers)
		if next < 0 {
			return now.Sub(start)
		}
		*now = now.Add(next)
	}
	t.Fatal("dispatcher never settled")
	return 0
}

func totals(d *dispatcher, workers []string) []int {
	var out []int
	for _, id := range workers {
		out = append(out, d.total(id))
	}
	return out
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

func TestDispatchJoinLeaveRebalance(t *testing.T) {
	t.Parallel()
	cs := classes("A", 1, 0)
	now := time.Unix(1000, 0)
	d := newDispatcher(runner.NewPlan(cs), len(cs), now)
	three := ids(3)
	d.setTarget(300, 100, now)
	settle(t, d, &now, three)
	if got := totals(d, three); fmt.Sprint(got) != "[100 100 100]" {
		t.Fatalf("3 workers: %v, want 100 each", got)
	}
	five := ids(5)
	// While users move to the 2 new workers, the total never drops.
	for range 1000 {
		next := d.step(now, five)
		if s := sum(totals(d, five)); s < 300 {
			t.Fatalf("total fell to %d while rebalancing", s)
		}
		if next < 0 {
			break
		}
		now = now.Add(next)
	}
	if got := totals(d, five); fmt.Sprint(got) != "[60 60 60 60 60]" {
		t.Fatalf("5 workers: %v, want 60 each", got)
	}
	four := []string{"w0", "w1", "w3", "w4"}
	took := settle(t, d, &now, four)
	if got := totals(d, four); fmt.Sprint(got) != "[75 75 75 75]" {
		t.Fatalf("after w2 left: %v, want 75 each", got)
	}
	// 60 users to replace at 100/s: within the one-second burst.
	if took > time.Second {
		t.Fatalf("replacing a lost worker's 60 users at 100/s took %v", took)
	}
}

func TestDispatchSpawnRateIsGlobal(t *testing.T) {
	t.Parallel()
	cs := classes("A", 1, 0)
	now := time.Unix(1000, 0)
	d := newDispatcher(runner.NewPlan(cs), len(cs), now)
	workers := ids(5)
	d.setTarget(100, 10, now)
	start := now
	for now.Sub(start) < 2*time.Second {
		next := d.step(now, workers)
		if next < 0 {
			t.Fatal("ramp of 100 users at 10/s ended before 2 s")
		}
		if got, limit := sum(totals(d, workers)), 1+int(now.Sub(start).Seconds()*10); got > limit {
			t.Fatalf("at %v: %d users started, the spawn rate allows %d", now.Sub(start), got, limit)
		}
		now = now.Add(next)
	}
	d.step(now, workers) // at exactly 2 s
	if got := sum(totals(d, workers)); got != 21 {
		t.Fatalf("after 2 s at 10/s over 5 workers: %d users, want 21 (10/s in total, not 50/s)", got)
	}
	settle(t, d, &now, workers)
	if got := totals(d, workers); fmt.Sprint(got) != "[20 20 20 20 20]" {
		t.Fatalf("%v, want 20 each", got)
	}
}

func TestDispatchKeepsMixAndBalance(t *testing.T) {
	t.Parallel()
	cs := classes("Web", 3, 0, "Admin", 1, 2, "Api", 1, 0)
	now := time.Unix(1000, 0)
	d := newDispatcher(runner.NewPlan(cs), len(cs), now)
	for _, tt := range []struct{ users, workers int }{{7, 3}, {22, 5}, {1, 4}, {103, 7}, {50, 1}} {
		workers := ids(tt.workers)
		d.setTarget(tt.users, math.Inf(1), now)
		settle(t, d, &now, workers)
		want := runner.NewPlan(cs).CountsByIndex(tt.users)
		got := make([]int, len(cs))
		lo, hi := math.MaxInt, 0
		for _, id := range workers {
			for c, k := range d.assigned[id] {
				got[c] += k
			}
			lo, hi = min(lo, d.total(id)), max(hi, d.total(id))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%d users on %d workers: classes %v, want %v", tt.users, tt.workers, got, want)
		}
		if hi-lo > 1 {
			t.Errorf("%d users on %d workers: totals from %d to %d, want within one", tt.users, tt.workers, lo, hi)
		}
	}
}
