// Package scenario is the compiled, immutable description of a load test:
// user classes, their tasks, waits and hooks. It is what the script loader
// produces and what the runner executes; it knows nothing about Starlark.
package scenario

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/stats"
)

// Func is a unit of user behaviour: a task, on_start or on_stop.
// A returned error is a script error (recorded with its traceback); the
// user goes on with its next task. Returning ErrStopUser ends the user.
type Func func(ctx context.Context, vu *VU) error

// Task is one weighted entry of a user class's task list: a function, or
// a task set the user enters (Set; Fn is then nil).
type Task struct {
	Name   string
	Weight int
	Tags   []string
	Fn     Func
	Set    *TaskSet
}

// TaskSet is a group of tasks a user enters as one of its tasks, as in
// Locust: its on_start runs, then its tasks run one after another, with
// its wait (or the user's) between them, until a task interrupts it (see
// Interrupt) or the user stops; then its on_stop runs. Task sets nest.
type TaskSet struct {
	Tasks []Task
	// Sequential runs Tasks in order, round and round.
	Sequential bool
	// Transitions, when set, make it a Markov chain: it starts with task
	// 0 and each next task is drawn from the transitions of the last one
	// (Transitions[i] for task i), by weight.
	Transitions [][]Transition
	OnStart     Func // may be nil
	OnStop      Func // may be nil
	Wait        Wait // nil: the user class's
}

// Transition is one edge of a Markov task set: to task To, with Weight.
type Transition struct{ To, Weight int }

// Interrupt ends the task set the task returning it runs in (Locust's
// TaskSet.interrupt). With Reschedule, the parent runs its next task at
// once; without, it waits first. Outside a task set it is a script error.
type Interrupt struct{ Reschedule bool }

func (Interrupt) Error() string {
	return "interrupt() outside a task set: there is no task set to leave"
}

// UserClass is one kind of simulated user.
type UserClass struct {
	Name       string
	Weight     int
	FixedCount int
	Host       string
	Tasks      []Task
	// Sequential runs Tasks in order, round and round, ignoring weights.
	Sequential bool
	OnStart    Func // may be nil
	OnStop     Func // may be nil
	Wait       Wait // nil means no wait
}

// Scenario is a whole test definition.
type Scenario struct {
	Users []*UserClass
	// Options are the script's `options = {...}`, keyed by flag name
	// ("users", "spawn-rate", "run-time", "host", ...). The CLI overrides them.
	Options map[string]string
	// Files are the script and everything it loaded (path → content),
	// the bundle a worker needs.
	Files map[string][]byte
	// Shape, when set, drives the load over time (the script's stages or
	// shape(t)); the master asks it once a second. Workers ignore it.
	Shape Shape
	// Thresholds are the script's pass/fail criteria, added to the
	// command line's --threshold ones.
	Thresholds []ThresholdSpec
}

// ThresholdSpec is one pass/fail criterion as a script gives it: an
// expression (see package threshold) and whether crossing it stops the
// test at once.
type ThresholdSpec struct {
	Expr        string
	AbortOnFail bool
}

// VU is one running virtual user. It is owned by one goroutine.
type VU struct {
	ID    int
	Class *UserClass
	// Host is the base URL requests are relative to.
	Host string
	HTTP *httpx.Client
	Rec  stats.Recorder
	// Soft is done when the user should stop after its current task; a
	// task that runs others (a task set) checks it between them.
	Soft context.Context
	Rand *rand.Rand
	// Local is per-user state owned by the script engine (its thread,
	// the user object, u.state).
	Local any
	// Iteration counts the tasks this user has started.
	Iteration int64
}

// Wait decides the pause after a task.
type Wait interface {
	// Next returns how long to wait after a task that took taskDur.
	Next(taskDur time.Duration, r *rand.Rand) time.Duration
}
