// Package runner runs virtual users: the closed model of Locust, where each
// user loops over its tasks with a wait between them. It spawns and stops
// users toward an absolute target at a spawn rate paced from the start of
// each ramp, keeps the class mix of a Plan exactly, and stops users
// gracefully (let the current task finish for up to the stop timeout).
// It also runs the open model (SetArrivals): arrivals at a rate scheduled
// from the test's start, each running one task on a free user of a
// bounded pool, with latency measured from when the arrival was due.
//
// It does not aggregate statistics or decide when a test ends: users record
// into the recorder they are given, and the caller sets targets and stops.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// Options configure a Runner.
type Options struct {
	Scenario *scenario.Scenario
	// NewClient returns a fresh HTTP session for one user.
	NewClient func() *httpx.Client
	// Recorder returns the recorder user id records into.
	Recorder func(userID int) stats.Recorder
	// Host is the test's base URL: every class's users use it; a class's
	// own host is its default when Host is "".
	Host string
	// Tags keeps only tasks with one of these tags (none: keep all);
	// ExcludeTags drops tasks with any of these. Exclusion wins.
	Tags, ExcludeTags []string
	// StopTimeout lets a stopping user finish its current task for this
	// long before its requests are cancelled. 0 cancels at once.
	StopTimeout time.Duration
	// OnStopGrace bounds a stopping user's on_stop, which runs after its
	// task ended or was cancelled; 0 means DefaultOnStopGrace.
	OnStopGrace time.Duration
	// Iterations ends each user after it ran this many tasks (0: never);
	// a user that ended so is not replaced (see Finished).
	Iterations int64
	// Seed seeds the users' random sources; 0 picks one at random.
	Seed   uint64
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnDropped is called once per open-model arrival that found no free
	// user (see SetArrivals), from the scheduler goroutine; may be nil.
	OnDropped func()
}

// Runner spawns and stops users. Create it with New, start Run, then move
// the target with SetTarget (a total, ramped here at the spawn rate) or
// SetClassTargets (absolute users per class, applied at once: the master
// paces ramps across workers).
type Runner struct {
	opts    Options
	classes []*classPlan
	plan    *Plan
	wake    chan struct{}

	mu      sync.Mutex
	byClass [][]*user // running users of each class, oldest first
	live    *user     // every user not yet ended, linked by user.prev and next
	// Plan mode (classMode false): ramp from ramp.from toward target at rate.
	// Class mode: want holds the users per class.
	classMode bool
	want      []int
	target    int
	rate      float64
	ramp      rampState
	nextID    int
	stopped   bool
	runCtx    context.Context // set by Run
	wg        sync.WaitGroup
	open      openModel    // the open model, from SetArrivals (arrivals.go)
	finished  atomic.Int64 // users that ended after their iterations, since the last Stop
}

type rampState struct {
	start time.Time
	from  int // users placed when the ramp started
	steps int // users started or stopped since
}

// classPlan is a user class with its tasks filtered by tags and their
// cumulative weights precomputed.
type classPlan struct {
	*scenario.UserClass
	tasks []scenario.Task
	cum   []int
}

// New validates opts and filters each class's tasks by tags. A class left
// without tasks is an error, as is a scenario without classes.
func New(opts Options) (*Runner, error) {
	if opts.Scenario == nil || len(opts.Scenario.Users) == 0 {
		return nil, errors.New("the scenario defines no users")
	}
	if opts.NewClient == nil || opts.Recorder == nil {
		return nil, errors.New("runner: NewClient and Recorder are required")
	}
	if opts.OnStopGrace <= 0 {
		opts.OnStopGrace = DefaultOnStopGrace
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Uint64()
	}
	r := &Runner{opts: opts, wake: make(chan struct{}, 1)}
	var classes []*scenario.UserClass
	for _, c := range opts.Scenario.Users {
		cp := &classPlan{UserClass: c}
		for _, t := range c.Tasks {
			if t, ok := filterTask(t, nil, opts.Tags, opts.ExcludeTags); ok {
				cp.tasks = append(cp.tasks, t)
			}
		}
		if len(cp.tasks) == 0 {
			if len(opts.Tags) > 0 || len(opts.ExcludeTags) > 0 {
				opts.Logger.Warn("user class has no tasks left after tag filtering; it will not be spawned", "class", c.Name)
				continue
			}
			return nil, fmt.Errorf("user class %q has no tasks", c.Name)
		}
		sum := 0
		for _, t := range cp.tasks {
			sum += max(t.Weight, 0)
			cp.cum = append(cp.cum, sum)
		}
		if sum == 0 && !c.Sequential {
			return nil, fmt.Errorf("user class %q: all task weights are 0", c.Name)
		}
		r.classes = append(r.classes, cp)
		classes = append(classes, c)
	}
	if len(r.classes) == 0 {
		return nil, errors.New("no user class has tasks matching the tags")
	}
	r.plan = NewPlan(classes)
	r.byClass = make([][]*user, len(r.classes))
	r.want = make([]int, len(r.classes))
	return r, nil
}

// filterTask is t as the user runs it under the tag filters, and whether
// it is kept at all. A task set's tags count for every task inside it
// (inherited), as in Locust; a set is kept when any task inside is, with
// only those — a Markov set keeps all its states (its transitions need
// them) when any passes. The scenario's own values are never changed.
func filterTask(t scenario.Task, inherited, include, exclude []string) (scenario.Task, bool) {
	tags := append(slices.Clip(inherited), t.Tags...)
	if t.Set == nil {
		return t, keepTask(tags, include, exclude)
	}
	if len(include) == 0 && len(exclude) == 0 {
		return t, true
	}
	for _, tag := range tags {
		if slices.Contains(exclude, tag) {
			return t, false
		}
	}
	set := *t.Set
	set.Tasks = nil
	for _, in := range t.Set.Tasks {
		if kept, ok := filterTask(in, tags, include, exclude); ok {
			set.Tasks = append(set.Tasks, kept)
		}
	}
	switch {
	case len(set.Tasks) == 0:
		return t, false
	case t.Set.Transitions != nil:
		return t, true
	}
	t.Set = &set
	return t, true
}

func keepTask(tags, include, exclude []string) bool {
	for _, t := range tags {
		if slices.Contains(exclude, t) {
			return false
		}
	}
	if len(include) == 0 {
		return true
	}
	for _, t := range tags {
		if slices.Contains(include, t) {
			return true
		}
	}
	return false
}

// SetHost changes the base URL of users started from now on (a new test
// from the web UI may name another host), for every class.
func (r *Runner) SetHost(host string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opts.Host = host
}

// SetClassTargets sets the users of each class, by name, at once. Classes
// not named get none; unknown names are ignored with a warning.
func (r *Runner) SetClassTargets(want map[string]int) {
	r.mu.Lock()
	if r.open.active {
		r.mu.Unlock()
		r.opts.Logger.Warn("the runner is in the open model: ignoring targets of users per class")
		return
	}
	r.classMode = true
	total := 0
	for i, c := range r.classes {
		r.want[i] = max(want[c.Name], 0)
		total += r.want[i]
	}
	r.target = total
	ctx := r.runCtx
	r.mu.Unlock()
	if ctx != nil {
		r.step(ctx) // at once, so Users reflects the target on return
	}
	for name := range want {
		if !r.hasClass(name) {
			r.opts.Logger.Warn("target names an unknown user class", "class", name)
		}
	}
	r.poke()
}

func (r *Runner) hasClass(name string) bool {
	for _, c := range r.classes {
		if c.Name == name {
			return true
		}
	}
	return false
}

func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// placedLocked counts user slots, including users that stopped themselves
// (they are not replaced, as in Locust).
func (r *Runner) placedLocked() int {
	n := 0
	for _, us := range r.byClass {
		n += len(us)
	}
	return n
}

// Users returns how many users are running now. A user that stopped
// itself (stop_user()) is not counted and not replaced, as in Locust.
func (r *Runner) Users() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, us := range r.byClass {
		for _, u := range us {
			if !u.exited.Load() {
				n++
			}
		}
	}
	return n
}

// Finished is how many users ended after running their iterations
// (Options.Iterations) since the last Stop; they are not replaced.
func (r *Runner) Finished() int { return int(r.finished.Load()) }

// Ramping reports whether the user count is still moving toward the
// target; in the open model, whether the arrival rate is still ramping.
func (r *Runner) Ramping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open.active {
		return r.openRampingLocked()
	}
	return r.placedLocked() != r.target
}

// Run drives spawning and stopping until ctx is done, then stops every
// user at once and waits for them. Users' requests run under ctx.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	r.runCtx = ctx
	r.startArrivalsLocked()
	r.mu.Unlock()
	defer r.wg.Wait()
	defer r.stopAll()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := r.step(ctx)
		if wait < 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-r.wake:
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-timer.C:
		}
	}
}

// step brings each class to the users due by now and returns how long
// until the next change is due, or -1 when the target is reached.
func (r *Runner) step(ctx context.Context) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.open.active {
		return -1
	}
	want, next := r.wantLocked()
	for i := range r.classes {
		for len(r.byClass[i]) < want[i] {
			r.spawnLocked(ctx, i)
		}
		for len(r.byClass[i]) > want[i] {
			r.stopLastLocked(i)
		}
	}
	return next
}

// wantLocked returns the users each class should have now and when the
// next ramp step is due (-1: none).
func (r *Runner) wantLocked() ([]int, time.Duration) {
	if r.classMode {
		return r.want, -1
	}
	diff := r.target - r.ramp.from
	n := r.target
	next := time.Duration(-1)
	if diff != 0 && r.rate > 0 && !math.IsInf(r.rate, 1) {
		elapsed := r.opts.Now().Sub(r.ramp.start).Seconds()
		done := min(abs(diff), 1+int(elapsed*r.rate))
		r.ramp.steps = done
		if diff > 0 {
			n = r.ramp.from + done
		} else {
			n = r.ramp.from - done
		}
		if done < abs(diff) {
			at := r.ramp.start.Add(time.Duration(float64(done) / r.rate * float64(time.Second)))
			next = max(at.Sub(r.opts.Now()), 0)
		}
	}
	return r.plan.CountsByIndex(n), next
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// DefaultOnStopGrace bounds a user's on_stop when the test stops: ample
// for a logout, and a stop never hangs on a server that does not answer.
const DefaultOnStopGrace = 10 * time.Second

// stopSlack is what StopWait allows beyond the rest: scheduling on a busy
// machine.
const stopSlack = 5 * time.Second

// StopWait bounds how long stopping users may take with this stop
// timeout: each finishes its task for up to the timeout, then its
// request in flight for the drain (httpx.DefaultDrain), then runs its
// on_stop (DefaultOnStopGrace). A worker waits this long for its users;
// the master a little longer for its workers.
func StopWait(stopTimeout time.Duration) time.Duration {
	return max(stopTimeout, 0) + httpx.DefaultDrain + DefaultOnStopGrace + stopSlack
}

// Stop stops every user: each finishes its current task for up to the stop
// timeout, then its requests are cancelled. It returns when all have ended
// or ctx is done. Run keeps going; SetTarget can start users again.
// In the open model, arrivals stop first and the open model ends:
// SetArrivals starts a new schedule, SetTarget goes back to the closed one.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopArrivals()
	r.mu.Lock()
	r.classMode = true
	r.target = 0
	r.finished.Store(0)
	var users []*user
	for i := range r.classes {
		r.want[i] = 0
		users = append(users, r.byClass[i]...)
		for len(r.byClass[i]) > 0 {
			r.stopLastLocked(i)
		}
	}
	r.mu.Unlock()
	for _, u := range users {
		select {
		case <-u.wait():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (r *Runner) stopAll() {
	r.stopArrivals()
	r.mu.Lock()
	r.stopped = true
	for i := range r.byClass {
		r.byClass[i] = nil
	}
	var live []*user
	for u := r.live; u != nil; u = u.next {
		live = append(live, u)
	}
	r.mu.Unlock()
	// Every user still alive, including those already stopping (their
	// stop timeout running) or leaving the open model's pool: a user's
	// contexts are not children of the runner's, so this is their end.
	for _, u := range live {
		u.hardStop()
	}
}

// addLiveLocked adds u to the live users, which stopAll stops.
func (r *Runner) addLiveLocked(u *user) {
	u.next = r.live
	if r.live != nil {
		r.live.prev = u
	}
	r.live = u
}

// removeLive takes u, which has ended, out of the live users.
func (r *Runner) removeLive(u *user) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if u.prev != nil {
		u.prev.next = u.next
	} else {
		r.live = u.next
	}
	if u.next != nil {
		u.next.prev = u.prev
	}
	u.prev, u.next = nil, nil
}

func (r *Runner) stopLastLocked(class int) {
	us := r.byClass[class]
	u := us[len(us)-1]
	r.byClass[class] = us[:len(us)-1]
	r.stopUser(u)
}

// stopUser stops u: at once, or after its current task for up to the stop
// timeout.
func (r *Runner) stopUser(u *user) {
	u.softStop()
	if r.opts.StopTimeout <= 0 {
		u.hardStop()
		return
	}
	t := time.AfterFunc(r.opts.StopTimeout, u.hardStop)
	go func() {
		<-u.wait()
		t.Stop()
	}()
}
