package script

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/scenario"
)

// tasksetValue is what taskset(...) and markov(...) return: a group of
// tasks that a user enters as one of its tasks (Locust's TaskSet,
// SequentialTaskSet and MarkovTaskSet). It can be listed wherever a task
// can, nested too; it is not called.
type tasksetValue struct {
	name            string
	tasks           []taskSpec
	sequential      bool
	transitions     [][]scenario.Transition // markov only
	onStart, onStop starlark.Callable
	wait            scenario.Wait
	held            []starlark.Value
}

var _ starlark.Callable = (*tasksetValue)(nil)

func (s *tasksetValue) String() string        { return fmt.Sprintf("taskset(%s)", s.name) }
func (s *tasksetValue) Type() string          { return "taskset" }
func (s *tasksetValue) Truth() starlark.Bool  { return true }
func (s *tasksetValue) Hash() (uint32, error) { return starlark.String(s.name).Hash() }
func (s *tasksetValue) Name() string          { return s.name }
func (s *tasksetValue) Freeze() {
	for _, v := range s.held {
		v.Freeze()
	}
}

// CallInternal refuses a call: a user enters a task set as a task.
func (s *tasksetValue) CallInternal(*starlark.Thread, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return nil, fmt.Errorf("%s is a task set: list it among a user's tasks (or another set's), do not call it", s.name)
}

// taskset implements taskset(tasks, on_start=None, on_stop=None,
// wait=None, name="taskset").
func (l *loader) taskset(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var tasks starlark.Value
	var onStart, onStop, wait starlark.Value = starlark.None, starlark.None, starlark.None
	name := "taskset"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tasks", &tasks, "on_start?", &onStart, "on_stop?", &onStop,
		"wait?", &wait, "name?", &name); err != nil {
		return nil, err
	}
	specs, seq, err := parseTasks(tasks)
	if err != nil {
		return nil, fmt.Errorf("taskset %q: %w", name, err)
	}
	s := &tasksetValue{name: name, tasks: specs, sequential: seq}
	return s, l.setHooks(s, onStart, onStop, wait)
}

// markov implements markov(transitions, on_start=None, on_stop=None,
// wait=None, name="markov"): transitions maps each task to its next
// tasks — a dict {next: weight}, a list [next, ...] or [(next, weight),
// ...] — and the set starts with the first task listed.
func (l *loader) markov(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var trans *starlark.Dict
	var onStart, onStop, wait starlark.Value = starlark.None, starlark.None, starlark.None
	name := "markov"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "transitions", &trans, "on_start?", &onStart, "on_stop?", &onStop,
		"wait?", &wait, "name?", &name); err != nil {
		return nil, err
	}
	s := &tasksetValue{name: name}
	index := map[starlark.Value]int{}
	for _, kv := range trans.Items() {
		t, err := asTask("markov", kv[0])
		if err != nil {
			return nil, err
		}
		index[t.src] = len(s.tasks)
		s.tasks = append(s.tasks, t)
	}
	if len(s.tasks) == 0 {
		return nil, fmt.Errorf("markov %q: no tasks", name)
	}
	for i, kv := range trans.Items() {
		edges, err := edgesOf(s.tasks[i], kv[1], index)
		if err != nil {
			return nil, fmt.Errorf("markov %q: %w", name, err)
		}
		s.transitions = append(s.transitions, edges)
	}
	return s, l.setHooks(s, onStart, onStop, wait)
}

// edgesOf reads the transitions of one task.
func edgesOf(from taskSpec, v starlark.Value, index map[starlark.Value]int) ([]scenario.Transition, error) {
	var edges []scenario.Transition
	add := func(to, w starlark.Value) error {
		i, ok := index[to]
		if !ok {
			return fmt.Errorf("%s goes to %s, which is not one of the set's tasks (every task must be a key of transitions)", from.fn.Name(), to)
		}
		weight := 1
		if w != nil {
			if err := starlark.AsInt(w, &weight); err != nil || weight < 0 {
				return fmt.Errorf("the weight of %s → %s must be an int >= 0, got %s", from.fn.Name(), to, w)
			}
		}
		if weight > 0 {
			edges = append(edges, scenario.Transition{To: i, Weight: weight})
		}
		return nil
	}
	switch v := v.(type) {
	case *starlark.Dict:
		for _, kv := range v.Items() {
			if err := add(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	case *starlark.List, starlark.Tuple:
		it := v.(starlark.Indexable)
		for i := 0; i < it.Len(); i++ {
			e := it.Index(i)
			if pair, ok := e.(starlark.Tuple); ok && len(pair) == 2 {
				if err := add(pair[0], pair[1]); err != nil {
					return nil, err
				}
				continue
			}
			if err := add(e, nil); err != nil {
				return nil, err
			}
		}
	default:
		if err := add(v, nil); err != nil {
			return nil, err
		}
	}
	if len(edges) == 0 {
		return nil, fmt.Errorf("%s has no transition: a Markov chain must always have a next task (interrupt() leaves the set)", from.fn.Name())
	}
	return edges, nil
}

// setHooks checks and keeps a set's on_start, on_stop and wait.
func (l *loader) setHooks(s *tasksetValue, onStart, onStop, wait starlark.Value) error {
	for _, h := range []struct {
		arg string
		v   starlark.Value
		dst *starlark.Callable
	}{{"on_start", onStart, &s.onStart}, {"on_stop", onStop, &s.onStop}} {
		if isNone(h.v) {
			continue
		}
		fn, ok := h.v.(starlark.Callable)
		if !ok {
			return fmt.Errorf("%s %q: %s must be a function, got %s", s.Type(), s.name, h.arg, h.v.Type())
		}
		if err := checkArity(h.arg, fn); err != nil {
			return err
		}
		*h.dst = fn
		s.held = append(s.held, fn)
	}
	w, err := l.waitOf(wait)
	if err != nil {
		return fmt.Errorf("%s %q: %w", s.Type(), s.name, err)
	}
	s.wait = w
	for _, t := range s.tasks {
		s.held = append(s.held, t.fn)
	}
	return nil
}

// build makes the scenario's task set, its tasks wrapped to run on the
// user's thread.
func (s *tasksetValue) build(e *engine) *scenario.TaskSet {
	set := &scenario.TaskSet{Sequential: s.sequential, Transitions: s.transitions, Wait: s.wait}
	for _, t := range s.tasks {
		set.Tasks = append(set.Tasks, t.scenarioTask(e, nil))
	}
	if s.onStart != nil {
		set.OnStart = e.wrap(s.onStart)
	}
	if s.onStop != nil {
		set.OnStop = e.wrap(s.onStop)
	}
	return set
}

// scenarioTask is t as the runner runs it: a function, or a task set.
func (t taskSpec) scenarioTask(e *engine, tags []string) scenario.Task {
	name := t.name
	if name == "" {
		name = t.fn.Name()
	}
	st := scenario.Task{Name: name, Weight: t.weight, Tags: tags}
	if s, ok := t.fn.(*tasksetValue); ok {
		st.Set = s.build(e)
	} else {
		st.Fn = e.wrap(t.fn)
	}
	return st
}

// userInterrupt implements u.interrupt(reschedule=True): the task set the
// task runs in ends; with reschedule the parent runs its next task at
// once, else after its wait.
func userInterrupt(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	reschedule := true
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "reschedule?", &reschedule); err != nil {
		return nil, err
	}
	return nil, scenario.Interrupt{Reschedule: reschedule}
}
