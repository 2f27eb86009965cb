package script

import (
	"fmt"
	"hash/fnv"

	"go.starlark.net/starlark"
)

// taskSpec is one task as the script gave it, before wrapping.
type taskSpec struct {
	fn     starlark.Callable
	src    starlark.Value // what the script wrote: the function or the task() value
	weight int
	tags   []string
	name   string
}

// taskValue is what task(fn, weight, tags, name) returns. It can be called
// like the function it wraps.
type taskValue struct {
	spec taskSpec
	id   uint32
}

var _ starlark.Callable = (*taskValue)(nil)

func (t *taskValue) String() string        { return fmt.Sprintf("task(%s)", t.spec.fn.Name()) }
func (t *taskValue) Type() string          { return "task" }
func (t *taskValue) Truth() starlark.Bool  { return true }
func (t *taskValue) Hash() (uint32, error) { return t.id, nil }
func (t *taskValue) Freeze()               { t.spec.fn.Freeze() }
func (t *taskValue) Name() string          { return t.spec.fn.Name() }

// CallInternal calls the wrapped function.
func (t *taskValue) CallInternal(th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return starlark.Call(th, t.spec.fn, args, kwargs)
}

// sequenceValue is what sequence([...]) returns: tasks run in order.
type sequenceValue struct {
	tasks []taskSpec
}

func (s *sequenceValue) String() string        { return fmt.Sprintf("sequence(<%d tasks>)", len(s.tasks)) }
func (s *sequenceValue) Type() string          { return "sequence" }
func (s *sequenceValue) Truth() starlark.Bool  { return len(s.tasks) > 0 }
func (s *sequenceValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: sequence") }
func (s *sequenceValue) Freeze() {
	for _, t := range s.tasks {
		t.fn.Freeze()
	}
}

// task implements task(fn, weight=1, tags=[], name=None).
func (l *loader) task(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	var tags, name starlark.Value = starlark.None, starlark.None
	weight := 1
	if err := starlark.UnpackArgs("task", args, kwargs, "fn", &fn, "weight?", &weight, "tags?", &tags, "name?", &name); err != nil {
		return nil, err
	}
	if err := checkArity("task:", fn); err != nil {
		return nil, err
	}
	if weight < 0 {
		return nil, fmt.Errorf("task: weight must be >= 0, got %d", weight)
	}
	ts, err := stringList("task", "tags", tags)
	if err != nil {
		return nil, err
	}
	spec := taskSpec{fn: fn, weight: weight, tags: ts}
	if name != starlark.None {
		s, ok := starlark.AsString(name)
		if !ok || s == "" {
			return nil, fmt.Errorf("task: name must be a non-empty string, got %s", name)
		}
		spec.name = s
	}
	l.seq++
	h := fnv.New32a()
	_, _ = fmt.Fprintf(h, "task%d", l.seq) // hash.Hash never fails
	tv := &taskValue{spec: spec, id: h.Sum32()}
	tv.spec.src = tv
	return tv, nil
}

// sequence implements sequence([f, g, ...]).
func (l *loader) sequence(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Value
	if err := starlark.UnpackArgs("sequence", args, kwargs, "tasks", &seq); err != nil {
		return nil, err
	}
	it, ok := seq.(starlark.Indexable)
	if !ok || seq.Type() == "string" || seq.Type() == "bytes" {
		return nil, fmt.Errorf("sequence: tasks must be a list of functions, got %s", seq.Type())
	}
	s := &sequenceValue{tasks: make([]taskSpec, 0, it.Len())}
	for i := 0; i < it.Len(); i++ {
		t, err := asTask("sequence", it.Index(i))
		if err != nil {
			return nil, err
		}
		if t.weight != 1 {
			return nil, fmt.Errorf("sequence: task %s has weight %d; weights have no meaning in a sequence, repeat the task instead",
				t.fn.Name(), t.weight)
		}
		s.tasks = append(s.tasks, t)
	}
	if len(s.tasks) == 0 {
		return nil, fmt.Errorf("sequence: no tasks")
	}
	return s, nil
}

// asTask reads one entry of a task list: a function or a task() value.
func asTask(fn string, v starlark.Value) (taskSpec, error) {
	switch v := v.(type) {
	case *taskValue:
		return v.spec, nil
	case starlark.Callable:
		return taskSpec{fn: v, src: v, weight: 1}, checkArity("task", v)
	}
	return taskSpec{}, fmt.Errorf("%s: a task must be a function, got %s (%s)", fn, v.Type(), v)
}

// parseTasks reads user(tasks=...): a dict {fn: weight}, a list of
// functions (a repeated one counts once more) or sequence([...]).
func parseTasks(v starlark.Value) (tasks []taskSpec, sequential bool, err error) {
	switch v := v.(type) {
	case *sequenceValue:
		return v.tasks, true, nil
	case *starlark.Dict:
		tasks, err = dictTasks(v)
	case *starlark.List, starlark.Tuple:
		tasks, err = listTasks(v.(starlark.Indexable))
	default:
		return nil, false, fmt.Errorf("tasks must be a dict {fn: weight}, a list [fn, ...] or sequence([...]), got %s", v.Type())
	}
	if err != nil {
		return nil, false, err
	}
	n := len(tasks)
	kept := tasks[:0]
	for _, t := range tasks {
		if t.weight > 0 {
			kept = append(kept, t)
		}
	}
	if n == 0 {
		return nil, false, fmt.Errorf("tasks is empty")
	}
	if len(kept) == 0 {
		return nil, false, fmt.Errorf("every task has weight 0")
	}
	return kept, false, nil
}

func dictTasks(d *starlark.Dict) ([]taskSpec, error) {
	tasks := make([]taskSpec, 0, d.Len())
	for _, kv := range d.Items() {
		t, err := asTask("tasks", kv[0])
		if err != nil {
			return nil, err
		}
		if err := starlark.AsInt(kv[1], &t.weight); err != nil {
			return nil, fmt.Errorf("tasks: the weight of %s must be an int, got %s", t.fn.Name(), kv[1].Type())
		}
		if t.weight < 0 {
			return nil, fmt.Errorf("tasks: the weight of %s must be >= 0, got %d", t.fn.Name(), t.weight)
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

func listTasks(l starlark.Indexable) ([]taskSpec, error) {
	tasks := make([]taskSpec, 0, l.Len())
next:
	for i := 0; i < l.Len(); i++ {
		t, err := asTask("tasks", l.Index(i))
		if err != nil {
			return nil, err
		}
		for j := range tasks {
			if sameValue(tasks[j].src, t.src) {
				tasks[j].weight += t.weight
				continue next
			}
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// sameValue is identity for the callables a task list holds; it never
// compares values whose Go type is not comparable.
func sameValue(a, b starlark.Value) bool {
	switch a := a.(type) {
	case *starlark.Function:
		return a == b
	case *starlark.Builtin:
		bb, ok := b.(*starlark.Builtin)
		return ok && a == bb
	case *taskValue:
		return a == b
	case *tasksetValue:
		return a == b
	}
	return false
}

// stringList reads None, a string or a list of strings.
func stringList(fn, arg string, v starlark.Value) ([]string, error) {
	if isNone(v) {
		return nil, nil
	}
	if s, ok := starlark.AsString(v); ok {
		return []string{s}, nil
	}
	it, ok := v.(starlark.Indexable)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a list of strings, got %s", fn, arg, v.Type())
	}
	out := make([]string, 0, it.Len())
	for i := 0; i < it.Len(); i++ {
		s, ok := starlark.AsString(it.Index(i))
		if !ok || s == "" {
			return nil, fmt.Errorf("%s: %s must be a list of non-empty strings, got %s", fn, arg, it.Index(i))
		}
		out = append(out, s)
	}
	return out, nil
}

// checkArity rejects at load time a Starlark function that cannot be
// called with the user as its only argument, which would otherwise fail
// at every call.
func checkArity(what string, c starlark.Callable) error {
	fn, ok := c.(*starlark.Function)
	if !ok || takesOneArg(fn) {
		return nil
	}
	return fmt.Errorf("%s %s must take one argument, the user: def %s(u)", what, fn.Name(), fn.Name())
}

// takesOneArg reports whether fn can be called with exactly one
// positional argument.
func takesOneArg(fn *starlark.Function) bool {
	npos := fn.NumParams() - fn.NumKwonlyParams()
	if fn.HasVarargs() {
		npos--
	}
	if fn.HasKwargs() {
		npos--
	}
	required := 0
	for i := 0; i < npos; i++ {
		if fn.ParamDefault(i) == nil {
			required++
		}
	}
	for i := npos; i < npos+fn.NumKwonlyParams(); i++ {
		if fn.ParamDefault(i) == nil {
			return false
		}
	}
	return (npos > 0 || fn.HasVarargs()) && required <= 1
}
