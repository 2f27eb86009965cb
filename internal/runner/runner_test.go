package runner

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeRec struct {
	mu         sync.Mutex
	exceptions []string
}

func (f *fakeRec) Record(stats.Sample) {}
func (f *fakeRec) Exception(msg, tb string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exceptions = append(f.exceptions, msg+"|"+tb)
}

func newRunner(t *testing.T, sc *scenario.Scenario, mod func(*Options)) (*Runner, *fakeRec) {
	t.Helper()
	fac, err := httpx.NewFactory(httpx.Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	rec := &fakeRec{}
	o := Options{Scenario: sc, NewClient: fac.NewClient, Recorder: func(int) stats.Recorder { return rec }, Seed: 1}
	if mod != nil {
		mod(&o)
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r, rec
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idle is a task that waits for its user to be stopped.
func idle(ctx context.Context, _ *scenario.VU) error {
	<-ctx.Done()
	return nil
}

func class(name string, weight, fixed int, tasks ...scenario.Task) *scenario.UserClass {
	if len(tasks) == 0 {
		tasks = []scenario.Task{{Name: "idle", Weight: 1, Fn: idle}}
	}
	return &scenario.UserClass{Name: name, Weight: weight, FixedCount: fixed, Tasks: tasks}
}

func TestPlanWeightsAtEveryCount(t *testing.T) {
	t.Parallel()
	p := NewPlan([]*scenario.UserClass{class("A", 2, 0), class("B", 1, 0)})
	for n := 1; n <= 300; n++ {
		c := p.Counts(n)
		if c["A"]+c["B"] != n {
			t.Fatalf("n=%d: counts %v do not add up", n, c)
		}
		if d := math.Abs(float64(c["A"]) - 2*float64(n)/3); d > 1 {
			t.Fatalf("n=%d: A=%d, more than one user from its share %.2f", n, c["A"], 2*float64(n)/3)
		}
	}
	if c := p.Counts(300); c["A"] != 200 || c["B"] != 100 {
		t.Fatalf("300 users: got %v, want A=200 B=100", c)
	}
}

func TestPlanFixedCountFirstAndExact(t *testing.T) {
	t.Parallel()
	p := NewPlan([]*scenario.UserClass{class("W1", 1, 0), class("Admin", 5, 3), class("W3", 3, 0)})
	tests := []struct {
		n    int
		want map[string]int
	}{
		{2, map[string]int{"Admin": 2, "W1": 0, "W3": 0}},
		{3, map[string]int{"Admin": 3, "W1": 0, "W3": 0}},
		{11, map[string]int{"Admin": 3, "W1": 2, "W3": 6}},
		{103, map[string]int{"Admin": 3, "W1": 25, "W3": 75}},
	}
	for _, tt := range tests {
		got := p.Counts(tt.n)
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("n=%d: %s=%d, want %d (all %v)", tt.n, k, got[k], v, got)
			}
		}
	}
	only := NewPlan([]*scenario.UserClass{class("A", 1, 2), class("B", 1, 3)})
	if only.Max() != 5 || only.Class(5) != -1 {
		t.Fatalf("fixed-only plan: Max=%d Class(5)=%d, want 5 and -1", only.Max(), only.Class(5))
	}
}

func TestRunnerReachesTargetsAndKeepsMix(t *testing.T) {
	t.Parallel()
	sc := &scenario.Scenario{Users: []*scenario.UserClass{class("A", 2, 0), class("B", 1, 0), class("F", 1, 4)}}
	r, _ := newRunner(t, sc, nil)
	r.SetTarget(31, math.Inf(1))
	waitFor(t, 5*time.Second, "31 users", func() bool { return r.Users() == 31 })
	if c := r.ClassCounts(); c["F"] != 4 || c["A"] != 18 || c["B"] != 9 {
		t.Fatalf("31 users: %v, want F=4 A=18 B=9", c)
	}
	r.SetTarget(10, 1000)
	waitFor(t, 5*time.Second, "10 users", func() bool { return r.Users() == 10 })
	if c := r.ClassCounts(); c["F"] != 4 || c["A"] != 4 || c["B"] != 2 {
		t.Fatalf("10 users: %v, want F=4 A=4 B=2", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.Users(); n != 0 {
		t.Fatalf("after Stop: %d users", n)
	}
}

func TestRunnerSpawnRateIsPacedFromRampStart(t *testing.T) {
	t.Parallel()
	r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{class("A", 1, 0)}}, nil)
	start := time.Now()
	r.SetTarget(6, 20) // first user at once, then one every 50 ms: 6 users after 250 ms
	waitFor(t, 5*time.Second, "6 users", func() bool { return r.Users() == 6 })
	if el := time.Since(start); el < 240*time.Millisecond {
		t.Fatalf("6 users at 20/s took %v, faster than the spawn rate allows (250ms)", el)
	}
}

func TestTaskWeightsFollowRatio(t *testing.T) {
	t.Parallel()
	const picks = 10000
	var a, b, total atomic.Int64
	count := func(c *atomic.Int64) scenario.Func {
		return func(context.Context, *scenario.VU) error {
			c.Add(1)
			if total.Add(1) >= picks {
				return scenario.ErrStopUser
			}
			return nil
		}
	}
	sc := &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0,
		scenario.Task{Name: "index", Weight: 2, Fn: count(&a)},
		scenario.Task{Name: "profile", Weight: 1, Fn: count(&b)})}}
	r, _ := newRunner(t, sc, nil)
	r.SetTarget(1, 1)
	waitFor(t, 10*time.Second, "10,000 picks", func() bool { return total.Load() >= picks })
	// Binomial(10000, 2/3): sd ≈ 47; allow 4 sd.
	if got := a.Load(); math.Abs(float64(got)-picks*2.0/3) > 190 {
		t.Fatalf("index picked %d of %d times, want ≈ %d (2:1)", got, picks, picks*2/3)
	}
	waitFor(t, 2*time.Second, "user to stop itself", func() bool { return r.Users() == 0 })
}

func TestSequenceRunsInOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	step := func(name string) scenario.Task {
		return scenario.Task{Name: name, Weight: 1, Fn: func(context.Context, *scenario.VU) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, name)
			if len(got) == 7 {
				return scenario.ErrStopUser
			}
			return nil
		}}
	}
	c := class("S", 1, 0, step("a"), step("b"), step("c"))
	c.Sequential = true
	r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, nil)
	r.SetTarget(1, 1)
	waitFor(t, 5*time.Second, "7 steps", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 7 })
	mu.Lock()
	defer mu.Unlock()
	if want := "abcabca"; joined(got) != want {
		t.Fatalf("sequence ran %q, want %q", joined(got), want)
	}
}

func joined(s []string) string {
	out := ""
	for _, x := range s {
		out += x
	}
	return out
}

type tbErr struct{}

func (tbErr) Error() string     { return "boom" }
func (tbErr) Traceback() string { return "script.star:3:5: in task" }

func TestHooksAndScriptErrors(t *testing.T) {
	t.Parallel()
	var starts, stops, tasks atomic.Int64
	c := class("U", 1, 0, scenario.Task{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error {
		if tasks.Add(1) == 1 {
			return tbErr{}
		}
		return nil
	}})
	c.Wait = scenario.Constant{D: time.Millisecond}
	c.OnStart = func(context.Context, *scenario.VU) error { starts.Add(1); return nil }
	c.OnStop = func(context.Context, *scenario.VU) error { stops.Add(1); return nil }
	r, rec := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, func(o *Options) { o.StopTimeout = time.Second })
	r.SetTarget(2, math.Inf(1))
	waitFor(t, 5*time.Second, "tasks after an error", func() bool { return tasks.Load() > 10 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if starts.Load() != 2 || stops.Load() != 2 {
		t.Fatalf("on_start ran %d times, on_stop %d, want 2 and 2", starts.Load(), stops.Load())
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.exceptions) != 1 || rec.exceptions[0] != "boom|script.star:3:5: in task" {
		t.Fatalf("exceptions = %q, want one with its traceback", rec.exceptions)
	}
}

func TestStopTimeoutLetsTasksFinish(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name         string
		stopTimeout  time.Duration
		wantFinished bool
	}{
		{"finish within timeout", 3 * time.Second, true},
		{"cancel at once", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var started, finished, cancelled atomic.Int64
			task := func(ctx context.Context, _ *scenario.VU) error {
				started.Add(1)
				select {
				case <-time.After(300 * time.Millisecond):
					finished.Add(1)
				case <-ctx.Done():
					cancelled.Add(1)
					return ctx.Err()
				}
				return nil
			}
			c := class("U", 1, 0, scenario.Task{Name: "slow", Weight: 1, Fn: task})
			r, rec := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, func(o *Options) { o.StopTimeout = tt.stopTimeout })
			r.SetTarget(1, 1)
			waitFor(t, 5*time.Second, "task start", func() bool { return started.Load() == 1 })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := r.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if got := finished.Load() == 1; got != tt.wantFinished {
				t.Fatalf("finished=%d cancelled=%d, want finished=%v", finished.Load(), cancelled.Load(), tt.wantFinished)
			}
			if started.Load() != 1 {
				t.Fatalf("a stopping user started another task")
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.exceptions) != 0 {
				t.Fatalf("a cancelled task was recorded as a script error: %q", rec.exceptions)
			}
		})
	}
}

func TestTagsFilterTasks(t *testing.T) {
	t.Parallel()
	tasks := []scenario.Task{
		{Name: "a", Weight: 1, Tags: []string{"read"}, Fn: idle},
		{Name: "b", Weight: 1, Tags: []string{"write", "slow"}, Fn: idle},
		{Name: "c", Weight: 1, Fn: idle},
	}
	tests := []struct {
		tags, exclude []string
		want          []string
		wantErr       bool
	}{
		{nil, nil, []string{"a", "b", "c"}, false},
		{[]string{"read"}, nil, []string{"a"}, false},
		{nil, []string{"slow"}, []string{"a", "c"}, false},
		{[]string{"write"}, []string{"slow"}, nil, true},
	}
	for _, tt := range tests {
		sc := &scenario.Scenario{Users: []*scenario.UserClass{class("U", 1, 0, tasks...)}}
		fac, _ := httpx.NewFactory(httpx.Options{})
		r, err := New(Options{Scenario: sc, NewClient: fac.NewClient, Recorder: func(int) stats.Recorder { return &fakeRec{} },
			Tags: tt.tags, ExcludeTags: tt.exclude})
		if tt.wantErr {
			if err == nil {
				t.Errorf("tags %v exclude %v: want an error (no tasks left)", tt.tags, tt.exclude)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, task := range r.classes[0].tasks {
			names = append(names, task.Name)
		}
		if joined(names) != joined(tt.want) {
			t.Errorf("tags %v exclude %v: tasks %v, want %v", tt.tags, tt.exclude, names, tt.want)
		}
	}
}

func TestNewRejectsEmptyScenario(t *testing.T) {
	t.Parallel()
	fac, _ := httpx.NewFactory(httpx.Options{})
	rec := func(int) stats.Recorder { return &fakeRec{} }
	if _, err := New(Options{Scenario: &scenario.Scenario{}, NewClient: fac.NewClient, Recorder: rec}); err == nil {
		t.Fatal("a scenario with no users must be refused")
	}
	sc := &scenario.Scenario{Users: []*scenario.UserClass{{Name: "Empty", Weight: 1}}}
	if _, err := New(Options{Scenario: sc, NewClient: fac.NewClient, Recorder: rec}); err == nil || !errors.Is(err, err) {
		t.Fatal("a class with no tasks must be refused")
	}
}

func TestSetClassTargetsAppliesAbsoluteCounts(t *testing.T) {
	t.Parallel()
	sc := &scenario.Scenario{Users: []*scenario.UserClass{class("A", 2, 0), class("B", 1, 0)}}
	r, _ := newRunner(t, sc, nil)
	r.SetClassTargets(map[string]int{"A": 3, "B": 1})
	waitFor(t, 5*time.Second, "A=3 B=1", func() bool { c := r.ClassCounts(); return c["A"] == 3 && c["B"] == 1 })
	r.SetClassTargets(map[string]int{"B": 2, "Nope": 4})
	waitFor(t, 5*time.Second, "A=0 B=2", func() bool { c := r.ClassCounts(); return c["A"] == 0 && c["B"] == 2 })
	if r.Users() != 2 || r.Target() != 2 {
		t.Fatalf("users %d target %d, want 2 and 2", r.Users(), r.Target())
	}
	// Back to a ramped total: from 2 users, the plan's mix.
	r.SetTarget(6, math.Inf(1))
	waitFor(t, 5*time.Second, "6 users in the plan's mix", func() bool { c := r.ClassCounts(); return c["A"] == 4 && c["B"] == 2 })
}

// A user whose wait is long parks: between tasks it holds no goroutine
// (so no stack), it wakes up for its next task on time, and a stop reaches
// it at once, with on_stop run, however long its wait.
func TestLongWaitParksTheUser(t *testing.T) {
	t.Parallel()
	var tasks, stops atomic.Int64
	wait := &switchWait{d: 300 * time.Millisecond}
	c := class("U", 1, 0, scenario.Task{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error {
		tasks.Add(1)
		return nil
	}})
	c.Wait = wait
	c.OnStop = func(context.Context, *scenario.VU) error { stops.Add(1); return nil }
	r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, func(o *Options) { o.StopTimeout = time.Second })
	const users = 50
	before := runtime.NumGoroutine()
	r.SetTarget(users, math.Inf(1))
	waitFor(t, 5*time.Second, "every user's first task", func() bool { return tasks.Load() >= users })
	// Parked users have no goroutine; a user's goroutine would add 50.
	waitFor(t, 5*time.Second, "users parked", func() bool { return runtime.NumGoroutine() < before+users/2 })
	waitFor(t, 5*time.Second, "tasks after the wait", func() bool { return tasks.Load() >= 3*users })
	if got := r.Users(); got != users {
		t.Fatalf("%d users, want %d", got, users)
	}
	// Now a wait of an hour: the stop must not wait for it.
	wait.set(time.Hour)
	n := tasks.Load()
	waitFor(t, 5*time.Second, "a round of tasks before the long wait", func() bool { return tasks.Load() >= n+users })
	time.Sleep(50 * time.Millisecond) // let them all park
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("stopping parked users took %v", took)
	}
	if stops.Load() != users || r.Users() != 0 {
		t.Fatalf("on_stop ran %d times, %d users left; want %d and 0", stops.Load(), r.Users(), users)
	}
}

// switchWait is a constant wait that the test can change.
type switchWait struct {
	mu sync.Mutex
	d  time.Duration
}

func (w *switchWait) set(d time.Duration) {
	w.mu.Lock()
	w.d = d
	w.mu.Unlock()
}

func (w *switchWait) Next(time.Duration, *rand.Rand) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.d
}
