package script

import (
	"fmt"
	"slices"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
)

// userValue is what user(...) returns: a compiled user class, and the
// Starlark values it runs, frozen with the module.
type userValue struct {
	uc   *scenario.UserClass
	pos  syntax.Position // where user() was called
	held []starlark.Value
}

func (u *userValue) String() string        { return fmt.Sprintf("user(name=%q)", u.uc.Name) }
func (u *userValue) Type() string          { return "user_class" }
func (u *userValue) Truth() starlark.Bool  { return true }
func (u *userValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: user_class") }

// Freeze freezes the task and hook functions so that closures shared by
// all users cannot be mutated.
func (u *userValue) Freeze() {
	for _, v := range u.held {
		v.Freeze()
	}
}

// userArgs are the arguments of user(...).
type userArgs struct {
	name                  string
	tasks                 starlark.Value
	weight, fixed         int
	onStart, onStop, wait starlark.Value
	host, tags            starlark.Value
	http2                 starlark.Value
}

// user implements user(name, tasks, weight=1, fixed_count=0, on_start=None,
// on_stop=None, wait=None, host=None, tags=None, http2=None).
func (l *loader) user(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a := userArgs{weight: 1, onStart: starlark.None, onStop: starlark.None, wait: starlark.None,
		host: starlark.None, tags: starlark.None, http2: starlark.None}
	if err := starlark.UnpackArgs("user", args, kwargs, "name", &a.name, "tasks", &a.tasks,
		"weight?", &a.weight, "fixed_count?", &a.fixed, "on_start?", &a.onStart, "on_stop?", &a.onStop,
		"wait?", &a.wait, "host?", &a.host, "tags?", &a.tags, "http2?", &a.http2); err != nil {
		return nil, err
	}
	if a.name == "" {
		return nil, fmt.Errorf("user: name must not be empty")
	}
	uv, err := l.buildUser(&a)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", a.name, err)
	}
	uv.pos = th.CallFrame(1).Pos
	return uv, nil
}

func (l *loader) buildUser(a *userArgs) (*userValue, error) {
	uc := &scenario.UserClass{Name: a.name, Weight: a.weight, FixedCount: a.fixed}
	uv := &userValue{uc: uc}
	if a.weight < 0 {
		return nil, fmt.Errorf("weight must be >= 0, got %d", a.weight)
	}
	if a.fixed < 0 {
		return nil, fmt.Errorf("fixed_count must be >= 0, got %d", a.fixed)
	}
	userTags, err := stringList("user", "tags", a.tags)
	if err != nil {
		return nil, err
	}
	specs, seq, err := parseTasks(a.tasks)
	if err != nil {
		return nil, err
	}
	uc.Sequential = seq
	for _, t := range specs {
		tags := slices.Clone(t.tags)
		for _, tag := range userTags {
			if !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
		uc.Tasks = append(uc.Tasks, t.scenarioTask(l.eng, tags))
		uv.held = append(uv.held, t.fn)
	}
	if uc.OnStart, err = l.hook("on_start", a.onStart, uv); err != nil {
		return nil, err
	}
	if uc.OnStop, err = l.hook("on_stop", a.onStop, uv); err != nil {
		return nil, err
	}
	if uc.Wait, err = l.waitOf(a.wait); err != nil {
		return nil, err
	}
	if fn, ok := a.wait.(starlark.Callable); ok {
		uv.held = append(uv.held, fn)
	}
	if !isNone(a.host) {
		h, ok := starlark.AsString(a.host)
		if !ok {
			return nil, fmt.Errorf("host must be a string, got %s", a.host.Type())
		}
		uc.Host = h
	}
	mode, err := http2Arg("user", a.http2)
	if err != nil {
		return nil, err
	}
	if mode != httpx.HTTP2Default {
		if l.eng.classHTTP2 == nil {
			l.eng.classHTTP2 = make(map[*scenario.UserClass]httpx.HTTP2Mode)
		}
		l.eng.classHTTP2[uc] = mode
	}
	return uv, nil
}

// hook wraps on_start / on_stop.
func (l *loader) hook(arg string, v starlark.Value, uv *userValue) (scenario.Func, error) {
	if isNone(v) {
		return nil, nil
	}
	fn, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s must be a function, got %s", arg, v.Type())
	}
	if err := checkArity(arg, fn); err != nil {
		return nil, err
	}
	uv.held = append(uv.held, fn)
	return l.eng.wrap(fn), nil
}
